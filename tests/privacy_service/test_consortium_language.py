"""A staff member's language: their choice, else their consortium's (Swedish in Sweden, with Sweden's terms).

Seen from the outside: the first page after log-in of an Eslöv user is Swedish (`sv`, Sweden's), of a Lapland
user Finnish; a language picked with the switcher wins; a Swede who picks "SV" gets Sweden's Swedish, a Finn
Finland's (`sv-fi`); the language costs no query of its own.
"""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from staff.models import StaffProfile
from tests.conftest import OWN_NETWORK, client_for
from tests.factories import StaffProfileFactory

pytestmark = pytest.mark.django_db


def first_page(client, language: str | None = None):
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/patrons/")
    assert response.status_code == 200
    return response.content.decode()


def test_an_eslov_users_first_page_is_in_swedish():
    page = first_page(client_for("eslov.staff"))
    assert '<html lang="sv">' in page
    assert "Sök låntagare" in page or "Sök" in page


def test_a_lapland_users_first_page_is_in_finnish():
    assert '<html lang="fi">' in first_page(client_for("rovaniemi.staff"))


@pytest.mark.parametrize(
    ("username", "chosen", "shown"),
    [
        ("eslov.staff", "fi", "fi"),
        ("eslov.staff", "en", "en"),
        ("eslov.staff", "sv", "sv"),
        ("rovaniemi.staff", "sv", "sv-fi"),
        ("rovaniemi.staff", "en", "en"),
    ],
)
def test_an_explicit_choice_wins_and_swedish_follows_the_country(username, chosen, shown):
    page = first_page(client_for(username), chosen)
    assert f'<html lang="{shown}">' in page


def test_the_switcher_marks_swedish_as_current_for_a_swede():
    page = first_page(client_for("eslov.staff"))
    assert 'value="sv" lang="sv"' in page
    current = page.split('aria-current="true"')[0].rsplit("<button", 1)[1]
    assert 'value="sv"' in current


def test_before_log_in_the_page_is_finnish():
    response = client_for(None).get("/accounts/login/")
    assert '<html lang="fi">' in response.content.decode()


def test_before_log_in_swedish_is_finland_swedish():
    """The country is not known yet: the product's home, Finland."""
    client = client_for(None)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    assert '<html lang="sv-fi">' in client.get("/accounts/login/").content.decode()


def test_a_lapland_swedish_speaking_billing_clerks_page_says_personbeteckning():
    client = client_for("rovaniemi.billing")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    page = client.get("/billing/").content.decode()
    assert "Sök med personbeteckning" in page
    assert "personnummer" not in page.lower()


def test_an_eslov_billing_clerks_page_says_personnummer():
    eslov_library = StaffProfile.objects.get(user__username="eslov.staff").home_library
    StaffProfileFactory(user__username="eslov.billing", user__groups=["billing"], home_library=eslov_library)
    page = client_for("eslov.billing", address=OWN_NETWORK["eslov.staff"]).get("/billing/").content.decode()
    assert '<html lang="sv">' in page
    assert "Sök med personnummer" in page
    assert "personbeteckning" not in page.lower()


@pytest.mark.parametrize("username", ["eslov.staff", "rovaniemi.staff"])
def test_the_language_costs_no_query_of_its_own(username):
    """The consortium's country comes with the staff profile that the page reads anyway."""
    client = client_for(username)
    client.get("/patrons/")
    with CaptureQueriesContext(connection) as page:
        client.get("/patrons/")
    consortium_reads = [q["sql"] for q in page.captured_queries if 'FROM "patrons_consortium"' in q["sql"]]
    assert consortium_reads == []
