"""The patron search as rebuilt for a million patrons (issue 16): the same matches in the same order as one plain
filter, a count that stops at SEARCH_COUNT_LIMIT and says so, card numbers, å/ä/ö, and never another consortium's
patron. The speed itself is measured by bench/search_scale.py, not here."""

import pytest
from django.db import connection
from django.db.models import Q, Value

from audit.actor import Actor
from patrons import selectors
from patrons.selectors import SEARCH_ORDER, patron_search, search_terms
from staff.models import Library
from tests.bans.test_ban_decision_document import actor_for
from tests.conftest import client_for
from tests.factories import PatronFactory

pytestmark = pytest.mark.django_db


def staff_actor(username: str = "rovaniemi.staff") -> Actor:
    return actor_for(username)


def plainly(actor: Actor, query: str) -> list[int]:
    """The matches of `query` by one plain filter, in the search's order: what the search's parts must add up to."""
    found = selectors.staff_patrons(actor).annotate(
        last_key=selectors.SearchKey("last_name"), first_key=selectors.SearchKey("first_name")
    )
    for term in search_terms(query):
        upper = selectors.SearchKey(Value(term))
        found = found.filter(
            Q(last_key__startswith=upper) | Q(first_key__startswith=upper) | Q(cardnumber__startswith=term)
        )
    return list(found.order_by(*SEARCH_ORDER).values_list("id", flat=True))


def every_page(actor: Actor, query: str, page_size: int) -> list[int]:
    ids: list[int] = []
    number = 1
    while True:
        page = patron_search(actor=actor, query=query, page_number=number, page_size=page_size)
        ids += [patron.pk for patron in page.object_list]
        if not page.has_next():
            return ids
        number += 1


@pytest.fixture
def rovaniemi() -> Library:
    return Library.objects.get(koha_library_id="ROV")


@pytest.mark.parametrize("query", ["a", "ka", "Kangas, Aino", "ai ka", "k a", "", "99", "zzz", "a%", "_"])
def test_the_parts_of_a_search_add_up_to_the_plain_filter_in_the_same_order(query, rovaniemi):
    PatronFactory(home_library=rovaniemi, first_name="Kaarina", last_name="Aalto", cardnumber="99AK1")
    PatronFactory(home_library=rovaniemi, first_name="Aino", last_name="Kangas", cardnumber="99AK2")
    PatronFactory(home_library=rovaniemi, first_name="Ka", last_name="Ka", cardnumber="99AK3")
    actor = staff_actor()
    assert every_page(actor, query, page_size=7) == plainly(actor, query)


def test_the_order_is_by_name_case_insensitively_then_id(rovaniemi):
    lower = PatronFactory(home_library=rovaniemi, first_name="Anna", last_name="vonqvist")
    upper = PatronFactory(home_library=rovaniemi, first_name="Bertil", last_name="Vonqvist")
    first = PatronFactory(home_library=rovaniemi, first_name="aada", last_name="VONQVIST")
    listed = [p.pk for p in patron_search(actor=staff_actor(), query="vonq").object_list]
    assert listed == [first.pk, lower.pk, upper.pk]


def test_a_broad_search_counts_up_to_the_limit_and_says_there_are_more(monkeypatch, rovaniemi):
    monkeypatch.setattr(selectors, "SEARCH_COUNT_LIMIT", 5)
    for n in range(7):
        PatronFactory(home_library=rovaniemi, first_name="Eero", last_name=f"Qvistberg{n}")
    client = client_for("rovaniemi.staff")
    broad = client.get("/api/v1/patrons/", {"search": "qvistberg"}).json()
    assert (broad["count"], broad["count_exact"], len(broad["results"])) == (5, False, 5)
    posted = client.post("/api/v1/patrons/search/", {"search": "qvistberg"}, content_type="application/json").json()
    assert (posted["count"], posted["count_exact"]) == (5, False)
    narrow = client.get("/api/v1/patrons/", {"search": "qvistberg3"}).json()
    assert (narrow["count"], narrow["count_exact"], len(narrow["results"])) == (1, True, 1)
    client.cookies["django_language"] = "en"
    page = client.post("/patrons/", {"q": "qvistberg"}, headers={"HX-Request": "true"}).content.decode()
    assert "More than 5 patrons found: the pages show the first 5." in page
    exact = client.post("/patrons/", {"q": "qvistberg3"}, headers={"HX-Request": "true"}).content.decode()
    assert "1 patron found." in exact


def test_the_count_at_the_limit_is_exact(monkeypatch, rovaniemi):
    monkeypatch.setattr(selectors, "SEARCH_COUNT_LIMIT", 5)
    for n in range(5):
        PatronFactory(home_library=rovaniemi, first_name="Eero", last_name=f"Qvistberg{n}")
    page = patron_search(actor=staff_actor(), query="qvistberg")
    assert (page.paginator.count, page.paginator.count_exact) == (5, True)


def test_a_card_number_finds_its_patron_exactly_and_by_its_start(rovaniemi):
    patron = PatronFactory(home_library=rovaniemi, cardnumber="24400777001")
    PatronFactory(home_library=rovaniemi, cardnumber="24400777002")
    actor = staff_actor()
    assert [p.pk for p in patron_search(actor=actor, query="24400777001").object_list] == [patron.pk]
    assert len(patron_search(actor=actor, query="244007770").object_list) == 2


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite's UPPER folds ASCII letters only (development database)"
)
@pytest.mark.parametrize(
    ("typed", "last_name"), [("å", "Åkerblom"), ("ä", "Äimälä"), ("ö", "Öhqvist"), ("ÖH", "öhqvist")]
)
def test_a_prefix_of_a_finnish_or_swedish_letter_is_found_in_either_case(typed, last_name, rovaniemi):
    patron = PatronFactory(home_library=rovaniemi, first_name="Zyx", last_name=last_name)
    listed = every_page(staff_actor(), f"{typed} zyx", page_size=25)
    assert listed == [patron.pk]


def test_another_consortiums_patron_is_never_found_nor_counted():
    mikkeli = Library.objects.get(koha_library_id="MIK")
    other = PatronFactory(home_library=mikkeli, first_name="Xenia", last_name="Qwertyson", cardnumber="77123")
    client = client_for("rovaniemi.staff")
    for typed in ["qwertyson", "xenia", "xenia qwertyson", "77123", "q", "x"]:
        body = client.get("/api/v1/patrons/", {"search": typed}).json()
        assert other.pk not in {row["id"] for row in body["results"]}, typed
        if typed not in ("q", "x"):
            assert (body["count"], body["count_exact"]) == (0, True), typed
    found = client_for("mikkeli.staff").get("/api/v1/patrons/", {"search": "xenia qwertyson"}).json()
    assert [row["id"] for row in found["results"]] == [other.pk]


def test_a_patron_held_after_erasure_is_not_found(rovaniemi):
    held = PatronFactory(home_library=rovaniemi, last_name="Qheldman", held_after_erasure=True)
    assert held.pk not in every_page(staff_actor(), "qheldman", page_size=25)
    assert patron_search(actor=staff_actor(), query="qheldman").paginator.count == 0


def test_a_search_is_two_queries_whatever_the_words(django_assert_max_num_queries):
    actor = staff_actor()
    for query in ["", "a", "kangas aino", "a b c"]:
        scope = selectors.staff_patrons(actor)
        search = selectors.SearchPaginator(scope, scope=scope, terms=search_terms(query), per_page=25)
        with django_assert_max_num_queries(2):  # the count and the page (none when nothing was counted)
            list(search.get_page(1).object_list)
