"""Bench only: the service's settings with Django's health check of persistent database connections
(CONN_HEALTH_CHECKS) on, for `bench/faults.py --health-checks`: what a PostgreSQL restart does with it.
Never used by the service itself."""

from privacy_service.settings import *  # noqa: F403 (the service as it is, but for the one setting)
from privacy_service.settings import DATABASES

for _database in DATABASES.values():
    _database["CONN_HEALTH_CHECKS"] = True
