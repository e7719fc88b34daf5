"""What bench/faults.py found when PostgreSQL restarted under load (bench/results/faults.md).

Each test states the behaviour wanted; each failed before its fix.
"""

from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError
from django.test import RequestFactory
from django.utils.functional import SimpleLazyObject

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("alias", ["default", "sotu"])
def test_persistent_connections_are_checked_before_reuse(alias):
    assert settings.DATABASES[alias]["CONN_MAX_AGE"] > 0
    assert settings.DATABASES[alias].get("CONN_HEALTH_CHECKS") is True


class Stop(Exception):
    """Ends the sealer's endless loop in the test."""


def test_the_sealer_goes_on_after_a_database_error():
    rounds = []

    def seal(**kwargs):
        rounds.append(kwargs)
        if len(rounds) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return 0

    def sleep(seconds):
        if len(rounds) >= 2:
            raise Stop

    with (
        mock.patch("audit.management.commands.seal_access_log.access_log_seal", side_effect=seal),
        mock.patch("audit.management.commands.seal_access_log.time.sleep", side_effect=sleep),
        pytest.raises(Stop),
    ):
        call_command("seal_access_log", "--follow", "1", verbosity=0)
    assert len(rounds) == 2


def _unreachable_database():
    raise OperationalError("connection to server failed: the database system is starting up")


def test_the_error_page_renders_while_the_database_is_down():
    from privacy_service.views import server_error

    request = RequestFactory().get("/patrons/1/")
    request.user = SimpleLazyObject(_unreachable_database)
    response = server_error(request)
    assert response.status_code == 500
