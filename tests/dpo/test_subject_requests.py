"""Data-subject requests from the outside: the DPO records them through the API and the admin, the answer's
deadline follows Regulation 1182/71 and the holidays of the patron's country, and each step keeps its rules."""

import datetime
import importlib

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import timezone

from audit.models import AccessEvent, Action
from core.registers import Register
from demo.procedures import SEEDER
from demo.subject_requests import seed_subject_requests
from dpo.models import RegisterDescription, RequestKind, SubjectRequest
from patrons.models import Patron
from staff.models import Consortium, Library
from tests.conftest import client_for
from tests.factories import StaffProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date
API = "/api/v1/subject-requests/"
CHANGELIST = "/admin/dpo/subjectrequest/"


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=datetime.UTC)


def today() -> datetime.date:
    return timezone.localdate()


def post(client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def record(client, patron_id: int, received_on: datetime.date | str | None = None, kind: str = "access", **extra):
    body = {
        "patron": patron_id,
        "kind": kind,
        "received_on": str(received_on or today()),
        "identity_document": "id_card",
        **extra,
    }
    return post(client, API, body)


def recorded(client, patron_id: int, received_on: datetime.date | None = None, kind: str = "access") -> dict:
    response = record(client, patron_id, received_on, kind)
    assert response.status_code == 201, response.content
    return response.json()


def step(client, request_id: int, name: str, body: dict):
    return post(client, f"{API}{request_id}/{name}/", body)


def request_events() -> int:
    return AccessEvent.objects.filter(action=Action.SUBJECT_REQUEST).count()


def report_made(request_id: int, *, previous: int | None = None, at: datetime.datetime | None = None) -> None:
    """What making the access report marks on the request (the report's own module and tests cover making it)."""
    SubjectRequest.objects.filter(pk=request_id).update(
        report_made_at=at or timezone.now(), previous_report_id=previous
    )


@pytest.fixture
def dpo():
    return client_for("dpo")


@pytest.fixture
def eslov_dpo():
    """A data protection officer of the Swedish consortium (the demo has none)."""
    StaffProfileFactory(
        home_library=Library.objects.get(koha_library_id="ESL"), user=UserFactory(username="eslov.dpo", groups=["dpo"])
    )
    return "eslov.dpo"


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- the deadline ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # 31 January: February has no 31st, so its last day. 28.2.2025 is a Friday.
        (D(2025, 1, 31), D(2025, 2, 28)),
        # A leap year: 29.2.2024, a Thursday.
        (D(2024, 1, 31), D(2024, 2, 29)),
        # 28.2.2026 is a Saturday: the answer is due on Monday 2.3.
        (D(2026, 1, 31), D(2026, 3, 2)),
        # 30.5.2026 is a Saturday: Monday 1.6.
        (D(2026, 4, 30), D(2026, 6, 1)),
        # Same date next month on a working day.
        (D(2026, 3, 10), D(2026, 4, 10)),
        # Independence Day 6.12.2027 is a Monday, a public holiday: Tuesday 7.12.
        (D(2027, 11, 6), D(2027, 12, 7)),
        # 6.12.2025 is a Saturday and Independence Day: Monday 8.12.
        (D(2025, 11, 6), D(2025, 12, 8)),
        # Christmas Eve (Thursday 24.12.2026), Christmas and the weekend: Monday 28.12.
        (D(2026, 11, 24), D(2026, 12, 28)),
    ],
)
def test_the_answer_is_due_one_month_after_receipt_on_a_finnish_working_day(lapland_patron, received, due):
    with time_machine.travel(at_noon(received), tick=False):
        answer = recorded(client_for("dpo"), lapland_patron.pk, received)
    assert answer["due_on"] == due.isoformat()
    assert answer["deadline"] == due.isoformat()
    assert answer["extended_due_on"] is None
    assert answer["state"] == "open"
    assert answer["days_left"] == (due - received).days


def test_a_swedish_patrons_deadline_follows_swedish_holidays(eslov_dpo, eslov_patron, lapland_patron):
    received = D(2028, 5, 6)
    with time_machine.travel(at_noon(received), tick=False):
        swedish = recorded(client_for(eslov_dpo, address="10.40.2.5"), eslov_patron.pk, received)
        finnish = recorded(client_for("dpo"), lapland_patron.pk, received)
    # Sweden's national day, Tuesday 6.6.2028, is a holiday there but a working day in Finland.
    assert swedish["due_on"] == "2028-06-07"
    assert finnish["due_on"] == "2028-06-06"


def test_midsummer_eve_moves_a_swedish_deadline(eslov_dpo, eslov_patron):
    with time_machine.travel(at_noon(D(2026, 5, 19)), tick=False):
        answer = recorded(client_for(eslov_dpo, address="10.40.2.5"), eslov_patron.pk, D(2026, 5, 19))
    # Midsommarafton, Friday 19.6.2026: Monday 22.6.
    assert answer["due_on"] == "2026-06-22"


def test_a_request_past_its_deadline_is_overdue(lapland_patron):
    with time_machine.travel(at_noon(D(2026, 1, 31)), tick=False):
        request_id = recorded(client_for("dpo"), lapland_patron.pk, D(2026, 1, 31))["id"]
    with time_machine.travel(at_noon(D(2026, 3, 2)), tick=False):
        on_the_last_day = client_for("dpo").get(f"{API}{request_id}/").json()
    with time_machine.travel(at_noon(D(2026, 3, 3)), tick=False):
        after_it = client_for("dpo").get(f"{API}{request_id}/").json()
    assert (on_the_last_day["state"], on_the_last_day["days_left"]) == ("open", 0)
    assert (after_it["state"], after_it["days_left"]) == ("overdue", -1)


# --- recording --------------------------------------------------------------------------------------


def test_recording_checks_the_identity_and_logs_the_patron_id_only(dpo, lapland_patron):
    before = request_events()
    answer = recorded(dpo, lapland_patron.pk, today() - datetime.timedelta(days=2), kind="erasure")

    assert answer["kind"] == "erasure"
    assert answer["patron"] == lapland_patron.pk
    assert answer["identity_document"] == "id_card"
    # Mikkeli notice: the system records that the identity was checked, by whom and when (by default, the DPO today).
    assert (answer["identity_verified_by"], answer["identity_verified_on"]) == ("dpo", today().isoformat())
    assert request_events() == before + 1
    event = AccessEvent.objects.filter(action=Action.SUBJECT_REQUEST).latest("id")
    assert (event.patron_ids, event.detail, event.outcome, event.actor_username) == (
        [lapland_patron.pk],
        "recorded",
        "allowed",
        "dpo",
    )
    stored = " ".join(str(value) for value in AccessEvent.objects.filter(pk=event.pk).values().first().values())
    for personal in (lapland_patron.first_name, lapland_patron.last_name, lapland_patron.cardnumber):
        assert personal not in stored


def test_the_identity_check_can_be_recorded_by_someone_else_later(dpo, lapland_patron):
    received = today() - datetime.timedelta(days=5)
    answer = recorded(dpo, lapland_patron.pk, received)
    checked = post(
        dpo,
        API,
        {
            "patron": lapland_patron.pk,
            "kind": "rectification",
            "received_on": received.isoformat(),
            "identity_document": "driving_licence",
            "identity_verified_by": "rovaniemi.staff",
            "identity_verified_on": (received + datetime.timedelta(days=1)).isoformat(),
        },
    ).json()
    assert answer["identity_verified_on"] == today().isoformat()
    assert (checked["identity_verified_by"], checked["identity_verified_on"]) == (
        "rovaniemi.staff",
        (received + datetime.timedelta(days=1)).isoformat(),
    )


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"received_on": "tomorrow"}, "received_in_future"),
        ({"identity_verified_on": "yesterday"}, "identity_checked_before_receipt"),
        ({"identity_verified_on": "tomorrow"}, "identity_checked_in_future"),
    ],
)
def test_recording_rules_write_nothing(dpo, lapland_patron, overrides, rule):
    days = {"tomorrow": today() + datetime.timedelta(days=1), "yesterday": today() - datetime.timedelta(days=1)}
    body = {key: days[value].isoformat() for key, value in overrides.items()}
    requests, events = SubjectRequest.objects.count(), AccessEvent.objects.count()
    response = record(dpo, lapland_patron.pk, **body)
    assert response.status_code == 400
    assert response.json()["rule"] == rule
    assert (SubjectRequest.objects.count(), AccessEvent.objects.count()) == (requests, events)


def test_an_unknown_kind_or_identity_document_is_a_400(dpo, lapland_patron):
    assert record(dpo, lapland_patron.pk, kind="portability").status_code == 400
    assert record(dpo, lapland_patron.pk, identity_document="library_card").status_code == 400


@pytest.mark.parametrize("username", ["rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "kemi.staff"])
def test_only_the_dpo_handles_requests(username, lapland_patron):
    requests = SubjectRequest.objects.count()
    client = client_for(username)
    assert record(client, lapland_patron.pk).status_code == 403
    assert client.get(API).status_code == 403
    demo = SubjectRequest.objects.filter(consortium__slug="lapin-kirjastot", completed_on__isnull=True).first()
    assert client.get(f"{API}{demo.pk}/").status_code == 403
    assert step(client, demo.pk, "refusal", {"ground": "art12_5", "details": "Excessive."}).status_code == 403
    assert SubjectRequest.objects.count() == requests
    demo.refresh_from_db()
    assert demo.completed_on is None


def test_another_consortiums_patron_and_request_do_not_exist(dpo, mikkeli_patron, eslov_dpo, eslov_patron):
    requests = SubjectRequest.objects.count()
    assert record(dpo, mikkeli_patron.pk).status_code == 404
    assert record(dpo, 999_999_999).status_code == 404
    assert SubjectRequest.objects.count() == requests
    swedish = recorded(client_for(eslov_dpo, address="10.40.2.5"), eslov_patron.pk)
    assert dpo.get(f"{API}{swedish['id']}/").status_code == 404
    assert step(dpo, swedish["id"], "refusal", {"ground": "art12_5", "details": "Excessive."}).status_code == 404
    assert swedish["id"] not in [item["id"] for item in dpo.get(API).json()["results"]]


def test_the_list_is_newest_first_and_can_show_open_requests_only(dpo, lapland_patron):
    older = recorded(dpo, lapland_patron.pk, today() - datetime.timedelta(days=20), kind="rectification")
    newer = recorded(dpo, lapland_patron.pk, today() - datetime.timedelta(days=1), kind="objection")
    assert step(dpo, older["id"], "completion", {}).status_code == 200

    listed = dpo.get(API).json()
    ids = [item["id"] for item in listed["results"]]
    assert ids.index(newer["id"]) < ids.index(older["id"])
    assert listed["count"] == SubjectRequest.objects.filter(consortium__slug="lapin-kirjastot").count()
    open_ids = [item["id"] for item in dpo.get(API, {"open": "1"}).json()["results"]]
    assert newer["id"] in open_ids and older["id"] not in open_ids


# --- extension --------------------------------------------------------------------------------------


def test_an_extension_of_two_more_months_once_told_within_the_first_month(lapland_patron):
    with time_machine.travel(at_noon(D(2026, 1, 31)), tick=False):
        request_id = recorded(client_for("dpo"), lapland_patron.pk, D(2026, 1, 31))["id"]
    with time_machine.travel(at_noon(D(2026, 3, 10)), tick=False):
        dpo = client_for("dpo")
        good = {"months": 2, "reason": "The access log covers five registers.", "notified_on": "2026-03-02"}
        before = request_events()
        refused = [
            step(dpo, request_id, "extension", {**good, "months": 3}),
            step(dpo, request_id, "extension", {**good, "months": 0}),
            step(dpo, request_id, "extension", {**good, "reason": "  "}),
            # The first month ended on Monday 2.3. (28.2. was a Saturday).
            step(dpo, request_id, "extension", {**good, "notified_on": "2026-03-03"}),
            step(dpo, request_id, "extension", {**good, "notified_on": "2026-01-30"}),
            step(dpo, request_id, "extension", {**good, "notified_on": "2026-03-11"}),
        ]
        assert [response.status_code for response in refused] == [400] * 6
        assert [response.json()["rule"] for response in refused] == [
            "extension_too_long",
            "extension_too_long",
            "extension_reason_required",
            "notified_after_first_month",
            "notified_before_receipt",
            "notified_in_future",
        ]
        assert request_events() == before
        assert SubjectRequest.objects.get(pk=request_id).extended_due_on is None

        extended = step(dpo, request_id, "extension", good)
        assert extended.status_code == 200, extended.content
        answer = extended.json()
        # Three months from receipt: 30.4.2026, a Thursday (counted from 31.1., not from the moved 2.3.).
        assert (answer["due_on"], answer["extended_due_on"], answer["deadline"]) == (
            "2026-03-02",
            "2026-04-30",
            "2026-04-30",
        )
        assert (answer["state"], answer["extension_notified_on"]) == ("extended", "2026-03-02")
        assert answer["extension_reason"] == good["reason"]
        again = step(dpo, request_id, "extension", {**good, "months": 1})
        assert (again.status_code, again.json()["rule"]) == (400, "already_extended")
        assert AccessEvent.objects.filter(action=Action.SUBJECT_REQUEST).latest("id").detail == "extended"


def test_one_more_month_is_counted_from_receipt_too(lapland_patron):
    with time_machine.travel(at_noon(D(2026, 3, 20)), tick=False):
        dpo = client_for("dpo")
        request_id = recorded(dpo, lapland_patron.pk, D(2026, 3, 10))["id"]
        body = {"months": 1, "reason": "Many registers.", "notified_on": "2026-03-20"}
        answer = step(dpo, request_id, "extension", body).json()
    # Two months from 10.3.2026: 10.5., a Sunday, so Monday 11.5.
    assert (answer["due_on"], answer["extended_due_on"]) == ("2026-04-10", "2026-05-11")


# --- delivery and the fee ----------------------------------------------------------------------------


def test_delivery_answers_an_access_request_and_destroys_the_form(dpo, lapland_patron):
    request_id = recorded(dpo, lapland_patron.pk, today() - datetime.timedelta(days=3))["id"]
    delivery = {"method": "electronic", "delivered_on": today().isoformat()}
    not_yet = step(dpo, request_id, "delivery", delivery)
    assert (not_yet.status_code, not_yet.json()["rule"]) == (400, "report_not_made")

    report_made(request_id)
    future = step(
        dpo, request_id, "delivery", {**delivery, "delivered_on": (today() + datetime.timedelta(days=1)).isoformat()}
    )
    assert (future.status_code, future.json()["rule"]) == (400, "delivered_in_future")
    early = step(
        dpo, request_id, "delivery", {**delivery, "delivered_on": (today() - datetime.timedelta(days=1)).isoformat()}
    )
    assert (early.status_code, early.json()["rule"]) == (400, "delivered_before_report")
    delivered = step(dpo, request_id, "delivery", delivery)

    assert delivered.status_code == 200, delivered.content
    answer = delivered.json()
    assert answer["delivery_method"] == "electronic"
    # Mikkeli notice: the copy of the request form is destroyed once the report is made and delivered.
    assert (
        answer["delivered_on"] == answer["request_form_destroyed_on"] == answer["completed_on"] == today().isoformat()
    )
    assert (answer["state"], answer["days_left"]) == ("answered", None)
    assert AccessEvent.objects.filter(action=Action.SUBJECT_REQUEST).latest("id").detail == "delivered"
    closed = step(dpo, request_id, "refusal", {"ground": "art12_5", "details": "Too late."})
    assert (closed.status_code, closed.json()["rule"]) == (400, "request_closed")


def test_only_an_access_request_is_delivered(dpo, lapland_patron):
    request_id = recorded(dpo, lapland_patron.pk, kind="erasure")["id"]
    response = step(dpo, request_id, "delivery", {"method": "paper_pickup", "delivered_on": today().isoformat()})
    assert (response.status_code, response.json()["rule"]) == (400, "not_an_access_request")


def test_a_second_request_11_months_after_the_first_report_is_free_without_a_reasoned_finding(dpo, lapland_patron):
    """GDPR Art. 15(3), 12(5): no yearly free report any more (the repealed Personal Data Act s. 26)."""
    eleven_months_ago = today() - relativedelta(months=11)
    first = recorded(dpo, lapland_patron.pk, eleven_months_ago)["id"]
    not_further = step(dpo, first, "fee-decision", {"decision": "further_copy", "reason": "Again."})
    assert (not_further.status_code, not_further.json()["rule"]) == (400, "not_a_further_copy")
    report_made(first, at=at_noon(eleven_months_ago))
    second = recorded(dpo, lapland_patron.pk)["id"]
    report_made(second, previous=first)
    delivery = {"method": "paper_pickup", "delivered_on": today().isoformat()}
    assert dpo.get(f"{API}{second}/").json()["repeat_of"] == first

    for finding in ("further_copy", "unfounded_fee", "refused"):
        no_reason = step(dpo, second, "fee-decision", {"decision": finding, "reason": "  "})
        assert (no_reason.status_code, no_reason.json()["rule"]) == (400, "fee_reason_required")
    repealed = step(dpo, second, "fee-decision", {"decision": "charged", "reason": "Second within a year."})
    assert repealed.status_code == 400
    assert SubjectRequest.objects.get(pk=second).fee_decision == ""
    # Nothing waits for a finding: the copy is free and is delivered.
    free = step(dpo, second, "delivery", delivery)
    assert (free.status_code, free.json()["state"], free.json()["fee_decision"]) == (200, "answered", "")


def test_a_fee_for_a_repeat_needs_the_dpos_finding_with_its_reasoning(dpo, lapland_patron):
    eleven_months_ago = today() - relativedelta(months=11)
    first = recorded(dpo, lapland_patron.pk, eleven_months_ago)["id"]
    report_made(first, at=at_noon(eleven_months_ago))
    second = recorded(dpo, lapland_patron.pk)["id"]
    charged = step(dpo, second, "fee-decision", {"decision": "further_copy", "reason": "A second paper copy."})
    assert charged.status_code == 200, charged.content
    assert (charged.json()["fee_decision"], charged.json()["state"], charged.json()["repeat_of"]) == (
        "further_copy",
        "open",
        first,
    )
    assert AccessEvent.objects.filter(action=Action.SUBJECT_REQUEST).latest("id").detail == "fee_further_copy"
    twice = step(dpo, second, "fee-decision", {"decision": "refused", "reason": "Excessive."})
    assert twice.json()["rule"] == "fee_already_decided"
    report_made(second, previous=first)
    delivery = {"method": "paper_pickup", "delivered_on": today().isoformat()}
    assert step(dpo, second, "delivery", delivery).json()["state"] == "answered"


def test_old_fee_decisions_are_migrated_for_what_they_were(lapland_patron):
    """A `free` decision needs none now; `charged` stays, labelled as the repealed rule's; `refused` keeps."""
    migration = importlib.import_module("dpo.migrations.0005_free_copy")
    rows = {
        decision: SubjectRequest.objects.create(
            consortium_id=lapland_patron.consortium_id,
            patron_id=lapland_patron.pk,
            kind="access",
            received_on=today(),
            identity_document="passport",
            identity_verified_by="dpo",
            identity_verified_on=today(),
            due_on=today(),
            recorded_at=timezone.now(),
            recorded_by="dpo",
            fee_decision=decision,
        ).pk
        for decision in ("free", "charged", "refused")
    }
    migration.free_needs_no_decision(apps, None)
    after = dict(SubjectRequest.objects.filter(pk__in=rows.values()).values_list("pk", "fee_decision"))
    assert [after[rows[decision]] for decision in ("free", "charged", "refused")] == ["", "charged", "refused"]
    assert "kumotun" in str(SubjectRequest.objects.get(pk=rows["charged"]).get_fee_decision_display())


def test_the_dpo_sees_a_repeat_before_the_report_is_made(dpo, lapland_patron):
    first = recorded(dpo, lapland_patron.pk, today() - datetime.timedelta(days=60))["id"]
    report_made(first)
    second = recorded(dpo, lapland_patron.pk)["id"]
    assert dpo.get(f"{API}{second}/").json()["earlier_report_id"] == first
    assert SubjectRequest.objects.get(pk=second).report_made_at is None, "looking made no report"
    page = in_english(dpo).get(f"{CHANGELIST}{second}/change/").content.decode()
    assert "Not the patron's first report" in page
    assert f'href="{CHANGELIST}{first}/change/">#{first}</a>' in page
    assert dpo.get(f"{API}{first}/").json()["earlier_report_id"] is None

    # A refused request's report does not count: the next report is free.
    SubjectRequest.objects.filter(pk=first).update(refusal_ground="art12_5", completed_on=today())
    assert dpo.get(f"{API}{second}/").json()["earlier_report_id"] is None
    assert "first report" not in in_english(dpo).get(f"{CHANGELIST}{second}/change/").content.decode()


def test_a_repeat_refused_ends_the_request_as_manifestly_excessive(dpo, lapland_patron):
    first = recorded(dpo, lapland_patron.pk, today() - datetime.timedelta(days=30))["id"]
    second = recorded(dpo, lapland_patron.pk)["id"]
    report_made(second, previous=first)
    answer = step(dpo, second, "fee-decision", {"decision": "refused", "reason": "The fourth request this month."})
    assert answer.status_code == 200
    answer = answer.json()
    assert (answer["state"], answer["refusal_ground"], answer["completed_on"]) == (
        "refused",
        "art12_5",
        today().isoformat(),
    )
    assert answer["refusal_details"] == "The fourth request this month."


# --- refusal and completion ---------------------------------------------------------------------------


def test_an_erasure_is_refused_only_on_an_article_17_3_ground(dpo, lapland_patron):
    request_id = recorded(dpo, lapland_patron.pk, kind="erasure")["id"]
    before = request_events()
    excessive = step(dpo, request_id, "refusal", {"ground": "art12_5", "details": "Excessive."})
    no_details = step(dpo, request_id, "refusal", {"ground": "art17_3_e", "details": ""})
    assert (excessive.status_code, excessive.json()["rule"]) == (400, "erasure_ground_required")
    assert (no_details.status_code, no_details.json()["rule"]) == (400, "refusal_details_required")
    assert request_events() == before

    refused = step(dpo, request_id, "refusal", {"ground": "art17_3_e", "details": "Unpaid damages being claimed."})
    assert refused.status_code == 200
    answer = refused.json()
    assert (answer["state"], answer["refusal_ground"], answer["completed_on"]) == (
        "refused",
        "art17_3_e",
        today().isoformat(),
    )
    event = AccessEvent.objects.filter(action=Action.SUBJECT_REQUEST).latest("id")
    assert (event.detail, event.patron_ids, event.reason) == ("refused", [lapland_patron.pk], "")


def test_article_17_3_is_for_erasure_only(dpo, lapland_patron):
    request_id = recorded(dpo, lapland_patron.pk)["id"]
    wrong = step(dpo, request_id, "refusal", {"ground": "art17_3_a", "details": "Journalism."})
    assert (wrong.status_code, wrong.json()["rule"]) == (400, "art17_3_for_erasure_only")
    assert step(dpo, request_id, "refusal", {"ground": "art12_5", "details": "Excessive."}).status_code == 200


def test_completion(dpo, lapland_patron):
    received = today() - datetime.timedelta(days=4)
    rectification = recorded(dpo, lapland_patron.pk, received, kind="rectification")["id"]
    access = recorded(dpo, lapland_patron.pk, received)["id"]
    erasure = recorded(dpo, lapland_patron.pk, received, kind="erasure")["id"]

    early = step(
        dpo, rectification, "completion", {"completed_on": (received - datetime.timedelta(days=1)).isoformat()}
    )
    assert early.json()["rule"] == "completed_before_receipt"
    assert step(dpo, access, "completion", {}).json()["rule"] == "access_answered_by_delivery"
    # Carrying out the erasure answers an erasure request (tests/dpo/test_erasure.py); nothing to record by hand.
    assert step(dpo, erasure, "completion", {}).json()["rule"] == "erasure_answered_by_erasure"
    assert SubjectRequest.objects.get(pk=erasure).completed_on is None
    done = step(dpo, rectification, "completion", {"completed_on": received.isoformat()})
    assert done.status_code == 200
    assert (done.json()["state"], done.json()["completed_on"]) == ("answered", received.isoformat())


# --- the admin ----------------------------------------------------------------------------------------


def test_the_dpo_records_a_request_in_the_admin_by_patron_id(lapland_patron, mikkeli_patron):
    dpo = in_english(client_for("dpo"))
    page = dpo.get(f"{CHANGELIST}add/").content.decode()
    assert 'type="number" name="patron"' in page
    assert '<select name="patron"' not in page and lapland_patron.last_name not in page

    requests = SubjectRequest.objects.count()
    future = dpo.post(
        f"{CHANGELIST}add/",
        {"patron": lapland_patron.pk, "kind": "access", "received_on": "2099-01-01", "identity_document": "passport"},
    )
    assert future.status_code == 200
    assert "A request cannot be received in the future." in future.content.decode()
    elsewhere = dpo.post(
        f"{CHANGELIST}add/",
        {
            "patron": mikkeli_patron.pk,
            "kind": "access",
            "received_on": today().isoformat(),
            "identity_document": "passport",
        },
    )
    assert "Your consortium has no patron with this id." in elsewhere.content.decode()
    assert SubjectRequest.objects.count() == requests

    response = dpo.post(
        f"{CHANGELIST}add/",
        {
            "patron": lapland_patron.pk,
            "kind": "erasure",
            "received_on": today().isoformat(),
            "identity_document": "passport",
        },
    )
    created = SubjectRequest.objects.latest("id")
    assert response.status_code == 302 and response["Location"] == f"{CHANGELIST}{created.pk}/change/"
    assert (created.patron_id, created.kind, created.identity_verified_by) == (lapland_patron.pk, "erasure", "dpo")
    assert AccessEvent.objects.filter(action=Action.SUBJECT_REQUEST).latest("id").detail == "recorded"


@pytest.mark.parametrize("found_by", ["last_name", "cardnumber"])  # a letter often names the card only
def test_the_dpo_finds_the_patron_by_name_or_card_number_and_the_search_is_logged_without_its_text(
    lapland_patron, mikkeli_patron, found_by
):
    dpo = in_english(client_for("dpo"))
    typed = {"kind": "erasure", "received_on": today().isoformat(), "identity_document": "passport"}
    searches = AccessEvent.objects.filter(action=Action.PATRON_SEARCH, actor_username="dpo")
    before = searches.count()
    text = getattr(lapland_patron, found_by)

    response = dpo.post(f"{CHANGELIST}add/", {**typed, "find": text, "_find": "1"})

    assert response.status_code == 200
    html = response.content.decode()
    # Name, card number and date of birth tell namesakes apart; choosing one is a radio of the patron field.
    assert f"{lapland_patron.last_name}, {lapland_patron.first_name}" in html
    assert (
        lapland_patron.cardnumber in html
        and f"{lapland_patron.date_of_birth.day} {lapland_patron.date_of_birth:%b %Y}" in html
    )  # English: 3 Dec 2026
    assert f'type="radio" name="patron" value="{lapland_patron.pk}"' in html
    assert mikkeli_patron.last_name not in html or mikkeli_patron.cardnumber not in html
    # The typed values stay; the search text is shown back but never logged.
    assert '<option value="erasure" selected>' in html and f'value="{text}"' in html
    assert searches.count() == before + 1
    event = searches.latest("id")
    assert lapland_patron.pk in event.patron_ids and mikkeli_patron.pk not in event.patron_ids
    assert text not in f"{event.detail} {event.reason} {event.resource}"
    assert SubjectRequest.objects.filter(patron_id=lapland_patron.pk).count() == 0

    chosen = dpo.post(f"{CHANGELIST}add/", {**typed, "find": text, "patron": lapland_patron.pk})
    assert chosen.status_code == 302
    assert SubjectRequest.objects.get(patron_id=lapland_patron.pk).kind == "erasure"


def test_an_identity_code_is_not_searched_on_the_record_form(lapland_patron):
    dpo = in_english(client_for("dpo"))
    response = dpo.post(f"{CHANGELIST}add/", {"find": "010101-123N", "_find": "1"})
    html = response.content.decode()
    assert "An identity code is not searched here." in html and "010101-123N" not in html


def representative(role: str, check: str = "population_register", **extra) -> dict:
    return {"requester_role": role, "requester_name": "Maija Meikäläinen", "requester_authority_check": check, **extra}


def test_a_guardians_request_is_refused_from_the_patrons_18th_birthday(dpo, lapland_patron):
    """Custody ends at 18 (Guardianship Services Act 442/1999 s. 2): judged on the day the request came."""
    received = today() - datetime.timedelta(days=3)
    lapland_patron.date_of_birth = received - relativedelta(years=18)
    lapland_patron.save(update_fields=["date_of_birth"])

    on_the_birthday = record(dpo, lapland_patron.pk, received, **representative("guardian"))
    assert (on_the_birthday.status_code, on_the_birthday.json()["code"]) == (400, "guardian_of_adult")
    the_day_before = recorded_by(dpo, lapland_patron.pk, received - datetime.timedelta(days=1), "guardian")
    assert (the_day_before["requester_role"], the_day_before["requester_name"]) == ("guardian", "Maija Meikäläinen")
    authorised = recorded_by(dpo, lapland_patron.pk, received, "authorised_representative", "power_of_attorney")
    assert authorised["requester_authority_check"] == "power_of_attorney"

    lapland_patron.date_of_birth = None
    lapland_patron.save(update_fields=["date_of_birth"])
    unknown = record(dpo, lapland_patron.pk, received, **representative("guardian"))
    assert unknown.json()["code"] == "guardian_age_unknown"


def recorded_by(client, patron_id: int, received: datetime.date, role: str, check: str = "population_register"):
    response = record(client, patron_id, received, **representative(role, check))
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"requester_role": "guardian", "requester_authority_check": "patron_record"}, "requester_name_required"),
        ({"requester_role": "guardian", "requester_name": "Maija M."}, "authority_check_required"),
        (representative("other"), "authority_note_required"),
        (representative("authorised_representative", "other"), "authority_note_required"),
        ({"requester_name": "Maija M."}, "not_a_representative"),
    ],
)
def test_a_representative_is_named_with_the_check_of_their_authority(dpo, lapland_patron, body, rule):
    requests = SubjectRequest.objects.count()
    response = record(dpo, lapland_patron.pk, **body)
    assert (response.status_code, response.json()["code"]) == (400, rule)
    assert SubjectRequest.objects.count() == requests, "nothing half-written"


def test_the_report_is_addressed_to_the_representative_who_asked(dpo, lapland_patron):
    lapland_patron.date_of_birth = today() - relativedelta(years=10)
    lapland_patron.save(update_fields=["date_of_birth"])
    request_id = recorded_by(dpo, lapland_patron.pk, today(), "guardian")["id"]
    report = dpo.get(f"{API}{request_id}/report/").json()
    assert report["requester"]["role"] == "guardian" and report["requester"]["name"] == "Maija Meikäläinen"
    page = in_english(client_for("dpo")).get(f"/admin/dpo/requests/{request_id}/report/").content.decode()
    assert "Requested by and delivered to" in page and "Maija Meikäläinen" in page
    own = recorded(dpo, lapland_patron.pk)["id"]
    assert dpo.get(f"{API}{own}/report/").json()["requester"] is None


def test_the_admin_records_a_representatives_request(lapland_patron):
    lapland_patron.date_of_birth = today() - relativedelta(years=10)
    lapland_patron.save(update_fields=["date_of_birth"])
    dpo = in_english(client_for("dpo"))
    body = {"patron": lapland_patron.pk, "kind": "access", "received_on": today().isoformat()}
    missing = dpo.post(f"{CHANGELIST}add/", {**body, "identity_document": "passport", "requester_role": "guardian"})
    assert "Give the name of the representative" in missing.content.decode()
    response = dpo.post(
        f"{CHANGELIST}add/", {**body, "identity_document": "passport", **representative("guardian", "patron_record")}
    )
    assert response.status_code == 302
    created = SubjectRequest.objects.latest("id")
    assert (created.requester_role, created.requester_authority_check) == ("guardian", "patron_record")
    assert "Maija Meikäläinen" in dpo.get(f"{CHANGELIST}{created.pk}/change/").content.decode()


def test_the_changelist_shows_deadlines_and_marks_overdue_requests(lapland_patron):
    with time_machine.travel(at_noon(D(2026, 1, 31)), tick=False):
        overdue = recorded(client_for("dpo"), lapland_patron.pk, D(2026, 1, 31))["id"]
    with time_machine.travel(at_noon(D(2026, 3, 5)), tick=False):
        current = recorded(client_for("dpo"), lapland_patron.pk, D(2026, 3, 5), kind="objection")["id"]
        dpo = in_english(client_for("dpo"))
        response = dpo.get(CHANGELIST)
        listed = {item.pk: item for item in response.context["cl"].result_list}
        assert overdue in listed and current in listed
        assert all(item.consortium.slug == "lapin-kirjastot" for item in listed.values())
        page = response.content.decode()
        assert 'class="overdue"' in page and "Overdue" in page
        overdue_only = [item.pk for item in dpo.get(CHANGELIST, {"state": "overdue"}).context["cl"].result_list]
        assert overdue in overdue_only and current not in overdue_only
        objections = [item.pk for item in dpo.get(CHANGELIST, {"kind": "objection"}).context["cl"].result_list]
        assert current in objections and overdue not in objections
        # The dashboard lists the open requests by deadline, the overdue one marked.
        index = dpo.get("/admin/").content.decode()
        assert f'href="{CHANGELIST}{overdue}/change/">#{overdue}</a>' in index
        assert "overdue by 3 days" in index
        assert index.index(f"#{overdue}<") < index.index(f"#{current}<")


def test_the_change_page_takes_each_step_through_its_service(lapland_patron):
    dpo = in_english(client_for("dpo"))
    request_id = recorded(dpo, lapland_patron.pk, today() - datetime.timedelta(days=2), kind="erasure")["id"]
    change = f"{CHANGELIST}{request_id}/change/"
    page = dpo.get(change).content.decode()
    assert 'id="step-extension"' in page and 'id="step-refusal"' in page
    assert 'id="step-delivery"' not in page  # not an access request
    assert 'id="step-completion"' not in page  # answered by carrying out the erasure
    assert "art12_5" not in page  # an erasure is refused on Art. 17(3) grounds only
    assert f'href="/admin/dpo/requests/{request_id}/erase/"' in page
    assert "/report/" not in page  # no access report for an erasure request

    broken = dpo.post(change, {"_step": "refusal", "refusal-ground": "art17_3_b", "refusal-details": ""}, follow=True)
    assert "Give the reasons for refusing" in broken.content.decode()
    assert SubjectRequest.objects.get(pk=request_id).completed_on is None

    extended = dpo.post(
        change,
        {
            "_step": "extension",
            "extension-months": "1",
            "extension-reason": "Backups to check.",
            "extension-notified_on": today().isoformat(),
        },
    )
    assert extended.status_code == 302
    assert SubjectRequest.objects.get(pk=request_id).extended_due_on is not None
    refused = dpo.post(
        change,
        {"_step": "refusal", "refusal-ground": "art17_3_b", "refusal-details": "Accounting Act keeps invoices."},
        follow=True,
    )
    assert "This request has been answered" in refused.content.decode()
    assert "/erase/" not in refused.content.decode()  # a refused erasure is not carried out
    assert SubjectRequest.objects.get(pk=request_id).refusal_ground == "art17_3_b"
    assert dpo.post(f"{CHANGELIST}{request_id}/delete/", {"post": "yes"}).status_code == 403


def test_another_consortiums_request_is_not_in_the_admin(eslov_dpo, eslov_patron):
    swedish = recorded(client_for(eslov_dpo, address="10.40.2.5"), eslov_patron.pk)["id"]
    dpo = client_for("dpo")
    assert swedish not in [item.pk for item in dpo.get(CHANGELIST).context["cl"].result_list]
    assert dpo.get(f"{CHANGELIST}{swedish}/change/").status_code == 302
    posted = dpo.post(
        f"{CHANGELIST}{swedish}/change/", {"_step": "refusal", "refusal-ground": "art12_5", "refusal-details": "x"}
    )
    assert posted.status_code == 404
    assert SubjectRequest.objects.get(pk=swedish).completed_on is None


# --- demo data ----------------------------------------------------------------------------------------


def test_demo_requests_in_each_finnish_consortium_once():
    for consortium in Consortium.objects.all():
        seeded = SubjectRequest.objects.filter(consortium=consortium, recorded_by=SEEDER)
        if consortium.jurisdiction != "FI":
            assert not seeded.exists()
            continue
        assert seeded.filter(kind=RequestKind.ACCESS, completed_on__isnull=True).count() == 1
        assert seeded.filter(kind=RequestKind.ERASURE, completed_on__isnull=True).count() == 1
        answered = seeded.get(completed_on__isnull=False)
        assert answered.kind == RequestKind.ACCESS
        assert answered.request_form_destroyed_on == answered.delivered_on == answered.completed_on
        assert Patron.objects.filter(pk__in=seeded.values("patron_id")).count() == 3
        assert seed_subject_requests(consortium) == 0


def test_an_access_requests_page_links_its_report_in_html_and_pdf(lapland_patron):
    dpo = in_english(client_for("dpo"))
    request_id = recorded(dpo, lapland_patron.pk)["id"]
    page = dpo.get(f"{CHANGELIST}{request_id}/change/").content.decode()
    assert f'href="/admin/dpo/requests/{request_id}/report/"' in page
    assert f'href="/api/v1/subject-requests/{request_id}/report.pdf"' in page
    assert "/erase/" not in page


def test_a_repeat_is_refused_without_making_its_report(dpo, lapland_patron):
    """Refusing a manifestly excessive repeat must not require reading the patron's data first."""
    first = recorded(dpo, lapland_patron.pk, today() - datetime.timedelta(days=20))["id"]
    report_made(first)
    second = recorded(dpo, lapland_patron.pk)["id"]
    answer = step(dpo, second, "fee-decision", {"decision": "refused", "reason": "A third copy in a month."})
    assert answer.status_code == 200, answer.content
    refused = SubjectRequest.objects.get(pk=second)
    assert (refused.previous_report_id, refused.refusal_ground, refused.report_made_at) == (first, "art12_5", None)
    assert not AccessEvent.objects.filter(action=Action.ACCESS_REPORT, subjects__patron_id=lapland_patron.pk).exists()


@pytest.fixture
def request_clerk():
    """Someone who may handle requests (the permission) but is neither a DPO nor a register's contact person."""
    user = UserFactory(username="rovaniemi.clerk", groups=["staff"])
    user.user_permissions.add(Permission.objects.get(codename="manage_subject_requests"))
    StaffProfileFactory(home_library=Library.objects.get(koha_library_id="ROV"), user=user)
    return user


def test_an_access_request_is_answered_by_the_registers_contact_person_or_the_dpo(dpo, request_clerk, lapland_patron):
    """Seed 001: "Kirjallisiin tiedontarkastamispyyntöihin vastaa rekisterin yhteyshenkilö"; the DPO supervises."""
    clerk = client_for(request_clerk.username)
    delivery = {"method": "paper_pickup", "delivered_on": today().isoformat()}
    request_id = recorded(clerk, lapland_patron.pk)["id"]  # anyone handling requests may record and prepare
    report_made(request_id)
    refused = step(clerk, request_id, "delivery", delivery)
    assert (refused.status_code, refused.json()["rule"]) == (400, "not_the_contact_person")
    assert SubjectRequest.objects.get(pk=request_id).completed_on is None, "nothing half-written"
    refusal = step(clerk, request_id, "refusal", {"ground": "art12_5", "details": "The same report every week."})
    assert refusal.json()["rule"] == "not_the_contact_person"
    finding = step(clerk, request_id, "fee-decision", {"decision": "unfounded_fee", "reason": "The same every week."})
    assert finding.json()["rule"] == "not_the_contact_person"
    assert SubjectRequest.objects.get(pk=request_id).fee_decision == ""

    description = RegisterDescription.objects.get(consortium__slug="lapin-kirjastot", register=Register.LIBRARY_SYSTEM)
    description.contact_user = request_clerk
    description.save(update_fields=["contact_user"])
    answered = step(clerk, request_id, "delivery", delivery).json()
    assert (answered["state"], answered["answered_by"], answered["answered_as"]) == (
        "answered",
        "rovaniemi.clerk",
        "contact_person",
    )

    by_dpo = recorded(dpo, lapland_patron.pk)["id"]
    report_made(by_dpo)
    assert step(dpo, by_dpo, "delivery", delivery).json()["answered_as"] == "dpo"
    page = in_english(client_for("dpo")).get(f"{CHANGELIST}?state=answered").content.decode()
    assert "Answered by" in page and "rovaniemi.clerk" in page
    # Other kinds record who answered, without the rule.
    objection = recorded(clerk, lapland_patron.pk, kind="objection")["id"]
    description.contact_user = None
    description.save(update_fields=["contact_user"])
    done = step(clerk, objection, "completion", {"completed_on": today().isoformat()}).json()
    assert (done["answered_by"], done["answered_as"]) == ("rovaniemi.clerk", "")


def test_the_contact_person_is_chosen_among_the_consortiums_staff(request_clerk):
    mikkeli = UserFactory(username="mikkeli.someone", groups=["staff"])
    StaffProfileFactory(home_library=Library.objects.get(koha_library_id="MIK"), user=mikkeli)
    description = RegisterDescription.objects.get(consortium__slug="lapin-kirjastot", register=Register.LIBRARY_SYSTEM)
    page = client_for("dpo").get(f"/admin/dpo/registerdescription/{description.pk}/change/").content.decode()
    assert f'<option value="{request_clerk.pk}">' in page
    assert f'<option value="{mikkeli.pk}">' not in page
