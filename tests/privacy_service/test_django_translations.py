"""Django's own messages in Finnish and Swedish: Django's catalogues, else the hand-kept locale_django/.

The messages are those of Django itself and of the installed django.contrib apps (the admin's, the forms'),
read from Django's English catalogues; a Django upgrade that adds an untranslated one fails here.
"""

import ast
import gettext
import json
import re
from pathlib import Path

import django
import pytest
from django.apps import apps
from django.conf import settings

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

LANGUAGES = ["fi", "sv"]
DOMAINS = ["django", "djangojs"]
OURS = Path(settings.BASE_DIR) / "locale_django"
_FIELD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) (".*")$')


def msgids(po: Path) -> set[str]:
    """The msgids of a .po file as gettext keys (`context\\x04msgid`)."""
    found, entry, current = set(), {}, None
    for line in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        if match := _FIELD.match(line):
            current = match[1]
            entry[current] = ast.literal_eval(match[2])
        elif line.startswith('"') and current:
            entry[current] += ast.literal_eval(line)
        elif not line.strip():
            if entry.get("msgid"):
                found.add(f"{entry['msgctxt']}\x04{entry['msgid']}" if "msgctxt" in entry else entry["msgid"])
            entry, current = {}, None
    return found


def translated(mo: Path) -> set[str]:
    if not mo.exists():
        return set()
    with mo.open("rb") as file:
        catalogue = vars(gettext.GNUTranslations(file))["_catalog"]
    return {key[0] if isinstance(key, tuple) else key for key in catalogue if key}


def django_locale_dirs() -> list[Path]:
    django_dir = Path(django.__file__).parent
    contrib = [Path(config.path) / "locale" for config in apps.get_app_configs() if config.name.startswith("django.")]
    return [django_dir / "conf" / "locale", *contrib]


def untranslated(language: str, domain: str) -> tuple[set[str], set[str]]:
    """(Django's messages that nobody translates, locale_django's messages that Django translates itself).

    gettext merges the catalogues of a domain, so a message one of Django's catalogues translates is translated."""
    ours = translated(OURS / language / "LC_MESSAGES" / f"{domain}.mo")
    messages: set[str] = set()
    theirs: set[str] = set()
    for locale_dir in django_locale_dirs():
        english = locale_dir / "en" / "LC_MESSAGES" / f"{domain}.po"
        if english.exists():
            messages |= msgids(english)
            theirs |= translated(locale_dir / language / "LC_MESSAGES" / f"{domain}.mo")
    return messages - theirs - ours, ours & theirs


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_of_django_is_translated(language, domain):
    missing, django_translates = untranslated(language, domain)
    assert missing == set(), "translate these in locale_django/ (see its README.md)"
    assert django_translates == set(), "Django translates these itself now: drop them from locale_django/"


def test_an_admin_select_offers_the_finnish_blank_choice():
    page = client_for("dpo").get("/admin/staff/allowednetwork/add/").content.decode()
    assert "- Valitse -" in page
    assert "Select an option" not in page


@pytest.mark.parametrize(("language", "today"), [("fi", "Tänään (%(date)s)"), ("sv", "I dag (%(date)s)")])
def test_the_admins_javascript_catalogue(language, today):
    client = client_for("dpo")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    catalogue = client.get("/admin/jsi18n/").content.decode()
    assert json.dumps(today) in catalogue  # the catalogue is JSON (non-ASCII escaped)
    assert json.dumps("aikavyöhykkeellä" if language == "fi" else "tidszonen").strip('"') in catalogue
