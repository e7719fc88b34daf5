"""Log-in under attack: guessing passwords (per user, per address), a refused network, and the access log.

Each test performs the attack through the real log-in form (the Django test client, real databases).
"""

import datetime
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from accounts.views import lockout_message
from audit.models import AccessEvent, Action, Outcome
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
PASSWORD = "kirjasto-demo-2026"
LIMIT = settings.AXES_FAILURE_LIMIT
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def log_in(username: str, password: str, address: str, path: str = "/accounts/login/", **headers):
    client = Client(REMOTE_ADDR=address, **headers)
    return client, client.post(path, {"username": username, "password": password})


def events_since(first_id: int):
    return list(AccessEvent.objects.filter(id__gt=first_id).order_by("id"))


def newest_id() -> int:
    return AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def finnish_lockout() -> str:
    with translation.override("fi"):
        return lockout_message()


def test_guessing_one_users_password_locks_that_user_from_every_address():
    statuses = [
        log_in("rovaniemi.staff", f"guess-{n:04d}-password", f"10.10.50.{n}")[1].status_code for n in range(LIMIT)
    ]
    assert statuses == [200] * (LIMIT - 1) + [429]

    # The right password, from an address that never failed, does not open the locked account.
    client, response = log_in("rovaniemi.staff", PASSWORD, "10.10.60.1")
    assert response.status_code == 429
    assert finnish_lockout() in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another user from that address is not affected.
    assert log_in("kemi.staff", PASSWORD, "10.20.60.1")[1].status_code == 302

    # After the cool-off the right password works again.
    later = timezone.now() + settings.AXES_COOLOFF_TIME + datetime.timedelta(seconds=1)
    with time_machine.travel(later):
        client, response = log_in("rovaniemi.staff", PASSWORD, "10.10.60.1")
    assert response.status_code == 302 and client.session.get("_auth_user_id")


def test_guessing_from_one_address_locks_the_address_for_every_username():
    for n in range(LIMIT):
        log_in(f"guessed.user{n}", "Sommar2026!!", "10.10.51.1")
    client, response = log_in("rovaniemi.staff", PASSWORD, "10.10.51.1")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # The user is not locked: from their own desk they log in.
    assert log_in("rovaniemi.staff", PASSWORD, "10.10.51.2")[1].status_code == 302


def test_a_forwarded_for_header_does_not_make_a_new_address(settings):
    """A client talking to us directly cannot dodge the address lockout by writing X-Forwarded-For."""
    for n in range(LIMIT):
        log_in(f"guessed.user{n}", "Sommar2026!!", "192.0.2.80", HTTP_X_FORWARDED_FOR=f"10.10.52.{n}")
    response = log_in("rovaniemi.staff", PASSWORD, "192.0.2.80", HTTP_X_FORWARDED_FOR="10.10.52.99")[1]
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.80"}
    # Behind a trusted proxy the client is the forwarded address, so the proxy itself is never locked.
    settings.TRUSTED_PROXIES = ["192.0.2.0/28"]
    assert log_in("rovaniemi.staff", PASSWORD, "192.0.2.1", HTTP_X_FORWARDED_FOR="10.10.52.100")[1].status_code == 302


def test_an_unknown_username_locks_like_a_real_one():
    """Otherwise the lockout would tell which usernames exist."""
    unknown = [log_in("no.such.user", f"guess-{n:04d}-xx", f"10.10.53.{n}")[1].status_code for n in range(LIMIT)]
    known = [log_in("kemi.staff", f"guess-{n:04d}-xx", f"10.20.53.{n}")[1].status_code for n in range(LIMIT)]
    assert unknown == known == [200] * (LIMIT - 1) + [429]


def test_the_lockout_message_is_in_the_users_language():
    for n in range(LIMIT):
        log_in("rovaniemi.staff", f"guess-{n:04d}-password", f"10.10.54.{n}")
    for language in ("fi", "sv", "en"):
        client = Client(REMOTE_ADDR="10.10.54.100")
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.post("/accounts/login/", {"username": "rovaniemi.staff", "password": PASSWORD})
        with translation.override(language):
            expected = lockout_message()
        assert response.status_code == 429
        assert expected in response.content.decode()
    with translation.override("sv"):
        assert lockout_message() != finnish_lockout()


def test_the_admin_log_in_is_locked_too():
    for n in range(LIMIT):
        log_in("dpo", f"guess-{n:04d}-password", f"10.10.55.{n}", path="/admin/login/?next=/admin/")
    client, response = log_in("dpo", PASSWORD, "10.10.55.200", path="/admin/login/?next=/admin/")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert log_in("dpo", PASSWORD, "10.10.55.201")[1].status_code == 429


def test_a_refused_network_answers_exactly_like_a_wrong_password():
    """The password is right but the network is not the user's: nothing in the answer may tell."""
    _client, wrong = log_in("rovaniemi.staff", "wrong-password-123", "10.20.56.1")  # Kemi's network
    _client, right = log_in("rovaniemi.staff", PASSWORD, "10.20.56.2")
    assert wrong.status_code == right.status_code == 200
    assert CSRF.sub(b"", wrong.content) == CSRF.sub(b"", right.content)
    assert sorted(wrong.cookies) == sorted(right.cookies)
    denied = AccessEvent.objects.filter(action=Action.LOGIN, actor_username="rovaniemi.staff").order_by("-id")[:2]
    assert [(e.outcome, e.detail) for e in denied] == [
        (Outcome.DENIED, "network_not_allowed"),
        (Outcome.DENIED, "wrong_password"),
    ]


def test_a_refused_network_counts_towards_the_lockout():
    """If it did not count, the lockout would give the password away: the try that does not lock is the right one."""
    for n in range(LIMIT - 1):
        log_in("rovaniemi.staff", f"guess-{n:04d}-password", f"10.20.57.{n}")
    assert log_in("rovaniemi.staff", PASSWORD, "10.20.57.100")[1].status_code == 429


def test_report_mode_still_lets_the_user_in():
    from staff.ip_allowlist import invalidate_allow_list
    from staff.models import EnforcementMode, Municipality

    Municipality.objects.filter(name="Kemi").update(network_mode=EnforcementMode.REPORT)
    invalidate_allow_list()
    client, response = log_in("kemi.staff", PASSWORD, "192.0.2.58")
    assert response.status_code == 302 and client.session.get("_auth_user_id")


def test_every_attempt_is_an_access_event_without_the_password():
    first = newest_id()
    log_in("rovaniemi.staff", "Tuisku-Salasana-2026", "10.10.58.1")  # wrong password
    log_in("Tuisku-Salasana-2026", "kirjasto-demo-2026", "10.10.58.2")  # the password typed as the username
    log_in("rovaniemi.staff", "", "10.10.58.3")  # the password left empty
    client, _response = log_in("rovaniemi.staff", PASSWORD, "10.10.58.4")
    log_in("dpo", PASSWORD, "10.10.58.5")  # a second factor follows
    client.post("/accounts/logout/")

    events = events_since(first)
    assert [(e.action, e.outcome, e.actor_username, e.detail) for e in events] == [
        (Action.LOGIN, Outcome.DENIED, "rovaniemi.staff", "wrong_password"),
        (Action.LOGIN, Outcome.DENIED, "", "unknown_user"),
        (Action.LOGIN, Outcome.DENIED, "rovaniemi.staff", "incomplete"),
        (Action.LOGIN, Outcome.ALLOWED, "rovaniemi.staff", ""),
        (Action.LOGIN, Outcome.ALLOWED, "dpo", "two_factor_pending"),
        (Action.LOGOUT, Outcome.ALLOWED, "rovaniemi.staff", "by_user"),
    ]
    assert [e.client_ip for e in events] == [f"10.10.58.{n}" for n in (1, 2, 3, 4, 5, 4)]
    assert events[1].actor_id is None
    for event in events:
        stored = " ".join(str(getattr(event, field.attname)) for field in AccessEvent._meta.fields)
        assert "Tuisku" not in stored and PASSWORD not in stored
    # Nor does axes keep what was typed: an unknown username only as a keyed hash, the form's fields masked.
    kept = " ".join(" ".join(map(str, row)) for row in AccessAttempt.objects.values_list())
    assert "Tuisku" not in kept and PASSWORD not in kept


def test_lockouts_are_access_events():
    first = newest_id()
    for n in range(LIMIT):
        log_in("rovaniemi.staff", f"guess-{n:04d}-password", f"10.10.59.{n}")
    log_in("rovaniemi.staff", PASSWORD, "10.10.59.100")
    details = [(e.outcome, e.actor_username, e.detail) for e in events_since(first)]
    assert details == [(Outcome.DENIED, "rovaniemi.staff", "wrong_password")] * LIMIT + [
        (Outcome.DENIED, "rovaniemi.staff", "lockout"),
        (Outcome.DENIED, "rovaniemi.staff", "locked_out"),
    ]


def test_a_logged_in_user_is_not_shown_the_form_again():
    client = client_for("rovaniemi.staff")
    assert client.get("/accounts/login/").status_code == 302


@pytest.mark.parametrize("logged_in", [True, False])
def test_a_next_with_a_search_in_it_never_becomes_the_address(logged_in):
    """`/accounts/login/?next=/patrons/%3Fq%3DPaadar` sent a logged-in user on to `/patrons/?q=Paadar`."""
    target = "/accounts/login/?next=/patrons/%3Fq%3DPaadar%20Aino"
    if logged_in:
        response = client_for("rovaniemi.staff").get(target)
    else:
        client = Client(REMOTE_ADDR="127.0.0.1")
        response = client.post(target, {"username": "rovaniemi.staff", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/patrons/"
