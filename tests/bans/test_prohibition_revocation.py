"""Sweden: what came after the prosecutor's decision (lag 2021:34; förordning 2021:38 2 §).

The prosecutor's revocation and the district court's outcome are recorded; from the day of a revocation the
prohibition is no longer in force (the patron's marks, Koha's restrictions), and its record stays with its history.
"""

import datetime
import html
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from bans.guidance import prohibition_next_step_text
from bans.models import AccessProhibition
from bans.selectors import prohibitions_visible_to_staff
from koha.models import KohaRestriction
from patrons.models import Patron
from staff.models import Consortium
from tests.koha.connected import connect_to_fake
from tests.patrons.procedure import NothingWritten, as_user, last_event_id, ok, on, post, refused, write_events_for

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 3, 10)
DECIDED = datetime.date(2027, 3, 8)
STARTS = datetime.date(2027, 3, 10)
ENDS = datetime.date(2027, 9, 9)


def day(iso: str) -> datetime.date:
    return datetime.date.fromisoformat(iso)


@pytest.fixture
def patron(eslov_patron) -> Patron:
    eslov_patron.date_of_birth = datetime.date(1980, 5, 17)
    eslov_patron.save(update_fields=["date_of_birth"])
    return eslov_patron


def record(patron_id: int, *, starts_on: datetime.date = STARTS, ends_on: datetime.date = ENDS, **changes) -> dict:
    body = {
        "library": "ESL",
        "applied_on": "2027-02-15",
        "application_reference": "KS 2027/41",
        "prosecutor_reference": "AM-12345-27",
        "decided_on": DECIDED.isoformat(),
        "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat(),
        **changes,
    }
    return ok(post(as_user("eslov.staff"), f"/api/v1/patrons/{patron_id}/access-prohibitions/", body), 201)


def revoke(prohibition_id: int, revoked_on: datetime.date, reference: str = "AM-12345-27 hävning", language=None):
    headers = {"accept-language": language} if language else {}
    return as_user("eslov.staff").post(
        f"/api/v1/access-prohibitions/{prohibition_id}/revocation/",
        {"revoked_on": revoked_on.isoformat(), "reference": reference},
        content_type="application/json",
        headers=headers,
    )


def court(prohibition_id: int, outcome: str, decided_on: datetime.date, new_ends_on: datetime.date | None = None):
    body = {"court": "Lunds tingsrätt", "reference": "B 123-27", "outcome": outcome}
    body["decided_on"] = decided_on.isoformat()
    if new_ends_on is not None:
        body["new_ends_on"] = new_ends_on.isoformat()
    return post(as_user("eslov.staff"), f"/api/v1/access-prohibitions/{prohibition_id}/court/", body)


def active(patron_id: int) -> list[int]:
    return [item["id"] for item in ok(as_user("eslov.staff").get(f"/api/v1/patrons/{patron_id}/"))["active_bans"]]


def test_revoked_today_is_not_in_force_today_and_the_record_stays(patron):
    with on(TODAY):
        recorded = record(patron.pk)
        assert active(patron.pk) == [recorded["id"]]
        before = last_event_id()
        revoked = ok(revoke(recorded["id"], TODAY))
        assert (revoked["revoked_on"], revoked["revocation_reference"]) == ("2027-03-10", "AM-12345-27 hävning")
        assert active(patron.pk) == []
        assert [event.detail for event in write_events_for(patron.pk, before)] == ["prohibition_revoked"]
    stored = AccessProhibition.objects.get(pk=recorded["id"])
    assert (stored.ends_on, stored.revocation_recorded_by) == (ENDS, "eslov.staff")


def test_the_in_force_boundary_of_a_revocation(patron):
    with on(TODAY):
        recorded = record(patron.pk)
    with on(day("2027-04-02")):
        ok(revoke(recorded["id"], day("2027-04-02")))
    in_force = prohibitions_visible_to_staff
    assert list(in_force(day("2027-04-01")).values_list("pk", flat=True)) == [recorded["id"]]  # the day before
    assert not in_force(day("2027-04-02")).exists()  # the day of the revocation
    assert not in_force(day("2027-04-03")).exists()
    with on(day("2027-04-01")):
        assert active(patron.pk) == [recorded["id"]]  # revoked tomorrow: in force today


def test_a_revocation_is_dated_from_the_decision_up_to_the_last_day_and_not_in_the_future(patron):
    with on(TODAY):
        recorded = record(patron.pk, starts_on=day("2027-04-01"), ends_on=day("2027-04-30"))
        with NothingWritten():
            refused(revoke(recorded["id"], day("2027-03-07")), "revoked_before_decision")  # the day before the decision
            refused(revoke(recorded["id"], day("2027-03-11")), "decided_in_future")
    with on(day("2027-05-01")):
        with NothingWritten():
            refused(revoke(recorded["id"], day("2027-05-01")), "revoked_after_end")  # the day after the last
        ok(revoke(recorded["id"], day("2027-04-30")))  # the last day itself: not in force on it


def test_a_revocation_before_the_start_means_it_is_never_in_force(patron):
    with on(TODAY):
        recorded = record(patron.pk, starts_on=day("2027-04-01"), ends_on=day("2027-04-30"))
        ok(revoke(recorded["id"], DECIDED))  # revoked on the day it was decided
    assert not prohibitions_visible_to_staff(day("2027-04-01")).exists()
    assert AccessProhibition.objects.get(pk=recorded["id"]).last_day == day("2027-03-07")


def test_a_second_revocation_and_a_missing_reference_are_refused(patron):
    with on(TODAY):
        recorded = record(patron.pk)
        with NothingWritten():
            refused(revoke(recorded["id"], TODAY, reference=" "), "revocation_reference_required")
        ok(revoke(recorded["id"], TODAY))
        with NothingWritten():
            refused(revoke(recorded["id"], TODAY), "already_revoked")


def test_the_refusal_is_in_swedish(patron):
    with on(TODAY):
        recorded = record(patron.pk, starts_on=TODAY, ends_on=TODAY)
    with on(day("2027-03-12")):
        body = refused(revoke(recorded["id"], day("2027-03-11"), language="sv"), "revoked_after_end")
    assert "upphörde" in body["detail"]


def test_a_new_prohibition_may_start_on_the_day_the_earlier_one_was_revoked_from(patron):
    with on(TODAY):
        first = record(patron.pk)
        ok(revoke(first["id"], TODAY))
        with NothingWritten():
            response = post(
                as_user("eslov.staff"),
                f"/api/v1/patrons/{patron.pk}/access-prohibitions/",
                {
                    "library": "ESL",
                    "applied_on": "2027-02-15",
                    "application_reference": "KS 2",
                    "prosecutor_reference": "AM-2",
                    "decided_on": "2027-03-08",
                    "starts_on": "2027-03-09",
                    "ends_on": "2027-06-01",
                },
            )
            refused(response, "overlapping_prohibition")  # the earlier one was in force on 9.3.
        assert record(patron.pk, prosecutor_reference="AM-2", starts_on=TODAY)["starts_on"] == "2027-03-10"


def test_the_court_upholds(patron):
    with on(TODAY):
        recorded = record(patron.pk)
        upheld = ok(court(recorded["id"], "upheld", TODAY))
        assert (upheld["court_outcome"], upheld["court"], upheld["revoked_on"]) == ("upheld", "Lunds tingsrätt", None)
        assert active(patron.pk) == [recorded["id"]]
        with NothingWritten():
            refused(court(recorded["id"], "revoked", TODAY), "court_outcome_recorded")


def test_the_court_revokes_from_its_decision_day(patron):
    with on(TODAY):
        recorded = record(patron.pk)
    with on(day("2027-04-02")):
        ok(court(recorded["id"], "revoked", day("2027-04-02")))
        assert active(patron.pk) == []
    assert prohibitions_visible_to_staff(day("2027-04-01")).exists()


def test_the_court_changes_the_end_date_and_the_prosecutors_is_kept(patron):
    with on(TODAY):
        recorded = record(patron.pk)
        with NothingWritten():
            refused(court(recorded["id"], "changed", TODAY), "new_end_date")
            refused(court(recorded["id"], "upheld", TODAY, new_ends_on=day("2027-04-30")), "new_end_date")
            refused(court(recorded["id"], "changed", TODAY, new_ends_on=day("2027-03-09")), "dates_in_order")
        changed = ok(court(recorded["id"], "changed", TODAY, new_ends_on=day("2027-04-30")))
        assert (changed["ends_on"], changed["decided_ends_on"]) == ("2027-04-30", "2027-09-09")
    assert prohibitions_visible_to_staff(day("2027-04-30")).exists()  # the new last day
    assert not prohibitions_visible_to_staff(day("2027-05-01")).exists()


def test_a_court_change_to_a_year_or_more_is_recorded_with_a_warning(patron):
    with on(TODAY):
        recorded = record(patron.pk)
        changed = ok(court(recorded["id"], "changed", TODAY, new_ends_on=day("2028-03-10")))
    assert [warning["code"] for warning in changed["warnings"]] == ["longer_than_one_year"]


def test_another_consortiums_prohibition_is_not_found(patron):
    with on(TODAY):
        recorded = record(patron.pk)
        with NothingWritten():
            response = as_user("rovaniemi.staff").post(
                f"/api/v1/access-prohibitions/{recorded['id']}/revocation/",
                {"revoked_on": TODAY.isoformat(), "reference": "x"},
                content_type="application/json",
            )
            assert response.status_code == 404


def test_the_revocation_goes_to_koha_once_it_commits(patron, fake_koha, django_capture_on_commit_callbacks):
    """bans.changes fires: the Koha push that follows the commit removes the restriction."""
    connect_to_fake(Consortium.objects.get(slug="eslovs-bibliotek"), fake_koha)
    koha_patron = fake_koha.add_patron(surname="Kohala", library_id="ESL")
    Patron.objects.filter(pk=patron.pk).update(koha_patron_id=koha_patron["patron_id"])
    with on(TODAY):
        with django_capture_on_commit_callbacks(execute=True):
            recorded = record(patron.pk)
        ref = f"prohibition-{recorded['id']}"
        assert ref in fake_koha.restrictions
        with django_capture_on_commit_callbacks(execute=True):
            ok(revoke(recorded["id"], TODAY))
    assert ref not in fake_koha.restrictions
    assert not KohaRestriction.objects.filter(ref=ref).exists()


def test_the_pages_record_a_revocation(patron):
    with on(TODAY):
        recorded = record(patron.pk)
        staff = as_user("eslov.staff")
        page = staff.get(f"/bans/prohibitions/{recorded['id']}/")
        assert page.status_code == 200 and 'name="revocation-revoked_on"' in page.content.decode()
        with NothingWritten():
            bad = staff.post(
                f"/bans/prohibitions/{recorded['id']}/revocation/",
                {"revocation-revoked_on": "2027-03-07", "revocation-reference": "AM hävning"},
            )
        assert bad.status_code == 400
        done = staff.post(
            f"/bans/prohibitions/{recorded['id']}/revocation/",
            {"revocation-revoked_on": "2027-03-10", "revocation-reference": "AM hävning"},
        )
        assert done.status_code == 302
        # Revoked: gone from the staff views, the page too.
        assert staff.get(f"/bans/prohibitions/{recorded['id']}/").status_code == 404
    assert AccessProhibition.objects.get(pk=recorded["id"]).revoked_on == TODAY


def test_a_revoked_prohibition_is_archived_from_its_last_day_in_force(patron, settings):
    with on(TODAY):
        recorded = record(patron.pk)
        ok(revoke(recorded["id"], TODAY))
    with on(day("2027-03-11")):
        call_command("archive_bans")
    stored = AccessProhibition.objects.get(pk=recorded["id"])
    assert stored.archived_at is not None
    assert stored.retain_until == day("2027-03-09").replace(year=2027 + settings.BAN_DECISION_RETENTION_YEARS)


def next_step(prohibition_id: int, language: str = "en") -> str:
    staff = as_user("eslov.staff")
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = staff.get(f"/bans/prohibitions/{prohibition_id}/")
    assert page.status_code == 200
    found = re.search(r'id="next-step"><strong>(.*?)</strong>', page.content.decode())
    assert found, "the page says what comes next"
    return html.unescape(found.group(1))


def test_each_prohibition_page_says_what_comes_next_and_who_does_it(patron):
    """The prosecutor and the court decide; the prohibition starts and ends by itself; the library's staff record
    what arrives (the forms the page offers), named in Sweden's words, not as Finland's ban preparers."""
    with on(day("2027-03-09")):
        recorded = record(patron.pk)
        assert next_step(recorded["id"]).startswith("Next: nothing: the access prohibition starts on ")
        assert next_step(recorded["id"]).endswith(
            "by itself; a revocation by the prosecutor or the court's outcome on a review that arrives is recorded, "
            "by the library staff who record access prohibitions."
        )
        assert next_step(recorded["id"], "sv").startswith("Nästa steg: ")
        # Sweden's staff record tillträdesförbud; "användningsförbud" is Finnish law's library-use ban.
        assert "tillträdesförbud" in next_step(recorded["id"], "sv").split("Görs av:")[-1]
        assert "användningsförbud" not in next_step(recorded["id"], "sv")
    with on(TODAY):
        assert next_step(recorded["id"]).startswith("Next: nothing: the access prohibition ends after ")
        AccessProhibition.objects.filter(pk=recorded["id"]).update(court_outcome="upheld")
        assert "; a revocation by the prosecutor that arrives is recorded, by" in next_step(recorded["id"])
        prohibition = AccessProhibition.objects.get(pk=recorded["id"])
        prohibition.revoked_on = day("2027-04-01")
        with translation.override("en"):
            assert prohibition_next_step_text(prohibition).startswith("Next: nothing: the access prohibition ends")
            assert prohibition_next_step_text(prohibition).endswith("by itself.")  # nothing more can arrive
    with on(ENDS + datetime.timedelta(days=1)), translation.override("en"):
        ended = AccessProhibition.objects.get(pk=recorded["id"])
        assert prohibition_next_step_text(ended) == "Nothing more: the procedure is over."
