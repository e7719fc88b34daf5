"""Sessions end when idle (30 minutes; 15 for billing, the DPO and superusers), besides their absolute age."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.sessions import LAST_SEEN_KEY
from audit.models import AccessEvent, Action
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
MINUTE = datetime.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("username", "page", "limit"),
    [
        ("rovaniemi.staff", "/patrons/", settings.SESSION_IDLE_MINUTES),
        ("rovaniemi.billing", "/billing/", settings.SESSION_IDLE_MINUTES_PRIVILEGED),
        ("dpo", "/admin/", settings.SESSION_IDLE_MINUTES_PRIVILEGED),
    ],
)
def test_an_idle_session_ends_and_the_log_in_page_says_why(username, page, limit):
    assert (settings.SESSION_IDLE_MINUTES, settings.SESSION_IDLE_MINUTES_PRIVILEGED) == (30, 15)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = client_for(username)
        assert client.get(page).status_code == 200
        clock.shift(limit * MINUTE - MINUTE)  # just inside the limit: still in, and this use restarts it
        assert client.get(page).status_code == 200
        clock.shift(limit * MINUTE + 2 * MINUTE)
        response = client.get(page)
    assert response.status_code == 302 and response.url.startswith(("/accounts/login/", "/admin/login/"))
    assert "_auth_user_id" not in client.session
    event = AccessEvent.objects.filter(action=Action.LOGOUT).order_by("-id").first()
    assert (event.actor_username, event.detail) == (username, "idle_timeout")
    login_page = client.get(response.url).content.decode()
    with translation.override("fi"):
        assert gettext("You were logged out because the session was idle for too long. Log in again.") in login_page
    # Said once: a later visit to the log-in page is a plain one.
    assert client.get("/accounts/login/").context["notice"] is None


def test_a_busy_session_stays_until_its_absolute_age():
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = client_for("rovaniemi.staff")
        for _ in range(int(settings.SESSION_COOKIE_AGE / 600) - 1):  # a request every ten minutes, for 8 hours
            clock.shift(10 * MINUTE)
            assert client.get("/patrons/").status_code == 200
    assert client.session.get_expiry_age() <= settings.SESSION_COOKIE_AGE


def test_an_idle_api_call_is_refused_and_logged():
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = client_for("rovaniemi.staff")
        clock.shift(31 * MINUTE)
        assert client.get("/api/v1/patrons/").status_code == 403
    event = AccessEvent.objects.filter(action=Action.LOGOUT).order_by("-id").first()
    assert (event.actor_username, event.detail) == ("rovaniemi.staff", "idle_timeout")


def session_writes(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return sum(1 for query in queries if "django_session" in query["sql"] and query["sql"].startswith("UPDATE"))


def test_the_last_use_is_written_at_most_once_a_minute():
    """Not on every request: writing the session costs a database write per request."""
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = client_for("rovaniemi.staff")
        stamped = client.session[LAST_SEEN_KEY]
        clock.shift(datetime.timedelta(seconds=30))
        assert session_writes(client, "/patrons/") == 0
        assert client.session[LAST_SEEN_KEY] == stamped
        clock.shift(datetime.timedelta(seconds=31))
        assert session_writes(client, "/patrons/") == 1
        assert client.session[LAST_SEEN_KEY] == stamped + 61


def _session_row(client):
    from django.contrib.sessions.models import Session

    return Session.objects.filter(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_the_session_store_reads_a_live_session_as_djangos_would():
    from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore

    from accounts.session_store import SessionStore

    assert settings.SESSION_ENGINE == "accounts.session_store"
    client = client_for("rovaniemi.staff")
    assert client.get("/patrons/").status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    ours, djangos = SessionStore(key), DjangoSessionStore(key)
    assert ours.load() == djangos.load() and "_auth_user_id" in ours.load()
    assert SessionStore("no-such-session-key").load() == {}


def test_a_session_past_its_expiry_date_is_not_loaded():
    """The row is still there, the idle limit not reached: only the row's expiry date ends it (the store's
    statement must ask for it)."""
    client = client_for("rovaniemi.staff")
    assert client.get("/patrons/").status_code == 200
    assert _session_row(client).update(expire_date=timezone.now() - datetime.timedelta(seconds=1)) == 1
    response = client.get("/patrons/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert client.get("/api/v1/patrons/1/").status_code == 403


def test_a_deleted_session_is_not_loaded():
    """A revoked session (its row deleted, as log-out and revocation do) is out on the next request."""
    client = client_for("rovaniemi.staff")
    assert client.get("/patrons/").status_code == 200
    assert _session_row(client).delete()[0] == 1
    response = client.get("/patrons/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
