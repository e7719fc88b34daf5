"""Every page that shows a patron links to the patron in Koha's staff interface (issue 15), built in one place
(koha.selectors.koha_staff_patron_url_builder, registered in patrons.koha_link): only when the consortium has a Koha
connection and the patron a Koha id, at the staff interface's own address when it has one. A list reads the
connection once, whatever its length."""

import re
from typing import cast

import pytest
from django.db import connection as database
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.actor import Actor
from dpo.models import SubjectRequest
from koha.models import KohaConnection
from koha.services import koha_connection_save
from patrons.models import Patron
from staff.models import Consortium, Library
from tests.conftest import client_for
from tests.dpo.test_erasure import subject_request
from tests.factories import PatronFactory
from tests.patrons.procedure import disturbance_notes, propose, today_is

pytestmark = pytest.mark.django_db

LAPLAND = "lapin-kirjastot"
LINK = re.compile(r'<a href="([^"]*moremember[^"]*)"([^>]*)>')


def connect(staff_url: str | None = None) -> KohaConnection:
    connection, _changed = koha_connection_save(
        actor=Actor(user_id=None, username="test", municipality_id=None, consortium_id=None, client_ip=None),
        consortium=Consortium.objects.get(slug=LAPLAND),
        base_url="https://koha.lapin-kirjastot.example/api/v1",
        auth="oauth2",
        client_id="privacy-service",
        secret="a-secret-value-of-the-test",
        staff_url=staff_url,
    )
    return connection


@pytest.fixture
def patron() -> Patron:
    return cast(Patron, PatronFactory(home_library=Library.objects.get(koha_library_id="ROV"), koha_patron_id=4711))


def links(path: str, username: str = "rovaniemi.director") -> list[tuple[str, str]]:
    response = client_for(username).get(path)
    assert response.status_code == 200, path
    return LINK.findall(response.content.decode())


def test_the_patron_page_links_to_koha_at_its_address_and_then_at_the_staff_interfaces(patron):
    connect()
    expected = "https://koha.lapin-kirjastot.example/cgi-bin/koha/members/moremember.pl?borrowernumber=4711"
    [(url, attributes)] = links(f"/patrons/{patron.pk}/")
    assert url == expected and "target" not in attributes  # the same tab
    connect(staff_url="https://koha-staff.lapin-kirjastot.example:8443/")
    [(url, _attributes)] = links(f"/patrons/{patron.pk}/")
    assert (
        url == "https://koha-staff.lapin-kirjastot.example:8443/cgi-bin/koha/members/moremember.pl?borrowernumber=4711"
    )


def test_the_ban_pages_link_to_koha_too(patron):
    connect()
    director = client_for("rovaniemi.director")
    notes = disturbance_notes(director, patron.pk)
    assert len(links(f"/patrons/{patron.pk}/bans/new/")) == 1
    proposed = propose(director, patron.pk, notes, today_is())
    assert proposed.status_code == 201, proposed.content
    assert len(links(f"/bans/{proposed.json()['id']}/")) == 1


def test_no_link_without_a_connection_or_a_koha_id(patron):
    assert links(f"/patrons/{patron.pk}/") == []  # Lapland has no connection yet
    connect()
    Patron.objects.filter(pk=patron.pk).update(koha_patron_id=None)  # registered here, not yet in Koha
    assert links(f"/patrons/{patron.pk}/") == []


def test_no_link_while_the_connection_is_turned_off(patron):
    """A disabled connection is no connection: the link would lead staff to a Koha the consortium does not use."""
    connection = connect()
    assert len(links(f"/patrons/{patron.pk}/")) == 1
    KohaConnection.objects.filter(pk=connection.pk).update(enabled=False)
    assert links(f"/patrons/{patron.pk}/") == []
    KohaConnection.objects.filter(pk=connection.pk).update(enabled=True)
    assert len(links(f"/patrons/{patron.pk}/")) == 1


def test_another_consortiums_connection_is_never_used(mikkeli_patron):
    connect()  # Lapland's
    assert links(f"/patrons/{mikkeli_patron.pk}/", username="mikkeli.staff") == []


def test_the_staff_interface_address_is_held_to_the_rules_of_koha_s_address():
    with pytest.raises(Exception, match="https"):
        connect(staff_url="http://koha-staff.example.fi")


def test_the_billing_reveal_page_links_to_koha_too(patron):
    """The clerk sees whose code it is, and can open the same patron in Koha to invoice."""
    connect()
    stored = client_for("rovaniemi.staff").put(
        f"/api/v1/patrons/{patron.pk}/identity-code/", {"identity_code": "230375-5179"}, content_type="application/json"
    )
    assert stored.status_code == 200, stored.content
    page = client_for("rovaniemi.billing").post(f"/billing/patrons/{patron.pk}/reveal/", {"reason": "lasku 2026-7"})
    assert page.status_code == 200, page.content
    [(url, _attributes)] = LINK.findall(page.content.decode())
    assert url.endswith("/cgi-bin/koha/members/moremember.pl?borrowernumber=4711")


def test_the_dpos_request_and_erasure_pages_link_to_koha_too(patron):
    """The DPO works a request in the admin and checks the same patron in Koha (what Koha holds is erased there)."""
    request = subject_request(patron)
    change_page = f"/admin/dpo/subjectrequest/{request.pk}/change/"
    assert links(change_page, username="dpo") == []  # no connection yet
    connect()
    [(url, _attributes)] = links(change_page, username="dpo")
    assert url.endswith("/cgi-bin/koha/members/moremember.pl?borrowernumber=4711")
    [(url, _attributes)] = links(f"/admin/dpo/requests/{request.pk}/erase/", username="dpo")
    assert url.endswith("/cgi-bin/koha/members/moremember.pl?borrowernumber=4711")


def test_the_dpos_request_page_never_links_another_consortiums_patron(mikkeli_patron):
    """A request names a patron by id only: the link is built for the request's own consortium's patron alone."""
    connect()  # Lapland's
    Patron.objects.filter(pk=mikkeli_patron.pk).update(koha_patron_id=4711)
    request = subject_request(mikkeli_patron)
    SubjectRequest.objects.filter(pk=request.pk).update(consortium=Consortium.objects.get(slug=LAPLAND))
    assert links(f"/admin/dpo/subjectrequest/{request.pk}/change/", username="dpo") == []


def test_the_billing_lookup_and_search_rows_link_to_koha(patron):
    """The clerk who found the patron, by code or by card number, invoices in Koha: each row links to it."""
    connect()
    clerk = client_for("rovaniemi.billing")
    code = "230375-5179"
    stored = client_for("rovaniemi.staff").put(
        f"/api/v1/patrons/{patron.pk}/identity-code/", {"identity_code": code}, content_type="application/json"
    )
    assert stored.status_code == 200, stored.content
    found = clerk.post("/billing/lookup/", {"identity_code": code, "reason": "lasku 2026-7"})
    assert found.status_code == 200
    [(url, _attributes)] = LINK.findall(found.content.decode())
    assert url.endswith("/cgi-bin/koha/members/moremember.pl?borrowernumber=4711")
    searched = clerk.post("/billing/", {"q": patron.cardnumber})
    assert searched.status_code == 200 and patron.cardnumber in searched.content.decode()
    [(url, _attributes)] = LINK.findall(searched.content.decode())
    assert url.endswith("/cgi-bin/koha/members/moremember.pl?borrowernumber=4711")


def namesakes(count: int, last_name: str, first_koha_id: int = 5101) -> list[Patron]:
    library = Library.objects.get(koha_library_id="ROV")
    return [
        cast(Patron, PatronFactory(home_library=library, last_name=last_name, koha_patron_id=first_koha_id + n))
        for n in range(count)
    ]


def searched(last_name: str, client: Client | None = None) -> tuple[str, list[str]]:
    """The staff search's results for a name (htmx's fragment) and the statements it took."""
    client = client or client_for("rovaniemi.staff")
    with CaptureQueriesContext(database) as queries:
        response = client.post("/patrons/", {"q": last_name}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in queries.captured_queries]


def test_the_staff_search_links_each_patron_to_koha_for_one_query_whatever_the_rows():
    namesakes(1, "Linkkilä", first_koha_id=5200)
    namesakes(3, "Linkkinen")
    connect()
    client = client_for("rovaniemi.staff")
    searched("Linkkinen", client)  # the session's first search (its writes are not the list's)
    one, one_statements = searched("Linkkilä", client)
    three, three_statements = searched("Linkkinen", client)
    assert len(LINK.findall(one)) == 1
    assert sorted(url.rsplit("=", 1)[1] for url, _attributes in LINK.findall(three)) == ["5101", "5102", "5103"]
    assert len(one_statements) == len(three_statements)
    assert len([sql for sql in three_statements if "koha_kohaconnection" in sql]) == 1  # the connection, once


def test_a_turned_off_connection_gives_a_list_no_links():
    connection = connect()
    namesakes(3, "Linkkinen")
    KohaConnection.objects.filter(pk=connection.pk).update(enabled=False)
    page, _statements = searched("Linkkinen")
    assert "Linkkinen" in page and LINK.findall(page) == []


def test_a_row_of_a_patron_not_in_koha_has_no_link():
    connect()
    [first, _second, _third] = namesakes(3, "Linkkinen")
    Patron.objects.filter(pk=first.pk).update(koha_patron_id=None)
    page, _statements = searched("Linkkinen")
    assert len(LINK.findall(page)) == 2
