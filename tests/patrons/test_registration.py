"""Registering a new patron (API and page): the freeze of a closure period, guardians for under-15s, the rules."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import override

from audit.models import AccessEvent
from patrons.closures import registration_frozen_message
from patrons.models import ClosurePeriod, Guardianship, Patron
from staff.models import Consortium, Library
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

LAPLAND = "lapin-kirjastot"
MIKKELI = "mikkelin-seutukirjasto"


def today() -> datetime.date:
    return timezone.localdate()


def born(years: int, days: int = 0) -> datetime.date:
    """The date of birth of someone who is `years` old today (and `days` days more)."""
    return today() - relativedelta(years=years) - datetime.timedelta(days=days)


def closure(slug: str = LAPLAND, *, days_before: int = 10, days_after: int = 20, **flags) -> ClosurePeriod:
    return ClosurePeriod.objects.create(
        consortium=Consortium.objects.get(slug=slug),
        starts_on=today() - datetime.timedelta(days=days_before),
        ends_on=today() + datetime.timedelta(days=days_after),
        **flags,
    )


def new_patron(slug: str, *, date_of_birth: datetime.date, cardnumber: str) -> Patron:
    library = Library.objects.filter(municipality__consortium__slug=slug).first()
    assert library is not None
    return Patron.objects.create(
        consortium=library.municipality.consortium,
        home_library=library,
        cardnumber=cardnumber,
        first_name="Testi",
        last_name="Henkilö",
        date_of_birth=date_of_birth,
    )


@pytest.fixture
def staff():
    return client_for("rovaniemi.staff")


@pytest.fixture
def adult_guardian() -> Patron:
    return new_patron(LAPLAND, date_of_birth=born(40), cardnumber="GUARD-ADULT-1")


def body(**overrides) -> dict:
    return {
        "cardnumber": "2440099001",
        "first_name": "Aino",
        "last_name": "Uusinen",
        "date_of_birth": born(30).isoformat(),
        "home_library": "ROV",
        "email": "aino.uusinen@example.fi",
        "phone": "040 123 4567",
        "street_address": "Koskikatu 1",
        "postal_code": "96100",
        "city": "Rovaniemi",
        **overrides,
    }


def register(client, **overrides):
    return client.post("/api/v1/patrons/", body(**overrides), content_type="application/json")


# --- The freeze of a closure period ---------------------------------------------------------------------


def test_api_refuses_registration_while_a_closure_freezes_it(staff):
    period = closure(registration_frozen=True)
    before = Patron.objects.count()
    response = register(staff)
    assert response.status_code == 400, response.content
    assert response.json()["rule"] == "registration_frozen"
    assert period.ends_on.strftime("%d.%m.%Y") in response.json()["detail"]
    assert Patron.objects.count() == before
    assert not AccessEvent.objects.filter(action="patron_register").exists()


def test_page_says_registration_is_frozen_before_the_form_is_filled_and_shows_no_form(staff):
    period = closure(registration_frozen=True)
    response = staff.get("/patrons/new/")
    assert response.status_code == 200
    page = response.content.decode()
    with override("fi"):  # staff pages are Finnish by default
        message = registration_frozen_message(period)
    assert escape(message) in page
    assert period.ends_on.strftime("%d.%m.%Y") in page
    assert 'name="cardnumber"' not in page and "patron-register" not in page

    before = Patron.objects.count()
    posted = staff.post("/patrons/new/", {**body(), "language": "fi", "loan_history": 1})
    assert posted.status_code == 400
    assert escape(message) in posted.content.decode()
    assert Patron.objects.count() == before


def test_a_closure_that_does_not_freeze_another_consortiums_or_an_ended_one_does_not_stop_registration(staff):
    closure(registration_frozen=False)
    closure(MIKKELI, registration_frozen=True)
    closure(days_before=60, days_after=-30, registration_frozen=True)
    response = register(staff)
    assert response.status_code == 201, response.content


def test_the_freeze_covers_its_first_and_last_day(staff):
    closure(days_before=0, days_after=0, registration_frozen=True)
    assert register(staff).json()["rule"] == "registration_frozen"


# --- Registering ----------------------------------------------------------------------------------------


def test_registration_outside_a_closure_answers_the_patron_and_is_logged(staff):
    response = register(staff)
    assert response.status_code == 201, response.content
    data = response.json()
    patron = Patron.objects.get(pk=data["id"])
    assert response["Location"].endswith(f"/api/v1/patrons/{patron.pk}/")
    assert (data["cardnumber"], data["first_name"], data["last_name"]) == ("2440099001", "Aino", "Uusinen")
    assert data["home_library"] == "ROV" and data["date_of_birth"] == born(30).isoformat()
    assert data["data_provided_by_guardian"] is False and data["guardians"] == []
    assert data["status"] == "active" and data["language"] == "fi"
    assert (data["loan_history"], data["loan_history_chosen_on"]) == (2, None), "not kept unless chosen"
    assert patron.consortium.slug == LAPLAND
    event = AccessEvent.objects.filter(action="patron_register").get()
    assert event.patron_ids == [patron.pk] and event.actor_username == "rovaniemi.staff"
    assert {"basic", "contact"} <= set(event.data_categories) and "guardians" not in event.data_categories
    # Found like any other patron.
    found = staff.get("/api/v1/patrons/?search=Uusinen").json()
    assert [p["id"] for p in found["results"]] == [patron.pk]


def test_registration_through_the_page(staff):
    assert 'href="/patrons/new/"' in staff.get("/patrons/").content.decode()
    page = staff.get("/patrons/new/")
    assert page.status_code == 200 and 'name="cardnumber"' in page.content.decode()
    response = staff.post("/patrons/new/", {**body(), "language": "fi", "loan_history": 2})
    patron = Patron.objects.get(cardnumber="2440099001", consortium__slug=LAPLAND)
    assert response.status_code == 302 and response["Location"] == f"/patrons/{patron.pk}/"
    assert patron.loan_history == 2 and patron.home_library.koha_library_id == "ROV"


def test_a_swedish_consortiums_patron_gets_swedish_by_default():
    response = register(client_for("eslov.staff"), home_library="ESL")
    assert response.status_code == 201, response.content
    assert response.json()["language"] == "sv"


def test_a_patron_under_15_needs_a_guardian(staff):
    response = register(staff, date_of_birth=born(14, days=300).isoformat())
    assert response.status_code == 400 and response.json()["rule"] == "guardian_required"


def test_a_patron_under_15_is_registered_with_a_guardian_who_provided_the_data(staff, adult_guardian):
    response = register(staff, date_of_birth=born(9).isoformat(), guardian=adult_guardian.pk, relationship="parent")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["data_provided_by_guardian"] is True
    assert data["guardians"] == [{"guardian_id": adult_guardian.pk, "relationship": "parent"}]
    assert data["notices_to"] == [adult_guardian.pk]
    event = AccessEvent.objects.filter(action="patron_register").get()
    assert sorted(event.patron_ids) == sorted([data["id"], adult_guardian.pk])
    assert "guardians" in event.data_categories
    # The record says so on the patron's page and in the API.
    assert staff.get(f"/api/v1/patrons/{data['id']}/").json()["data_provided_by_guardian"] is True
    page = staff.get(f"/patrons/{data['id']}/").content.decode()
    with override("fi"):
        from django.utils.translation import gettext

        assert escape(gettext("The data was provided by the guardian at registration.")) in page


def test_the_page_takes_the_guardians_card_number(staff, adult_guardian):
    response = staff.post(
        "/patrons/new/",
        {
            **body(date_of_birth=born(7).isoformat()),
            "language": "fi",
            "loan_history": 1,
            "guardian_cardnumber": adult_guardian.cardnumber,
        },
    )
    assert response.status_code == 302, response.content.decode()
    patron = Patron.objects.get(cardnumber="2440099001", consortium__slug=LAPLAND)
    assert patron.data_provided_by_guardian is True
    # A 7-year-old's opt-in to keeping loan history is the guardian's consent (GDPR Art. 8).
    assert (patron.loan_history, patron.loan_history_chosen_by) == (1, "guardian")
    assert patron.loan_history_chosen_on is not None
    link = Guardianship.objects.get(ward=patron)
    assert (link.guardian_id, link.relationship) == (adult_guardian.pk, "guardian")


def test_the_page_shows_a_broken_rule_next_to_the_form(staff):
    response = staff.post(
        "/patrons/new/", {**body(date_of_birth=born(5).isoformat()), "language": "fi", "loan_history": 1}
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode() and 'name="cardnumber"' in response.content.decode()
    assert not Patron.objects.filter(cardnumber="2440099001").exists()


def test_a_15_year_old_may_register_without_a_guardian(staff):
    response = register(staff, date_of_birth=born(15).isoformat())
    assert response.status_code == 201, response.content
    assert response.json()["data_provided_by_guardian"] is False


def test_the_guardian_must_be_an_adult(staff):
    teenager = new_patron(LAPLAND, date_of_birth=born(18, days=-1), cardnumber="GUARD-TEEN-1")  # 18 tomorrow
    response = register(staff, date_of_birth=born(3).isoformat(), guardian=teenager.pk)
    assert response.status_code == 400 and response.json()["rule"] == "guardian_not_adult"


def test_the_guardian_must_be_a_patron_of_the_same_consortium(staff):
    mikkeli_adult = new_patron(MIKKELI, date_of_birth=born(45), cardnumber="GUARD-MIK-1")
    response = register(staff, date_of_birth=born(3).isoformat(), guardian=mikkeli_adult.pk)
    assert response.status_code == 400 and response.json()["rule"] == "guardian_unknown"
    by_card = register(staff, date_of_birth=born(3).isoformat(), guardian_cardnumber="GUARD-MIK-1")
    assert by_card.status_code == 400 and by_card.json()["rule"] == "guardian_unknown"


def test_the_guardians_relationship_must_be_known(staff, adult_guardian):
    response = register(staff, date_of_birth=born(3).isoformat(), guardian=adult_guardian.pk, relationship="uncle")
    assert response.status_code == 400 and response.json()["rule"] == "relationship_unknown"


def test_an_adult_has_no_minors_guardian(staff, adult_guardian):
    response = register(staff, guardian=adult_guardian.pk)
    assert response.status_code == 400 and response.json()["rule"] == "guardian_for_minors_only"


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"home_library": "MIK"}, "library_unknown"),  # Mikkeli's library is not Lapland's
        ({"home_library": "NOPE"}, "library_unknown"),
        ({"date_of_birth": None}, "date_of_birth_required"),
        ({"first_name": "   "}, "first_name_required"),
        ({"last_name": " "}, "last_name_required"),
        ({"loan_history": 3}, "loan_history_unknown"),
        ({"language": "de"}, "language_unknown"),
        ({"email": "not-an-address"}, "email_invalid"),
    ],
)
def test_rules(staff, overrides, rule):
    response = register(staff, **overrides)
    assert response.status_code == 400, response.content
    assert response.json()["rule"] == rule
    assert not Patron.objects.filter(cardnumber="2440099001").exists()


def test_date_of_birth_in_the_future(staff):
    response = register(staff, date_of_birth=(today() + datetime.timedelta(days=1)).isoformat())
    assert response.status_code == 400 and response.json()["rule"] == "date_of_birth_in_future"


def test_the_card_number_must_be_free_in_the_consortium(staff):
    taken = Patron.objects.filter(consortium__slug=LAPLAND).first().cardnumber
    response = register(staff, cardnumber=taken)
    assert response.status_code == 400 and response.json()["rule"] == "cardnumber_taken"
    # Another consortium's card number is not this consortium's business.
    mikkeli_card = Patron.objects.filter(consortium__slug=MIKKELI).exclude(
        cardnumber__in=Patron.objects.filter(consortium__slug=LAPLAND).values("cardnumber")
    )
    assert register(staff, cardnumber=mikkeli_card.first().cardnumber).status_code == 201


@pytest.mark.parametrize(("username", "status"), [(None, 403), ("dpo", 403)])
def test_only_staff_register(username, status):
    assert register(client_for(username)).status_code == status
    assert not Patron.objects.filter(cardnumber="2440099001").exists()
