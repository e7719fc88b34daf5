"""Every write of the ban procedure is processing of the patron's data: it is in the patron's access log,
and no event holds a note's text, the patron's name or what was said and decided."""

import datetime

import pytest

from audit.models import AccessEvent, Action, DataCategory
from patrons.models import Guardianship
from tests.patrons.procedure import (
    MONDAY,
    as_user,
    days,
    decide,
    hear,
    last_event_id,
    notify,
    ok,
    on,
    post,
    propose,
    write_events_for,
    write_note,
)

pytestmark = pytest.mark.django_db

NOTE = "Kaatoi kahvit lehtilukusalin tietokoneelle tahallaan."
STATEMENT = "Potilas kertoi olleensa väsynyt."
REASONS = "Toistuva häiriköinti varoituksista huolimatta."


def free_text(event: AccessEvent) -> str:
    return " ".join((event.reason, event.detail, event.resource)).lower()


def test_each_step_is_a_patron_update_in_the_patrons_log(lapland_patron):
    patron = lapland_patron
    with on(MONDAY):
        before = last_event_id()
        staff, director = as_user("rovaniemi.staff"), as_user("rovaniemi.director")
        note_id = write_note(staff, patron.pk, NOTE)
        ban = ok(propose(staff, patron.pk, [note_id], MONDAY, length=20), 201)
        ok(hear(staff, ban["id"], MONDAY, "phone", statement=STATEMENT))
        ok(decide(director, ban["id"], MONDAY, MONDAY + days(19), reasons=REASONS))
        ok(notify(staff, ban["id"], MONDAY, "letter"))
        ok(post(director, f"/api/v1/bans/{ban['id']}/appeal/", {"lodged_on": "2027-02-01"}))
        ok(post(director, f"/api/v1/bans/{ban['id']}/cancel/", {"reason": "Sovittu asiakkaan kanssa."}))
    writes = write_events_for(patron.pk, before)
    assert [(event.detail, event.actor_username) for event in writes] == [
        ("note_added", "rovaniemi.staff"),
        ("ban_proposed", "rovaniemi.staff"),
        ("ban_hearing", "rovaniemi.staff"),
        ("ban_decided", "rovaniemi.director"),
        ("ban_notified", "rovaniemi.staff"),
        ("ban_appeal", "rovaniemi.director"),
        ("ban_cancelled", "rovaniemi.director"),
    ]
    assert all(event.action == Action.PATRON_UPDATE for event in writes)
    # Hearing and notifying the 12-year-old's guardians processes their data too: those events name them.
    guardians = sorted(Guardianship.objects.filter(ward=patron).values_list("guardian_id", flat=True))
    assert len(guardians) == 2
    assert [sorted(event.patron_ids) for event in writes] == [
        [patron.pk],
        [patron.pk],
        sorted([patron.pk, *guardians]),
        [patron.pk],
        sorted([patron.pk, *guardians]),
        [patron.pk],
        [patron.pk],
    ]
    assert all(DataCategory.BANS in event.data_categories for event in writes[1:])
    everything = [free_text(event) for event in AccessEvent.objects.filter(id__gt=before)]
    for secret in (NOTE, "kahvit", STATEMENT, REASONS, "sovittu", patron.first_name, patron.last_name):
        assert not any(secret.lower() in text for text in everything), secret


def test_a_recorded_prohibition_is_in_the_patrons_log(eslov_patron):
    eslov_patron.date_of_birth = datetime.date(1980, 1, 1)
    eslov_patron.save(update_fields=["date_of_birth"])
    with on(MONDAY):
        before = last_event_id()
        body = {
            "library": "ESL",
            "applied_on": "2027-01-11",
            "application_reference": "KS 2027/3",
            "prosecutor_reference": "AM-777-27",
            "decided_on": "2027-01-29",
            "starts_on": "2027-02-01",
            "ends_on": "2027-07-31",
        }
        ok(post(as_user("eslov.staff"), f"/api/v1/patrons/{eslov_patron.pk}/access-prohibitions/", body), 201)
    writes = write_events_for(eslov_patron.pk, before)
    assert [(event.detail, event.data_categories) for event in writes] == [("prohibition_recorded", ["bans"])]
    for text in map(free_text, AccessEvent.objects.filter(id__gt=before)):
        assert eslov_patron.last_name.lower() not in text and "am-777" not in text
