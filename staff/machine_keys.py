"""Machine clients (Koha and its plugin) on the API: their keys' authentication and permission check.

A machine client sends `Authorization: Api-Key <prefix>.<secret>` (djangorestframework-api-key's format and
hashing; staff.models.MachineKey). A request is let in only when all of these hold, checked in this order:
- the key exists and its secret matches the stored hash (otherwise a 401 and no event: nobody is named);
- it is not revoked and has not expired (a 401, and a denied event naming the key);
- the client address (staff.client_ip, forwarded headers only from TRUSTED_PROXIES) is in the key's own
  networks and in its consortium's allow-list (staff.ip_allowlist, the rule staff are held to): a 403
  `network_not_allowed` and a denied event;
- the view's named permission is one of the key's (MachineKeyPermission): a 403 and a denied event.

Only views that name MachineKeyAuthentication accept a key: the staff pages, the admin and every other API
view authenticate by the session alone, so a key opens nothing else. Events made with a key name it
(`api-key:<prefix>:<name>`, MachineKey.actor_name), never its secret.
"""

from functools import lru_cache

from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework_api_key.permissions import KeyParser

from audit.actor import Actor
from audit.models import Action, Outcome
from audit.services import access_event_record
from staff.client_ip import IPAddress, client_ip
from staff.ip_allowlist import NetworkSet, Verdict, consortium_network_verdict
from staff.models import MachineKey

KEYWORD = KeyParser.keyword


class MachineClient:
    """request.user for a request made with a key: authenticated, but no user account, so no role, no staff
    page and no admin (has_perm is always False)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key: MachineKey) -> None:
        self.key = key

    def get_username(self) -> str:
        return self.key.actor_name

    def has_perm(self, perm: str, obj=None) -> bool:
        return False


def machine_actor(request: HttpRequest, key: MachineKey) -> Actor:
    """The actor of a request made with `key`: the key by name, its consortium, the client address."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
    return Actor(
        user_id=None,
        username=key.actor_name,
        municipality_id=None,
        consortium_id=key.consortium_id,
        client_ip=client_ip(request),
        resource=match.view_name if match else "",
    )


@lru_cache(maxsize=256)
def _key_networks(text: str) -> NetworkSet:
    return NetworkSet(text.split())


def key_allows_address(key: MachineKey, address: IPAddress | None) -> bool:
    """In the key's own networks and in its consortium's allow-list (the one allow-list rule)."""
    if address is None or address not in _key_networks(key.networks):
        return False
    return consortium_network_verdict(consortium_id=key.consortium_id, address=address) is Verdict.ALLOW


def _refuse(request, key: MachineKey, detail: str) -> None:
    """A denied event naming the key (`request` is DRF's)."""
    access_event_record(
        actor=machine_actor(request._request, key), action=Action.REQUEST, outcome=Outcome.DENIED, detail=detail
    )


def _matching_key(raw: str) -> MachineKey | None:
    """The key whose hash the raw key matches, revoked and expired ones included (so a refusal can name it)."""
    prefix, dot, _secret = raw.partition(".")
    if not dot or not prefix:
        return None
    key = MachineKey.objects.filter(prefix=prefix).first()
    return key if key is not None and key.is_valid(raw) else None


class MachineKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`; no such header leaves the request unauthenticated (a 401)."""

    def authenticate(self, request):
        raw = KeyParser().get_from_authorization(request._request)
        if raw is None:
            return None
        key = _matching_key(raw)
        if key is None:
            raise exceptions.AuthenticationFailed(_("The API key is not valid."), code="invalid_key")
        if key.revoked or key.expiry_date <= timezone.now():
            _refuse(request, key, "key_revoked" if key.revoked else "key_expired")
            raise exceptions.AuthenticationFailed(_("The API key has been revoked or has expired."), code="key_expired")
        if not key_allows_address(key, client_ip(request._request)):
            _refuse(request, key, "network_not_allowed")
            raise exceptions.PermissionDenied(
                _("Access denied: this API key may not be used from this network."), code="network_not_allowed"
            )
        return MachineClient(key), key

    def authenticate_header(self, request) -> str:
        return KEYWORD


class MachineKeyPermission(permissions.BasePermission):
    """The view's `machine_permission` (e.g. "koha.view_privacy_status") must be one of the key's; a view whose
    `machine_permission` is None takes any key the authentication let in."""

    message = _("This API key does not allow this.")

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, MachineKey):
            return False
        if view.machine_permission is None or key.has_permission(view.machine_permission):
            return True
        _refuse(request, key, "key_permission")
        return False


def machine_key_of(request) -> MachineKey:
    """The key a request authenticated with (after MachineKeyPermission let it in)."""
    key = request.auth
    assert isinstance(key, MachineKey)
    return key


def is_machine_request(request) -> bool:
    return isinstance(getattr(request, "auth", None), MachineKey)


class MachineKeyScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for machine clients' keys."""

    target_class = MachineKeyAuthentication
    name = "machineKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A machine client's key, shown once when it is created in the admin: "
            "`Authorization: Api-Key <prefix>.<secret>`.",
        }
