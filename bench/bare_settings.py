"""Bench only: the service's settings with no middleware and one view, the "bare Django" baseline of
`bench/http_ratio.py`. Never used by the service itself (production's urls do not have this view)."""

from privacy_service.settings import *  # noqa: F403 (the same apps, database and templates as the service)

MIDDLEWARE = []
ROOT_URLCONF = "bench.bare_urls"
