"""A faithful fake of Koha's REST API for the tests and benches (see fixtures.py and server.py)."""

from tests.fake_koha.server import FakeKoha, KohaRequest

__all__ = ["FakeKoha", "KohaRequest"]
