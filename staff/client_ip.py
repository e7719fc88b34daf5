"""The one place that decides a request's client address.

The direct peer (REMOTE_ADDR) is the client unless it is one of our own
reverse proxies (TRUSTED_PROXIES, CIDRs). Only then is the forwarded chain
read from the one header our proxies set (TRUSTED_PROXY_HEADER:
X-Forwarded-For or RFC 7239 Forwarded; never both, or a client could smuggle
in the other), right to left, skipping our own proxies: the first address that
is not ours is the client. Whatever a client writes into X-Forwarded-For,
X-Real-IP or Forwarded when it talks to us directly is ignored. A malformed
chain from a trusted proxy gives no address, which the allow-list treats as
unknown (denied).

Header parsing (quoting, ports, brackets, IPv4-mapped IPv6, RFC 7239
elements) is python-ipware's, the engine under django-ipware.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from python_ipware.modern.parsers import parse_ip, split_proxy_chain, unwrap_ipv4

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _trusted_networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in proxies)


def is_trusted_proxy(address: IPAddress | None) -> bool:
    if address is None:
        return False
    return any(address in network for network in _trusted_networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> IPAddress | None:
    peer = parse_ip(request.META.get("REMOTE_ADDR"))
    peer = unwrap_ipv4(peer) if peer is not None else None
    if not is_trusted_proxy(peer):
        return peer
    raw = request.META.get("HTTP_" + settings.TRUSTED_PROXY_HEADER.upper().replace("-", "_"))
    if not raw:
        return peer
    chain = split_proxy_chain(raw, strict=True)
    if not chain:
        return None
    hops = [unwrap_ipv4(ip) for ip in chain]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop):
            return hop
    return hops[0]
