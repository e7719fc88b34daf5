"""The billing clerk's day on the pages: a demo code is found, a code nobody has is a message on the same page,
the reveal page names whose code it shows and shows it again with the reason typed once."""

import datetime
import random
import re

import pytest
from django.conf import settings

from audit.models import AccessEvent, Action, DataCategory, Outcome
from demo.identity_codes import demo_hetu
from patrons.models import Patron
from sotu_silo import crypto
from sotu_silo.models import IdentityCode
from sotu_silo.validation import identity_code_validate
from tests.conftest import client_for
from tests.patrons.test_staff_search import HINT, english
from tests.sotu_silo.test_conflicts import CSRF, statements
from tests.sotu_silo.test_silo import codeless_adult, hetu, store

pytestmark = pytest.mark.django_db

CLERK = "rovaniemi.billing"
NOBODYS = hetu("230375", "-", 518)  # valid; no demo patron has it (demo codes are temporary ones, 900-999)
REASON = "lasku 2026-314"
NOT_FOUND = {
    "fi": "Kimppasi asiakkaista ei löytynyt ketään tällä henkilötunnuksella.",
    "sv": "Ingen låntagare i ditt bibliotekssamarbete har den här personbeteckningen.",
    "en": "No patron of your consortium has this identity code.",
}


def demo_code_of_lapland() -> tuple[Patron, str]:
    """A code seed_demo stored (read from the silo as only a test may), and its patron."""
    lapland = list(Patron.objects.filter(consortium__slug="lapin-kirjastot").values_list("pk", flat=True))
    row = IdentityCode.objects.filter(patron_id__in=lapland).order_by("patron_id").first()
    assert row is not None, "seed_demo stored no codes in Lapland"
    return Patron.objects.get(pk=row.patron_id), crypto.decrypt_row(row)


def lookup_page(client, code: str, reason: str = REASON):
    return client.post("/billing/lookup/", {"identity_code": code, "reason": reason})


def test_demo_codes_are_temporary_ones_and_the_lookup_finds_them(settings):
    """Demo codes have individual numbers 900-999 (nobody's code); the store refuses such codes by default,
    but a lookup finds what is stored, so the demo's billing clerk finds the demo patrons by code."""
    settings.SOTU_ALLOW_TEMPORARY_CODES = False
    patron, code = demo_code_of_lapland()
    assert int(code[7:10]) >= 900
    assert identity_code_validate(code=code, country="FI", allow_temporary=True).kind == "temporary_hetu"
    found = lookup_page(client_for(CLERK), code)
    page = found.content.decode()
    assert found.status_code == 200 and patron.cardnumber in page and code not in page
    assert f"/billing/patrons/{patron.pk}/reveal/" in page
    assert f'value="{REASON}"' in page  # the reason typed for the lookup is the reveal's too


def test_the_demo_generator_makes_codes_the_lookup_validates():
    code = demo_hetu(datetime.date(1980, 2, 29), random.Random(1))
    assert identity_code_validate(code=code, country="FI", allow_temporary=True).kind == "temporary_hetu"


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_a_code_nobody_has_is_a_message_on_the_billing_page(language):
    client = client_for(CLERK)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = lookup_page(client, NOBODYS)
    page = response.content.decode()
    assert response.status_code == 404
    assert NOT_FOUND[language] in page and 'id="lookup-not-found"' in page
    # The billing page itself, with both searches, and the reason kept; the code is not echoed.
    assert 'id="billing-search"' in page and 'name="identity_code"' in page
    assert f'value="{REASON}"' in page and NOBODYS not in page


def test_a_code_held_in_another_consortium_is_answered_as_one_held_nowhere():
    """The attack: a Lapland clerk tries a code that a Mikkeli patron has. The page, the SQL run and the event
    must be those of a code nobody has."""
    elsewhere = hetu("230375", "-", 519)
    assert store("mikkeli.staff", codeless_adult("mikkelin-seutukirjasto"), elsewhere).status_code == 200
    held, held_sql = statements(lookup_page, client_for(CLERK), elsewhere)
    fresh, fresh_sql = statements(lookup_page, client_for(CLERK), NOBODYS)
    assert held.status_code == fresh.status_code == 404
    assert CSRF.sub("", held.content.decode()) == CSRF.sub("", fresh.content.decode())
    assert held_sql == fresh_sql
    events = AccessEvent.objects.filter(action=Action.IDENTITY_CODE_LOOKUP).order_by("-id")[:2]
    assert [(e.outcome, e.detail, e.reason, e.patron_ids) for e in events] == [
        (Outcome.DENIED, "not_found", REASON, [])
    ] * 2


def test_the_reveal_page_names_the_patron_counts_down_and_shows_again_with_the_same_reason():
    patron, code = demo_code_of_lapland()
    clerk = client_for(CLERK)
    revealed = clerk.post(f"/billing/patrons/{patron.pk}/reveal/", {"reason": REASON})
    page = revealed.content.decode()
    assert revealed.status_code == 200 and code in page
    assert f"{patron.last_name}, {patron.first_name}" in page and patron.cardnumber in page
    seconds = settings.SOTU_REVEAL_SECONDS
    assert f'data-hide-after="{seconds}"' in page
    assert re.search(rf'role="timer" data-countdown>{seconds // 60}:{seconds % 60:02d}<', page)
    # "Show again" posts the same reason (typed once); each showing is its own reveal in the log.
    again = re.search(r'<form method="post" action="([^"]+)"[^>]*class="reveal-again"[^>]*>.*?</form>', page, re.S)
    assert again and again[1] == f"/billing/patrons/{patron.pk}/reveal/"
    assert f'<input type="hidden" name="reason" value="{REASON}">' in again[0]
    shown_again = clerk.post(again[1], {"reason": REASON})
    assert shown_again.status_code == 200 and code in shown_again.content.decode()
    reveals = AccessEvent.objects.filter(action=Action.IDENTITY_CODE_REVEAL, patron_ids=[patron.pk])
    assert [(e.outcome, e.reason, e.data_categories) for e in reveals] == [
        (Outcome.ALLOWED, REASON, [DataCategory.IDENTITY_CODE, DataCategory.LISTING])
    ] * 2


def newest(action: str) -> AccessEvent:
    event = AccessEvent.objects.filter(action=action).order_by("-id").first()
    assert event is not None
    return event


def test_each_billing_read_logs_exactly_what_it_processed():
    """The lookup by code processed the code and shows the patron found in a result row (name, card number,
    home library): identity_code, listing and basic. The API's lookup returns only the id: identity_code alone.
    The name search processed no code: the staff search's listing and basic. A code nobody has: the code only."""
    patron, code = demo_code_of_lapland()
    clerk = client_for(CLERK)
    assert lookup_page(clerk, code).status_code == 200
    event = newest(Action.IDENTITY_CODE_LOOKUP)
    assert (event.outcome, event.patron_ids, event.data_categories) == (
        Outcome.ALLOWED,
        [patron.pk],
        sorted([DataCategory.IDENTITY_CODE, DataCategory.LISTING, DataCategory.BASIC]),
    )
    api = clerk.post(
        "/api/v1/identity-codes/lookup/", {"identity_code": code, "reason": REASON}, content_type="application/json"
    )
    assert api.status_code == 200 and api.json() == {"patron": {"id": patron.pk}}
    event = newest(Action.IDENTITY_CODE_LOOKUP)
    assert (event.outcome, event.patron_ids, event.data_categories) == (
        Outcome.ALLOWED,
        [patron.pk],
        [DataCategory.IDENTITY_CODE],
    )
    assert clerk.post("/billing/", {"q": patron.cardnumber}).status_code == 200
    event = newest(Action.PATRON_SEARCH)
    assert (event.patron_ids, event.data_categories) == (
        [patron.pk],
        sorted([DataCategory.LISTING, DataCategory.BASIC]),
    )
    assert lookup_page(clerk, NOBODYS).status_code == 404
    event = newest(Action.IDENTITY_CODE_LOOKUP)
    assert (event.outcome, event.patron_ids, event.data_categories) == (
        Outcome.DENIED,
        [],
        [DataCategory.IDENTITY_CODE],
    )


def test_one_letter_in_the_billing_search_gives_the_staff_searchs_hint_and_searches_nothing():
    """The server's hint (patrons.selectors.SEARCH_MIN_LETTERS), not the browser's own for a minlength."""
    clerk = english(CLERK)
    before = AccessEvent.objects.count()
    one = clerk.post("/billing/", {"q": "K"}).content.decode()
    assert HINT in one and 'value="K"' in one and 'aria-describedby="q-hint"' in one
    assert "<tbody>" not in one and 'minlength="' not in one
    assert AccessEvent.objects.count() == before
    assert HINT not in clerk.post("/billing/", {"q": "Ka"}).content.decode()
