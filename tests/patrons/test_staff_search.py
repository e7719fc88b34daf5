"""The staff search box at the desk: the name as lists show it, one letter, namesakes, and the search kept on Back
and on a language switch without the name ever being in a URL or a log line (issue 15)."""

import logging
import re
from typing import cast

import pytest

from audit.models import AccessEvent, Action, DataCategory
from patrons.models import Patron, PatronStatus
from patrons.views import SEARCH_SESSION_KEY
from staff.models import Library
from tests.conftest import client_for
from tests.factories import PatronFactory

pytestmark = pytest.mark.django_db

HINT = "Type at least two letters"
URL_ATTRIBUTES = re.compile(r'\b(?:href|action|src|formaction|hx-(?:get|post)|hx-push-url)="([^"]*)"')


@pytest.fixture
def namesakes() -> tuple[Patron, Patron]:
    """Two Aino Kangases of Rovaniemi, told apart by date of birth and status."""
    rovaniemi = Library.objects.get(koha_library_id="ROV")
    older = PatronFactory(home_library=rovaniemi, first_name="Aino", last_name="Kangasvuo", date_of_birth="1951-03-02")
    younger = PatronFactory(
        home_library=rovaniemi,
        first_name="Aino",
        last_name="Kangasvuo",
        date_of_birth="2004-11-23",
        status=PatronStatus.LOCKED,
    )
    return cast(Patron, older), cast(Patron, younger)


def english(username: str = "rovaniemi.staff"):
    client = client_for(username)
    client.cookies["django_language"] = "en"
    return client


def listed_ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'href="/patrons/(\d+)/"', html)}


def test_the_name_as_the_list_shows_it_finds_the_patron(namesakes):
    html = english().post("/patrons/", {"q": "Kangasvuo, Aino"}, follow=True).content.decode()
    assert listed_ids(html) == {patron.pk for patron in namesakes}
    assert listed_ids(english().post("/patrons/", {"q": "Kangasvuo,Aino"}, follow=True).content.decode()) == {
        patron.pk for patron in namesakes
    }


def test_namesakes_are_told_apart_by_date_of_birth_and_status(namesakes):
    older, younger = namesakes
    html = english().post("/patrons/", {"q": "Kangasvuo Aino"}, follow=True).content.decode()
    assert "2 Mar 1951" in html and "23 Nov 2004" in html  # the page is in English
    assert str(older.get_status_display()) in html and str(younger.get_status_display()) in html
    event = AccessEvent.objects.order_by("-id").first()
    assert event.action == Action.PATRON_SEARCH
    # The dates of birth were shown, so the event names basic details too.
    assert sorted(event.data_categories) == sorted([DataCategory.LISTING, DataCategory.BASIC])


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "form"])
def test_one_letter_gives_the_hint_of_the_empty_box_and_searches_nothing(htmx):
    client = english()
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    empty = client.post("/patrons/", {"q": ""}, follow=not htmx, **headers).content.decode()
    before = AccessEvent.objects.count()
    one = client.post("/patrons/", {"q": "K"}, follow=not htmx, **headers).content.decode()
    assert HINT in empty and HINT in one and "<tbody>" not in one
    assert AccessEvent.objects.count() == before
    two = client.post("/patrons/", {"q": "Ka"}, follow=not htmx, **headers).content.decode()
    assert HINT not in two and "<tbody>" in two
    assert 'minlength="' not in client.get("/patrons/").content.decode()  # no browser's own, other hint


def test_the_form_search_is_posted_redirected_and_kept_for_back_and_a_language_switch(lapland_patron, caplog):
    caplog.set_level(logging.DEBUG)
    client = english()
    name = lapland_patron.last_name
    posted = client.post("/patrons/", {"q": f"{name}, {lapland_patron.first_name}"})
    assert posted.status_code == 302 and posted["Location"] == "/patrons/"  # POST-redirect-GET: Back sends no POST
    shown = client.get("/patrons/").content.decode()
    assert lapland_patron.pk in listed_ids(shown) and f'value="{name}, {lapland_patron.first_name}"' in shown
    # Back (the browser GETs the page again) and "Back to search" show the same search.
    assert listed_ids(client.get("/patrons/").content.decode()) == listed_ids(shown)
    # A language switch returns to the page it was on, with the same results, in the other language.
    switched = client.post("/i18n/setlang/", {"language": "sv", "next": "/patrons/"}, follow=True)
    assert [url for url, _status in switched.redirect_chain] == ["/patrons/"]
    assert listed_ids(switched.content.decode()) == listed_ids(shown) and 'lang="sv"' in switched.content.decode()
    # The name is in no URL the pages give out, no redirect, and no log line.
    for response in (posted, switched):
        for url in [response.get("Location", ""), *URL_ATTRIBUTES.findall(response.content.decode())]:
            assert name.lower() not in url.lower() and "q=" not in url, url
    assert name not in caplog.text
    # Logging out forgets it.
    client.post("/accounts/logout/")
    assert SEARCH_SESSION_KEY not in client.session


def test_the_page_of_a_broad_search_is_kept_too():
    client = english()
    client.post("/patrons/", {"q": "2440", "page": "2"})  # Lapland's card numbers: pages of them
    again = client.get("/patrons/").content.decode()
    assert re.search(r"Page 2 of \d+", again), "the second page is shown again"
    htmx = client.post("/patrons/", {"q": "2440", "page": "1"}, HTTP_HX_REQUEST="true")
    assert "HX-Push-Url" not in htmx and "HX-Replace-Url" not in htmx
    assert client.session[SEARCH_SESSION_KEY] == {"q": "2440", "page": 1, "code_typed": False}


def test_the_page_of_a_search_is_kept_on_a_language_switch():
    """On page 2 a switch to Swedish shows page 2 again, the same patrons, in Swedish."""
    client = english()
    client.post("/patrons/", {"q": "2440", "page": "2"})
    before = client.get("/patrons/").content.decode()
    assert re.search(r"Page 2 of \d+", before)
    switched = client.post("/i18n/setlang/", {"language": "sv", "next": "/patrons/"}, follow=True)
    after = switched.content.decode()
    assert 'lang="sv' in after and re.search(r"Sida 2 av \d+", after), "still the second page, in Swedish"
    assert listed_ids(after) == listed_ids(before)


def test_an_identity_code_typed_in_the_box_is_not_kept_in_the_session():
    client = english()
    code = "131052-308T"
    client.post("/patrons/", {"q": code})
    assert code not in str(client.session.items())
    page = client.get("/patrons/").content.decode()
    assert "looks like a personal identity code" in page and code not in page
