"""A staff member's language: their choice, else their consortium's (Swedish in Sweden, with Sweden's terms).

Seen from the outside: the first page after log-in of an Eslöv user is Swedish (`sv-se`), of a Lapland user
Finnish; a language picked with the switcher wins; a Swede who picks "SV" gets Sweden's Swedish, a Finn
Finland's.
"""

import pytest
from django.conf import settings

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def first_page(client, language: str | None = None):
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/patrons/")
    assert response.status_code == 200
    return response.content.decode()


def test_an_eslov_users_first_page_is_in_swedish():
    page = first_page(client_for("eslov.staff"))
    assert '<html lang="sv-se">' in page
    assert "Sök låntagare" in page or "Sök" in page


def test_a_lapland_users_first_page_is_in_finnish():
    assert '<html lang="fi">' in first_page(client_for("rovaniemi.staff"))


@pytest.mark.parametrize(
    ("username", "chosen", "shown"),
    [
        ("eslov.staff", "fi", "fi"),
        ("eslov.staff", "en", "en"),
        ("eslov.staff", "sv", "sv-se"),
        ("rovaniemi.staff", "sv", "sv"),
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


def test_a_lapland_swedish_speaking_billing_clerks_page_says_personbeteckning():
    client = client_for("rovaniemi.billing")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    page = client.get("/billing/").content.decode()
    assert "Sök med personbeteckning" in page
    assert "personnummer" not in page.lower()
