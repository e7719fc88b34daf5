"""The machine API Koha's plugin calls: keys, networks, permissions, throttling, privacy status and views.

Each security claim is tested by the attack: a forged, revoked or expired key, a key used from outside its
networks (a spoofed X-Forwarded-For from a peer that is not our proxy included), another consortium's
patron, a key without the permission, a key on staff pages and staff API, a replayed and an oversized
batch, a flood of requests; and the secret is found in no log line and no access event.
"""

import datetime
import logging
import re

import pytest
from dateutil.relativedelta import relativedelta
from django.test import Client
from django.utils import timezone

from audit.models import AccessEvent, Action, Outcome
from koha.models import KohaViewReceipt
from patrons.models import LoanHistoryChooser, Note, NoteCategory, Patron, ProcessingRestriction
from staff.admin import machine_permissions
from staff.models import Consortium, MachineKey, StaffProfile
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

STATUS_URL = "/api/v1/koha/patrons/{}/privacy-status/"
VIEWS_URL = "/api/v1/koha/views/"


def make_key(*, slug="lapin-kirjastot", networks="127.0.0.0/8\n::1/128", permissions=None, **fields):
    key, raw = MachineKey.objects.create_key(
        name="koha-plugin", consortium=Consortium.objects.get(slug=slug), networks=networks, **fields
    )
    key.permissions.set(machine_permissions() if permissions is None else permissions)
    return key, raw


def machine(raw: str, address: str = "127.0.0.1", **headers) -> Client:
    return Client(REMOTE_ADDR=address, HTTP_AUTHORIZATION=f"Api-Key {raw}", **headers)


@pytest.fixture
def key():
    return make_key()


@pytest.fixture
def patron(lapland_patron) -> Patron:
    assert lapland_patron.koha_patron_id
    return lapland_patron


def last_event() -> AccessEvent:
    event = AccessEvent.objects.order_by("-id").first()
    assert event is not None
    return event


def view(event_id: str, patron: Patron, **fields) -> dict:
    return {
        "event_id": event_id,
        "koha_patron_id": patron.koha_patron_id,
        "staff_userid": "rovstaff",
        "staff_address": "127.0.0.5",
        "page": "members/moremember.pl",
        "viewed_at": "2026-03-02T10:15:00+02:00",
        **fields,
    }


# --- privacy status ------------------------------------------------------------------------------------------


def test_the_privacy_status_gives_facts_and_categories_never_texts_and_is_logged_naming_the_key(key, patron):
    key, raw = key
    Note.objects.create(
        patron=patron,
        category=NoteCategory.BEHAVIOUR,
        text="Huusi lukusalissa.",
        created_at=timezone.now(),
        created_by="rovaniemi.staff",
    )
    response = machine(raw).get(STATUS_URL.format(patron.koha_patron_id))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["koha_patron_id"] == patron.koha_patron_id
    assert "behaviour" in body["sensitive_marks"]
    assert body["notices_to_guardians"] is True  # the fixture's patron is a minor with guardians
    assert body["loan_history"] == patron.loan_history
    assert isinstance(body["identity_code_stored"], bool)
    assert "Huusi" not in response.content.decode() and patron.last_name not in response.content.decode()
    event = last_event()
    assert (event.action, event.outcome, event.patron_ids) == (Action.KOHA_PRIVACY_STATUS, Outcome.ALLOWED, [patron.pk])
    assert event.actor_username == f"api-key:{key.prefix}:koha-plugin" and event.actor_id is None
    assert event.client_ip == "127.0.0.1"
    assert raw.partition(".")[2] not in event.actor_username


def test_the_privacy_status_says_when_processing_is_restricted_and_gives_no_billing_link(key, patron, monkeypatch):
    """GDPR Art. 18: Koha's staff must see that the patron's data may only be stored; billing would refuse."""
    _key, raw = key
    monkeypatch.setattr("koha.selectors.identity_code_exists", lambda patron_id: True)
    before = machine(raw).get(STATUS_URL.format(patron.koha_patron_id)).json()
    assert before["processing_restricted"] is False and before["links"]["billing"]
    assert last_event().detail == ""
    ProcessingRestriction.objects.create(
        patron=patron, ground="art18_1_a", restricted_at=timezone.now(), restricted_by="dpo"
    )
    body = machine(raw).get(STATUS_URL.format(patron.koha_patron_id)).json()
    assert body["processing_restricted"] is True
    assert body["links"]["billing"] is None and body["identity_code_stored"] is True
    event = last_event()
    assert (event.action, event.patron_ids, event.detail) == (
        Action.KOHA_PRIVACY_STATUS,
        [patron.pk],
        "processing_restricted",  # the DPO finds the reads of restricted patrons by it, Koha's included
    )
    ProcessingRestriction.objects.filter(patron=patron).update(lifted_at=timezone.now())
    assert machine(raw).get(STATUS_URL.format(patron.koha_patron_id)).json()["processing_restricted"] is False


def test_the_privacy_status_tells_a_recorded_loan_history_choice_from_a_value_of_koha(key, patron):
    _key, raw = key
    day = timezone.localdate()
    Patron.objects.filter(pk=patron.pk).update(
        loan_history=2,
        loan_history_chosen_on=None,
        loan_history_chosen_by="",
        date_of_birth=day - relativedelta(years=16),
    )
    koha_value = machine(raw).get(STATUS_URL.format(patron.koha_patron_id)).json()
    assert (
        koha_value["loan_history"],
        koha_value["loan_history_chosen_on"],
        koha_value["loan_history_chosen_by"],
        koha_value["loan_history_confirmation_due"],
    ) == (2, None, None, None)

    chosen_at_14 = day - relativedelta(years=2)
    Patron.objects.filter(pk=patron.pk).update(
        loan_history=0, loan_history_chosen_on=chosen_at_14, loan_history_chosen_by=LoanHistoryChooser.PATRON
    )
    chosen = machine(raw).get(STATUS_URL.format(patron.koha_patron_id)).json()
    assert (
        chosen["loan_history"],
        chosen["loan_history_chosen_on"],
        chosen["loan_history_chosen_by"],
        chosen["loan_history_confirmation_due"],
    ) == (0, chosen_at_14.isoformat(), "patron", 15)  # turned 15 since: to confirm

    Patron.objects.filter(pk=patron.pk).update(loan_history_chosen_on=day - datetime.timedelta(days=30))
    assert machine(raw).get(STATUS_URL.format(patron.koha_patron_id)).json()["loan_history_confirmation_due"] is None


def test_another_consortiums_patron_is_the_same_404_as_a_missing_one(key, mikkeli_patron):
    _key, raw = key
    assert not Patron.objects.filter(
        consortium__slug="lapin-kirjastot", koha_patron_id=mikkeli_patron.koha_patron_id
    ).exists()
    theirs = machine(raw).get(STATUS_URL.format(mikkeli_patron.koha_patron_id))
    missing = machine(raw).get(STATUS_URL.format(987_654_321))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert last_event().outcome == Outcome.DENIED


def test_a_record_kept_under_a_legal_hold_is_the_same_404_as_a_missing_one(key, patron):
    """ATTACK: a Koha id of an erased patron whose reduced record a legal hold keeps (Koha may still hold the
    patron): Koha's staff reach no more of it than the service's staff (patrons.selectors.staff_patrons)."""
    _key, raw = key
    Patron.objects.filter(pk=patron.pk).update(held_after_erasure=True)  # as the erasure leaves it
    held = machine(raw).get(STATUS_URL.format(patron.koha_patron_id))
    missing = machine(raw).get(STATUS_URL.format(987_654_321))
    assert held.status_code == missing.status_code == 404
    assert held.json() == missing.json()
    event = last_event()
    assert (event.action, event.outcome, event.patron_ids) == (Action.KOHA_PRIVACY_STATUS, Outcome.DENIED, [])


# --- keys: the attacks ---------------------------------------------------------------------------------------


def test_a_forged_key_is_a_401_and_names_nobody(key, patron):
    real, raw = key
    before = AccessEvent.objects.count()
    for forged in (f"{real.prefix}.{'x' * 32}", "nonsense", f"zzzzzzzz.{raw.partition('.')[2]}", ""):
        response = machine(forged).get(STATUS_URL.format(patron.koha_patron_id))
        assert response.status_code == 401, forged
        assert response.json()["code"] in {"invalid_key", "not_authenticated"}
        assert response["WWW-Authenticate"] == "Api-Key"
    assert AccessEvent.objects.count() == before


@pytest.mark.parametrize(
    "fields, detail",
    [
        ({"revoked": True}, "key_revoked"),
        ({"expiry_date": timezone.now() - datetime.timedelta(minutes=1)}, "key_expired"),
    ],
)
def test_a_revoked_or_expired_key_is_a_401_and_a_denied_event_naming_it(patron, fields, detail):
    key, raw = make_key(**fields)
    response = machine(raw).get(STATUS_URL.format(patron.koha_patron_id))
    assert (response.status_code, response.json()["code"]) == (401, "key_expired")
    event = last_event()
    assert (event.outcome, event.detail, event.actor_username) == (Outcome.DENIED, detail, key.actor_name)
    assert event.patron_ids == []


def test_a_revoked_key_cannot_be_unrevoked():
    key, _raw = make_key(revoked=True)
    key.revoked = False
    with pytest.raises(Exception, match="revoked"):
        key.save()


@pytest.mark.parametrize(
    "networks, address, headers",
    [
        ("10.10.0.0/16", "127.0.0.1", {}),  # outside the key's own networks
        ("192.0.2.0/24", "192.0.2.77", {}),  # the key's network, but in no allow-list of the consortium
        ("127.0.0.0/8", "192.0.2.77", {"HTTP_X_FORWARDED_FOR": "127.0.0.1"}),  # spoofed, from an untrusted peer
        ("10.30.0.0/16", "10.30.2.9", {}),  # Mikkeli's network: allowed for Mikkeli, not for Lapland
    ],
)
def test_a_key_outside_its_networks_or_the_consortiums_allow_list_is_refused(patron, networks, address, headers):
    key, raw = make_key(networks=networks)
    response = machine(raw, address=address, **headers).get(STATUS_URL.format(patron.koha_patron_id))
    assert (response.status_code, response.json()["code"]) == (403, "network_not_allowed")
    event = last_event()
    assert (event.outcome, event.detail, event.actor_username) == (
        Outcome.DENIED,
        "network_not_allowed",
        key.actor_name,
    )
    assert event.client_ip == address


def test_a_trusted_proxys_forwarded_address_is_the_client(settings, patron):
    settings.TRUSTED_PROXIES = ["192.0.2.1/32"]
    _key, raw = make_key(networks="10.99.0.0/24")  # Lapland's consortium-wide network
    response = machine(raw, address="192.0.2.1", HTTP_X_FORWARDED_FOR="10.99.0.7").get(
        STATUS_URL.format(patron.koha_patron_id)
    )
    assert response.status_code == 200
    assert last_event().client_ip == "10.99.0.7"


def test_a_key_without_the_permission_is_a_403_and_a_denied_event(patron):
    key, raw = make_key(permissions=machine_permissions().filter(codename="record_views"))
    response = machine(raw).get(STATUS_URL.format(patron.koha_patron_id))
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert (last_event().detail, last_event().actor_username) == ("key_permission", key.actor_name)
    response = machine(raw).post(VIEWS_URL, {"views": [view("e-1", patron)]}, content_type="application/json")
    assert response.status_code == 200


def test_a_role_permission_given_to_a_key_opens_nothing(patron):
    """The admin offers only machine permissions; a key holding a role's permission still reaches only the
    machine API, and there only what its machine permissions allow."""
    from django.contrib.auth.models import Permission

    _key, raw = make_key(permissions=Permission.objects.filter(codename="view_patron_data"))
    assert machine(raw).get(STATUS_URL.format(patron.koha_patron_id)).status_code == 403
    assert machine(raw).get(f"/api/v1/patrons/{patron.pk}/").status_code == 403
    assert not machine_permissions().filter(codename="view_patron_data").exists()


def test_a_key_opens_no_staff_page_no_staff_api_and_no_admin(key, patron):
    _key, raw = key
    client = machine(raw)
    assert client.get("/patrons/").status_code == 302  # to the log-in
    assert client.get(f"/patrons/{patron.pk}/").status_code == 302
    assert client.get("/admin/").status_code == 302
    for url in ("/api/v1/patrons/", f"/api/v1/patrons/{patron.pk}/", f"/api/v1/patrons/{patron.pk}/access-events/"):
        response = client.get(url)
        assert (response.status_code, response.json()["code"]) == (403, "not_authenticated"), url


def test_a_staff_session_is_not_accepted_by_the_machine_api(patron):
    client = client_for("rovaniemi.staff")
    assert client.get(STATUS_URL.format(patron.koha_patron_id)).status_code == 401
    response = client.post(VIEWS_URL, {"views": [view("e-1", patron)]}, content_type="application/json")
    assert response.status_code == 401
    assert not KohaViewReceipt.objects.exists()


def test_the_secret_is_in_no_log_line_and_no_event(key, patron, caplog):
    _key, raw = key
    secret = raw.partition(".")[2]
    caplog.set_level(logging.DEBUG)
    machine(raw).get(STATUS_URL.format(patron.koha_patron_id))
    machine(raw).get(STATUS_URL.format(987_654_321))
    machine(raw, address="192.0.2.77").get(STATUS_URL.format(patron.koha_patron_id))
    machine(raw).post(VIEWS_URL, {"views": [view("e-1", patron), {"bad": 1}]}, content_type="application/json")
    assert secret not in caplog.text
    rows = AccessEvent.objects.values_list("actor_username", "detail", "resource", "reason")
    assert not any(secret in str(row) for row in rows)
    assert not MachineKey.objects.filter(hashed_key__contains=secret).exists()


# --- throttling ----------------------------------------------------------------------------------------------


def test_a_flood_of_key_requests_is_throttled_by_client_address(settings, key, patron):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "machine": "3/minute"}
    _key, raw = key
    url = STATUS_URL.format(patron.koha_patron_id)
    assert [machine(raw).get(url).status_code for _ in range(3)] == [200, 200, 200]
    response = machine(raw).get(url)
    assert (response.status_code, response.json()["code"]) == (429, "throttled")
    assert int(response["Retry-After"]) > 0
    # Another key from the same address shares the address's count.
    _other, other_raw = make_key()
    assert machine(other_raw).get(url).status_code == 429


def test_a_flood_of_staff_requests_is_throttled_and_a_forwarded_header_does_not_escape_it(settings, patron):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "2/minute"}
    statuses = [
        client_for("rovaniemi.staff", HTTP_X_FORWARDED_FOR=f"10.10.0.{n}")
        .get(f"/api/v1/patrons/{patron.pk}/")
        .status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    assert client_for("rovaniemi.staff", address="10.10.4.4").get(f"/api/v1/patrons/{patron.pk}/").status_code == 200


# --- views made in Koha --------------------------------------------------------------------------------------


@pytest.fixture
def rovaniemi_staff() -> StaffProfile:
    profile = StaffProfile.objects.get(user__username="rovaniemi.staff")
    profile.koha_userid = "rovstaff"
    profile.save()
    return profile


def post_views(raw: str, views: list) -> dict:
    response = machine(raw).post(VIEWS_URL, {"views": views}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def test_views_are_the_staff_members_events_checked_against_their_allow_list(key, patron, rovaniemi_staff):
    key, raw = key
    before = AccessEvent.objects.count()
    answers = post_views(
        raw,
        [
            view("e-1", patron),
            view("e-2", patron, staff_address="192.0.2.9"),  # outside Rovaniemi's networks
            view("e-3", patron, staff_userid="stranger"),
            view("e-4", patron, koha_patron_id=987_654_321),
        ],
    )["views"]
    assert [(a["status"], a["staff_user_known"], a["network_allowed"]) for a in answers] == [
        ("recorded", True, True),
        ("recorded", True, False),
        ("recorded", False, False),
        ("unknown_patron", None, None),
    ]
    events = list(AccessEvent.objects.filter(id__gt=0).order_by("-id")[:4])[::-1]
    assert AccessEvent.objects.count() == before + 4  # three views and the batch
    seen, outside, stranger, batch = events
    assert (seen.actor_id, seen.actor_username, seen.action, seen.outcome, seen.client_ip) == (
        rovaniemi_staff.user_id,
        "rovaniemi.staff",
        Action.KOHA_PATRON_VIEW,
        Outcome.ALLOWED,
        "127.0.0.5",
    )
    assert seen.actor_municipality_id == rovaniemi_staff.municipality_id and seen.patron_ids == [patron.pk]
    assert seen.resource == "koha:members/moremember.pl"
    assert (outside.outcome, outside.detail) == (Outcome.REPORTED, "network_not_allowed")
    assert (stranger.actor_id, stranger.actor_username, stranger.outcome, stranger.detail) == (
        None,
        "koha:stranger",
        Outcome.REPORTED,
        "unknown_staff_user",
    )
    assert (batch.action, batch.actor_username, batch.patron_ids) == (Action.KOHA_VIEWS_RECEIVED, key.actor_name, [])
    assert batch.detail == "recorded:3;duplicate:0;unknown_patron:1"
    receipt = KohaViewReceipt.objects.get(event_id="e-1")
    assert (receipt.access_event_id, receipt.key_id) == (seen.pk, key.pk)
    assert receipt.viewed_at == datetime.datetime(2026, 3, 2, 8, 15, tzinfo=datetime.UTC)


def test_a_view_in_koha_of_a_record_kept_under_a_legal_hold_is_still_logged(key, patron, rovaniemi_staff):
    """Koha keeps an erased patron it could not delete (a debt: the case a hold is for); its staff's reads there
    stay in the access log for the DPO's review, though the service's staff no longer reach the record."""
    _key, raw = key
    Patron.objects.filter(pk=patron.pk).update(held_after_erasure=True, needs_protection=True)
    answers = post_views(raw, [view("e-held", patron)])["views"]
    assert [a["status"] for a in answers] == ["recorded"]
    logged = AccessEvent.objects.filter(action=Action.KOHA_PATRON_VIEW).order_by("-id").first()
    assert logged is not None and logged.patron_ids == [patron.pk]


def test_a_replayed_batch_is_accepted_and_not_logged_twice(key, patron, rovaniemi_staff):
    _key, raw = key
    batch = [view("e-1", patron), view("e-2", patron)]
    post_views(raw, batch)
    views_logged = AccessEvent.objects.filter(action=Action.KOHA_PATRON_VIEW).count()
    # Sent again (the answer was lost), with the same id twice and by a rotated key of the same consortium.
    _new, new_raw = make_key()
    answers = post_views(new_raw, [*batch, view("e-2", patron), view("e-3", patron)])["views"]
    assert [a["status"] for a in answers] == ["duplicate", "duplicate", "duplicate", "recorded"]
    assert AccessEvent.objects.filter(action=Action.KOHA_PATRON_VIEW).count() == views_logged + 1


def test_another_consortiums_key_does_not_see_this_consortiums_receipts_or_patrons(patron, rovaniemi_staff):
    _lapland, lapland_raw = make_key()
    post_views(lapland_raw, [view("e-1", patron)])
    _mikkeli, mikkeli_raw = make_key(slug="mikkelin-seutukirjasto", networks="10.30.0.0/16")
    response = machine(mikkeli_raw, address="10.30.2.9").post(
        VIEWS_URL, {"views": [view("e-1", patron)]}, content_type="application/json"
    )
    assert [a["status"] for a in response.json()["views"]] == ["unknown_patron"]


def test_an_oversized_batch_is_a_400_and_nothing_is_written(settings, key, patron, rovaniemi_staff):
    _key, raw = key
    before = AccessEvent.objects.count()
    views = [view(f"e-{n}", patron) for n in range(settings.KOHA_VIEWS_BATCH_MAX + 1)]
    response = machine(raw).post(VIEWS_URL, {"views": views}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert "views" in response.json()["errors"]
    assert AccessEvent.objects.count() == before and not KohaViewReceipt.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"event_id": "x" * 65},
        {"event_id": "a b"},
        {"staff_address": "not-an-address"},
        {"viewed_at": "0001-01-01T00:00:00Z"},
        {"koha_patron_id": 2**63},
        {"page": "<script>"},
    ],
)
def test_one_invalid_view_is_a_400_naming_it_and_nothing_of_the_batch_is_written(key, patron, rovaniemi_staff, bad):
    _key, raw = key
    before = AccessEvent.objects.count()
    response = machine(raw).post(
        VIEWS_URL, {"views": [view("e-1", patron), {**view("e-2", patron), **bad}]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert any(field.startswith("views.1.") for field in response.json()["errors"])
    assert AccessEvent.objects.count() == before and not KohaViewReceipt.objects.exists()


def test_views_in_koha_are_in_the_patrons_access_log_and_access_report(key, patron, rovaniemi_staff):
    from patrons.privacy import _access_log_section

    _key, raw = key
    post_views(raw, [view("e-1", patron)])
    log = client_for("dpo").get(f"/api/v1/patrons/{patron.pk}/access-events/").json()
    entry = next(item for item in log if item["action"] == Action.KOHA_PATRON_VIEW)
    assert entry["actor"] == "rovaniemi.staff"
    rows = [{item.field: item for item in record.items} for record in _access_log_section(patron.pk).records]
    row = next(row for row in rows if row["action"].value == Action.KOHA_PATRON_VIEW)
    # Described like a view made here: the staff member's role and municipality, the action naming Koha.
    assert row["role"].value == ["staff"] and row["municipality"].text == "Rovaniemi"
    assert "Koha" in row["action"].text


def test_a_new_key_is_shown_once_on_the_answer_never_in_a_cookie_and_creation_and_revocation_are_logged():
    """A Django message would keep the key in the messages cookie (or the session) until shown: the key is on
    the answer to the creating POST only. Creating and revoking a key are access events naming its prefix."""
    admin = client_for("admin")
    consortium = Consortium.objects.get(slug="lapin-kirjastot")
    permission = machine_permissions().get(codename="view_privacy_status")
    response = admin.post(
        "/admin/staff/machinekey/add/",
        {
            "name": "Koha plugin",
            "consortium": consortium.pk,
            "networks": "127.0.0.0/8",
            "permissions": [permission.pk],
            "expiry_date_0": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
            "expiry_date_1": "12:00:00",
        },
    )

    assert response.status_code == 200, response.content[:2000]
    key = MachineKey.objects.get(name="Koha plugin")
    shown = re.search(r'id="machine-key"[^>]*value="([^"]+)"', response.content.decode())
    assert shown is not None, response.content.decode()[:3000]
    raw = shown.group(1)
    assert raw.startswith(key.prefix + ".") and MachineKey.objects.is_valid(raw)
    assert all(raw not in morsel.value for morsel in response.cookies.values())
    assert raw not in str(admin.session.items())
    created = AccessEvent.objects.filter(action=Action.MACHINE_KEY_CHANGE).order_by("-id").first()
    assert created.detail.startswith(f"created:key={key.prefix}") and raw.split(".")[1] not in created.detail

    page = admin.get(f"/admin/staff/machinekey/{key.pk}/change/").content.decode()
    assert raw not in page

    change = {
        "name": "Koha plugin",
        "networks": "127.0.0.0/8",
        "permissions": [permission.pk],
        "expiry_date_0": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        "expiry_date_1": "12:00:00",
        "revoked": "on",
    }
    assert admin.post(f"/admin/staff/machinekey/{key.pk}/change/", change).status_code == 302
    revoked = AccessEvent.objects.filter(action=Action.MACHINE_KEY_CHANGE).order_by("-id").first()
    assert revoked.detail.startswith(f"revoked:key={key.prefix}")
