"""The ban procedure through the API, step by step, as desk staff and a ban decider do it."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AccessEvent
from bans.models import Ban
from patrons.models import Note, NoteCategory
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    return timezone.localdate()


def iso(day: datetime.date) -> str:
    return day.isoformat()


@pytest.fixture
def staff():
    return client_for("rovaniemi.staff")


@pytest.fixture
def director():
    return client_for("rovaniemi.director")


@pytest.fixture
def behaviour_note(staff, lapland_patron) -> int:
    response = staff.post(
        f"/api/v1/patrons/{lapland_patron.pk}/notes/",
        {"category": "behaviour", "text": "Shouted at other patrons in the reading room.", "library": "ROV"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def propose(staff, patron_id, note_ids, starts_on=None, days=14, **overrides):
    starts_on = starts_on or today()
    body = {
        "library": "ROV",
        "grounds": ["endangering_safety"],
        "note_ids": note_ids,
        "starts_on": iso(starts_on),
        "ends_on": iso(starts_on + datetime.timedelta(days=days - 1)),
        **overrides,
    }
    return staff.post(f"/api/v1/patrons/{patron_id}/bans/", body, content_type="application/json")


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_the_whole_procedure_makes_an_active_ban_that_the_patron_json_lists(
    staff, director, lapland_patron, behaviour_note
):
    response = propose(staff, lapland_patron.pk, [behaviour_note])
    assert response.status_code == 201, response.content
    ban = response.json()
    assert ban["status"] == "proposed" and ban["days"] == 14

    # No decision before the hearing.
    decision = {
        "decision_number": "ROV-2026-17",
        "reasons": "Repeated disturbance despite warnings.",
        "starts_on": iso(today()),
        "ends_on": iso(today() + datetime.timedelta(days=13)),
        "enforcement_reasons": "The disturbances continue.",
        "contact_person": "Marjatta Ylitalo, 040 123 4567",
    }
    refused = post(director, f"/api/v1/bans/{ban['id']}/decision/", decision)
    assert refused.status_code == 400 and refused.json()["rule"] == "hearing_required"

    # The patron is 12: each guardian is heard as well (Administrative Procedure Act s. 14).
    guardians = sorted(lapland_patron.guardianships.values_list("guardian_id", flat=True))
    hearing = {
        "heard_on": iso(today()),
        "method": "in_person",
        "statement": "Lupaa olla hiljaa.",
        "answer_by": iso(today()),
        "material_shown": "Esitys ja huomautus.",
        "guardians": [
            {"guardian": guardian, "heard_on": iso(today()), "method": "phone", "statement": "Ei huomautettavaa."}
            for guardian in guardians
        ],
    }
    heard = post(staff, f"/api/v1/bans/{ban['id']}/hearing/", hearing)
    assert heard.status_code == 200 and heard.json()["status"] == "heard", heard.content
    assert [g["guardian"] for g in heard.json()["guardians"]] == guardians

    # Desk staff may not decide.
    assert post(staff, f"/api/v1/bans/{ban['id']}/decision/", decision).status_code == 403
    decided = post(director, f"/api/v1/bans/{ban['id']}/decision/", decision)
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "decided"

    notices = [{"guardian": guardian, "method": "in_person", "sent_on": iso(today())} for guardian in guardians]
    notice = {"method": "in_person", "sent_on": iso(today()), "guardians": notices}
    notified = post(staff, f"/api/v1/bans/{ban['id']}/notification/", notice)
    assert notified.status_code == 200, notified.content
    assert notified.json()["deemed_received_on"] == iso(today())
    assert notified.json()["status"] == "active"

    patron = staff.get(f"/api/v1/patrons/{lapland_patron.pk}/").json()
    assert [b["id"] for b in patron["active_bans"]] == [ban["id"]]
    assert patron["active_bans"][0]["library"] == "ROV"


def test_sensitive_note_text_opens_only_on_request_and_that_is_logged(staff, lapland_patron, behaviour_note):
    listed = staff.get(f"/api/v1/patrons/{lapland_patron.pk}/notes/").json()
    entry = next(n for n in listed if n["id"] == behaviour_note)
    assert entry["sensitive"] is True and entry["text"] is None
    before = AccessEvent.objects.filter(action="sensitive_read").count()
    opened = staff.get(f"/api/v1/patrons/{lapland_patron.pk}/notes/{behaviour_note}/").json()
    assert opened["text"].startswith("Shouted")
    assert AccessEvent.objects.filter(action="sensitive_read").count() == before + 1


def test_thirty_days_is_allowed_and_thirty_one_is_not(staff, lapland_patron, behaviour_note):
    assert propose(staff, lapland_patron.pk, [behaviour_note], days=30).status_code == 201
    Ban.objects.filter(patron=lapland_patron).delete()
    refused = propose(staff, lapland_patron.pk, [behaviour_note], days=31)
    assert refused.status_code == 400 and refused.json()["rule"] == "max_30_days"


def test_a_ban_must_cite_a_behaviour_note(staff, lapland_patron):
    general = Note.objects.create(
        patron=lapland_patron,
        category=NoteCategory.GENERAL,
        text="Asked about e-books.",
        created_at=timezone.now(),
        created_by="x",
    )
    assert propose(staff, lapland_patron.pk, []).json()["rule"] == "behaviour_notes_required"
    assert propose(staff, lapland_patron.pk, [general.pk]).json()["rule"] == "note_not_behaviour"
