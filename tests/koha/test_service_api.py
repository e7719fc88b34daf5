"""The plugin's test call (GET /api/v1/koha/service/) and the privacy status's links.

Attacks: no key, a revoked key and a staff session are refused; a version older, garbled or missing is not
supported; the permissions listed are the key's own. The links never carry an identity code or a text.
"""

import pytest
from django.test import Client
from django.utils import timezone

from audit.actor import Actor
from audit.models import AccessEvent
from patrons.models import Note, NoteCategory, Patron
from sotu_silo.services import identity_code_exists, identity_code_reveal
from staff.admin import machine_permissions
from staff.models import Consortium
from tests.conftest import client_for
from tests.koha.test_machine_api import STATUS_URL, machine, make_key

pytestmark = pytest.mark.django_db

SERVICE_URL = "/api/v1/koha/service/"


def test_the_service_describes_itself_to_a_valid_key_without_an_access_event():
    _key, raw = make_key(permissions=[])
    before = AccessEvent.objects.count()
    response = machine(raw, HTTP_X_PATRON_PRIVACY_PLUGIN="1.0.0").get(SERVICE_URL)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "service": "patron-privacy",
        "api_version": 1,
        "plugin_min_version": "1.0.0",
        "plugin_supported": True,
        "consortium": "lapin-kirjastot",
        "permissions": [],
    }
    assert AccessEvent.objects.count() == before


def test_the_permissions_listed_are_the_keys_own():
    only_views = [p for p in machine_permissions() if p.codename == "record_views"]
    _key, raw = make_key(permissions=only_views)
    assert machine(raw).get(SERVICE_URL).json()["permissions"] == ["koha.record_views"]
    _key, raw = make_key()
    assert machine(raw).get(SERVICE_URL).json()["permissions"] == ["koha.record_views", "koha.view_privacy_status"]


@pytest.mark.parametrize(
    ("version", "supported"),
    [
        ("1.0.0", True),
        ("1.2", True),
        ("2.0.0", True),
        ("0.9.9", False),
        ("1.0.0-beta; drop", False),
        ("", False),
        (None, False),
        ("v1.0.0", False),
    ],
)
def test_the_plugin_version_is_checked(settings, version, supported):
    settings.KOHA_PLUGIN_MIN_VERSION = "1.0.0"
    _key, raw = make_key()
    headers = {} if version is None else {"HTTP_X_PATRON_PRIVACY_PLUGIN": version}
    assert machine(raw, **headers).get(SERVICE_URL).json()["plugin_supported"] is supported


def test_no_key_a_revoked_key_and_a_staff_session_are_refused():
    assert Client(REMOTE_ADDR="127.0.0.1").get(SERVICE_URL).status_code == 401
    _key, raw = make_key(revoked=True)
    assert machine(raw).get(SERVICE_URL).status_code == 401
    assert machine("nonsense.key").get(SERVICE_URL).status_code == 401
    assert client_for("admin").get(SERVICE_URL).status_code == 401


def test_the_privacy_status_links_the_patron_and_billing_only_when_a_code_is_stored():
    _key, raw = make_key()
    patrons = Patron.objects.filter(consortium__slug="lapin-kirjastot", koha_patron_id__isnull=False)
    with_code = next(p for p in patrons if identity_code_exists(patron_id=p.pk))
    without = next(p for p in patrons if not identity_code_exists(patron_id=p.pk))
    body = machine(raw).get(STATUS_URL.format(with_code.koha_patron_id)).json()
    assert body["links"] == {
        "patron": f"/patrons/{with_code.pk}/",
        "billing": f"/billing/patrons/{with_code.pk}/reveal/",
    }
    body = machine(raw).get(STATUS_URL.format(without.koha_patron_id)).json()
    assert body["links"] == {"patron": f"/patrons/{without.pk}/", "billing": None}


def test_no_identity_code_and_no_free_text_is_ever_in_the_privacy_status():
    _key, raw = make_key()
    patrons = Patron.objects.filter(consortium__slug="lapin-kirjastot", koha_patron_id__isnull=False)
    patron = next(p for p in patrons if identity_code_exists(patron_id=p.pk))
    billing = Actor(
        user_id=None,
        username="test",
        municipality_id=None,
        consortium_id=Consortium.objects.get(slug="lapin-kirjastot").pk,
        client_ip=None,
        resource="",
    )
    code = identity_code_reveal(actor=billing, patron_id=patron.pk, reason="test")

    Note.objects.create(
        patron=patron,
        category=NoteCategory.BEHAVIOUR,
        text="Heitti kirjalla.",
        created_at=timezone.now(),
        created_by="x",
    )
    text = machine(raw).get(STATUS_URL.format(patron.koha_patron_id)).content.decode()
    for secret in (code, code.replace("-", ""), code[:6], "Heitti", patron.last_name, patron.first_name):
        assert secret not in text
