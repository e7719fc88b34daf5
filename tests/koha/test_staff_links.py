"""Every page that shows a patron links to the patron in Koha's staff interface (issue 15), built in one place
(koha.selectors.koha_staff_patron_url, registered in patrons.koha_link): only when the consortium has a Koha
connection and the patron a Koha id, at the staff interface's own address when it has one."""

import re
from typing import cast

import pytest

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


def test_the_patron_a_billing_lookup_finds_links_to_koha_and_a_search_page_does_not(patron):
    """The clerk who found the patron by code invoices in Koha: one patron, one link. A search's page of up to
    25 patrons has none (a query per row); each row's reveal names the patron, with the link."""
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
    assert LINK.findall(searched.content.decode()) == []
