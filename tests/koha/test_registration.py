"""Registration here creates the patron in Koha first when the consortium has a Koha connection."""

import datetime

import pytest
from django.test import override_settings

from patrons.models import Patron
from staff.models import Consortium
from tests.conftest import client_for
from tests.koha.connected import connect_to_fake

pytestmark = pytest.mark.django_db

LAPLAND = "lapin-kirjastot"


@pytest.fixture
def connected(fake_koha):
    fake_koha.add_library(library_id="ROV", name="Rovaniemi")
    connect_to_fake(Consortium.objects.get(slug=LAPLAND), fake_koha)
    with override_settings(KOHA_RETRY_BASE_DELAY_SECONDS=0.001, KOHA_RETRIES=1):
        yield fake_koha


def form(**overrides) -> dict:
    return {
        "cardnumber": "2440099001",
        "first_name": "Aino",
        "last_name": "Uusinen",
        "date_of_birth": datetime.date(1990, 1, 2).isoformat(),
        "home_library": "ROV",
        "language": "fi",
        "loan_history": 2,
        **overrides,
    }


def test_the_page_creates_the_patron_in_koha_first_and_stores_its_id(connected):
    response = client_for("rovaniemi.staff").post("/patrons/new/", form())
    patron = Patron.objects.get(cardnumber="2440099001", consortium__slug=LAPLAND)
    assert response.status_code == 302
    koha = connected.patrons[patron.koha_patron_id]
    assert (koha["cardnumber"], koha["surname"], koha["library_id"], koha["privacy"]) == (
        "2440099001",
        "Uusinen",
        "ROV",
        2,
    )


def test_the_api_registration_creates_the_patron_in_koha_too(connected):
    body = {key: value for key, value in form().items() if key != "loan_history"}
    response = client_for("rovaniemi.staff").post("/api/v1/patrons/", body, content_type="application/json")
    assert response.status_code == 201
    patron = Patron.objects.get(cardnumber="2440099001", consortium__slug=LAPLAND)
    assert patron.koha_patron_id in connected.patrons


def test_koha_refusing_shows_a_clear_error_and_nothing_is_created(connected):
    connected.add_patron(cardnumber="2440099001", surname="Toinen", library_id="ROV")
    response = client_for("rovaniemi.staff").post("/patrons/new/", form())
    assert response.status_code == 400
    assert "Kohassa on jo asiakas tällä kortin numerolla." in response.content.decode()  # the staff language
    assert not Patron.objects.filter(cardnumber="2440099001").exists()


def test_koha_unreachable_shows_a_clear_error_and_nothing_is_created(connected):
    connected.down()
    response = client_for("rovaniemi.staff").post("/api/v1/patrons/", form(), content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "koha_unavailable"
    assert "Uusinen" not in response.json()["detail"]
    assert not Patron.objects.filter(cardnumber="2440099001").exists()


def test_without_a_connection_registration_works_as_before(fake_koha):
    response = client_for("rovaniemi.staff").post("/patrons/new/", form())
    assert response.status_code == 302
    assert Patron.objects.get(cardnumber="2440099001", consortium__slug=LAPLAND).koha_patron_id is None
    assert not [r for r in fake_koha.requests if r.method == "POST"]
