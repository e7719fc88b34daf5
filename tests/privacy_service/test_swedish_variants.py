"""Two Swedishes: Sweden's (`sv`, locale/sv) and Finland's (`sv-fi`, the hand-kept locale/sv_FI over locale/sv).

The legal terms differ (personnummer and god man in Sweden, personbeteckning and intressebevakning in Finland),
so a word of the wrong country in a catalogue is a wrong statement of law to the reader. The catalogues are
checked from their compiled .mo files (what gettext reads), run `make messages` first.
"""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from core.privacy_contract import data_subject
from patrons.models import Patron
from sotu_silo.models import IdentityCode
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
FINLAND_TERMS = re.compile(r"personbeteckning|intressebevak|edunvalv", re.IGNORECASE)
# Sweden's personal identity number keeps its name in Finland-Swedish too ("ett svenskt personnummer").
SWEDEN_TERMS = re.compile(r"(?<!svenskt )personnummer", re.IGNORECASE)


def catalogue(folder: str) -> dict:
    with (LOCALE_DIR / folder / "LC_MESSAGES" / "django.mo").open("rb") as mo:
        messages = vars(gettext.GNUTranslations(mo))["_catalog"]  # what gettext reads, plurals as (msgid, n)
    return {key: value for key, value in messages.items() if key != ""}


def msgid(key) -> str:
    return key[0] if isinstance(key, tuple) else key


def test_swedens_catalogue_has_no_finnish_terms():
    wrong = {msgid(key): text for key, text in catalogue("sv").items() if FINLAND_TERMS.search(text)}
    assert wrong == {}


def test_the_finland_swedish_override_has_no_swedens_terms():
    wrong = {msgid(key): text for key, text in catalogue("sv_FI").items() if SWEDEN_TERMS.search(text)}
    assert wrong == {}


def test_every_override_overrides_a_message_of_swedens_catalogue():
    """A msgid that locale/sv no longer has is a stale override (the text changed: translate it again)."""
    sweden = {msgid(key) for key in catalogue("sv")}
    assert {msgid(key) for key in catalogue("sv_FI")} - sweden == set()


def test_finland_swedish_is_swedens_swedish_except_the_overrides():
    """sv-fi reads locale/sv only as a fallback, after Django's and the apps' own Swedish: a msgid they share
    with the project must be in locale/sv_FI too, or sv-fi shows Django's wording."""
    overridden = {msgid(key) for key in catalogue("sv_FI")}
    differing = {}
    for key in catalogue("sv"):
        message = msgid(key)
        if message in overridden:
            continue
        context, _, text = message.rpartition("\x04")
        shown = {}
        for language in ("sv", "sv-fi"):
            with translation.override(language):
                if isinstance(key, tuple):  # gettext looks plurals up by the singular msgid
                    shown[language] = (
                        translation.npgettext(context, text, text, key[1] + 1)
                        if context
                        else (translation.ngettext(text, text, key[1] + 1))
                    )
                else:
                    shown[language] = translation.pgettext(context, text) if context else translation.gettext(text)
        if shown["sv"] != shown["sv-fi"]:
            differing[message] = shown
    assert differing == {}


def test_the_terms_of_each_country():
    """And the pronoun that agrees with each: "ett personnummer ... se det", "en personbeteckning ... se den"."""
    seen_by = "Only billing staff can see it, each time with a stated reason."
    with translation.override("sv"):
        assert translation.gettext("Personal identity code") == "Personnummer"
        assert translation.gettext(seen_by).startswith("Endast faktureringspersonalen kan se det,")
    with translation.override("sv-fi"):
        assert translation.gettext("Personal identity code") == "Personbeteckning"
        assert translation.gettext(seen_by).startswith("Endast faktureringspersonalen kan se den,")


def refusal(accept_language: str) -> str:
    """An API refusal that names the Finnish identity code, in the caller's language."""
    coded = IdentityCode.objects.values_list("patron_id", flat=True)
    patron = Patron.objects.filter(consortium__slug="lapin-kirjastot").exclude(pk__in=list(coded)).order_by("pk")[0]
    response = client_for("rovaniemi.staff", HTTP_ACCEPT_LANGUAGE=accept_language).put(
        f"/api/v1/patrons/{patron.pk}/identity-code/", {"identity_code": "230375-517"}, content_type="application/json"
    )
    assert response.status_code == 400
    return response.json()["detail"]


@pytest.mark.parametrize(
    ("accept_language", "term"),
    [("sv-FI,sv;q=0.9", "personbeteckning"), ("sv", "personbeteckning"), ("en;q=0.5,sv-SE", "personnummer")],
)
def test_the_api_speaks_the_browsers_swedish(accept_language, term):
    """The API knows the country only from the browser: sv-SE is Sweden's, sv-FI and a bare sv Finland's."""
    assert term in refusal(accept_language).lower()


@pytest.mark.parametrize(
    ("notice", "accept_language", "shown"),
    [
        ("/privacy/lapin-kirjastot/", "sv-SE,sv", "sv-fi"),
        ("/privacy/eslovs-bibliotek/", "sv-FI,sv", "sv"),
        ("/privacy/eslovs-bibliotek/", "sv", "sv"),
    ],
)
def test_a_privacy_notice_speaks_the_swedish_of_its_library(notice, accept_language, shown):
    page = client_for(None, address="203.0.113.77", HTTP_ACCEPT_LANGUAGE=accept_language).get(notice)
    assert page.status_code == 200
    assert f'<html lang="{shown}">' in page.content.decode()


@pytest.mark.parametrize(("slug", "shown"), [("lapin-kirjastot", "sv-fi"), ("eslovs-bibliotek", "sv")])
def test_a_swedish_speaking_patrons_access_report_speaks_their_librarys_swedish(slug, shown):
    """The report is made in the patron's language: a Lapland patron's Swedish says personbeteckning."""
    patron = Patron.objects.filter(consortium__slug=slug).order_by("pk").first()
    Patron.objects.filter(pk=patron.pk).update(language="sv")
    assert data_subject(patron.pk, consortium_id=patron.consortium_id).language == shown


def test_the_english_catalogue_names_no_finnish_institution():
    """English is read in Sweden too: "edunvalvonta" is Finnish law's word, said in fi and (as intressebevakning)
    in sv-fi only. The msgids are the English text (the en catalogue's entries, obsolete ones aside)."""
    po = (LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert [line for line in po.splitlines() if not line.startswith("#") and "edunvalv" in line.lower()] == []


def test_an_eslov_librarian_reading_english_sees_no_finnish_term(eslov_patron):
    client = client_for("eslov.staff")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(f"/patrons/{eslov_patron.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert '<html lang="en">' in text and "Mark as an adult under guardianship" in text
    assert "edunvalv" not in text.lower()
