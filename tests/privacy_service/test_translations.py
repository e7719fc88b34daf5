"""User-facing text in Finnish (default), Swedish and English.

Expected texts come from the catalogs through gettext, so a test states which
msgid a page should show, not the wording twice. If the .mo files are missing
(run `make messages` or `manage.py compilemessages`), the first assertions say so.
"""

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils.html import escape
from django.utils.translation import gettext, ngettext, npgettext, override, pgettext

from patrons.models import Patron
from staff.models import StaffProfile
from tests.conftest import client_for

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
TRANSLATED_LANGUAGES = ["fi", "sv"]
REFUSED_ADDRESS = "192.0.2.9"

# Every test, those that only read the catalogues too: the suite's autouse fixtures load the demo data.
pytestmark = pytest.mark.django_db

NETWORK_DENIED = (
    "Access denied: you are not connected from a network your library allows. "
    "Connect from your library's network or the consortium's remote-access service."
)
NOT_SIGNED = "You have not signed the confidentiality agreement, so patron data is not shown to you yet."


def tr(message: str, language: str) -> str:
    """`message` in `language`; fails if the catalog does not translate it (e.g. no compiled .mo)."""
    with override(language):
        text = gettext(message)
    if language != "en":
        assert text != message, f"{message!r} is not translated to {language}: are the .mo files compiled?"
    return text


def page_text(response) -> str:
    return response.content.decode()


def assert_shows(response, message: str, language: str) -> None:
    """Template literals are output as they are, context variables ({{ message }}) HTML-escaped."""
    text, page = tr(message, language), page_text(response)
    assert text in page or escape(text) in page, f"{text!r} not on the page"


def with_language(client, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


# --- pages ------------------------------------------------------------------------


def test_login_page_is_finnish_by_default():
    response = client_for(None).get("/accounts/login/")
    assert response.status_code == 200
    assert '<html lang="fi">' in page_text(response)
    assert tr("Log in", "fi") == "Kirjaudu sisään"
    for message in ("Log in", "Username", "Password"):
        assert_shows(response, message, "fi")


def test_login_page_ignores_the_browser_language():
    """Staff pages follow the switcher, not Accept-Language."""
    response = client_for(None, HTTP_ACCEPT_LANGUAGE="sv,en;q=0.8").get("/accounts/login/")
    assert '<html lang="fi">' in page_text(response)
    assert_shows(response, "Log in", "fi")


@pytest.mark.parametrize(("language", "shown"), [("sv-fi", "sv-fi"), ("en", "en")])
def test_login_page_follows_the_language_cookie(language, shown):
    """Before log-in the country is not known: Swedish is the product's home's, Finland-Swedish."""
    response = with_language(client_for(None), language[:2]).get("/accounts/login/")
    assert response.status_code == 200
    assert f'<html lang="{shown}">' in page_text(response)
    for message in (
        "Log in",
        "Username",
        "Password",
        "Log-in works only from your library's network or the consortium's remote-access service.",
    ):
        assert_shows(response, message, language)
    assert tr("Log in", "fi") not in page_text(response)


def test_unknown_language_cookie_falls_back_to_finnish():
    response = with_language(client_for(None), "de").get("/accounts/login/")
    assert '<html lang="fi">' in page_text(response)
    assert_shows(response, "Log in", "fi")


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_network_denied_page(language):
    client = client_for("rovaniemi.staff", address=REFUSED_ADDRESS)
    if language != "fi":
        with_language(client, language)
    response = client.get("/patrons/")
    assert response.status_code == 403
    for message in (
        "Access denied",
        NETWORK_DENIED,
        "You have been logged out. The attempt was recorded in the access log.",
        "Log in again",
    ):
        assert_shows(response, message, language)


@pytest.mark.parametrize(
    ("headers", "language"),
    [({}, "fi"), ({"HTTP_ACCEPT_LANGUAGE": "sv"}, "sv"), ({"HTTP_ACCEPT_LANGUAGE": "en"}, "en")],
)
def test_api_denial_speaks_the_language_the_client_asks_for(headers, language):
    response = client_for("rovaniemi.staff", address=REFUSED_ADDRESS, **headers).get("/api/v1/patrons/")
    assert response.status_code == 403
    assert response.json() == {"detail": tr(NETWORK_DENIED, language), "code": "network_not_allowed"}


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_unsigned_confidentiality_agreement_is_explained(language):
    StaffProfile.objects.filter(user__username="rovaniemi.staff").update(confidentiality_signed_on=None)
    client = client_for("rovaniemi.staff")
    if language != "fi":
        with_language(client, language)
    response = client.get("/patrons/")
    assert response.status_code == 403
    assert_shows(response, "Confidentiality agreement not signed", language)
    assert_shows(response, NOT_SIGNED, language)


def test_patron_search_in_finnish_with_plural_forms(lapland_patron):
    client = client_for("rovaniemi.staff")
    response = client.get("/patrons/")
    for message in ("Patron search", "Name or card number", "Search", "Patrons", "Skip to content"):
        assert_shows(response, message, "fi")

    one = page_text(client.post("/patrons/", {"q": lapland_patron.cardnumber}, follow=True))
    with override("fi"):
        singular = ngettext("%(counter)s patron found.", "%(counter)s patrons found.", 1) % {"counter": 1}
    assert singular == "Löytyi 1 asiakas."
    assert singular in one

    count = Patron.objects.filter(consortium=lapland_patron.consortium, cardnumber__startswith="2440").count()
    assert count > 1
    many = page_text(client.post("/patrons/", {"q": "2440"}, follow=True))
    with override("fi"):
        plural = ngettext("%(counter)s patron found.", "%(counter)s patrons found.", count) % {"counter": count}
    assert plural == f"Löytyi {count} asiakasta."
    assert plural in many


# --- the catalogs -------------------------------------------------------------------


def _unquote(line: str) -> str:
    body = line[line.index('"') + 1 : line.rindex('"')]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def po_entries(language: str) -> list[dict]:
    """Entries of locale/<language>/LC_MESSAGES/django.po: msgctxt, msgid, msgid_plural, msgstr[N], flags."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"{path} is missing: run makemessages"
    entries: list[dict] = []
    entry: dict[Any, Any] | None = None
    key: str | None = None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        if not line or line.startswith("#~"):
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": set()}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += _unquote(line)
        else:
            key = line.split(" ", 1)[0].replace("msgstr[", "msgstr_").rstrip("]")
            entry[key] = _unquote(line)
    return [e for e in entries if e["msgid"]]  # without the header


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)[sd]|%[sd]|\{\{\s*\w+\s*\}\}", text))


def test_header_and_plural_forms():
    for language in TRANSLATED_LANGUAGES:
        header = (LOCALE_DIR / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
        assert f'"Language: {language}\\n"' in header
        assert '"Content-Type: text/plain; charset=UTF-8\\n"' in header
        assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in header
    assert (LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po").exists()


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_message_is_translated(language):
    entries = po_entries(language)
    assert len(entries) > 100
    problems = []
    for entry in entries:
        forms = [value for key, value in entry.items() if key == "msgstr" or key.startswith("msgstr_")]
        if not forms or not all(forms):
            problems.append(f"untranslated: {entry['msgid']!r}")
        if "fuzzy" in entry["flags"]:
            problems.append(f"fuzzy: {entry['msgid']!r}")
        wanted = placeholders(entry["msgid"]) | placeholders(entry.get("msgid_plural", ""))
        problems += [f"placeholders differ: {entry['msgid']!r}" for form in forms if placeholders(form) - wanted]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_catalogs_have_the_same_messages(language):
    def keys(lang):
        return {(e.get("msgctxt"), e["msgid"]) for e in po_entries(lang)}

    assert keys(language) == keys("en"), "run makemessages for every language"


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_compiled_catalog_matches_the_po_file(language):
    """What the service shows is the .po text: the .mo is compiled and up to date."""
    stale = []
    with override(language):
        for entry in po_entries(language):
            context = entry.get("msgctxt")
            if "msgid_plural" in entry:
                for n, key in ((1, "msgstr_0"), (2, "msgstr_1")):
                    if context is None:
                        got = ngettext(entry["msgid"], entry["msgid_plural"], n)
                    else:
                        got = npgettext(context, entry["msgid"], entry["msgid_plural"], n)
                    if got != entry[key]:
                        stale.append(entry["msgid"])
            else:
                got = gettext(entry["msgid"]) if context is None else pgettext(context, entry["msgid"])
                if got != entry["msgstr"]:
                    stale.append(entry["msgid"])
    assert not stale, f"compiled {language} catalog is out of date (run compilemessages): {stale}"
