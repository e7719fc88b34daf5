"""Who is acting and from where: the part of a request the access log needs."""

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from django.http import HttpRequest
from django.urls import Resolver404, resolve

from staff.client_ip import client_ip
from staff.selectors import staff_profile_of


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None
    username: str
    municipality_id: int | None
    consortium_id: int | None
    client_ip: IPv4Address | IPv6Address | None
    resource: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, *, user=None) -> "Actor":
        """The actor of a request; `user` overrides request.user (at log-in, before it is set)."""
        user = user if user is not None else getattr(request, "user", None)
        authenticated = bool(user is not None and user.is_authenticated)
        profile = staff_profile_of(user)
        match = getattr(request, "resolver_match", None)
        if match is None:  # middleware runs before URL resolution
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
        return cls(
            user_id=user.pk if authenticated else None,
            username=user.get_username() if authenticated else "",
            municipality_id=profile.municipality_id if profile else None,
            consortium_id=profile.consortium_id if profile else None,
            client_ip=client_ip(request),
            resource=match.view_name if match else "",
        )
