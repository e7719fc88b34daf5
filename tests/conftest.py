"""Shared fixtures: the demo world (seed_demo) once per test database, and clients per role."""

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import is_privileged
from accounts.services.two_factor import TOTP_DEVICE_NAME
from patrons.models import Patron
from tests.fake_koha.fixtures import _fake_koha_server, fake_koha  # noqa: F401 (fixtures for every test)

_test_numbers = itertools.count()

OWN_NETWORK = {
    "rovaniemi.staff": "127.0.0.1",
    "rovaniemi.billing": "10.10.4.20",
    "rovaniemi.director": "::1",
    "dpo": "127.0.0.1",
    "admin": "127.0.0.1",
    "kemi.staff": "10.20.1.7",
    "mikkeli.staff": "10.30.2.9",
    "eslov.staff": "10.40.2.5",
}


def pytest_collection_modifyitems(items):
    """Database tests may use both databases: patron pages ask the silo whether a code exists."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and "databases" not in marker.kwargs:
            item.add_marker(pytest.mark.django_db(*marker.args, **marker.kwargs, databases=["default", "sotu"]))


@pytest.fixture(scope="session", autouse=True)
def _checkpoint_directory(tmp_path_factory):
    """Access-log checkpoints of the test databases go to a temporary directory, never to var/."""
    from django.test import override_settings

    with override_settings(AUDIT_CHECKPOINT_DIR=tmp_path_factory.mktemp("checkpoints")):
        yield


@pytest.fixture(scope="session")
def django_db_setup(_checkpoint_directory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", verbosity=0)


@pytest.fixture(autouse=True)
def _own_checkpoint_directory(settings, tmp_path_factory):
    """Each test its own (not yet created) checkpoint directory: a test's events are rolled back, so a
    checkpoint of them must not be what the next test's checkpoint is checked against."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path_factory.getbasetemp() / "checkpoints-per-test" / str(next(_test_numbers))


@pytest.fixture(autouse=True)
def _fresh_allow_list(db):
    """Each test starts from the committed networks and an empty cache; tests that change data roll back.

    That includes django-axes' failure counts (its database handler, in the test's transaction), so no
    test inherits another's lockout.
    """
    from django.core.cache import cache

    from staff.ip_allowlist import invalidate_allow_list

    cache.clear()
    invalidate_allow_list()
    yield
    invalidate_allow_list()


class StaffClient(Client):
    """A test client whose force_login also passes the second factor for users who need one
    (billing, DPO, superusers), unless it was made with two_factor=False."""

    def __init__(self, *args, two_factor: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.two_factor = two_factor

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        if self.two_factor and is_privileged(user):
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
                user=user, name=TOTP_DEVICE_NAME, confirmed=True
            )
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()


def client_for(username: str | None, *, address: str | None = None, two_factor: bool = True, **headers) -> Client:
    """A test client logged in as `username` (None: anonymous), talking from `address`.

    Users who need a second factor get a session that passed it; `two_factor=False` gives one that has
    only passed the password, as right after the log-in form.
    """
    remote = address or OWN_NETWORK.get(username or "", "127.0.0.1")
    client = StaffClient(REMOTE_ADDR=remote, two_factor=two_factor, **headers)
    if username:
        client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def lapland_patron() -> Patron | None:
    return Patron.objects.filter(consortium__slug="lapin-kirjastot", guardianships__isnull=False).first()


@pytest.fixture
def mikkeli_patron() -> Patron | None:
    return Patron.objects.filter(consortium__slug="mikkelin-seutukirjasto").first()


@pytest.fixture
def eslov_patron() -> Patron | None:
    """A patron of the Swedish consortium (Eslövs bibliotek, jurisdiction SE)."""
    return Patron.objects.filter(consortium__slug="eslovs-bibliotek").first()
