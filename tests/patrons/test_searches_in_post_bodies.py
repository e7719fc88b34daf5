"""Searches travel in POST bodies, never in URLs (issue 10).

A URL ends up in access logs, proxies, browser histories and Referer headers; a search is usually a
name. The attack: search for a patron by name and look for the name in every URL the pages give out
(links, form actions, htmx attributes, redirects) and in the address; an old bookmark with `?q=`.
"""

import re

import pytest
from django.test import Client

from audit.models import AccessEvent, Action
from patrons.models import Patron
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

# Every attribute that holds a URL a browser would request or show.
URL_ATTRIBUTES = re.compile(r'\b(?:href|action|src|formaction|hx-(?:get|post|put|patch|delete)|hx-push-url)="([^"]*)"')
SEARCH_PAGES = [("rovaniemi.staff", "/patrons/"), ("rovaniemi.billing", "/billing/")]


def urls_in(html: str) -> list[str]:
    return URL_ATTRIBUTES.findall(html)


@pytest.mark.parametrize(("username", "path"), SEARCH_PAGES)
def test_a_posted_search_finds_the_patron_and_puts_the_name_in_no_url(username, path, lapland_patron):
    client = client_for(username)
    name = lapland_patron.last_name
    response = client.post(path, {"q": f"{name} {lapland_patron.first_name}"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert lapland_patron.cardnumber in html  # found
    assert urls_in(html), "the page has links and forms"
    for url in urls_in(html):
        assert name.lower() not in url.lower() and "q=" not in url, url
    # The listed patrons are logged as before; the search text is not.
    event = AccessEvent.objects.order_by("-id").first()
    assert event.action == Action.PATRON_SEARCH and lapland_patron.pk in event.patron_ids
    assert name not in repr(event.__dict__)


@pytest.mark.parametrize(("username", "path"), SEARCH_PAGES)
def test_pages_of_results_are_posted_too(username, path):
    client = client_for(username)
    prefix = "2440"  # Lapland's card numbers
    total = Patron.objects.filter(consortium__slug="lapin-kirjastot", cardnumber__startswith=prefix).count()
    assert total > 25, "the demo data has fewer than two pages of Lapland's cards"
    first = client.post(path, {"q": prefix}, follow=True).content.decode()
    assert 'name="page" value="2"' in first and "page=" not in "".join(urls_in(first))
    second = client.post(path, {"q": prefix, "page": "2"}, follow=True)
    assert second.status_code == 200
    names_first = set(re.findall(r"<td>(?:<a [^>]*>)?([^<,]+, [^<]+?)(?:</a>)?</td>", first))
    names_second = set(re.findall(r"<td>(?:<a [^>]*>)?([^<,]+, [^<]+?)(?:</a>)?</td>", second.content.decode()))
    assert names_second and not names_first & names_second


@pytest.mark.parametrize(("username", "path"), SEARCH_PAGES)
def test_an_old_bookmark_with_the_search_in_the_address_goes_to_the_bare_page_and_searches_nothing(
    username, path, lapland_patron
):
    name = lapland_patron.last_name
    before = AccessEvent.objects.count()
    response = client_for(username).get(path, {"q": name, "page": "2"})
    assert response.status_code == 302 and response["Location"] == path
    assert AccessEvent.objects.count() == before  # nothing was searched
    # Not logged in: the name does not travel on into the log-in's `next` either.
    anonymous = Client().get(path, {"q": name}, follow=True)
    assert [url for url, _status in anonymous.redirect_chain] == [path, f"/accounts/login/?next={path}"]
    # The bare page is the empty search.
    page = client_for(username).get(path)
    assert page.status_code == 200 and name not in page.content.decode()


@pytest.mark.parametrize(("username", "path"), SEARCH_PAGES)
def test_a_search_without_the_csrf_token_is_refused(username, path, lapland_patron):
    client = client_for(username, enforce_csrf_checks=True)
    form = client.get(path).content.decode()
    assert 'name="csrfmiddlewaretoken"' in form and 'method="post"' in form
    assert client.post(path, {"q": lapland_patron.last_name}).status_code == 403


def test_the_staff_search_form_posts_with_htmx_and_pushes_no_url():
    html = client_for("rovaniemi.staff").get("/patrons/").content.decode()
    form = re.search(r"<form[^>]*patron-search[^>]*>", html, re.S).group(0)
    assert 'method="post"' in form and 'hx-post="/patrons/"' in form and 'hx-push-url="false"' in form
    assert "hx-get" not in html


# --- The API: a POST search beside the GET the API keeps ----------------------------------------------------


def test_the_api_search_in_the_body_answers_like_the_get(lapland_patron):
    client = client_for("rovaniemi.staff")
    search = f"{lapland_patron.last_name} {lapland_patron.first_name}"
    posted = client.post("/api/v1/patrons/search/", {"search": search}, content_type="application/json")
    assert posted.status_code == 200
    got = client.get("/api/v1/patrons/", {"search": search}).json()
    assert posted.json()["results"] == got["results"] and posted.json()["count"] == got["count"]
    assert lapland_patron.pk in {row["id"] for row in posted.json()["results"]}
    assert AccessEvent.objects.order_by("-id").first().action == Action.PATRON_SEARCH


def test_the_api_search_pages_by_number_never_by_a_url_with_the_search():
    client = client_for("rovaniemi.staff")
    first = client.post("/api/v1/patrons/search/", {"search": "K"}, content_type="application/json").json()
    assert set(first) == {"count", "count_exact", "next", "previous", "results"}
    assert (first["previous"], first["next"]) == (None, 2)
    second = client.post("/api/v1/patrons/search/", {"search": "K", "page": 2}, content_type="application/json").json()
    assert second["previous"] == 1
    assert not {row["id"] for row in first["results"]} & {row["id"] for row in second["results"]}
    last = client.post(
        "/api/v1/patrons/search/",
        {"search": "K", "page": (first["count"] - 1) // 25 + 1},
        content_type="application/json",
    ).json()
    assert last["next"] is None


@pytest.mark.parametrize(
    "body", [{"page": 0}, {"page": "two"}, {"search": ["Virtanen"]}, {"search": "x" * 201}, {"search": "Virta\x00nen"}]
)
def test_a_bad_api_search_body_is_a_400_and_searches_nothing(body):
    before = AccessEvent.objects.count()
    response = client_for("rovaniemi.staff").post("/api/v1/patrons/search/", body, content_type="application/json")
    assert response.status_code == 400
    assert AccessEvent.objects.count() == before


def test_the_api_search_is_for_staff_only_and_only_their_consortium(mikkeli_patron):
    body = {"search": mikkeli_patron.last_name}
    assert client_for("dpo").post("/api/v1/patrons/search/", body, content_type="application/json").status_code == 403
    lapland = client_for("rovaniemi.staff").post("/api/v1/patrons/search/", body, content_type="application/json")
    assert mikkeli_patron.pk not in {row["id"] for row in lapland.json()["results"]}
    assert client_for(None).post("/api/v1/patrons/search/", body, content_type="application/json").status_code == 403


def test_the_schema_documents_the_post_search():
    schema = client_for(None).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/patrons/search/"]["post"]
    assert operation["operationId"] == "patrons_search"
    assert "/api/v1/patrons/" in schema["paths"] and "get" in schema["paths"]["/api/v1/patrons/"]
