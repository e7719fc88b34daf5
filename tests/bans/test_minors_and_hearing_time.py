"""A minor's guardians in the ban procedure (Administrative Procedure Act 434/2003 s. 14) and the time to answer
a hearing (ss. 34, 36), each rule at its boundary.

The Lapland patron of the demo (born 22.3.2014, two guardians) is 12 on MONDAY, turns 15 on 22.3.2029 and 18 on
22.3.2032. Everything runs on a fixed "today" (tests.patrons.procedure.on); clients are made inside it.
"""

import datetime

import pytest

from audit.models import AccessEvent
from bans.models import Ban, BanGuardian
from bans.services import appeal_deadline_for, deemed_received_on
from tests.conftest import client_for
from tests.patrons.procedure import (
    MONDAY,
    NothingWritten,
    as_user,
    ban_row,
    ban_through,
    days,
    decide,
    hear,
    last_event_id,
    minors_guardians,
    notify,
    ok,
    on,
    post,
    refused,
)

pytestmark = pytest.mark.django_db

FIFTEENTH_BIRTHDAY = datetime.date(2029, 3, 22)
EIGHTEENTH_BIRTHDAY = datetime.date(2032, 3, 22)


@pytest.fixture
def patron(lapland_patron):
    assert lapland_patron.date_of_birth == datetime.date(2014, 3, 22)
    assert lapland_patron.guardianships.count() == 2
    return lapland_patron


def guardian_ids(patron) -> list[int]:
    return sorted(patron.guardianships.values_list("guardian_id", flat=True))


def guardian_names(patron) -> list[str]:
    return [f"{g.guardian.first_name} {g.guardian.last_name}" for g in patron.guardianships.select_related("guardian")]


def heard_guardians(ids: list[int], day: datetime.date, statement: str = "Ei lisättävää.") -> list[dict]:
    return [{"guardian": i, "heard_on": day.isoformat(), "method": "phone", "statement": statement} for i in ids]


def notices(ids: list[int], day: datetime.date, method: str = "in_person") -> list[dict]:
    return [{"guardian": i, "method": method, "sent_on": day.isoformat()} for i in ids]


def decide_today(ban_id: int, day: datetime.date, length: int = 10, **body):
    return decide(as_user("rovaniemi.director"), ban_id, day, day + days(length - 1), **body)


# --- Minors: the guardians heard and notified -----------------------------------------------------------------


def test_a_12_year_olds_ban_hears_and_notifies_both_guardians(patron):
    first, second = guardian_ids(patron)
    first_event = last_event_id()
    with on(MONDAY):
        staff = as_user("rovaniemi.staff")
        ban = ban_through(patron.pk, step="proposed")
        # The minor alone was heard: no decision yet.
        ok(hear(staff, ban["id"], MONDAY, guardians=[]))
        with NothingWritten():
            body = refused(decide_today(ban["id"], MONDAY), "guardian_not_heard")
        assert f"{first}, {second}" in body["detail"]
        # One guardian heard: still not.
        ok(hear(staff, ban["id"], MONDAY, guardians=heard_guardians([first], MONDAY)))
        with NothingWritten():
            assert str(second) in refused(decide_today(ban["id"], MONDAY), "guardian_not_heard")["detail"]
        # Both heard: decided.
        heard = ok(hear(staff, ban["id"], MONDAY, guardians=heard_guardians([first, second], MONDAY)))
        assert [(g["guardian"], g["heard_on"], g["hearing_method"]) for g in heard["guardians"]] == [
            (first, "2027-02-01", "phone"),
            (second, "2027-02-01", "phone"),
        ]
        ok(decide_today(ban["id"], MONDAY))
        # The notice must go to both guardians too.
        before = ban_row(ban["id"])
        with NothingWritten():
            refused(notify(staff, ban["id"], MONDAY, guardians=[]), "guardian_not_notified")
            refused(notify(staff, ban["id"], MONDAY, guardians=notices([first], MONDAY)), "guardian_not_notified")
        assert ban_row(ban["id"]) == before
        notified = ok(notify(staff, ban["id"], MONDAY, guardians=notices([first, second], MONDAY)))
    assert notified["status"] == "active"
    assert [(g["notified_on"], g["notification_method"]) for g in notified["guardians"]] == [
        ("2027-02-01", "in_person")
    ] * 2
    # The decision names the guardians; the API and the access log name them nowhere.
    html = client_for("rovaniemi.director").get(f"/bans/{ban['id']}/decision/fi/").content.decode()
    for name in guardian_names(patron):
        assert name in html
        assert name not in str(notified)
    events = AccessEvent.objects.filter(id__gt=first_event).values_list("detail", "resource", "reason")
    assert events
    for name in guardian_names(patron):
        assert not any(name in " ".join(filter(None, event)) for event in events)


def test_someone_who_is_not_a_guardian_is_refused(patron, mikkeli_patron):
    with on(MONDAY):
        ban = ban_through(patron.pk, step="proposed")
        stranger = mikkeli_patron.pk
        before = ban_row(ban["id"])
        with NothingWritten():
            body = refused(
                hear(as_user("rovaniemi.staff"), ban["id"], MONDAY, guardians=heard_guardians([stranger], MONDAY)),
                "guardian_unknown",
            )
        assert ban_row(ban["id"]) == before
        assert str(stranger) in body["detail"]


def test_the_appeal_time_runs_from_the_last_guardians_receipt(patron):
    first, second = guardian_ids(patron)
    with on(MONDAY):
        ban = ban_through(patron.pk, step="decided")
        guardians = [*notices([first], MONDAY), *notices([second], MONDAY, "letter")]
        notified = ok(notify(as_user("rovaniemi.staff"), ban["id"], MONDAY, guardians=guardians))
    letter_received = deemed_received_on("letter", MONDAY)
    assert notified["deemed_received_on"] == "2027-02-01"  # the minor's own, in person
    assert notified["guardians"][1]["deemed_received_on"] == letter_received.isoformat()
    assert notified["appeal_deadline"] == appeal_deadline_for(letter_received).isoformat()


def test_under_15_the_minors_own_receipt_starts_no_time(patron):
    """Under 15 the guardians speak for the minor: a letter to the minor does not lengthen the time."""
    with on(MONDAY):
        ban = ban_through(patron.pk, step="decided")
        notified = ok(
            notify(
                as_user("rovaniemi.staff"), ban["id"], MONDAY, "letter", guardians=notices(guardian_ids(patron), MONDAY)
            )
        )
    assert notified["appeal_deadline"] == appeal_deadline_for(MONDAY).isoformat()


@pytest.mark.parametrize(
    ("day", "from_the_minors_letter"),
    [(FIFTEENTH_BIRTHDAY - days(1), False), (FIFTEENTH_BIRTHDAY, True), (FIFTEENTH_BIRTHDAY + days(1), True)],
)
def test_from_15_the_minors_own_receipt_counts_as_well(patron, day, from_the_minors_letter):
    with on(day):
        ban = ban_through(patron.pk, step="decided")
        guardians = notices(guardian_ids(patron), day)
        notified = ok(notify(as_user("rovaniemi.staff"), ban["id"], day, "letter", guardians=guardians))
    received = deemed_received_on("letter", day) if from_the_minors_letter else day
    assert notified["appeal_deadline"] == appeal_deadline_for(received).isoformat()


def test_a_17_year_old_the_day_before_the_18th_birthday_needs_the_guardians(patron):
    day = EIGHTEENTH_BIRTHDAY - days(1)
    with on(day):
        ban = ban_through(patron.pk, step="proposed")
        assert len(minors_guardians(ban["id"], day)) == 2
        ok(hear(as_user("rovaniemi.staff"), ban["id"], day, guardians=[]))
        refused(decide_today(ban["id"], day), "guardian_not_heard")
        ok(hear(as_user("rovaniemi.staff"), ban["id"], day))
        ok(decide_today(ban["id"], day))
        refused(notify(as_user("rovaniemi.staff"), ban["id"], day, guardians=[]), "guardian_not_notified")
        ok(notify(as_user("rovaniemi.staff"), ban["id"], day))


@pytest.mark.parametrize("day", [EIGHTEENTH_BIRTHDAY, EIGHTEENTH_BIRTHDAY + days(1)])
def test_from_the_18th_birthday_the_party_alone_is_heard_and_notified(patron, day):
    with on(day):
        staff = as_user("rovaniemi.staff")
        ban = ban_through(patron.pk, step="proposed")
        # A guardian is no longer a party's guardian in the procedure.
        refused(hear(staff, ban["id"], day, guardians=heard_guardians(guardian_ids(patron), day)), "guardian_unknown")
        ok(hear(staff, ban["id"], day, guardians=[]))
        ok(decide_today(ban["id"], day))
        notified = ok(notify(staff, ban["id"], day, "letter", guardians=[]))
    assert notified["guardians"] == []
    assert notified["appeal_deadline"] == appeal_deadline_for(deemed_received_on("letter", day)).isoformat()
    assert not BanGuardian.objects.filter(ban_id=ban["id"]).exists()


# --- The time to answer (s. 34, 36) ---------------------------------------------------------------------------


def test_no_decision_until_the_time_to_answer_has_run_out(patron):
    answer_by = MONDAY + days(7)
    with on(MONDAY):
        ban = ban_through(patron.pk, starts_on=MONDAY + days(8), step="proposed")
        heard = ok(hear(as_user("rovaniemi.staff"), ban["id"], MONDAY, statement="", answer_by=answer_by.isoformat()))
    assert heard["answer_by"] == "2027-02-08"
    for day in (answer_by - days(1), answer_by):  # the party may still answer on the last day
        with on(day):
            before = ban_row(ban["id"])
            with NothingWritten():
                body = refused(decide_today(ban["id"], day, decided_on=day.isoformat()), "hearing_time_running")
            assert "08.02.2027" in body["detail"]
            assert ban_row(ban["id"]) == before
    with on(answer_by + days(1)):
        ok(decide_today(ban["id"], answer_by + days(1)))


def test_every_statement_that_came_allows_the_decision_before_the_time_runs_out(patron):
    first, second = guardian_ids(patron)
    answer_by = (MONDAY + days(7)).isoformat()
    with on(MONDAY):
        staff = as_user("rovaniemi.staff")
        ban = ban_through(patron.pk, step="proposed")
        # The minor answered, one guardian has not yet.
        guardians = [*heard_guardians([first], MONDAY), *heard_guardians([second], MONDAY, statement="")]
        ok(hear(staff, ban["id"], MONDAY, answer_by=answer_by, guardians=guardians))
        refused(decide_today(ban["id"], MONDAY), "hearing_time_running")
        # The second guardian's statement came: recorded again, and the decision may come at once.
        ok(hear(staff, ban["id"], MONDAY, answer_by=answer_by, guardians=heard_guardians([first, second], MONDAY)))
        ok(decide_today(ban["id"], MONDAY))


def test_the_hearing_records_the_time_to_answer_and_the_material_shown(patron):
    with on(MONDAY):
        staff = as_user("rovaniemi.staff")
        ban = ban_through(patron.pk, step="proposed")
        before = ban_row(ban["id"])
        with NothingWritten():
            refused(hear(staff, ban["id"], MONDAY, answer_by=None), "answer_by_required")
            early = (MONDAY - days(1)).isoformat()
            refused(hear(staff, ban["id"], MONDAY, answer_by=early), "answer_by_before_hearing")
            refused(hear(staff, ban["id"], MONDAY, material_shown="  "), "material_shown_required")
        assert ban_row(ban["id"]) == before
        heard = ok(hear(staff, ban["id"], MONDAY, answer_by=MONDAY.isoformat(), material_shown="Esitys 1.2.2027."))
    assert (heard["answer_by"], heard["material_shown"]) == ("2027-02-01", "Esitys 1.2.2027.")


@pytest.mark.parametrize("ground", ["would_endanger_purpose", "delay_would_harm", "manifestly_unnecessary"])
def test_a_waiver_on_a_ground_of_s_34_2_needs_no_time(patron, ground):
    with on(MONDAY):
        ban = ban_through(patron.pk, step="proposed")
        waived = ok(post(as_user("rovaniemi.staff"), f"/api/v1/bans/{ban['id']}/hearing/", {"waiver_ground": ground}))
        assert (waived["status"], waived["hearing_waiver_ground"], waived["guardians"]) == (
            "hearing_waived",
            ground,
            [],
        )
        ok(decide_today(ban["id"], MONDAY))


def test_a_waiver_without_a_ground_from_the_list_is_refused(patron):
    with on(MONDAY):
        staff = as_user("rovaniemi.staff")
        ban = ban_through(patron.pk, step="proposed")
        url = f"/api/v1/bans/{ban['id']}/hearing/"
        before = ban_row(ban["id"])
        with NothingWritten():
            refused(post(staff, url, {"waived_reason": "Kiire."}), "waiver_ground_required")
            refused(post(staff, url, {"waiver_ground": "urgent"}), "waiver_ground_unknown")
        assert ban_row(ban["id"]) == before
        # A waiver recorded before the list (free text only) does not let the decision through.
        ok(post(staff, url, {"waiver_ground": "delay_would_harm", "waived_reason": "Kiire."}))
        Ban.objects.filter(pk=ban["id"]).update(hearing_waiver_ground="")
        refused(decide_today(ban["id"], MONDAY), "waiver_ground_required")


@pytest.mark.parametrize(
    ("language", "words"),
    [("fi", "huoltaja"), ("sv", "vårdnadshavare"), ("en", "guardian")],
)
def test_the_refusal_speaks_the_clients_language(patron, language, words):
    with on(MONDAY):
        ban = ban_through(patron.pk, step="proposed")
        ok(hear(as_user("rovaniemi.staff"), ban["id"], MONDAY, guardians=[]))
        director = client_for("rovaniemi.director", HTTP_ACCEPT_LANGUAGE=language)
        body = refused(decide(director, ban["id"], MONDAY, MONDAY + days(9)), "guardian_not_heard")
    assert words in body["detail"].lower()


def test_the_log_of_a_refusal_names_no_guardian(patron):
    with on(MONDAY):
        ban = ban_through(patron.pk, step="proposed")
        ok(hear(as_user("rovaniemi.staff"), ban["id"], MONDAY, guardians=[]))
        before = last_event_id()
        refused(decide_today(ban["id"], MONDAY), "guardian_not_heard")
    for event in AccessEvent.objects.filter(id__gt=before):
        for name in guardian_names(patron):
            assert name not in f"{event.detail} {event.resource} {event.reason}"


def test_the_pages_hear_and_notify_the_guardians(patron):
    first, second = guardian_ids(patron)
    day = MONDAY.isoformat()
    with on(MONDAY):
        ban = ban_through(patron.pk, step="proposed")
        staff = as_user("rovaniemi.staff")
        page = staff.get(f"/bans/{ban['id']}/").content.decode()
        assert (
            f'name="hearing-guardian_{first}_heard_on"' in page and f'name="hearing-guardian_{second}_method"' in page
        )
        hearing = {
            "hearing-heard_on": day,
            "hearing-method": "in_person",
            "hearing-answer_by": day,
            "hearing-material_shown": "Esitys.",
            "hearing-statement": "Ei lisättävää.",
            f"hearing-guardian_{first}_heard_on": day,
            f"hearing-guardian_{first}_method": "phone",
            f"hearing-guardian_{first}_statement": "Ei lisättävää.",
        }
        assert staff.post(f"/bans/{ban['id']}/hearing/", hearing).status_code == 302
        assert list(BanGuardian.objects.filter(ban_id=ban["id"]).values_list("guardian_id", "hearing_method")) == [
            (first, "phone")
        ]
        director = as_user("rovaniemi.director")
        decision = {
            "decision-decision_number": "ROV-2027-3",
            "decision-decided_on": day,
            "decision-starts_on": day,
            "decision-ends_on": (MONDAY + days(9)).isoformat(),
            "decision-reasons": "Häiriöt.",
            "decision-enforced_before_final": "on",
            "decision-enforcement_reasons": "Häiriöt jatkuvat.",
            "decision-contact_person": "Marjatta Ylitalo, 040 123 4567",
        }
        refused_page = director.post(f"/bans/{ban['id']}/decision/", decision)
        assert refused_page.status_code == 400 and "huoltaja" in refused_page.content.decode()
        hearing |= {
            f"hearing-guardian_{second}_heard_on": day,
            f"hearing-guardian_{second}_method": "letter",
            f"hearing-guardian_{second}_statement": "Ei lisättävää.",
        }
        assert staff.post(f"/bans/{ban['id']}/hearing/", hearing).status_code == 302
        assert director.post(f"/bans/{ban['id']}/decision/", decision).status_code == 302
        notice = {"notification-method": "in_person", "notification-sent_on": day}
        for guardian in (first, second):
            notice |= {
                f"notification-guardian_{guardian}_method": "letter",
                f"notification-guardian_{guardian}_sent_on": day,
            }
        assert staff.post(f"/bans/{ban['id']}/notification/", notice).status_code == 302
    stored = Ban.objects.get(pk=ban["id"])
    assert stored.appeal_deadline == appeal_deadline_for(deemed_received_on("letter", MONDAY))


def test_a_guardian_asked_after_the_time_to_answer_ended_is_refused(patron):
    """s. 34: a guardian heard on the 5th with the time to answer ending on the 1st had no time at all."""
    ids = guardian_ids(patron)
    with on(MONDAY):
        ban = ban_through(patron.pk, starts_on=MONDAY + days(8), step="proposed")
    with on(MONDAY + days(5)):
        late = heard_guardians(ids[:1], MONDAY + days(5)) + heard_guardians(ids[1:], MONDAY)
        body = {
            "heard_on": MONDAY.isoformat(),
            "method": "phone",
            "statement": "",
            "answer_by": (MONDAY + days(1)).isoformat(),
            "material_shown": "Muistiinpanot",
            "guardians": late,
        }
        with NothingWritten():
            refused(
                post(as_user("rovaniemi.staff"), f"/api/v1/bans/{ban['id']}/hearing/", body),
                "guardian_heard_after_answer_by",
            )
        body["answer_by"] = (MONDAY + days(5)).isoformat()
        ok(post(as_user("rovaniemi.staff"), f"/api/v1/bans/{ban['id']}/hearing/", body))
