"""The actor of a request: who is acting (their staff profile's municipality and consortium) and from where."""

from django.http import HttpRequest
from django.urls import Resolver404, resolve

from audit.actor import Actor
from staff.client_ip import client_ip
from staff.selectors import staff_profile_of


def actor_from_request(request: HttpRequest, *, user=None) -> Actor:
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
    return Actor(
        user_id=user.pk if authenticated else None,
        username=user.get_username() if authenticated else "",
        municipality_id=profile.municipality_id if profile else None,
        consortium_id=profile.consortium_id if profile else None,
        client_ip=client_ip(request),
        resource=match.view_name if match else "",
    )
