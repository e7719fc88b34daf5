"""The DPO's browser of the access log (the admin's access-event list): its filters, scope and count."""

import html
import re

import pytest
from django.utils import translation

from audit.models import AccessEvent, Action, DataCategory
from dpo.admin.access_log import CappedCountPaginator
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def newest_event() -> AccessEvent | None:
    return AccessEvent.objects.order_by("-id").first()


def test_admin_access_event_browser_filters(lapland_patron, mikkeli_patron):
    client_for("rovaniemi.staff").get(f"/patrons/{lapland_patron.pk}/")
    client_for("mikkeli.staff").get(f"/patrons/{mikkeli_patron.pk}/")
    dpo = client_for("dpo")
    page = dpo.get("/admin/audit/accessevent/", {"patron": lapland_patron.pk}).content.decode()
    assert "rovaniemi.staff" in page
    browsed = newest_event()  # browsing one patron's events is a read of their access log
    assert (browsed.action, browsed.actor_username, browsed.patron_ids) == (
        Action.ACCESS_LOG_VIEW,
        "dpo",
        [lapland_patron.pk],
    )
    by_actor = dpo.get("/admin/audit/accessevent/", {"actor": "rovaniemi.staff", "action__exact": "patron_view"})
    assert by_actor.status_code == 200 and "rovaniemi.staff" in by_actor.content.decode()
    # Another consortium's staff activity is not the Lapland DPO's to browse, nor the Lapland superuser's.
    assert "mikkeli.staff" not in dpo.get("/admin/audit/accessevent/").content.decode()
    assert "mikkeli.staff" not in client_for("admin").get("/admin/audit/accessevent/").content.decode()
    assert dpo.get(f"/admin/audit/accessevent/{newest_event().pk}/delete/").status_code == 403


def test_access_event_browser_counts_at_most_its_cap(lapland_patron, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "CAP", 3)
    client = client_for("rovaniemi.staff")
    for _ in range(5):
        client.get(f"/patrons/{lapland_patron.pk}/")
    response = client_for("dpo").get("/admin/audit/accessevent/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3


def test_the_browser_names_each_action_in_words(lapland_patron):
    """The action field has no choices (audit.models.Action): the list, its filter and the event's page
    still show the action's label, and the filter keeps its `action__exact` parameter."""
    client_for("rovaniemi.staff").get(f"/patrons/{lapland_patron.pk}/")
    event = AccessEvent.objects.filter(actor_username="rovaniemi.staff", action=Action.PATRON_VIEW).latest("id")
    dpo = client_for("dpo")
    listing = dpo.get("/admin/audit/accessevent/", {"action__exact": Action.PATRON_VIEW})
    page = dpo.get(f"/admin/audit/accessevent/{event.pk}/change/")
    with translation.override(listing["Content-Language"]):
        label, other = str(Action.PATRON_VIEW.label), str(Action.ROLE_CHANGE.label)
    text = html.unescape(listing.content.decode())
    assert text.count(label) >= 2 and other in text  # the row and the selected filter; the filter's others
    assert label in html.unescape(page.content.decode())


def test_an_events_page_names_its_data_categories_in_words_not_json(lapland_patron):
    client_for("rovaniemi.staff").get(f"/patrons/{lapland_patron.pk}/")
    event = AccessEvent.objects.filter(actor_username="rovaniemi.staff", action=Action.PATRON_VIEW).latest("id")
    page = client_for("dpo").get(f"/admin/audit/accessevent/{event.pk}/change/")
    text = html.unescape(page.content.decode())
    with translation.override(page["Content-Language"]):
        labels = [str(DataCategory(code).label) for code in event.data_categories]
    assert event.data_categories and all(label in text for label in labels)
    assert '["' not in text and f"[{lapland_patron.pk}" not in text  # no stored JSON shown
    assert re.search(rf'class="readonly">[\d, ]*\b{lapland_patron.pk}\b[\d, ]*</div>', text)
