"""After the decision: the municipality's official data the decision names, the rectification decided by the
municipality's body (recorded by someone other than the decider), and the appeal to the administrative court
against the rectification decision, with its own 30-day deadline (issue 14).

Administrative Procedure Act 434/2003 ss. 44, 49 b; Local Government Act 410/2015 ss. 133-136, 145-146; Act on
Judicial Procedure in Administrative Matters 808/2019 s. 13. Each rule at its boundary; a refusal writes nothing.
"""

import datetime

import pytest
from django.utils import translation

from bans.models import Ban, BanStatus, DecisionCompetence
from bans.services import court_appeal_deadline_for
from bans.state import Step, next_steps
from staff.models import Municipality
from tests.patrons.procedure import (
    BOARD_DECISION,
    COURT,
    MONDAY,
    SECRETARY,
    NothingWritten,
    as_user,
    ban_row,
    ban_through,
    court_appeal,
    days,
    decide,
    ok,
    on,
    rectification,
    rectification_notice,
    refused,
)

pytestmark = pytest.mark.django_db

BOTH = {"may_prepare": True, "may_decide": True}


@pytest.fixture(autouse=True)
def monday():
    with on(MONDAY):
        yield MONDAY


def status_on(day: datetime.date, ban_id: int) -> str:
    with on(day):
        return ok(as_user("rovaniemi.director").get(f"/api/v1/bans/{ban_id}/"))["status"]


def upheld_and_notified(patron_id: int, **ban) -> dict:
    """A ban (1.2.2027, today), its rectification upheld by the board today, that decision handed over today:
    received 1.2., so the court appeal time ends on 3.3.2027 (the 30th day, a Wednesday)."""
    notified = ban_through(patron_id, **ban)
    ok(rectification(as_user(SECRETARY), notified["id"], MONDAY, "upheld"))
    return ok(rectification_notice(as_user("rovaniemi.staff"), notified["id"], MONDAY))


# --- The municipality's official data in the decision (APA s. 44, s. 49 b; LGA ss. 133-135) --------------


@pytest.mark.parametrize("field", ["official_name", "rectification_body", "rectification_address"])
def test_no_decision_while_the_municipality_lacks_its_official_data(lapland_patron, field):
    heard = ban_through(lapland_patron.pk, step="heard")
    Municipality.objects.filter(name="Rovaniemi").update(**{field: ""})
    before = ban_row(heard["id"])
    with NothingWritten():
        body = refused(
            decide(as_user("rovaniemi.director"), heard["id"], MONDAY, MONDAY + days(9)), "municipality_data_missing"
        )
    with translation.override("fi"):
        label = str(Municipality._meta.get_field(field).verbose_name)
    assert label in body["detail"] and "Rovaniemi" in body["detail"]
    assert ban_row(heard["id"]) == before


def test_the_email_and_office_hours_are_optional(lapland_patron):
    heard = ban_through(lapland_patron.pk, step="heard")
    Municipality.objects.filter(name="Rovaniemi").update(rectification_email="", office_hours="")
    decided = ok(decide(as_user("rovaniemi.director"), heard["id"], MONDAY, MONDAY + days(9)))
    assert decided["authority"]["email"] == "" and decided["authority"]["name"] == "Rovaniemen kaupunki"


def test_the_decision_names_the_authority_as_it_was_when_decided(lapland_patron):
    ban = ban_through(lapland_patron.pk)
    assert ban["authority"]["rectification_body"] == "Sivistyslautakunta"
    Municipality.objects.filter(name="Rovaniemi").update(
        official_name="Uusi nimi", rectification_body="Kaupunginhallitus"
    )
    html = as_user("rovaniemi.director").get(f"/bans/{ban['id']}/decision/fi/").content.decode()
    assert "Rovaniemen kaupunki, Sivistyslautakunta" in html  # kept as sent
    assert "Uusi nimi" not in html and "Kaupunginhallitus" not in html


def test_the_dpo_keeps_the_official_data_in_the_admin():
    rovaniemi = Municipality.objects.get(name="Rovaniemi")
    page = as_user("dpo").get(f"/admin/staff/municipality/{rovaniemi.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    for field in ("official_name", "rectification_body", "rectification_address", "rectification_email"):
        assert f'name="{field}"' in content
    assert as_user("rovaniemi.staff").get(f"/admin/staff/municipality/{rovaniemi.pk}/change/").status_code in (302, 403)
    mikkeli = Municipality.objects.get(name="Mikkeli")
    assert as_user("dpo").get(f"/admin/staff/municipality/{mikkeli.pk}/change/").status_code in (302, 404)


# --- After rectification: the body decides; someone other than the decider records it (LGA ss. 134-136) ----


@pytest.mark.parametrize("outcome", ["upheld", "overturned", "dismissed"])
def test_the_decider_may_not_record_the_boards_decision_on_their_own_ban(lapland_patron, outcome):
    ban = ban_through(lapland_patron.pk)
    before = ban_row(ban["id"])
    with NothingWritten():
        refused(rectification(as_user("rovaniemi.director"), ban["id"], MONDAY, outcome), "rectification_by_decider")
    assert ban_row(ban["id"]) == before


def test_the_decider_may_record_that_a_request_arrived(lapland_patron):
    ban = ban_through(lapland_patron.pk)
    pending = ok(rectification(as_user("rovaniemi.director"), ban["id"], MONDAY))
    assert (pending["appeal_outcome"], pending["appeal_body"], pending["appeal_recorded_by"]) == ("pending", "", "")


def test_the_outcome_records_the_body_its_date_and_reference(lapland_patron):
    ban = ban_through(lapland_patron.pk)
    with on(MONDAY + days(9)):
        upheld = ok(rectification(as_user(SECRETARY), ban["id"], MONDAY, "upheld", decided_on="2027-02-09"))
    assert (upheld["appeal_body"], upheld["appeal_reference"], upheld["appeal_decided_on"]) == (
        "Sivistyslautakunta",  # the rectification body the decision named
        BOARD_DECISION,
        "2027-02-09",
    )
    assert upheld["appeal_recorded_by"] == SECRETARY


def test_another_body_may_be_named(lapland_patron):
    ban = ban_through(lapland_patron.pk)
    upheld = ok(rectification(as_user(SECRETARY), ban["id"], MONDAY, "dismissed", body="Kaupunginhallitus"))
    assert upheld["appeal_body"] == "Kaupunginhallitus"


def test_the_reference_of_the_boards_decision_is_required(lapland_patron):
    ban = ban_through(lapland_patron.pk)
    with NothingWritten():
        refused(
            rectification(as_user(SECRETARY), ban["id"], MONDAY, "upheld", reference=" "),
            "rectification_reference_required",
        )


def test_the_secretary_needs_a_delegation_too(lapland_patron):
    ban = ban_through(lapland_patron.pk)
    DecisionCompetence.objects.filter(decider__username=SECRETARY).delete()
    with NothingWritten():
        refused(rectification(as_user(SECRETARY), ban["id"], MONDAY, "upheld"), "not_competent")


# --- The appeal to the administrative court (LGA ss. 145-146; Act 808/2019 s. 13) ------------------------


@pytest.mark.parametrize(
    ("method", "received", "deadline"),
    [
        ("letter", "2027-02-08", "2027-03-10"),
        # The 30th day after 4.2. is Saturday 6.3.: the time runs to Monday 8.3.
        ("electronic", "2027-02-04", "2027-03-08"),
        ("in_person", "2027-02-01", "2027-03-03"),
    ],
)
def test_the_rectification_notice_gives_the_court_appeal_deadline(lapland_patron, method, received, deadline):
    # An electronic notice needs the party's consent: recorded with the ban's own electronic notice.
    ban = ban_through(lapland_patron.pk, notification="electronic" if method == "electronic" else "in_person")
    ok(rectification(as_user(SECRETARY), ban["id"], MONDAY, "upheld"))
    noticed = ok(rectification_notice(as_user("rovaniemi.staff"), ban["id"], MONDAY, method))
    assert (noticed["rectification_deemed_received_on"], noticed["court_appeal_deadline"]) == (received, deadline)
    assert Ban.objects.get(pk=ban["id"]).court_appeal_deadline == datetime.date.fromisoformat(deadline)


def test_an_electronic_rectification_notice_needs_the_partys_consent(lapland_patron):
    """Act 13/2003 s. 19: the ban was handed over in person and the party never consented to electronic notice."""
    ban = ban_through(lapland_patron.pk)
    ok(rectification(as_user(SECRETARY), ban["id"], MONDAY, "upheld"))
    with NothingWritten():
        refused(
            rectification_notice(as_user("rovaniemi.staff"), ban["id"], MONDAY, "electronic"),
            "electronic_consent_required",
        )


def test_the_court_deadline_moves_off_a_weekend():
    # Received Friday 5.2.2027: the 30th day is Sunday 7.3., so the time runs to Monday 8.3.
    assert court_appeal_deadline_for(datetime.date(2027, 2, 5)) == datetime.date(2027, 3, 8)


def test_no_notice_before_a_rectification_decision_that_left_the_ban_standing(lapland_patron):
    ban = ban_through(lapland_patron.pk)
    staff = as_user("rovaniemi.staff")
    with NothingWritten():
        refused(rectification_notice(staff, ban["id"], MONDAY), "rectification_decision_required")
    ok(rectification(as_user("rovaniemi.director"), ban["id"], MONDAY))  # pending
    with NothingWritten():
        refused(rectification_notice(staff, ban["id"], MONDAY), "rectification_decision_required")


def test_no_court_appeal_before_the_rectification_decision_was_notified(lapland_patron):
    ban = ban_through(lapland_patron.pk)
    ok(rectification(as_user(SECRETARY), ban["id"], MONDAY, "upheld"))
    before = ban_row(ban["id"])
    with NothingWritten():
        refused(court_appeal(as_user("rovaniemi.director"), ban["id"], MONDAY), "rectification_notification_required")
    assert ban_row(ban["id"]) == before


def test_the_court_is_named(lapland_patron):
    ban = upheld_and_notified(lapland_patron.pk)
    with NothingWritten():
        refused(court_appeal(as_user("rovaniemi.director"), ban["id"], MONDAY, court=" "), "court_required")


def test_an_appeal_on_the_30th_day_is_in_time_on_the_31st_it_is_late(lapland_patron):
    ban = upheld_and_notified(lapland_patron.pk)
    assert ban["court_appeal_deadline"] == "2027-03-03"
    with on(datetime.date(2027, 3, 10)):
        director = as_user("rovaniemi.director")
        before = ban_row(ban["id"])
        with NothingWritten():
            # Lodged on 4.3., the 31st day: it can only be dismissed.
            refused(court_appeal(director, ban["id"], datetime.date(2027, 3, 4), "upheld"), "court_appeal_late")
            refused(court_appeal(director, ban["id"], datetime.date(2027, 3, 4), "overturned"), "court_appeal_late")
        assert ban_row(ban["id"]) == before
        # Lodged on 3.3., the 30th day: in time, the court may decide it either way.
        upheld = ok(court_appeal(director, ban["id"], datetime.date(2027, 3, 3), "upheld"))
    assert (upheld["court"], upheld["court_outcome"], upheld["court_decided_on"]) == (COURT, "upheld", "2027-03-10")


def test_a_late_appeal_can_be_dismissed(lapland_patron):
    ban = upheld_and_notified(lapland_patron.pk)
    with on(datetime.date(2027, 3, 10)):
        dismissed = ok(court_appeal(as_user("rovaniemi.director"), ban["id"], datetime.date(2027, 3, 4), "dismissed"))
    assert dismissed["court_outcome"] == "dismissed"


def test_a_ban_not_enforced_before_final_waits_for_the_court_appeal_time(lapland_patron):
    # 1.3.-30.3.2027; the board upholds it on 1.2., handed over the same day: court time to 3.3.
    ban = upheld_and_notified(
        lapland_patron.pk, starts_on=datetime.date(2027, 3, 1), length=30, enforced_before_final=False
    )
    assert status_on(datetime.date(2027, 3, 2), ban["id"]) == "notified"
    assert status_on(datetime.date(2027, 3, 3), ban["id"]) == "notified"  # the 30th day: an appeal may still come
    assert status_on(datetime.date(2027, 3, 4), ban["id"]) == "active"  # the 31st: final


def test_an_appeal_in_time_holds_the_ban_back_until_the_court_decides(lapland_patron):
    ban = upheld_and_notified(
        lapland_patron.pk, starts_on=datetime.date(2027, 3, 1), length=30, enforced_before_final=False
    )
    with on(datetime.date(2027, 3, 3)):
        ok(court_appeal(as_user("rovaniemi.director"), ban["id"], datetime.date(2027, 3, 3)))
    assert status_on(datetime.date(2027, 3, 4), ban["id"]) == "notified"
    assert status_on(datetime.date(2027, 3, 9), ban["id"]) == "notified"
    with on(datetime.date(2027, 3, 10)):
        upheld = ok(court_appeal(as_user("rovaniemi.director"), ban["id"], datetime.date(2027, 3, 3), "upheld"))
    # Final at the end of the court's decision day (Local Government Act s. 143): the 30 days start the next day.
    assert (upheld["starts_on"], upheld["ends_on"]) == ("2027-03-11", "2027-04-09")
    assert status_on(datetime.date(2027, 3, 10), ban["id"]) == "notified"
    assert status_on(datetime.date(2027, 3, 11), ban["id"]) == "active"


def test_a_late_appeal_does_not_hold_the_ban_back(lapland_patron):
    ban = upheld_and_notified(
        lapland_patron.pk, starts_on=datetime.date(2027, 3, 1), length=30, enforced_before_final=False
    )
    with on(datetime.date(2027, 3, 4)):
        ok(court_appeal(as_user("rovaniemi.director"), ban["id"], datetime.date(2027, 3, 4)))
    assert status_on(datetime.date(2027, 3, 4), ban["id"]) == "active"


def test_the_ban_is_not_final_before_the_rectification_decision_was_notified(lapland_patron):
    ban = ban_through(lapland_patron.pk, starts_on=datetime.date(2027, 3, 1), length=30, enforced_before_final=False)
    ok(rectification(as_user(SECRETARY), ban["id"], MONDAY, "upheld"))
    assert status_on(datetime.date(2027, 3, 20), ban["id"]) == "notified"


def test_overturned_by_the_court_ends_the_ban(lapland_patron):
    ban = upheld_and_notified(lapland_patron.pk)
    with on(MONDAY + days(3)):
        overturned = ok(court_appeal(as_user("rovaniemi.director"), ban["id"], MONDAY, "overturned"))
    assert (overturned["status"], overturned["ended_early_on"]) == ("overturned", "2027-02-04")
    assert Ban.objects.get(pk=ban["id"]).status == BanStatus.OVERTURNED
    with NothingWritten():
        refused(court_appeal(as_user("rovaniemi.director"), ban["id"], MONDAY, "upheld"), "ban_closed")


def test_a_decided_court_appeal_is_not_changed(lapland_patron):
    ban = upheld_and_notified(lapland_patron.pk)
    ok(court_appeal(as_user("rovaniemi.director"), ban["id"], MONDAY, "upheld"))
    with NothingWritten():
        refused(court_appeal(as_user("rovaniemi.director"), ban["id"], MONDAY, "overturned"), "court_decided")
        refused(rectification(as_user(SECRETARY), ban["id"], MONDAY, "overturned"), "rectification_notified")


@pytest.mark.parametrize("username", ["rovaniemi.staff", "rovaniemi.billing", "dpo", None])
def test_only_ban_deciders_record_a_court_appeal(lapland_patron, username):
    ban = upheld_and_notified(lapland_patron.pk)
    with NothingWritten():
        assert court_appeal(as_user(username), ban["id"], MONDAY).status_code == 403


# --- The ban page offers the stage -------------------------------------------------------------------------


def test_the_steps_after_rectification():
    day = datetime.date(2027, 2, 1)
    ban = Ban(status=BanStatus.NOTIFIED, starts_on=day, ends_on=day + days(9), appeal_outcome="upheld")
    assert next_steps(ban, day=day, **BOTH) == [Step.RECTIFICATION_NOTICE, Step.CANCEL]
    ban.rectification_notified_on = day
    assert next_steps(ban, day=day, **BOTH) == [Step.COURT_APPEAL, Step.CANCEL]
    ban.court_outcome = "upheld"
    assert next_steps(ban, day=day, **BOTH) == [Step.CANCEL]


def test_the_ban_page_shows_the_stage_and_takes_the_court_appeal(lapland_patron):
    ban = ban_through(lapland_patron.pk)
    ok(rectification(as_user(SECRETARY), ban["id"], MONDAY, "upheld"))
    staff_page = as_user("rovaniemi.staff").get(f"/bans/{ban['id']}/").content.decode()
    assert 'id="step-rectification_notice"' in staff_page
    ok(rectification_notice(as_user("rovaniemi.staff"), ban["id"], MONDAY))
    director = as_user("rovaniemi.director")
    page = director.get(f"/bans/{ban['id']}/").content.decode()
    assert 'id="court-appeal"' in page and 'id="step-court_appeal"' in page and "03.03.2027" in page
    form = {
        "court_appeal-lodged_on": "2027-02-01",
        "court_appeal-court": COURT,
        "court_appeal-outcome": "pending",
        "court_appeal-decided_on": "",
    }
    response = director.post(f"/bans/{ban['id']}/court_appeal/", form)
    assert response.status_code == 302, response.content
    stored = Ban.objects.get(pk=ban["id"])
    assert (stored.court, stored.court_outcome, stored.court_appeal_lodged_on) == (COURT, "pending", MONDAY)
