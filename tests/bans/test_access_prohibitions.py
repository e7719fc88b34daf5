"""Sweden: a library records the prosecutor's access prohibition (tillträdesförbud); it cannot ban.

The library records what the prosecutor decided (lag 2021:34): a year or more is recorded with a warning; a
start before the decision day, an end before the start and an overlap at the same library are refused; the
person is at least 15 on the day of the decision; the library's own application is recorded.
"""

import datetime

import pytest

from bans.models import AccessProhibition
from patrons.models import Patron
from tests.patrons.procedure import (
    NothingWritten,
    as_user,
    last_event_id,
    ok,
    on,
    post,
    refused,
    write_events_for,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 3, 10)


@pytest.fixture(autouse=True)
def today():
    with on(TODAY):
        yield TODAY


@pytest.fixture
def eslov(today):
    return as_user("eslov.staff")


@pytest.fixture
def patron(eslov_patron) -> Patron:
    """An adult of the Eslöv consortium."""
    eslov_patron.date_of_birth = datetime.date(1980, 5, 17)
    eslov_patron.save(update_fields=["date_of_birth"])
    return eslov_patron


def prohibition(**changes) -> dict:
    return {
        "library": "ESL",
        "applied_on": "2027-02-15",
        "application_reference": "KS 2027/41",
        "prosecutor_reference": "AM-12345-27",
        "decided_on": "2027-03-08",
        "starts_on": "2027-03-10",
        "ends_on": "2027-09-09",
        **changes,
    }


def record(client, patron_id: int, **changes):
    return post(client, f"/api/v1/patrons/{patron_id}/access-prohibitions/", prohibition(**changes))


def born(patron: Patron, day: str) -> Patron:
    patron.date_of_birth = datetime.date.fromisoformat(day)
    patron.save(update_fields=["date_of_birth"])
    return patron


def test_a_prosecutors_decision_is_recorded(eslov, patron):
    before = last_event_id()
    recorded = ok(record(eslov, patron.pk), 201)
    stored = AccessProhibition.objects.get(pk=recorded["id"])
    assert (stored.patron, stored.library.koha_library_id, stored.recorded_by) == (patron, "ESL", "eslov.staff")
    assert recorded["prosecutor_reference"] == "AM-12345-27" and recorded["application_reference"] == "KS 2027/41"
    assert [event.detail for event in write_events_for(patron.pk, before)] == ["prohibition_recorded"]


def test_the_prohibition_in_force_is_in_the_patron_json(eslov, patron):
    recorded = ok(record(eslov, patron.pk), 201)
    active = ok(eslov.get(f"/api/v1/patrons/{patron.pk}/"))["active_bans"]
    assert active == [
        {
            "id": recorded["id"],
            "kind": "access_prohibition",
            "library": "ESL",
            "starts_on": "2027-03-10",
            "ends_on": "2027-09-09",
        }
    ]
    with on(datetime.date(2027, 9, 10)):
        assert ok(as_user("eslov.staff").get(f"/api/v1/patrons/{patron.pk}/"))["active_bans"] == []


def test_a_prohibition_starting_later_is_not_yet_in_force(eslov, patron):
    ok(record(eslov, patron.pk, starts_on="2027-04-01"), 201)
    assert ok(eslov.get(f"/api/v1/patrons/{patron.pk}/"))["active_bans"] == []


def test_a_year_or_more_is_recorded_with_a_warning(eslov, patron):
    """The prosecutor decides the length (lag 2021:34: at most a year at a time); the library records it and warns."""
    assert ok(record(eslov, patron.pk, ends_on="2028-03-09"), 201)["warnings"] == []  # the day before the anniversary
    before = last_event_id()
    recorded = ok(record(eslov, patron.pk, library="ESLMA", ends_on="2028-03-10"), 201)  # on the anniversary
    assert [warning["code"] for warning in recorded["warnings"]] == ["longer_than_one_year"]
    assert "10.03.2028" in recorded["warnings"][0]["detail"]
    assert AccessProhibition.objects.get(pk=recorded["id"]).ends_on == datetime.date(2028, 3, 10)
    assert [event.detail for event in write_events_for(patron.pk, before)] == [
        "prohibition_recorded:longer_than_one_year"
    ]


def test_the_warning_is_in_swedish(eslov, patron):
    response = eslov.post(
        f"/api/v1/patrons/{patron.pk}/access-prohibitions/",
        prohibition(ends_on="2028-03-11"),
        content_type="application/json",
        headers={"accept-language": "sv"},
    )
    assert "högst ett år i taget" in ok(response, 201)["warnings"][0]["detail"]


def test_a_start_before_the_decision_day_is_refused(eslov, patron):
    # Decided on 8.3.2027.
    with NothingWritten():
        refused(record(eslov, patron.pk, starts_on="2027-03-07"), "starts_before_decision")
    assert ok(record(eslov, patron.pk, starts_on="2027-03-08"), 201)["starts_on"] == "2027-03-08"


def test_an_end_before_the_start_is_refused(eslov, patron):
    with NothingWritten():
        refused(record(eslov, patron.pk, ends_on="2027-03-09"), "dates_in_order")
    assert ok(record(eslov, patron.pk, ends_on="2027-03-10"), 201)["ends_on"] == "2027-03-10"  # a one-day prohibition


def test_an_overlap_at_the_same_library_is_refused_an_adjacent_prolongation_is_not(eslov, patron):
    ok(record(eslov, patron.pk), 201)  # 10.3.-9.9.2027
    with NothingWritten():
        refused(
            record(eslov, patron.pk, prosecutor_reference="AM-2", starts_on="2027-09-09", ends_on="2028-03-08"),
            "overlapping_prohibition",
        )
    prolonged = record(eslov, patron.pk, prosecutor_reference="AM-2", starts_on="2027-09-10", ends_on="2028-03-09")
    assert ok(prolonged, 201)["starts_on"] == "2027-09-10"
    # Another library of the same patron is another prohibition.
    ok(record(eslov, patron.pk, library="ESLMA"), 201)


def test_the_form_shows_the_warning_and_records_once_confirmed(eslov, patron):
    url = f"/patrons/{patron.pk}/access-prohibitions/new/"
    form = {**prohibition(ends_on="2028-03-10"), "library": "ESL"}
    with NothingWritten():
        response = eslov.post(url, form)
    assert response.status_code == 200
    assert "2028-03-10" in response.content.decode()  # Eslöv: Sweden writes dates Y-m-d
    response = eslov.post(url, {**form, "confirm_warnings": "on"})
    assert response.status_code == 302
    assert AccessProhibition.objects.get(patron=patron).ends_on == datetime.date(2028, 3, 10)


def test_the_form_refuses_a_start_before_the_decision(eslov, patron):
    url = f"/patrons/{patron.pk}/access-prohibitions/new/"
    with NothingWritten():
        response = eslov.post(url, {**prohibition(starts_on="2027-03-07"), "confirm_warnings": "on"})
    assert response.status_code == 400
    assert not AccessProhibition.objects.filter(patron=patron).exists()


def test_under_15(eslov, patron):
    # The prosecutor decided on 8.3.2027: a patron born 9.3.2012 was still 14, one born 8.3.2012 had turned 15.
    born(patron, "2012-03-09")
    with NothingWritten():
        refused(record(eslov, patron.pk), "under_15")
    born(patron, "2012-03-08")
    ok(record(eslov, patron.pk), 201)


def test_under_15_when_the_age_is_unknown(eslov, patron):
    patron.date_of_birth = None
    patron.save(update_fields=["date_of_birth"])
    with NothingWritten():
        refused(record(eslov, patron.pk), "under_15")


def test_application_required(eslov, patron):
    with NothingWritten():
        response = record(eslov, patron.pk, application_reference=" ")
        assert response.status_code == 400
    refused(response, "application_required")


def test_decided_before_application(eslov, patron):
    with NothingWritten():
        refused(record(eslov, patron.pk, applied_on="2027-03-09"), "decided_before_application")
    ok(record(eslov, patron.pk, applied_on="2027-03-08"), 201)  # decided the day the library applied


def test_library_unknown(eslov, patron):
    with NothingWritten():
        refused(record(eslov, patron.pk, library="ROV"), "library_unknown")
    assert ok(record(eslov, patron.pk, library="ESLMA"), 201)["library"] == "ESLMA"


def test_finnish_consortium(lapland_patron):
    with NothingWritten():
        refused(record(as_user("rovaniemi.staff"), lapland_patron.pk, library="ROV"), "finnish_consortium")


@pytest.mark.parametrize(("username", "status"), [(None, 403), ("dpo", 403), ("rovaniemi.staff", 404)])
def test_others_may_not_record(username, status, patron):
    with NothingWritten():
        assert record(as_user(username), patron.pk).status_code == status
