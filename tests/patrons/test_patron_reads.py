"""Searching and viewing patrons, in pages and the API, and what each read leaves in the access log."""

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext

from audit.models import AccessEvent, Action, DataCategory, Outcome
from patrons.models import Guardianship, Patron
from staff.models import Consortium, StaffProfile
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
UNSIGNED = "You have not signed the confidentiality agreement, so patron data is not shown to you yet."


def newest_event() -> AccessEvent | None:
    return AccessEvent.objects.order_by("-id").first()


def test_api_list_is_paginated_and_an_empty_search_lists_the_consortium():
    client = client_for("rovaniemi.staff")
    lapland = Patron.objects.filter(consortium__slug="lapin-kirjastot")
    first = client.get("/api/v1/patrons/").json()
    assert set(first) == {"count", "count_exact", "next", "previous", "results"}
    assert first["count"] == lapland.count()
    assert len(first["results"]) == 25
    assert first["previous"] is None
    assert set(first["results"][0]) >= {"id", "cardnumber", "first_name", "last_name"}
    second = client.get(first["next"]).json()
    assert second["previous"].endswith("/api/v1/patrons/")
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_search_matches_name_starts_and_card_numbers(lapland_patron):
    client = client_for("rovaniemi.staff")
    by_name = client.get("/api/v1/patrons/", {"search": f"{lapland_patron.last_name[:3]} {lapland_patron.first_name}"})
    assert lapland_patron.pk in {row["id"] for row in by_name.json()["results"]}
    prefix = lapland_patron.last_name[:3].lower()
    for row in by_name.json()["results"]:
        assert row["last_name"].lower().startswith(prefix) or row["first_name"].lower().startswith(prefix)
    by_card = client.get("/api/v1/patrons/", {"search": lapland_patron.cardnumber}).json()
    assert [row["id"] for row in by_card["results"]] == [lapland_patron.pk]
    assert client.get("/api/v1/patrons/", {"search": "Zzyzx"}).json()["count"] == 0


def test_search_logs_exactly_the_listed_patrons_and_not_the_search_text(lapland_patron):
    body = client_for("rovaniemi.staff").get("/api/v1/patrons/", {"search": lapland_patron.last_name}).json()
    event = newest_event()
    assert event.action == Action.PATRON_SEARCH
    assert event.patron_ids == sorted(row["id"] for row in body["results"])
    assert event.data_categories == [DataCategory.LISTING]
    assert lapland_patron.last_name not in repr(AccessEvent.objects.filter(pk=event.pk).values().get())


def test_api_detail_has_the_contracted_fields(lapland_patron):
    body = client_for("kemi.staff").get(f"/api/v1/patrons/{lapland_patron.pk}/").json()
    assert body["id"] == lapland_patron.pk
    assert body["cardnumber"] == lapland_patron.cardnumber
    assert body["date_of_birth"] == lapland_patron.date_of_birth.isoformat()
    assert body["home_library"] == lapland_patron.home_library.koha_library_id
    guardian_ids = set(Guardianship.objects.filter(ward=lapland_patron).values_list("guardian_id", flat=True))
    assert guardian_ids and {g["guardian_id"] for g in body["guardians"]} == guardian_ids
    assert "identity_code" not in body and "hetu" not in str(body).lower()
    event = newest_event()
    assert (event.action, event.actor_username) == (Action.PATRON_VIEW, "kemi.staff")
    # The guardians are named on the record, so their data was processed too.
    assert event.patron_ids == sorted({lapland_patron.pk} | guardian_ids)


def test_detail_page_shows_the_patron_and_logs_the_view(lapland_patron):
    response = client_for("rovaniemi.staff").get(f"/patrons/{lapland_patron.pk}/")
    page = response.content.decode()
    assert lapland_patron.cardnumber in page and lapland_patron.last_name in page
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    assert lapland_patron.pk in newest_event().patron_ids
    guardian = Guardianship.objects.filter(ward=lapland_patron).first().guardian
    client_for("rovaniemi.staff").get(f"/patrons/{guardian.pk}/")
    assert lapland_patron.pk in newest_event().patron_ids  # named on the guardian's page as a ward


def test_htmx_search_returns_only_the_results_fragment(lapland_patron):
    client = client_for("rovaniemi.staff")
    fragment = client.post("/patrons/", {"q": lapland_patron.cardnumber}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and f"/patrons/{lapland_patron.pk}/" in fragment
    full = client.post("/patrons/", {"q": lapland_patron.cardnumber}, follow=True).content.decode()
    assert "<html" in full and f"/patrons/{lapland_patron.pk}/" in full


def test_an_empty_search_page_lists_nobody_and_logs_nothing():
    before = AccessEvent.objects.count()
    assert client_for("rovaniemi.staff").get("/patrons/").status_code == 200
    assert AccessEvent.objects.count() == before


def test_no_patron_data_before_the_confidentiality_agreement(lapland_patron):
    StaffProfile.objects.filter(user__username="rovaniemi.staff").update(confidentiality_signed_on=None)
    client = client_for("rovaniemi.staff")
    page = client.get(f"/patrons/{lapland_patron.pk}/")
    assert page.status_code == 403
    assert lapland_patron.last_name not in page.content.decode()
    api = client.get("/api/v1/patrons/")
    assert api.status_code == 403
    with translation.override("fi"):
        assert api.json()["detail"] == gettext(UNSIGNED)
    refusals = AccessEvent.objects.filter(actor_username="rovaniemi.staff").order_by("-id")[:2]
    assert [(e.outcome, e.detail, e.patron_ids) for e in refusals] == [
        (Outcome.DENIED, "confidentiality_not_signed", []),
    ] * 2


def test_a_role_refusal_is_logged_without_patron_data(lapland_patron):
    assert client_for("dpo").get(f"/patrons/{lapland_patron.pk}/").status_code == 403
    event = newest_event()
    assert (event.actor_username, event.outcome, event.detail, event.patron_ids) == (
        "dpo",
        Outcome.DENIED,
        "role",
        [],
    )


def test_dpo_reads_a_patrons_access_log_newest_first_and_that_read_is_logged(lapland_patron):
    client_for("rovaniemi.staff").get(f"/patrons/{lapland_patron.pk}/")
    client_for("kemi.staff").get(f"/api/v1/patrons/{lapland_patron.pk}/")
    events = client_for("dpo").get(f"/api/v1/patrons/{lapland_patron.pk}/access-events/").json()
    assert [e["actor"] for e in events[:2]] == ["kemi.staff", "rovaniemi.staff"]
    assert set(events[0]) >= {"at", "action", "actor", "outcome"}
    assert all(e["outcome"] == Outcome.ALLOWED for e in events)
    logged = newest_event()
    assert (logged.action, logged.actor_username, logged.patron_ids) == (
        Action.ACCESS_LOG_VIEW,
        "dpo",
        [lapland_patron.pk],
    )


def test_patrons_are_not_in_the_admin():
    assert client_for("admin").get("/admin/patrons/patron/").status_code == 404


def test_health_check_needs_no_login():
    assert client_for(None).get("/healthz").json() == {"status": "ok"}


def test_api_docs_are_served_from_local_assets():
    page = client_for(None).get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn" not in page.lower()
    schema = client_for(None).get("/api/schema/").content.decode()
    assert "/api/v1/patrons/{patron_id}/access-events/" in schema


def test_seed_demo_is_idempotent():
    counts = (Consortium.objects.count(), Patron.objects.count(), Guardianship.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (Consortium.objects.count(), Patron.objects.count(), Guardianship.objects.count()) == counts
    lapland = Patron.objects.filter(consortium__slug="lapin-kirjastot")
    assert lapland.count() >= 200 and Patron.objects.filter(consortium__slug="mikkelin-seutukirjasto").count() >= 50
    assert Guardianship.objects.filter(ward__data_provided_by_guardian=True).exists()
