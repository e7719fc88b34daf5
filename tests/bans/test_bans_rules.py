"""Every rule of the Finnish library-use ban procedure, from the outside: the API, each rule allowed and refused.

A refusal is a 400 naming the rule and writes nothing (no ban row or field changes, no write event);
a role that may not take a step gets a 403. "Today" is fixed (tests.patrons.procedure.on).
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from bans.models import Ban, DecisionCompetence
from patrons.models import Note, NoteCategory, Patron
from staff.models import Library, Municipality
from tests.patrons.procedure import (
    MONDAY,
    NothingWritten,
    as_user,
    ban_row,
    ban_through,
    days,
    decide,
    disturbance_notes,
    hear,
    notify,
    ok,
    on,
    post,
    propose,
    refused,
    write_note,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def monday():
    with on(MONDAY):
        yield MONDAY


@pytest.fixture
def staff(monday):
    return as_user("rovaniemi.staff")


@pytest.fixture
def director(monday):
    return as_user("rovaniemi.director")


@pytest.fixture
def secretary(monday):
    """The board's secretary: records the board's rectification decisions (not the ban's decider)."""
    return as_user("rovaniemi.secretary")


@pytest.fixture
def patron(lapland_patron) -> Patron:
    return lapland_patron


@pytest.fixture
def note_id(staff, patron) -> int:
    return write_note(staff, patron.pk)


def other_note(patron: Patron, category: str = NoteCategory.BEHAVIOUR, **fields) -> Note:
    return Note.objects.create(
        patron=patron, category=category, text="Written earlier.", created_at=timezone.now(), **fields
    )


# --- Who may propose ---------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "kemi.staff"])
def test_staff_of_the_consortium_may_propose(username, patron, note_id):
    ban = ok(propose(as_user(username), patron.pk, [note_id], MONDAY), 201)
    assert ban["status"] == "proposed" and ban["id"] == Ban.objects.get(patron=patron).pk
    assert ban["proposed_by"] == username and ban["note_ids"] == [note_id]


@pytest.mark.parametrize(("username", "status"), [("dpo", 403), (None, 403), ("mikkeli.staff", 404)])
def test_others_may_not_propose(username, status, patron, note_id):
    with NothingWritten():
        assert propose(as_user(username), patron.pk, [note_id], MONDAY).status_code == status


# --- The proposal ------------------------------------------------------------------------------------


def test_library_unknown(staff, patron, note_id):
    with NothingWritten():
        refused(propose(staff, patron.pk, [note_id], MONDAY, library="MIK"), "library_unknown")
        refused(propose(staff, patron.pk, [note_id], MONDAY, library="NOPE"), "library_unknown")
    # Any library of the patron's own consortium, not only the patron's home library.
    muurola = write_note(staff, patron.pk, library="ROVMU")
    assert ok(propose(staff, patron.pk, [muurola], MONDAY, library="ROVMU"), 201)["library"] == "ROVMU"


def test_grounds_required(staff, patron, note_id):
    with NothingWritten():
        refused(propose(staff, patron.pk, [note_id], MONDAY, grounds=[]), "grounds_required")
    ok(propose(staff, patron.pk, [note_id], MONDAY, grounds=["endangering_safety"]), 201)


@pytest.mark.parametrize("ground", ["overdue_books", "repeated_disturbance", "substantial_disturbance"])
def test_grounds_unknown(ground, staff, patron, note_id):
    # "Repeated" and "substantial" on their own are not the statute's grounds: it says "repeatedly and substantially".
    with NothingWritten():
        refused(propose(staff, patron.pk, [note_id], MONDAY, grounds=["endangering_safety", ground]), "grounds_unknown")
    every_ground = ["repeated_substantial_disturbance", "endangering_safety", "damaging_property"]
    notes = disturbance_notes(staff, patron.pk)
    assert ok(propose(staff, patron.pk, notes, MONDAY, grounds=every_ground), 201)["grounds"] == every_ground


# --- The threshold: repeatedly AND substantially (Library Act 1492/2016 s. 15) ------------------------

REPEATED = ["repeated_substantial_disturbance"]


def test_one_note_is_not_repeated_disturbance(staff, patron, note_id):
    with NothingWritten():
        body = refused(propose(staff, patron.pk, [note_id], MONDAY, grounds=REPEATED), "disturbance_not_repeated")
    assert "1492/2016" in body["detail"]


def test_two_notes_of_one_day_are_not_repeated_disturbance(staff, patron, note_id):
    same_day = write_note(staff, patron.pk, "Again, an hour later.", incident_on=MONDAY)
    with NothingWritten():
        refused(propose(staff, patron.pk, [note_id, same_day], MONDAY, grounds=REPEATED), "disturbance_not_repeated")


def test_notes_of_two_days_are_repeated_disturbance(staff, patron, note_id):
    day_before = write_note(staff, patron.pk, "Shouted in the reading room.", incident_on=MONDAY - days(1))
    ban = ok(propose(staff, patron.pk, [note_id, day_before], MONDAY, grounds=REPEATED), 201)
    assert ban["grounds"] == REPEATED


def test_incident_days_count_not_the_days_the_notes_were_written(staff, patron):
    # Two notes written on Monday about incidents of Saturday and Sunday: two days.
    weekend = [write_note(staff, patron.pk, incident_on=MONDAY - days(n)) for n in (1, 2)]
    ok(propose(staff, patron.pk, weekend, MONDAY, grounds=REPEATED), 201)


# --- One library --------------------------------------------------------------------------------------


def test_a_note_of_another_library_is_not_grounds(staff, patron, note_id):
    kemi = write_note(staff, patron.pk, "Shouted at Kemi.", library="KEM")
    with NothingWritten():
        refused(propose(staff, patron.pk, [note_id, kemi], MONDAY), "note_other_library")
        refused(propose(staff, patron.pk, [note_id], MONDAY, library="KEM"), "note_other_library")
    assert ok(propose(staff, patron.pk, [kemi], MONDAY, library="KEM"), 201)["library"] == "KEM"


def test_a_note_records_its_library_and_incident_day(staff, patron):
    note_id = write_note(staff, patron.pk, library="KEM", incident_on=MONDAY - days(3))
    note = Note.objects.get(pk=note_id)
    assert (note.library.koha_library_id, note.incident_on) == ("KEM", MONDAY - days(3))
    listed = next(n for n in ok(staff.get(f"/api/v1/patrons/{patron.pk}/notes/")) if n["id"] == note_id)
    assert (listed["library"], listed["incident_on"]) == ("KEM", "2027-01-29")


def test_a_note_without_library_or_day_is_the_home_library_today(staff, patron):
    response = post(staff, f"/api/v1/patrons/{patron.pk}/notes/", {"category": "behaviour", "text": "Shouted."})
    note = Note.objects.get(pk=ok(response, 201)["id"])
    assert (note.library_id, note.incident_on) == (patron.home_library_id, MONDAY)


def test_incident_in_future(staff, patron):
    with NothingWritten():
        body = {"category": "behaviour", "text": "Shouted.", "incident_on": "2027-02-02"}
        refused(post(staff, f"/api/v1/patrons/{patron.pk}/notes/", body), "incident_in_future")
        body = {"category": "behaviour", "text": "Shouted.", "library": "MIK"}
        refused(post(staff, f"/api/v1/patrons/{patron.pk}/notes/", body), "library_unknown")
    write_note(staff, patron.pk, incident_on=MONDAY)


def test_behaviour_notes_required(staff, patron, note_id):
    with NothingWritten():
        refused(propose(staff, patron.pk, [], MONDAY), "behaviour_notes_required")
    ok(propose(staff, patron.pk, [note_id], MONDAY), 201)


@pytest.mark.parametrize("category", ["general", "guardianship", "accessibility", "pin_by_phone", "identity_check"])
def test_note_not_behaviour(category, staff, patron, note_id):
    other = write_note(staff, patron.pk, "Something else entirely.", category=category)
    with NothingWritten():
        refused(propose(staff, patron.pk, [note_id, other], MONDAY), "note_not_behaviour")
    ok(propose(staff, patron.pk, [note_id], MONDAY), 201)


def test_note_unknown(staff, patron, note_id):
    someone_else = Patron.objects.filter(consortium=patron.consortium).exclude(pk=patron.pk).first()
    theirs = write_note(staff, someone_else.pk)
    removed = other_note(patron, removed_at=timezone.now(), removed_by="x", removal_reason="Mistake.")
    with NothingWritten():
        refused(propose(staff, patron.pk, [note_id, theirs], MONDAY), "note_unknown")
        refused(propose(staff, patron.pk, [removed.pk], MONDAY), "note_unknown")
        refused(propose(staff, patron.pk, [999_999], MONDAY), "note_unknown")
    ok(propose(staff, someone_else.pk, [theirs], MONDAY), 201)


def test_dates_in_order(staff, patron, note_id):
    with NothingWritten():
        refused(propose(staff, patron.pk, [note_id], MONDAY + days(1), length=0), "dates_in_order")
    assert ok(propose(staff, patron.pk, [note_id], MONDAY, length=1), 201)["days"] == 1


def test_max_30_days_counts_the_first_and_the_last_day(staff, patron, note_id):
    with NothingWritten():
        body = refused(propose(staff, patron.pk, [note_id], MONDAY, length=31), "max_30_days")
    assert "31" in body["detail"]
    ban = ok(propose(staff, patron.pk, [note_id], MONDAY, length=30), 201)
    assert (ban["starts_on"], ban["ends_on"], ban["days"]) == ("2027-02-01", "2027-03-02", 30)


def test_starts_too_early(staff, patron, note_id):
    with NothingWritten():
        refused(propose(staff, patron.pk, [note_id], MONDAY - days(1)), "starts_too_early")
    ok(propose(staff, patron.pk, [note_id], MONDAY), 201)
    kemi = write_note(staff, patron.pk, library="KEM")
    ok(propose(staff, patron.pk, [kemi], MONDAY + days(20), library="KEM"), 201)


def test_overlapping_ban(staff, director, patron, note_id):
    first = ok(propose(staff, patron.pk, [note_id], MONDAY, length=10), 201)  # 1.2.-10.2.
    with NothingWritten():
        # Sharing only the last day is an overlap too.
        refused(propose(staff, patron.pk, [note_id], MONDAY + days(9), length=5), "overlapping_ban")
        refused(propose(staff, patron.pk, [note_id], MONDAY + days(2), length=3), "overlapping_ban")
    ok(propose(staff, patron.pk, [note_id], MONDAY + days(10), length=5), 201)  # from the day after
    muurola = write_note(staff, patron.pk, library="ROVMU")
    ok(propose(staff, patron.pk, [muurola], MONDAY, length=10, library="ROVMU"), 201)  # another library
    ok(post(director, f"/api/v1/bans/{first['id']}/cancel/", {"reason": "Dropped after the hearing."}))
    ok(propose(staff, patron.pk, [note_id], MONDAY + days(2), length=3), 201)  # a cancelled ban blocks nothing


# --- The hearing -------------------------------------------------------------------------------------


@pytest.fixture
def proposed(patron) -> dict:
    return ban_through(patron.pk, step="proposed")


def test_a_hearing_is_recorded(staff, proposed):
    ban = ok(hear(staff, proposed["id"], MONDAY, "phone", statement="Says it will not happen again."))
    assert (ban["status"], ban["heard_on"], ban["hearing_method"]) == ("heard", "2027-02-01", "phone")
    assert ban["statement"] == "Says it will not happen again."


def test_hearing_incomplete(staff, proposed):
    before = ban_row(proposed["id"])
    with NothingWritten():
        refused(hear(staff, proposed["id"], MONDAY, method=""), "hearing_incomplete")
        refused(post(staff, f"/api/v1/bans/{proposed['id']}/hearing/", {"method": "letter"}), "hearing_incomplete")
        refused(post(staff, f"/api/v1/bans/{proposed['id']}/hearing/", {}), "hearing_incomplete")
    assert ban_row(proposed["id"]) == before
    assert ok(hear(staff, proposed["id"], MONDAY, "letter", statement=""))["statement"] == ""  # none came yet


def test_hearing_method_unknown(staff, proposed):
    before = ban_row(proposed["id"])
    with NothingWritten():
        refused(hear(staff, proposed["id"], MONDAY, "carrier_pigeon"), "hearing_method_unknown")
    assert ban_row(proposed["id"]) == before
    for method in ("in_person", "phone", "letter", "electronic"):
        assert ok(hear(staff, proposed["id"], MONDAY, method))["hearing_method"] == method


def test_heard_in_future(staff, proposed):
    before = ban_row(proposed["id"])
    with NothingWritten():
        refused(hear(staff, proposed["id"], MONDAY + days(1)), "heard_in_future")
    assert ban_row(proposed["id"]) == before
    ok(hear(staff, proposed["id"], MONDAY))


def test_hearing_waived_on_its_ground(staff, proposed):
    reason = "The patron threatened the staff again on the same day."
    body = {"waiver_ground": "delay_would_harm", "waived_reason": reason}
    ban = ok(post(staff, f"/api/v1/bans/{proposed['id']}/hearing/", body))
    assert (ban["status"], ban["hearing_waiver_ground"], ban["hearing_waived_reason"], ban["heard_on"]) == (
        "hearing_waived",
        "delay_would_harm",
        reason,
        None,
    )


def test_hearing_or_waiver(staff, proposed):
    before = ban_row(proposed["id"])
    with NothingWritten():
        refused(hear(staff, proposed["id"], MONDAY, waived_reason="Urgent."), "hearing_or_waiver")
        body = {"method": "phone", "waived_reason": "Urgent."}
        refused(post(staff, f"/api/v1/bans/{proposed['id']}/hearing/", body), "hearing_or_waiver")
    assert ban_row(proposed["id"]) == before


@pytest.mark.parametrize("username", ["dpo", None])
def test_only_staff_record_a_hearing(username, proposed):
    before = ban_row(proposed["id"])
    with NothingWritten():
        assert hear(as_user(username), proposed["id"], MONDAY).status_code == 403
    assert ban_row(proposed["id"]) == before


# --- The decision ------------------------------------------------------------------------------------


@pytest.fixture
def heard(patron) -> dict:
    return ban_through(patron.pk, step="heard")


def test_the_decider_decides(director, heard):
    ban = ok(decide(director, heard["id"], MONDAY, MONDAY + days(9)))
    assert (ban["status"], ban["decision_number"], ban["decided_on"]) == ("decided", "ROV-2027-1", "2027-02-01")
    assert ban["decider_name"] == "Marjatta Ylitalo"
    assert "1492/2016" in ban["legal_basis"] and ban["enforced_before_final"] is True


@pytest.mark.parametrize("username", ["rovaniemi.staff", "rovaniemi.billing", "dpo", None])
def test_only_the_ban_decider_decides(username, heard):
    before = ban_row(heard["id"])
    with NothingWritten():
        assert decide(as_user(username), heard["id"], MONDAY, MONDAY + days(9)).status_code == 403
    assert ban_row(heard["id"]) == before


def test_hearing_required(director, proposed):
    before = ban_row(proposed["id"])
    with NothingWritten():
        refused(decide(director, proposed["id"], MONDAY, MONDAY + days(9)), "hearing_required")
    assert ban_row(proposed["id"]) == before


def test_a_waived_hearing_allows_the_decision(staff, director, proposed):
    ok(post(staff, f"/api/v1/bans/{proposed['id']}/hearing/", {"waiver_ground": "would_endanger_purpose"}))
    assert ok(decide(director, proposed["id"], MONDAY, MONDAY + days(9)))["status"] == "decided"


def test_decision_number_required(director, heard):
    before = ban_row(heard["id"])
    with NothingWritten():
        response = decide(director, heard["id"], MONDAY, MONDAY + days(9), number="  ")
        assert response.status_code == 400
    assert ban_row(heard["id"]) == before
    refused(response, "decision_number_required")


def test_decision_number_taken(director, patron, heard):
    ok(decide(director, heard["id"], MONDAY, MONDAY + days(9), number="ROV-2027-5"))
    later = ban_through(patron.pk, starts_on=MONDAY + days(10), step="heard")
    before = ban_row(later["id"])
    with NothingWritten():
        refused(
            decide(director, later["id"], MONDAY + days(10), MONDAY + days(19), number="ROV-2027-5"),
            "decision_number_taken",
        )
    assert ban_row(later["id"]) == before
    ok(decide(director, later["id"], MONDAY + days(10), MONDAY + days(19), number="ROV-2027-6"))


def test_the_same_decision_number_in_another_library_is_not_taken(director, patron, heard):
    ok(decide(director, heard["id"], MONDAY, MONDAY + days(9), number="2027-5"))
    staff = as_user("rovaniemi.staff")
    muurola = ok(
        propose(staff, patron.pk, [write_note(staff, patron.pk, library="ROVMU")], MONDAY, library="ROVMU"), 201
    )
    ok(hear(as_user("rovaniemi.staff"), muurola["id"], MONDAY))
    assert ok(decide(director, muurola["id"], MONDAY, MONDAY + days(9), number="2027-5"))["library"] == "ROVMU"


def test_reasons_required(director, heard):
    before = ban_row(heard["id"])
    with NothingWritten():
        response = decide(director, heard["id"], MONDAY, MONDAY + days(9), reasons="")
        assert response.status_code == 400
    assert ban_row(heard["id"]) == before
    refused(response, "reasons_required")


def test_contact_person_required(director, heard):
    before = ban_row(heard["id"])
    with NothingWritten():
        response = decide(director, heard["id"], MONDAY, MONDAY + days(9), contact_person=" ")
        assert response.status_code == 400
    assert ban_row(heard["id"]) == before
    refused(response, "contact_person_required")


def test_decided_before_hearing(patron):
    proposed = ban_through(patron.pk, starts_on=MONDAY + days(1), step="proposed")
    with on(MONDAY + days(1)):
        ok(hear(as_user("rovaniemi.staff"), proposed["id"], MONDAY + days(1)))
        director = as_user("rovaniemi.director")
        before = ban_row(proposed["id"])
        with NothingWritten():
            refused(
                decide(director, proposed["id"], MONDAY + days(1), MONDAY + days(10), decided_on="2027-02-01"),
                "decided_before_hearing",
            )
        assert ban_row(proposed["id"]) == before
        ban = ok(decide(director, proposed["id"], MONDAY + days(1), MONDAY + days(10), decided_on="2027-02-02"))
        assert ban["decided_on"] == "2027-02-02"


def test_max_30_days_again_at_the_decision(director, heard):
    before = ban_row(heard["id"])
    with NothingWritten():
        refused(decide(director, heard["id"], MONDAY, MONDAY + days(30)), "max_30_days")
    assert ban_row(heard["id"]) == before
    # The decider may change the dates within the limit: 30 days, first and last included.
    ban = ok(decide(director, heard["id"], MONDAY + days(1), MONDAY + days(30)))
    assert (ban["starts_on"], ban["ends_on"], ban["days"]) == ("2027-02-02", "2027-03-03", 30)


# --- The notification --------------------------------------------------------------------------------


@pytest.fixture
def decided(patron) -> dict:
    return ban_through(patron.pk, step="decided")


def test_decision_required(staff, heard):
    before = ban_row(heard["id"])
    with NothingWritten():
        refused(notify(staff, heard["id"], MONDAY), "decision_required")
    assert ban_row(heard["id"]) == before


def test_notification_method_unknown(staff, decided):
    before = ban_row(decided["id"])
    with NothingWritten():
        refused(notify(staff, decided["id"], MONDAY, "telegram"), "notification_method_unknown")
    assert ban_row(decided["id"]) == before
    assert ok(notify(staff, decided["id"], MONDAY, "letter"))["notification_method"] == "letter"


def test_sent_in_future(staff, decided):
    before = ban_row(decided["id"])
    with NothingWritten():
        refused(notify(staff, decided["id"], MONDAY + days(1)), "sent_in_future")
    assert ban_row(decided["id"]) == before
    assert ok(notify(staff, decided["id"], MONDAY))["notified_on"] == "2027-02-01"


@pytest.mark.parametrize("username", ["dpo", None])
def test_only_staff_record_the_notification(username, decided):
    before = ban_row(decided["id"])
    with NothingWritten():
        assert notify(as_user(username), decided["id"], MONDAY).status_code == 403
    assert ban_row(decided["id"]) == before


@pytest.mark.parametrize(
    ("method", "deemed_received_on", "appeal_deadline"),
    [
        # Sent Monday 1.2.2027: a letter on the 7th day, an electronic notice on the 3rd, in person that day.
        ("letter", "2027-02-08", "2027-02-22"),
        ("electronic", "2027-02-04", "2027-02-18"),
        ("in_person", "2027-02-01", "2027-02-15"),
    ],
)
def test_deemed_received_and_the_appeal_deadline(method, deemed_received_on, appeal_deadline, staff, decided):
    ban = ok(notify(staff, decided["id"], MONDAY, method))
    assert (ban["deemed_received_on"], ban["appeal_deadline"]) == (deemed_received_on, appeal_deadline)


@pytest.mark.parametrize(
    ("sent_on", "method", "deemed_received_on", "appeal_deadline"),
    [
        # An ordinary Thursday: no move.
        ("2027-02-01", "electronic", "2027-02-04", "2027-02-18"),
        # Saturday 20.2. and Sunday 21.2. move to Monday 22.2.
        ("2027-02-03", "electronic", "2027-02-06", "2027-02-22"),
        ("2027-02-04", "electronic", "2027-02-07", "2027-02-22"),
        # Christmas Eve 24.12.2026 (Thursday); 25. and 26. are holidays, 27. a Sunday: Monday 28.12.
        ("2026-12-07", "electronic", "2026-12-10", "2026-12-28"),
        # Midsummer Eve 25.6.2027 (Friday), Midsummer Day, Sunday: Monday 28.6.
        ("2027-06-04", "letter", "2027-06-11", "2027-06-28"),
        # Good Friday 26.3.2027, Easter, Easter Monday: Tuesday 30.3.
        ("2027-03-12", "in_person", "2027-03-12", "2027-03-30"),
        # Epiphany, Wednesday 6.1.2027: Thursday 7.1.
        ("2026-12-23", "in_person", "2026-12-23", "2027-01-07"),
    ],
)
def test_the_appeal_deadline_moves_off_weekends_and_holidays(
    sent_on, method, deemed_received_on, appeal_deadline, patron
):
    day = datetime.date.fromisoformat(sent_on)
    with on(day):
        ban = ban_through(patron.pk, notification=method)
    assert ban["notified_on"] == sent_on
    assert (ban["deemed_received_on"], ban["appeal_deadline"]) == (deemed_received_on, appeal_deadline)
    assert Ban.objects.get(pk=ban["id"]).appeal_deadline == datetime.date.fromisoformat(appeal_deadline)


# --- Enforced before it is final, or not -------------------------------------------------------------


def active_ban_ids(client, patron_id: int) -> list[int]:
    return [ban["id"] for ban in ok(client.get(f"/api/v1/patrons/{patron_id}/"))["active_bans"]]


def ban_status(client, ban_id: int) -> str:
    return ok(client.get(f"/api/v1/bans/{ban_id}/"))["status"]


def test_enforced_before_final_makes_the_ban_active_at_once(staff, patron):
    ban = ban_through(patron.pk, length=30)
    assert ban["status"] == "active" and active_ban_ids(staff, patron.pk) == [ban["id"]]


def test_not_enforced_before_final_waits_for_the_appeal_deadline(patron):
    """Local Government Act 410/2015 s. 143: the ban starts the day after it became final and lasts its length,
    so it cannot run out before it starts (30 days from 16.2., not the 1.2.-2.3. of the proposal)."""
    ban = ban_through(patron.pk, length=30, enforced_before_final=False)
    assert (ban["status"], ban["enforced_before_final"], ban["appeal_deadline"]) == ("notified", False, "2027-02-15")
    assert (ban["length_days"], ban["starts_on"], ban["ends_on"]) == (30, "2027-02-16", "2027-03-17")
    assert active_ban_ids(as_user("rovaniemi.staff"), patron.pk) == []
    with on(datetime.date(2027, 2, 15)):  # the last day for a rectification request: not final yet
        staff = as_user("rovaniemi.staff")
        assert ban_status(staff, ban["id"]) == "notified" and active_ban_ids(staff, patron.pk) == []
    with on(datetime.date(2027, 2, 16)):  # final: the first day of the ban
        staff = as_user("rovaniemi.staff")
        assert ban_status(staff, ban["id"]) == "active" and active_ban_ids(staff, patron.pk) == [ban["id"]]
    with on(datetime.date(2027, 3, 17)):  # its 30th day
        staff = as_user("rovaniemi.staff")
        assert ban_status(staff, ban["id"]) == "active" and active_ban_ids(staff, patron.pk) == [ban["id"]]
    with on(datetime.date(2027, 3, 18)):
        assert active_ban_ids(as_user("rovaniemi.staff"), patron.pk) == []
        assert ban_status(as_user("rovaniemi.director"), ban["id"]) == "ended"


def test_not_enforced_and_upheld_on_appeal_still_waits_for_the_court_appeal_time(secretary, patron):
    ban = ban_through(patron.pk, length=30, enforced_before_final=False)
    upheld = ok(appeal(secretary, ban["id"], "2027-02-01", "upheld"))
    # The board's decision may be taken to the administrative court (tests/bans/test_rectification_and_court.py).
    assert upheld["status"] == "notified"


# --- The rectification request (appeal) --------------------------------------------------------------


@pytest.fixture
def notified(patron) -> dict:
    return ban_through(patron.pk, length=30)  # 1.2.-2.3.2027, notified in person, deadline 15.2.


def appeal(client, ban_id: int, lodged_on: str, outcome: str = "pending", **body):
    """POST a rectification request; a decided outcome with the board's decision's reference."""
    if outcome != "pending":
        body.setdefault("reference", "Sivistyslautakunta 10.2.2027 § 12")
    return post(client, f"/api/v1/bans/{ban_id}/appeal/", {"lodged_on": lodged_on, "outcome": outcome, **body})


@pytest.mark.parametrize("username", ["rovaniemi.staff", "rovaniemi.billing", "dpo", None])
def test_only_the_ban_decider_records_an_appeal(username, notified):
    before = ban_row(notified["id"])
    with NothingWritten():
        assert appeal(as_user(username), notified["id"], "2027-02-01").status_code == 403
    assert ban_row(notified["id"]) == before


def test_notification_required(director, decided):
    before = ban_row(decided["id"])
    with NothingWritten():
        refused(appeal(director, decided["id"], "2027-02-01"), "notification_required")
    assert ban_row(decided["id"]) == before


def test_a_pending_appeal_leaves_the_ban_in_force(staff, director, patron, notified):
    ban = ok(appeal(director, notified["id"], "2027-02-01"))
    assert (ban["appeal_outcome"], ban["appeal_decided_on"], ban["status"]) == ("pending", None, "active")
    assert active_ban_ids(staff, patron.pk) == [notified["id"]]


def test_overturned_ends_the_ban_at_once(staff, secretary, patron, notified):
    assert active_ban_ids(staff, patron.pk) == [notified["id"]]
    ban = ok(appeal(secretary, notified["id"], "2027-02-01", "overturned"))
    assert (ban["status"], ban["appeal_outcome"], ban["ended_early_on"]) == ("overturned", "overturned", "2027-02-01")
    assert active_ban_ids(staff, patron.pk) == []
    assert staff.get(f"/api/v1/bans/{notified['id']}/").status_code == 404


def test_appeal_late(notified):
    with on(datetime.date(2027, 2, 17)):
        secretary = as_user("rovaniemi.secretary")
        before = ban_row(notified["id"])
        with NothingWritten():
            # Arrived 16.2., the day after the deadline: it cannot be upheld (nor overturned), only dismissed.
            refused(appeal(secretary, notified["id"], "2027-02-16", "upheld"), "appeal_late")
            refused(appeal(secretary, notified["id"], "2027-02-16", "overturned"), "appeal_late")
        assert ban_row(notified["id"]) == before
        ban = ok(appeal(secretary, notified["id"], "2027-02-16", "dismissed"))
        assert (ban["appeal_outcome"], ban["appeal_decided_on"], ban["status"]) == ("dismissed", "2027-02-17", "active")


def test_an_appeal_on_the_last_day_is_in_time(notified):
    with on(datetime.date(2027, 2, 17)):
        ban = ok(appeal(as_user("rovaniemi.secretary"), notified["id"], "2027-02-15", "upheld"))
    assert (ban["appeal_outcome"], ban["status"]) == ("upheld", "active")


# --- Cancelling --------------------------------------------------------------------------------------


def test_the_decider_cancels_with_a_reason(staff, director, patron, notified):
    ban = ok(post(director, f"/api/v1/bans/{notified['id']}/cancel/", {"reason": "Agreed with the patron."}))
    assert (ban["status"], ban["cancellation_reason"], ban["ended_early_on"]) == (
        "cancelled",
        "Agreed with the patron.",
        "2027-02-01",
    )
    assert active_ban_ids(staff, patron.pk) == []


@pytest.mark.parametrize("username", ["rovaniemi.staff", "rovaniemi.billing", "dpo", None])
def test_only_the_ban_decider_cancels(username, notified):
    before = ban_row(notified["id"])
    with NothingWritten():
        assert post(as_user(username), f"/api/v1/bans/{notified['id']}/cancel/", {"reason": "x"}).status_code == 403
    assert ban_row(notified["id"]) == before


def test_reason_required(director, notified):
    before = ban_row(notified["id"])
    with NothingWritten():
        response = post(director, f"/api/v1/bans/{notified['id']}/cancel/", {"reason": "  "})
        assert response.status_code == 400
    assert ban_row(notified["id"]) == before
    refused(response, "reason_required")


def test_a_cancelled_ban_takes_no_further_step(staff, director, heard):
    ok(post(director, f"/api/v1/bans/{heard['id']}/cancel/", {"reason": "Dropped."}))
    with NothingWritten():
        refused(decide(director, heard["id"], MONDAY, MONDAY + days(9)), "ban_closed")
        refused(post(director, f"/api/v1/bans/{heard['id']}/cancel/", {"reason": "Again."}), "ban_closed")


# --- Sweden ------------------------------------------------------------------------------------------


def test_swedish_consortium(eslov_patron):
    eslov = as_user("eslov.staff")
    note_id = write_note(eslov, eslov_patron.pk, "Störde andra besökare.", library="ESL")
    with NothingWritten():
        refused(propose(eslov, eslov_patron.pk, [note_id], MONDAY, library="ESL"), "swedish_consortium")


def test_a_late_request_does_not_hold_back_a_ban_that_waited_to_become_final(patron):
    ban = ban_through(patron.pk, length=30, enforced_before_final=False)  # deadline 15.2.
    with on(datetime.date(2027, 2, 17)):
        director = as_user("rovaniemi.director")
        assert ban_status(director, ban["id"]) == "active"
        # A request that arrived after the deadline is recorded, but it cannot stop a decision that became final.
        assert ok(appeal(director, ban["id"], "2027-02-16"))["status"] == "active"


def test_a_request_in_time_holds_back_a_ban_that_waits_to_become_final(patron):
    ban = ban_through(patron.pk, length=30, enforced_before_final=False)  # deadline 15.2.
    with on(datetime.date(2027, 2, 10)):
        ok(appeal(as_user("rovaniemi.director"), ban["id"], "2027-02-10"))
    with on(datetime.date(2027, 3, 20)):  # long after the provisional dates: still waiting, still seen by staff
        director = as_user("rovaniemi.director")
        assert ban_status(director, ban["id"]) == "notified"
        assert active_ban_ids(as_user("rovaniemi.staff"), ban["patron"]) == []
        assert ok(as_user("rovaniemi.staff").get(f"/api/v1/bans/{ban['id']}/"))["status"] == "notified"
        # Upheld, it still waits for the court appeal time (tests/bans/test_rectification_and_court.py).
        assert ok(appeal(as_user("rovaniemi.secretary"), ban["id"], "2027-02-10", "upheld"))["status"] == "notified"
    with on(datetime.date(2027, 4, 20)):  # the board's decision not yet notified: still waiting, still seen by staff
        assert ok(as_user("rovaniemi.staff").get(f"/api/v1/bans/{ban['id']}/"))["status"] == "notified"


# --- Competence: who decides for which library (Local Government Act 410/2015 s. 91) ------------------


def kemi_ban(step: str = "heard") -> dict:
    """A ban of Kemi's library, proposed and heard by Kemi's staff."""
    staff, patron = as_user("kemi.staff"), Patron.objects.filter(consortium__slug="lapin-kirjastot").last()
    note = write_note(staff, patron.pk, library="KEM")
    ban = ok(propose(staff, patron.pk, [note], MONDAY, library="KEM"), 201)
    return ok(hear(staff, ban["id"], MONDAY)) if step == "heard" else ban


def delegate(username: str, *, library: str = "", municipality: str = "Kemi", **dates) -> DecisionCompetence:
    return DecisionCompetence.objects.create(
        decider=get_user_model().objects.get(username=username),
        municipality=Municipality.objects.get(name=municipality),
        library=Library.objects.get(koha_library_id=library) if library else None,
        title="Kirjastotoimenjohtaja",
        delegation="Kemin hallintosääntö 38 §",
        valid_from=dates.get("valid_from", MONDAY - days(100)),
        valid_until=dates.get("valid_until"),
    )


def test_a_rovaniemi_decider_without_delegation_may_not_decide_kemis_ban(director):
    ban = kemi_ban()
    before = ban_row(ban["id"])
    with NothingWritten():
        body = refused(decide(director, ban["id"], MONDAY, MONDAY + days(9)), "not_competent")
    assert "Kemin kaupunginkirjasto" in body["detail"] and "410/2015" in body["detail"]
    assert ban_row(ban["id"]) == before


def test_a_delegation_that_ended_yesterday_does_not_count(director):
    ban = kemi_ban()
    delegate("rovaniemi.director", valid_until=MONDAY - days(1))
    with NothingWritten():
        refused(decide(director, ban["id"], MONDAY, MONDAY + days(9)), "not_competent")


def test_a_delegation_that_starts_today_counts(director):
    ban = kemi_ban()
    delegate("rovaniemi.director", library="KEM", valid_from=MONDAY, valid_until=MONDAY)
    decided = ok(decide(director, ban["id"], MONDAY, MONDAY + days(9)))
    assert (decided["decider_title"], decided["delegation"]) == ("Kirjastotoimenjohtaja", "Kemin hallintosääntö 38 §")


def test_a_delegation_that_starts_tomorrow_does_not_count(director):
    ban = kemi_ban()
    delegate("rovaniemi.director", valid_from=MONDAY + days(1))
    with NothingWritten():
        refused(decide(director, ban["id"], MONDAY, MONDAY + days(9)), "not_competent")


def test_a_delegation_for_another_library_of_the_municipality_does_not_count(director, heard):
    delegate("rovaniemi.director", library="KEM")  # Kemi's library only; the director's own row covers Rovaniemi
    ok(decide(director, heard["id"], MONDAY, MONDAY + days(9)))
    DecisionCompetence.objects.filter(municipality__name="Rovaniemi").delete()
    muurola = ok(
        propose(
            as_user("rovaniemi.staff"),
            heard["patron"],
            [write_note(as_user("rovaniemi.staff"), heard["patron"], library="ROVMU")],
            MONDAY + days(10),
            library="ROVMU",
        ),
        201,
    )
    ok(hear(as_user("rovaniemi.staff"), muurola["id"], MONDAY))
    with NothingWritten():
        refused(decide(director, muurola["id"], MONDAY + days(10), MONDAY + days(19), number="R-2"), "not_competent")


def test_an_appeal_and_a_cancellation_need_the_competence_too(director, secretary, notified):
    DecisionCompetence.objects.filter(decider__username__in=["rovaniemi.director", "rovaniemi.secretary"]).delete()
    before = ban_row(notified["id"])
    with NothingWritten():
        refused(appeal(secretary, notified["id"], "2027-02-01", "upheld"), "not_competent")
        refused(post(director, f"/api/v1/bans/{notified['id']}/cancel/", {"reason": "Agreed."}), "not_competent")
    assert ban_row(notified["id"]) == before


def test_the_decision_names_the_deciders_title_and_delegation(director, heard):
    ban = ok(decide(director, heard["id"], MONDAY, MONDAY + days(9)))
    assert ban["decider_title"] == "Kirjastotoimenjohtaja" and ban["delegation"].startswith("Hallintosääntö")
    html = director.get(f"/bans/{heard['id']}/decision/fi/").content.decode()
    assert "Kirjastotoimenjohtaja" in html and "Hallintosääntö 45 §" in html


def test_the_dpo_keeps_the_competence_table_in_the_admin():
    dpo, staff = as_user("dpo"), as_user("rovaniemi.staff")
    assert dpo.get("/admin/bans/decisioncompetence/").status_code == 200
    assert staff.get("/admin/bans/decisioncompetence/").status_code in (302, 403)
    assert as_user("admin").get("/admin/bans/decisioncompetence/").status_code == 200


def test_a_delegation_that_has_ended_does_not_record_a_backdated_decision():
    """The attack: a decider whose delegation ended records, days later, a decision dated while it held."""
    ban = kemi_ban()
    delegate("rovaniemi.director", valid_until=MONDAY + days(1))
    with on(MONDAY + days(3)):
        director = as_user("rovaniemi.director")
        with NothingWritten():
            body = refused(
                decide(
                    director, ban["id"], MONDAY + days(3), MONDAY + days(12), decided_on=(MONDAY + days(1)).isoformat()
                ),
                "not_competent",
            )
    assert (MONDAY + days(3)).strftime("%d.%m.%Y") in body["detail"]


def test_the_rectification_outcome_is_recorded_once_and_the_decider_cannot_undo_it(patron):
    """The attack: after the board's 'upheld', the ban's own decider re-posts 'pending' with a late arrival date
    to make a ban that waits final at once, bypassing the board and the court."""
    ban = ban_through(patron.pk, length=30, enforced_before_final=False)  # deadline 15.2.
    with on(datetime.date(2027, 2, 10)):
        ok(appeal(as_user("rovaniemi.secretary"), ban["id"], "2027-02-10", "upheld"))
        director = as_user("rovaniemi.director")
        with NothingWritten():
            refused(appeal(director, ban["id"], "2027-02-10"), "appeal_decided")
            refused(appeal(director, ban["id"], "2027-02-16"), "appeal_decided")
            refused(appeal(as_user("rovaniemi.secretary"), ban["id"], "2027-02-10", "overturned"), "appeal_decided")
    stored = Ban.objects.get(pk=ban["id"])
    assert (stored.appeal_outcome, stored.appeal_recorded_by) == ("upheld", "rovaniemi.secretary")


def test_a_pending_requests_arrival_date_does_not_change(patron):
    ban = ban_through(patron.pk, length=30, enforced_before_final=False)
    with on(datetime.date(2027, 2, 20)):
        director = as_user("rovaniemi.director")
        ok(appeal(director, ban["id"], "2027-02-10"))
        with NothingWritten():
            refused(appeal(director, ban["id"], "2027-02-16"), "lodged_on_recorded")


def test_a_decided_ban_that_waits_and_is_never_notified_lapses(director, patron):
    """A decision takes effect only when notified: one never notified by the end of the dates it would have had
    (notified on the decision day) lapses, and is not kept waiting for ever."""
    ban = ok(
        propose(as_user("rovaniemi.staff"), patron.pk, [write_note(as_user("rovaniemi.staff"), patron.pk)], MONDAY), 201
    )
    ok(hear(as_user("rovaniemi.staff"), ban["id"], MONDAY))
    decided = ok(decide(director, ban["id"], MONDAY, MONDAY + days(9), enforced_before_final=False))
    last = datetime.date.fromisoformat(decided["ends_on"])
    assert ban_status(director, ban["id"]) == "decided"
    with on(last):
        assert ban_status(as_user("rovaniemi.director"), ban["id"]) == "decided"
    with on(last + days(1)):
        assert ban_status(as_user("rovaniemi.director"), ban["id"]) == "lapsed"
