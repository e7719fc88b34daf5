"""The second factor for billing, the DPO and superusers: required everywhere, enrolment, recovery codes,
guessing codes, and a reset by another superuser."""

import re
import time
from base64 import b32decode

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import translation
from django.utils.translation import gettext
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services.two_factor import RECOVERY_CODE_COUNT
from audit.models import AccessEvent, Action, Outcome
from demo.totp_secrets import DEMO_TOTP_SECRETS, demo_totp_key
from demo.two_factor import seed_demo_two_factor
from tests.accounts.helpers import PASSWORD, demo_code, device_code, new_staff_user, patron_with_code
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
LIMIT = settings.AXES_FAILURE_LIMIT
PRIVILEGED_PAGES = {
    "rovaniemi.billing": ["/billing/", "/patrons/"],
    "dpo": ["/admin/", "/admin/audit/accessevent/", "/patrons/"],
    "admin": ["/admin/", "/admin/auth/user/"],
}
PRIVILEGED_API = {
    "rovaniemi.billing": "/api/v1/patrons/",
    "dpo": "/api/v1/breaches/",
    "admin": "/api/v1/subject-requests/",
}


def two_factor_events(username: str):
    return AccessEvent.objects.filter(action=Action.TWO_FACTOR, actor_username=username).order_by("id")


@pytest.mark.parametrize("username", sorted(PRIVILEGED_PAGES))
def test_a_privileged_session_without_the_second_factor_reaches_nothing(username):
    client = client_for(username, two_factor=False)
    for page in PRIVILEGED_PAGES[username]:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response.url == f"/accounts/two-factor/?next={page.replace('/', '%2F')}"
    response = client.get(PRIVILEGED_API[username], HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "two_factor_required"
    with translation.override("sv"):
        assert body["detail"] == gettext("Confirm your log-in with your second factor (authenticator code) first.")
    # The same session, verified (as client_for gives by default), is let in.
    assert client_for(username).get(PRIVILEGED_API[username]).status_code == 200


def test_an_unverified_billing_session_cannot_reveal_a_code():
    patron_id = patron_with_code()
    client = client_for("rovaniemi.billing", two_factor=False)
    reason = {"reason": "lasku 2026-118"}
    api = client.post(f"/api/v1/patrons/{patron_id}/identity-code/reveal/", reason, content_type="application/json")
    page = client.post(f"/billing/patrons/{patron_id}/reveal/", reason)
    assert (api.status_code, page.status_code) == (403, 302)
    assert "identity_code" not in api.json()
    reveals = AccessEvent.objects.filter(action=Action.IDENTITY_CODE_REVEAL, actor_username="rovaniemi.billing")
    assert not reveals.exists()


def test_staff_need_no_second_factor():
    assert client_for("rovaniemi.staff", two_factor=False).get("/patrons/").status_code == 200


def test_the_password_and_then_the_authenticator_code_let_billing_in():
    client = client_for(None, address="10.10.4.20")
    response = client.post("/accounts/login/?next=/billing/", {"username": "rovaniemi.billing", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/billing/"
    response = client.get("/billing/")
    assert response.status_code == 302 and response.url.startswith("/accounts/two-factor/")
    page = client.get(response.url)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    session_before = client.session.session_key
    response = client.post("/accounts/two-factor/", {"code": demo_code("rovaniemi.billing"), "next": "/billing/"})
    assert response.status_code == 302 and response.url == "/billing/"
    assert client.session.session_key != session_before  # a new session key once verified
    assert client.get("/billing/").status_code == 200
    assert [e.detail for e in two_factor_events("rovaniemi.billing")] == ["verified"]
    # The same code does not open a second session (one use per code).
    other = client_for("rovaniemi.billing", two_factor=False)
    response = other.post("/accounts/two-factor/", {"code": demo_code("rovaniemi.billing"), "next": "/billing/"})
    assert response.status_code == 200 and other.get("/billing/").status_code == 302


def valid_codes(key: bytes) -> set[str]:
    """The codes the server would accept now (one step of clock difference either way)."""
    return {f"{totp(key, drift=drift):06d}" for drift in (-1, 0, 1)}


def test_guessing_the_code_ends_the_session_and_locks_the_account():
    """A patient guesser who waits out every throttle delay gets AXES_FAILURE_LIMIT tries, then nothing."""
    key = demo_totp_key("rovaniemi.billing")
    client = client_for("rovaniemi.billing", two_factor=False)
    tried = 0
    with time_machine.travel(time.time(), tick=False) as clock:
        for guess in (f"{n:06d}" for n in range(1_000_000)):
            if guess in valid_codes(key):
                continue
            response = client.post("/accounts/two-factor/", {"code": guess, "next": "/billing/"})
            tried += 1
            if response.status_code == 302:
                break
            clock.shift(2**tried)  # django-otp's throttle wants 2^(n-1) s after n failures
        assert tried == LIMIT
        assert response.url == "/accounts/login/"
        assert settings.AXES_COOLOFF_TIME.seconds // 60 > 0
        # The session is over; the right password and then the right code do not help during the cool-off.
        assert client.get("/billing/").status_code == 302
        assert "_auth_user_id" not in client.session
        again = client.post("/accounts/login/", {"username": "rovaniemi.billing", "password": PASSWORD})
        assert again.status_code == 429
    details = [e.detail for e in two_factor_events("rovaniemi.billing")]
    assert details == ["wrong_code"] * LIMIT + ["lockout"]
    logout = AccessEvent.objects.filter(action=Action.LOGOUT, actor_username="rovaniemi.billing").last()
    assert logout.detail == "two_factor_lockout"


def test_codes_fired_in_a_row_are_not_even_checked():
    """After a wrong code the device waits (1, 2, 4 ... s): a burst of guesses checks only the first."""
    client = client_for("rovaniemi.billing", two_factor=False)
    with time_machine.travel(time.time(), tick=False) as clock:
        key = demo_totp_key("rovaniemi.billing")
        wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in valid_codes(key))
        for _ in range(50):
            client.post("/accounts/two-factor/", {"code": wrong, "next": "/billing/"})
        response = client.post("/accounts/two-factor/", {"code": demo_code("rovaniemi.billing"), "next": "/billing/"})
        assert response.status_code == 200  # even the right code waits
        assert TOTPDevice.objects.get(user__username="rovaniemi.billing").throttling_failure_count == 1
        clock.shift(2)
        response = client.post("/accounts/two-factor/", {"code": demo_code("rovaniemi.billing"), "next": "/billing/"})
        assert response.status_code == 302 and response.url == "/billing/"
    details = [e.detail for e in two_factor_events("rovaniemi.billing")]
    assert details == ["wrong_code"] + ["throttled"] * 50 + ["verified"]


def test_enrolment_with_a_qr_code_then_recovery_codes_shown_once():
    user = new_staff_user("rovaniemi.laskuttaja", "staff", "billing")
    client = client_for("rovaniemi.laskuttaja", address="10.10.4.21", two_factor=False)
    response = client.get("/billing/")
    assert response.url == "/accounts/two-factor/setup/?next=%2Fbilling%2F"
    page = client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert re.search(r'<img src="data:image/svg\+xml;charset=utf-8,%3Csvg', html)  # the QR code, inline
    assert "'self' data:" in page["Content-Security-Policy"]  # img-src allows the data: URI, nothing else new
    assert "<script" not in html.split("<main", 1)[1]
    assert TOTPDevice.objects.filter(user=user, confirmed=False).count() == 1
    assert client.get("/accounts/two-factor/setup/").context["secret"] == page.context["secret"]  # a reload keeps it

    response = client.post("/accounts/two-factor/setup/", {"code": device_code(user), "next": "/billing/"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    codes = response.context["codes"]
    assert len(codes) == len(set(codes)) == RECOVERY_CODE_COUNT
    assert all(code in response.content.decode() for code in codes)
    assert client.get("/billing/").status_code == 200  # this session passed the second factor
    assert TOTPDevice.objects.get(user=user).confirmed
    assert [e.detail for e in two_factor_events("rovaniemi.laskuttaja")] == ["enrolled"]

    # A recovery code instead of the phone, once; spaces and capitals as people type them.
    later = client_for("rovaniemi.laskuttaja", address="10.10.4.21", two_factor=False)
    typed = f" {codes[0][:4].upper()} {codes[0][4:]} "
    response = later.post("/accounts/two-factor/", {"code": typed, "next": "/billing/"})
    assert response.status_code == 302 and later.get("/billing/").status_code == 200
    third = client_for("rovaniemi.laskuttaja", address="10.10.4.21", two_factor=False)
    assert third.post("/accounts/two-factor/", {"code": codes[0], "next": "/billing/"}).status_code == 200
    assert StaticDevice.objects.get(user=user).token_set.count() == RECOVERY_CODE_COUNT - 1
    details = [e.detail for e in two_factor_events("rovaniemi.laskuttaja")]
    assert details == ["enrolled", "recovery_code_used", "wrong_code"]


def test_a_stolen_password_cannot_enrol_a_new_device():
    """With a confirmed device, the set-up page only sends to the verification: no second device by password."""
    client = client_for("dpo", two_factor=False)
    response = client.get("/accounts/two-factor/setup/?next=/admin/")
    assert response.status_code == 302 and response.url.startswith("/accounts/two-factor/?")
    response = client.post("/accounts/two-factor/setup/", {"code": "123456", "next": "/admin/"})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user__username="dpo").count() == 1


def reset(client, user):
    return client.post(
        "/admin/auth/user/", {"action": "reset_two_factor", "_selected_action": [user.pk], "index": 0}, follow=True
    )


def test_a_superuser_resets_a_lost_device_and_the_user_enrols_again():
    billing = get_user_model().objects.get(username="rovaniemi.billing")
    verified = client_for("rovaniemi.billing")
    assert verified.get("/billing/").status_code == 200
    admin = get_user_model().objects.get(username="admin")

    response = reset(client_for("admin"), billing)
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=billing).exists()
    assert not StaticDevice.objects.filter(user=billing).exists()
    event = AccessEvent.objects.filter(action=Action.TWO_FACTOR).order_by("-id").first()
    assert (event.actor_username, event.outcome, event.detail) == ("admin", Outcome.ALLOWED, f"reset:user={billing.pk}")
    # The old session is no longer verified: the next request goes to the enrolment.
    response = verified.get("/billing/")
    assert response.status_code == 302 and response.url.startswith("/accounts/two-factor/setup/")
    assert admin.pk != billing.pk


def test_nobody_resets_their_own_second_factor():
    admin = get_user_model().objects.get(username="admin")
    response = reset(client_for("admin"), admin)
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).exists()
    event = AccessEvent.objects.filter(action=Action.TWO_FACTOR).order_by("-id").first()
    assert (event.outcome, event.detail) == (Outcome.DENIED, f"reset_refused:own:user={admin.pk}")
    with translation.override("fi"):
        assert gettext("Nobody may reset their own two-factor authentication; ask another superuser.") in (
            response.content.decode()
        )
    # The DPO cannot reach the users at all.
    assert reset(client_for("dpo"), admin).status_code == 403
    assert TOTPDevice.objects.filter(user=admin).exists()


def test_a_role_granted_during_a_session_needs_the_second_factor_at_once():
    client = client_for("rovaniemi.staff")
    assert client.get("/patrons/").status_code == 200
    get_user_model().objects.get(username="rovaniemi.staff").groups.add(Group.objects.get(name="billing"))
    response = client.get("/billing/")
    assert response.status_code == 302 and response.url.startswith("/accounts/two-factor/setup/")
    assert client.get("/api/v1/patrons/").json()["code"] == "two_factor_required"


def test_seed_demo_gives_the_readmes_authenticators_and_restores_them():
    for username, secret in DEMO_TOTP_SECRETS.items():
        device = TOTPDevice.objects.get(user__username=username)
        assert device.confirmed and device.key == b32decode(secret).hex()
    assert seed_demo_two_factor() == 0  # idempotent
    billing = get_user_model().objects.get(username="rovaniemi.billing")
    TOTPDevice.objects.filter(user=billing).update(key="00" * 20)  # as after a reset and a new enrolment
    assert seed_demo_two_factor() == 1
    assert TOTPDevice.objects.get(user=billing).key == b32decode(DEMO_TOTP_SECRETS["rovaniemi.billing"]).hex()
