"""Issue 14 (part): an electronic notice only with consent (Act 13/2003 s. 19), a proven later receipt that moves
the rectification deadline (Local Government Act 410/2015 ss. 134, 141), enforcement before final with its
reasons and a ban that waits until it is final getting its dates then (s. 143), and the guardians' part in the
access log and in their own access report. Each rule at its boundary; a refusal writes nothing."""

import datetime

import pytest

from audit.models import AccessEvent
from bans.models import Ban, BanGuardian
from bans.privacy import BanContract
from bans.selectors import patron_bans
from core.privacy_contract import ReportContext
from patrons.models import Guardianship, Patron
from tests.patrons.procedure import (
    ENFORCEMENT_REASONS,
    MONDAY,
    SECRETARY,
    NothingWritten,
    as_user,
    ban_row,
    ban_through,
    days,
    decide,
    notify,
    ok,
    on,
    post,
    rectification,
    refused,
    write_events_for,
)

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def monday():
    with on(MONDAY):
        yield MONDAY


@pytest.fixture
def minor(lapland_patron) -> Patron:
    assert lapland_patron.date_of_birth == D(2014, 3, 22)  # 12: heard and notified through the guardians
    return lapland_patron


@pytest.fixture
def adult(lapland_patron) -> Patron:
    lapland_patron.date_of_birth = D(1980, 1, 1)
    lapland_patron.save(update_fields=["date_of_birth"])
    return lapland_patron


def guardians_of(patron: Patron) -> list[int]:
    return sorted(Guardianship.objects.filter(ward=patron).values_list("guardian_id", flat=True))


def receipt(ban_id: int, received_on: D | None, evidence: str = "acknowledgement", **body):
    body = {"received_on": received_on.isoformat() if received_on else None, "evidence": evidence, **body}
    return post(as_user("rovaniemi.staff"), f"/api/v1/bans/{ban_id}/receipt/", body)


# --- 1. Electronic notice only with consent (Act 13/2003 s. 19) ------------------------------------------


def test_an_electronic_notice_without_consent_is_refused(adult):
    ban = ban_through(adult.pk, step="decided")
    before = ban_row(ban["id"])
    with NothingWritten():
        body = refused(
            notify(
                as_user("rovaniemi.staff"),
                ban["id"],
                MONDAY,
                "electronic",
                electronic_consent_on=None,
                electronic_consent_how="",
            ),
            "electronic_consent_required",
        )
    assert "13/2003" in body["detail"]
    assert ban_row(ban["id"]) == before


@pytest.mark.parametrize("consented", [MONDAY - days(30), MONDAY])
def test_consent_given_on_or_before_the_sending_day_allows_it(adult, consented):
    ban = ban_through(adult.pk, step="decided")
    consent = {"electronic_consent_on": consented.isoformat(), "electronic_consent_how": "at_hearing"}
    notified = ok(notify(as_user("rovaniemi.staff"), ban["id"], MONDAY, "electronic", **consent))
    assert (notified["electronic_consent_on"], notified["electronic_consent_how"]) == (
        consented.isoformat(),
        "at_hearing",
    )
    assert (notified["deemed_received_on"], notified["appeal_deadline"]) == ("2027-02-04", "2027-02-18")


def test_consent_dated_after_the_sending_day_is_refused(adult):
    ban = ban_through(adult.pk, step="decided")
    with on(MONDAY + days(2)):
        staff = as_user("rovaniemi.staff")
        consent = {"electronic_consent_on": (MONDAY + days(1)).isoformat(), "electronic_consent_how": "in_writing"}
        before = ban_row(ban["id"])
        with NothingWritten():
            refused(notify(staff, ban["id"], MONDAY, "electronic", **consent), "consent_after_sending")
        assert ban_row(ban["id"]) == before


def test_a_consent_without_how_it_was_given_is_incomplete(adult):
    ban = ban_through(adult.pk, step="decided")
    with NothingWritten():
        refused(
            notify(as_user("rovaniemi.staff"), ban["id"], MONDAY, "electronic", electronic_consent_how=""),
            "electronic_consent_incomplete",
        )


def test_each_guardian_needs_their_own_consent(minor):
    ban = ban_through(minor.pk, step="decided")
    first, second = guardians_of(minor)
    consent = {"electronic_consent_on": MONDAY.isoformat(), "electronic_consent_how": "in_writing"}
    notices = [
        {"guardian": first, "method": "electronic", "sent_on": MONDAY.isoformat(), **consent},
        {"guardian": second, "method": "electronic", "sent_on": MONDAY.isoformat()},
    ]
    staff = as_user("rovaniemi.staff")
    with NothingWritten():
        body = refused(notify(staff, ban["id"], MONDAY, guardians=notices), "electronic_consent_required")
    assert str(second) in body["detail"]
    notices[1] |= {"electronic_consent_on": MONDAY.isoformat(), "electronic_consent_how": "electronically"}
    notified = ok(notify(staff, ban["id"], MONDAY, guardians=notices))
    rows = {row["guardian"]: row for row in notified["guardians"]}
    assert rows[second]["electronic_consent_how"] == "electronically"
    assert rows[first]["electronic_consent_on"] == "2027-02-01"


def test_a_guardians_consent_after_sending_is_refused(minor):
    ban = ban_through(minor.pk, step="decided")
    first, second = guardians_of(minor)
    with on(MONDAY + days(1)):
        late = {"electronic_consent_on": (MONDAY + days(1)).isoformat(), "electronic_consent_how": "in_writing"}
        notices = [
            {"guardian": first, "method": "letter", "sent_on": MONDAY.isoformat()},
            {"guardian": second, "method": "electronic", "sent_on": MONDAY.isoformat(), **late},
        ]
        with NothingWritten():
            refused(notify(as_user("rovaniemi.staff"), ban["id"], MONDAY, guardians=notices), "consent_after_sending")


def test_the_notification_page_asks_the_consent(adult):
    ban = ban_through(adult.pk, step="decided")
    staff = as_user("rovaniemi.staff")
    notice = {"notification-method": "electronic", "notification-sent_on": MONDAY.isoformat()}
    page = staff.post(f"/bans/{ban['id']}/notification/", notice)
    assert page.status_code == 400 and "13/2003" in page.content.decode()
    notice |= {
        "notification-electronic_consent_on": MONDAY.isoformat(),
        "notification-electronic_consent_how": "in_writing",
    }
    assert staff.post(f"/bans/{ban['id']}/notification/", notice).status_code == 302
    assert Ban.objects.get(pk=ban["id"]).electronic_consent_how == "in_writing"


# --- 2. A proven later receipt (Local Government Act s. 141, Act 13/2003 s. 19(2)) ----------------------


@pytest.fixture
def by_letter(adult) -> dict:
    """Sent Monday 1.2. by letter: deemed received Monday 8.2., deadline Monday 22.2."""
    ban = ban_through(adult.pk, notification="letter")
    assert (ban["deemed_received_on"], ban["appeal_deadline"]) == ("2027-02-08", "2027-02-22")
    return ban


def test_a_proven_receipt_before_the_deemed_one_is_refused(by_letter):
    with on(D(2027, 2, 10)):
        before = ban_row(by_letter["id"])
        with NothingWritten():
            refused(receipt(by_letter["id"], D(2027, 2, 7)), "receipt_before_deemed")
        assert ban_row(by_letter["id"]) == before


def test_a_proven_receipt_on_the_deemed_day_changes_nothing(by_letter):
    with on(D(2027, 2, 10)):
        ban = ok(receipt(by_letter["id"], D(2027, 2, 8)))
    assert (ban["proven_received_on"], ban["appeal_deadline"]) == ("2027-02-08", "2027-02-22")


def test_a_later_proven_receipt_moves_the_deadline_by_as_many_days(by_letter):
    with on(D(2027, 2, 10)):
        ban = ok(receipt(by_letter["id"], D(2027, 2, 10), "delivery_record", note="Posti: luovutettu 10.2."))
    assert (ban["deemed_received_on"], ban["proven_received_on"], ban["appeal_deadline"]) == (
        "2027-02-08",
        "2027-02-10",
        "2027-02-24",
    )
    assert (ban["proven_receipt_evidence"], ban["proven_receipt_note"]) == (
        "delivery_record",
        "Posti: luovutettu 10.2.",
    )


def test_a_proven_receipt_in_the_future_is_refused(by_letter):
    with on(D(2027, 2, 9)), NothingWritten():
        refused(receipt(by_letter["id"], D(2027, 2, 10)), "received_in_future")


@pytest.mark.parametrize(
    ("evidence", "note", "rule"), [("", "", "receipt_evidence_unknown"), ("other", "", "receipt_note_required")]
)
def test_what_proves_the_receipt_is_required(by_letter, evidence, note, rule):
    with on(D(2027, 2, 10)), NothingWritten():
        refused(receipt(by_letter["id"], D(2027, 2, 10), evidence, note=note), rule)


def test_only_a_notified_ban_gets_a_receipt(adult):
    ban = ban_through(adult.pk, step="decided")
    with NothingWritten():
        refused(receipt(ban["id"], MONDAY), "notification_required")


def test_a_proof_after_the_deadline_makes_a_request_that_looked_late_timely(adult):
    """Recorded after the deadline it moves: the proof usually comes with the request (docs: why)."""
    ban = ban_through(adult.pk, notification="letter", enforced_before_final=False)  # deadline 22.2.
    with on(D(2027, 2, 24)):
        director = as_user("rovaniemi.director")
        ok(post(director, f"/api/v1/bans/{ban['id']}/appeal/", {"lodged_on": "2027-02-24"}))
        assert ok(director.get(f"/api/v1/bans/{ban['id']}/"))["status"] == "active"  # a late request holds nothing
        moved = ok(receipt(ban["id"], D(2027, 2, 12), "acknowledgement"))
        assert (moved["appeal_deadline"], moved["status"]) == ("2027-02-26", "notified")  # now a request in time


def test_no_receipt_after_the_request_was_decided(by_letter):
    with on(D(2027, 2, 10)):
        # The board's decision, recorded by its secretary (not the ban's decider).
        ok(rectification(as_user(SECRETARY), by_letter["id"], D(2027, 2, 10), "dismissed"))
        with NothingWritten():
            refused(receipt(by_letter["id"], D(2027, 2, 10)), "appeal_already_decided")


def test_a_guardians_proven_receipt_moves_the_deadline_from_the_last_receipt(minor):
    """The 12-year-old's own receipt starts no time; the guardians' letters (deemed 8.2.) do."""
    ban = ban_through(minor.pk, length=30, notification="letter")
    first, second = guardians_of(minor)
    assert ban["appeal_deadline"] == "2027-02-22"
    with on(D(2027, 2, 11)):
        after = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()
        moved = ok(receipt(ban["id"], D(2027, 2, 11), guardian=second))
        assert moved["appeal_deadline"] == "2027-02-25"
        rows = {row["guardian"]: row for row in moved["guardians"]}
        assert rows[second]["proven_received_on"] == "2027-02-11" and rows[first]["proven_received_on"] is None
        # The party's own later receipt (under 15) moves nothing.
        assert ok(receipt(ban["id"], D(2027, 2, 11)))["appeal_deadline"] == "2027-02-25"
    events = write_events_for(minor.pk, after)
    assert [(event.detail, sorted(event.patron_ids)) for event in events] == [
        ("ban_receipt", sorted([minor.pk, second])),
        ("ban_receipt", [minor.pk]),
    ]


def test_a_receipt_for_someone_not_notified_as_guardian_is_refused(minor, adult_other):
    ban = ban_through(minor.pk, notification="letter")
    with on(D(2027, 2, 10)), NothingWritten():
        refused(receipt(ban["id"], D(2027, 2, 10), guardian=adult_other.pk), "guardian_unknown")


@pytest.fixture
def adult_other(lapland_patron) -> Patron:
    others = Patron.objects.filter(consortium=lapland_patron.consortium)
    return others.exclude(pk__in=[lapland_patron.pk, *guardians_of(lapland_patron)]).earliest("pk")


def test_the_receipt_form_on_the_ban_page(by_letter):
    with on(D(2027, 2, 10)):
        staff = as_user("rovaniemi.staff")
        page = staff.get(f"/bans/{by_letter['id']}/").content.decode()
        assert 'name="receipt-received_on"' in page
        form = {"receipt-received_on": "2027-02-07", "receipt-evidence": "acknowledgement"}
        assert staff.post(f"/bans/{by_letter['id']}/receipt/", form).status_code == 400
        form["receipt-received_on"] = "2027-02-09"
        assert staff.post(f"/bans/{by_letter['id']}/receipt/", form).status_code == 302
    assert Ban.objects.get(pk=by_letter["id"]).appeal_deadline == D(2027, 2, 23)


# --- 3. Enforcement before final (Local Government Act s. 143) ---------------------------------------------


def test_enforcement_before_final_needs_its_reasons(adult):
    ban = ban_through(adult.pk, step="heard")
    director = as_user("rovaniemi.director")
    before = ban_row(ban["id"])
    with NothingWritten():
        body = refused(
            decide(director, ban["id"], MONDAY, MONDAY + days(9), enforcement_reasons="  "),
            "enforcement_reasons_required",
        )
    assert "143" in body["detail"] and ban_row(ban["id"]) == before
    with NothingWritten():
        refused(
            decide(director, ban["id"], MONDAY, MONDAY + days(9), enforcement_reasons="Henkilötunnus 131052-308T."),
            "identity_code_in_text",
        )
    decided = ok(decide(director, ban["id"], MONDAY, MONDAY + days(9)))
    assert (decided["enforcement_reasons"], decided["length_days"]) == (ENFORCEMENT_REASONS, 10)


def test_the_decision_document_prints_the_reasons(adult):
    ban = ban_through(adult.pk)
    director = as_user("rovaniemi.director")
    finnish = director.get(f"/bans/{ban['id']}/decision/fi/").content.decode()
    swedish = director.get(f"/bans/{ban['id']}/decision/sv/").content.decode()
    assert "Perustelut täytäntöönpanolle ennen lainvoimaa" in finnish and ENFORCEMENT_REASONS in finnish
    assert "Motivering till verkställigheten" in swedish and ENFORCEMENT_REASONS in swedish


@pytest.mark.parametrize(("length", "rule"), [(None, "length_required"), (0, "length_required"), (31, "max_30_days")])
def test_a_ban_that_waits_gives_its_length(adult, length, rule):
    ban = ban_through(adult.pk, step="heard")
    body = {"enforced_before_final": False, "length_days": length}
    with NothingWritten():
        refused(decide(as_user("rovaniemi.director"), ban["id"], MONDAY, MONDAY, **body), rule)


def test_a_ban_that_waits_starts_the_day_after_it_is_final_for_a_minor(minor):
    """Guardians' letters deemed received 8.2.: deadline 22.2., final from 23.2., 30 days to 24.3."""
    ban = ban_through(minor.pk, length=30, notification="letter", enforced_before_final=False)
    assert (ban["starts_on"], ban["ends_on"], ban["status"]) == ("2027-02-23", "2027-03-24", "notified")
    expected = {
        D(2027, 2, 22): "notified",
        D(2027, 2, 23): "active",
        D(2027, 3, 24): "active",
        D(2027, 3, 25): "ended",
    }
    for day, status in expected.items():
        with on(day):
            assert ok(as_user("rovaniemi.director").get(f"/api/v1/bans/{ban['id']}/"))["status"] == status, day
    # What the Koha push and the patron page read: the effective dates, only while in force.
    assert patron_bans(minor, D(2027, 2, 22)).in_force == []
    in_force = patron_bans(minor, D(2027, 2, 23)).in_force
    assert [(item.starts_on, item.ends_on) for item in in_force] == [(D(2027, 2, 23), D(2027, 3, 24))]
    with on(D(2027, 2, 23)):
        patron_json = ok(as_user("rovaniemi.staff").get(f"/api/v1/patrons/{minor.pk}/"))
    assert [(b["starts_on"], b["ends_on"]) for b in patron_json["active_bans"]] == [("2027-02-23", "2027-03-24")]


def test_the_decision_of_a_ban_that_waits_says_it_starts_once_final(adult):
    ban = ban_through(adult.pk, length=14, enforced_before_final=False)
    finnish = as_user("rovaniemi.director").get(f"/bans/{ban['id']}/decision/fi/").content.decode()
    assert "14 päivää ajaksi, joka alkaa päätöksen lainvoimaiseksi tulemista" in " ".join(finnish.split())


# --- 4. The guardians in the access log and in their own access report -------------------------------------


def test_a_guardians_report_shows_their_part_in_the_wards_procedure(minor):
    ban = ban_through(minor.pk, notification="letter")
    first, _second = guardians_of(minor)
    part = BanContract().report_sections(first, ReportContext(patron_id=first, consortium_id=minor.consortium_id))
    section = next(section for section in part.sections if section.key == "bans_as_guardian")
    (record,) = section.records
    fields = {item.field: item.value for item in record.items}
    assert fields["decision_number"] == ban["decision_number"] and fields["heard_on"] == MONDAY
    assert fields["notification_method"] == "letter" and fields["deemed_received_on"] == D(2027, 2, 8)
    texts = " ".join(item.text for item in record.items)
    assert minor.first_name not in texts  # not the ward's data
    assert part.related_patron_ids == (minor.pk,)
    # The ward's own report has no such section; someone who was never a guardian gets none either.
    ward_part = BanContract().report_sections(
        minor.pk, ReportContext(patron_id=minor.pk, consortium_id=minor.consortium_id)
    )
    assert "bans_as_guardian" not in [section.key for section in ward_part.sections]
    assert BanGuardian.objects.filter(guardian_id=first).count() == 1
