"""Who is acting and from where: the part of a request the access log needs.

Built from a request by staff.actor.actor_from_request; commands and jobs build one directly.
"""

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None
    username: str
    municipality_id: int | None
    consortium_id: int | None
    client_ip: IPv4Address | IPv6Address | None
    resource: str = ""
