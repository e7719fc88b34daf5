"""The `fake_koha` fixture: one server per test session, a fresh Koha (data, switches, faults) per test."""

from collections.abc import Iterator

import pytest

from tests.fake_koha.server import FakeKoha


@pytest.fixture(scope="session")
def _fake_koha_server() -> Iterator[FakeKoha]:
    fake = FakeKoha().start()
    yield fake
    fake.down()


@pytest.fixture
def fake_koha(_fake_koha_server: FakeKoha) -> Iterator[FakeKoha]:
    """A running fake Koha at `.base_url` (without /api/v1), empty, with a valid OAuth2 client."""
    _fake_koha_server.reset()
    _fake_koha_server.up()
    yield _fake_koha_server
    _fake_koha_server.up()
