"""Staff see only their own consortium's patrons; everything else is a 404."""

import pytest

from audit.models import AccessEvent, Outcome
from patrons.models import Patron
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_other_consortium_patron_is_not_found_in_pages_and_api(lapland_patron, mikkeli_patron):
    mikkeli = client_for("mikkeli.staff")
    assert mikkeli.get(f"/patrons/{lapland_patron.pk}/").status_code == 404
    assert mikkeli.get(f"/api/v1/patrons/{lapland_patron.pk}/").status_code == 404
    assert mikkeli.get(f"/api/v1/patrons/{mikkeli_patron.pk}/").status_code == 200
    rovaniemi = client_for("rovaniemi.staff")
    assert rovaniemi.get(f"/api/v1/patrons/{mikkeli_patron.pk}/").status_code == 404
    refused = AccessEvent.objects.filter(actor_username="mikkeli.staff", outcome=Outcome.DENIED)
    assert refused.count() == 2
    assert all(event.patron_ids == [] for event in refused)


def test_search_never_lists_another_consortium(lapland_patron):
    mikkeli = client_for("mikkeli.staff")
    body = mikkeli.get("/api/v1/patrons/", {"search": lapland_patron.cardnumber}).json()
    assert body["count"] == 0
    everyone = mikkeli.get("/api/v1/patrons/").json()
    assert everyone["count"] == Patron.objects.filter(consortium__slug="mikkelin-seutukirjasto").count()
    listed = {row["id"] for row in everyone["results"]}
    assert lapland_patron.pk not in listed
    lapland = client_for("kemi.staff").get("/api/v1/patrons/", {"search": lapland_patron.cardnumber}).json()
    assert [row["id"] for row in lapland["results"]] == [lapland_patron.pk]


def test_dpo_access_log_is_own_consortium_only(lapland_patron, mikkeli_patron):
    dpo = client_for("dpo")
    assert dpo.get(f"/api/v1/patrons/{lapland_patron.pk}/access-events/").status_code == 200
    assert dpo.get(f"/api/v1/patrons/{mikkeli_patron.pk}/access-events/").status_code == 404
    refused = AccessEvent.objects.order_by("-id").first()
    assert (refused.actor_username, refused.outcome, refused.patron_ids) == ("dpo", Outcome.DENIED, [])


def test_a_patron_cannot_belong_to_a_library_of_another_consortium(lapland_patron):
    from django.core.exceptions import ValidationError

    lapland_patron.consortium = Patron.objects.filter(consortium__slug="mikkelin-seutukirjasto").first().consortium
    with pytest.raises(ValidationError) as refused:
        lapland_patron.full_clean()
    assert list(refused.value.message_dict) == ["home_library"]
