"""The desk's ban pages (issue 15): a ban in force cannot be missed on the patron's page, the proposal form shows
the notes it may cite (or says why there is no form), and every step's page says what comes next and who does it."""

import datetime
import re
from typing import cast

import pytest
from django.utils import timezone

from audit.models import AccessEvent, Action, DataCategory
from bans.models import Ban, BanStatus
from patrons.models import Patron
from staff.models import Library
from tests.conftest import client_for
from tests.factories import PatronFactory
from tests.patrons.procedure import disturbance_notes, propose, today_is, write_note

pytestmark = pytest.mark.django_db

LONG_TEXT = (
    "Huusi lukusalissa ja heitteli kirjoja hyllyistä lattialle; pyydettiin poistumaan, ei poistunut heti vaan " * 2
)


@pytest.fixture
def patron() -> Patron:
    return cast(Patron, PatronFactory(home_library=Library.objects.get(koha_library_id="ROV")))


def english(username: str):
    client = client_for(username)
    client.cookies["django_language"] = "en"
    return client


def test_a_ban_in_force_is_an_alert_at_the_top_of_the_patron_page(patron):
    starts_on = timezone.localdate() - datetime.timedelta(days=2)
    Ban.objects.create(
        patron=patron,
        library=Library.objects.get(koha_library_id="ROV"),
        grounds=["repeated_substantial_disturbance"],
        starts_on=starts_on,
        ends_on=starts_on + datetime.timedelta(days=9),
        status=BanStatus.NOTIFIED,
        decision_number="ROV-1",
        decided_on=starts_on,
        proposed_at=timezone.now(),
        proposed_by="rovaniemi.staff",
    )
    html = english("rovaniemi.staff").get(f"/patrons/{patron.pk}/").content.decode()
    alert = re.search(r'<article class="ban-alert[^"]*" role="alert">(.*?)</article>', html, re.S)
    assert alert, "no alert"
    assert "Library-use ban in force" in alert.group(1) and "ROV-1" in alert.group(1)
    ends_on = starts_on + datetime.timedelta(days=9)
    assert f"{starts_on.day} {starts_on:%b %Y}" in alert.group(1)  # English: 1 Dec 2026
    assert f"{ends_on.day} {ends_on:%b %Y}" in alert.group(1)
    assert html.index("ban-alert") < html.index("Basic details")  # at the top, before the details
    assert "css/ban_alert.css" in html


def test_no_alert_without_a_ban_in_force(patron):
    html = english("rovaniemi.staff").get(f"/patrons/{patron.pk}/").content.decode()
    assert "ban-alert" not in html


def test_the_proposal_form_is_hidden_with_the_reason_when_there_are_no_behaviour_notes(patron):
    director = english("rovaniemi.director")
    write_note(director, patron.pk, text="Kysyi kaukolainoista.", category="general")
    html = director.get(f"/patrons/{patron.pk}/bans/new/").content.decode()
    assert "has no behaviour notes" in html and 'id="no-behaviour-notes"' in html
    assert '<form method="post" novalidate>' not in html  # the proposal form


def test_the_proposal_form_lists_the_citable_notes_with_date_library_and_excerpt_and_logs_the_read(patron):
    director = english("rovaniemi.director")
    note_id = write_note(director, patron.pk, text=LONG_TEXT, incident_on=today_is() - datetime.timedelta(days=3))
    removed = write_note(director, patron.pk, text="Poistettava merkintä.")
    director.post(f"/patrons/{patron.pk}/notes/{removed}/remove/", {"reason": "Väärä asiakas."})
    before = AccessEvent.objects.order_by("-id").first().pk
    html = director.get(f"/patrons/{patron.pk}/bans/new/").content.decode()
    day = today_is() - datetime.timedelta(days=3)
    label = re.search(rf'value="{note_id}"[^>]*>\s*([^<]+)', html).group(1)
    assert label.startswith(f"{day.day} {day:%b %Y} ")  # English: 1 Dec 2026
    assert (
        "Rovaniemen pääkirjasto" in label
        and LONG_TEXT[:60] in label.replace("&#x27;", "'")
        and LONG_TEXT[:100] not in label
    )
    assert "Poistettava" not in html  # a removed note is not cited
    reads = AccessEvent.objects.filter(pk__gt=before, action=Action.SENSITIVE_READ)
    assert [(e.patron_ids, e.data_categories) for e in reads] == [([patron.pk], [DataCategory.SENSITIVE_NOTE])]


def test_every_step_page_says_what_comes_next_and_who_does_it(patron):
    director = english("rovaniemi.director")
    proposed = propose(director, patron.pk, disturbance_notes(director, patron.pk), today_is())
    ban_id = proposed.json()["id"]
    html = director.get(f"/bans/{ban_id}/").content.decode()
    assert re.search(r'id="next-step"><strong>Next: hear the patron.*by the library staff who prepare bans', html)
    Ban.objects.filter(pk=ban_id).update(status=BanStatus.HEARD)
    html = director.get(f"/bans/{ban_id}/").content.decode()
    assert "Next: the decision, by a ban decider with competence for the libraries of Rovaniemi." in html
    Ban.objects.filter(pk=ban_id).update(status=BanStatus.CANCELLED)
    assert "Nothing more: the procedure is over." in director.get(f"/bans/{ban_id}/").content.decode()
