"""The client address: forwarded headers count only from trusted proxies."""

import ipaddress

import pytest
from django.test import RequestFactory

from staff.client_ip import client_ip

rf = RequestFactory()


def address_of(peer: str, **headers) -> str | None:
    result = client_ip(rf.get("/", REMOTE_ADDR=peer, **headers))
    return str(result) if result is not None else None


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_X_FORWARDED_FOR": "10.10.0.5"},
        {"HTTP_X_FORWARDED_FOR": "10.10.0.5, 127.0.0.1"},
        {"HTTP_X_REAL_IP": "10.10.0.5"},
        {"HTTP_FORWARDED": "for=10.10.0.5"},
        {"HTTP_FORWARDED": 'for="[::1]:443"'},
        {"HTTP_CLIENT_IP": "10.10.0.5"},
    ],
)
def test_forwarded_headers_from_an_untrusted_peer_are_ignored(settings, headers):
    settings.TRUSTED_PROXIES = []
    assert address_of("203.0.113.9", **headers) == "203.0.113.9"
    settings.TRUSTED_PROXIES = ["192.0.2.0/24"]
    assert address_of("203.0.113.9", **headers) == "203.0.113.9"


def test_trusted_proxy_passes_on_the_client(settings):
    settings.TRUSTED_PROXIES = ["192.0.2.0/24"]
    assert address_of("192.0.2.1", HTTP_X_FORWARDED_FOR="10.10.0.5") == "10.10.0.5"
    settings.TRUSTED_PROXY_HEADER = "Forwarded"
    assert address_of("192.0.2.1", HTTP_FORWARDED='for="[2001:db8::7]:443";proto=https') == "2001:db8::7"


def test_only_the_header_our_proxy_sets_is_read(settings):
    settings.TRUSTED_PROXIES = ["192.0.2.0/24"]
    settings.TRUSTED_PROXY_HEADER = "Forwarded"
    # Our proxy writes Forwarded; an X-Forwarded-For it passes through came from the client.
    smuggled = {"HTTP_FORWARDED": "for=203.0.113.9", "HTTP_X_FORWARDED_FOR": "10.10.0.5"}
    assert address_of("192.0.2.1", **smuggled) == "203.0.113.9"
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    assert address_of("192.0.2.1", HTTP_FORWARDED="for=10.10.0.5") == "192.0.2.1"


def test_a_chain_of_trusted_proxies_is_walked_right_to_left(settings):
    settings.TRUSTED_PROXIES = ["192.0.2.0/24", "2001:db8:ffff::/48"]
    # The client put a fake address first; our proxies appended the real one and themselves.
    assert address_of("192.0.2.1", HTTP_X_FORWARDED_FOR="10.10.0.5, 198.51.100.7, 192.0.2.2") == "198.51.100.7"
    assert address_of("2001:db8:ffff::1", HTTP_X_FORWARDED_FOR="2001:db8:1::9, 192.0.2.2") == "2001:db8:1::9"


def test_real_ip_header_is_not_believed_even_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["192.0.2.0/24"]
    assert address_of("192.0.2.1", HTTP_X_REAL_IP="10.10.0.5") == "192.0.2.1"


def test_a_malformed_chain_from_a_trusted_proxy_gives_no_address(settings):
    settings.TRUSTED_PROXIES = ["192.0.2.0/24"]
    assert address_of("192.0.2.1", HTTP_X_FORWARDED_FOR="10.10.0.5, not-an-address") is None


def test_ipv6_and_ipv4_mapped_peers(settings):
    settings.TRUSTED_PROXIES = []
    assert address_of("::1") == "::1"
    assert address_of("::ffff:10.10.0.5") == "10.10.0.5"
    assert isinstance(client_ip(rf.get("/", REMOTE_ADDR="2001:db8::1")), ipaddress.IPv6Address)
