"""Per-municipality IP allow-lists: the rule, its compiled form, and the middleware.

A staff member may work only from their municipality's networks or their
consortium's networks (a Citrix gateway). The rule is `network_verdict`; the
middleware applies it to every request of a logged-in user, and the log-in
view applies it to every successful password check.

Networks are compiled into sorted integer ranges once per change (a
generation token in the cache, bumped by signals, with a periodic recheck for
other processes), so a request costs a dictionary lookup and a bisect, never a
CIDR parse or a query.
"""

import enum
import ipaddress
import threading
import time
import uuid
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import logout
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from audit.actor import Actor
from audit.models import Action, Outcome
from audit.services import access_event_record
from privacy_service.client_ip import IPAddress, client_ip

GENERATION_KEY = "ip_allowlist:generation"
REPORTED_SESSION_KEY = "_ip_allowlist_reported"


class Verdict(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    REPORT = "report"  # would be denied, but the municipality is in report mode


class NetworkSet:
    """A set of CIDRs as merged, sorted integer ranges per IP version."""

    __slots__ = ("_ranges",)

    def __init__(self, cidrs: Iterable[str]):
        spans: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for cidr in cidrs:
            network = ipaddress.ip_network(cidr, strict=False)
            spans[network.version].append((int(network.network_address), int(network.broadcast_address)))
        self._ranges = {version: self._merge(items) for version, items in spans.items()}

    @staticmethod
    def _merge(spans: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
        starts: list[int] = []
        ends: list[int] = []
        for start, end in sorted(spans):
            if ends and start <= ends[-1] + 1:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        return starts, ends

    def __contains__(self, address: IPAddress) -> bool:
        starts, ends = self._ranges[address.version]
        value = int(address)
        index = bisect_right(starts, value) - 1
        return index >= 0 and value <= ends[index]


@dataclass(frozen=True)
class CompiledAllowList:
    networks: dict[int, NetworkSet]  # municipality id -> its own plus its consortium's networks
    report_only: frozenset[int]  # municipalities in report mode
    user_municipality: dict[int, int]  # user id -> home library's municipality id

    def verdict(self, user_id: int, address: IPAddress | None) -> Verdict:
        municipality_id = self.user_municipality.get(user_id)
        if municipality_id is None:
            return Verdict.DENY  # no staff profile: no network is theirs
        networks = self.networks.get(municipality_id)
        if address is not None and networks is not None and address in networks:
            return Verdict.ALLOW
        return Verdict.REPORT if municipality_id in self.report_only else Verdict.DENY


def compile_allow_list() -> CompiledAllowList:
    from patrons.models import AllowedNetwork, EnforcementMode, Municipality, StaffProfile

    own: dict[int, list[str]] = {}
    consortium_wide: dict[int, list[str]] = {}
    for municipality_id, consortium_id, cidr in AllowedNetwork.objects.values_list(
        "municipality_id", "consortium_id", "cidr"
    ):
        if municipality_id is not None:
            own.setdefault(municipality_id, []).append(cidr)
        else:
            consortium_wide.setdefault(consortium_id, []).append(cidr)
    networks = {}
    report_only = set()
    for municipality_id, consortium_id, mode in Municipality.objects.values_list("id", "consortium_id", "network_mode"):
        networks[municipality_id] = NetworkSet(own.get(municipality_id, []) + consortium_wide.get(consortium_id, []))
        if mode == EnforcementMode.REPORT:
            report_only.add(municipality_id)
    user_municipality = dict(StaffProfile.objects.values_list("user_id", "home_library__municipality_id"))
    return CompiledAllowList(networks, frozenset(report_only), user_municipality)


# How often a process looks at the shared generation token: a shared cache is a network round
# trip, which every request need not pay. Changes made in this process apply at once regardless.
TOKEN_CHECK_SECONDS = 1.0


class _Compiled:
    """This process's compiled allow-list, rebuilt when the generation changes or goes stale."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self._generation: str | None = None
        self._compiled_at = 0.0
        self._token_checked_at = 0.0
        self._value: CompiledAllowList | None = None

    def get(self) -> CompiledAllowList:
        now = time.monotonic()
        if self._value is not None and now - self._token_checked_at < TOKEN_CHECK_SECONDS:
            return self._value
        generation = cache.get(GENERATION_KEY)
        fresh = now - self._compiled_at < settings.ALLOWLIST_RECHECK_SECONDS
        if self._value is not None and generation is not None and generation == self._generation and fresh:
            self._token_checked_at = now
            return self._value
        with self._lock:
            if generation is None:
                generation = uuid.uuid4().hex
                cache.set(GENERATION_KEY, generation, timeout=None)
            value = compile_allow_list()
            self._value, self._generation = value, generation
            self._compiled_at = self._token_checked_at = time.monotonic()
            return value


compiled_allow_list = _Compiled()


def _bump_generation() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    compiled_allow_list.reset()


def invalidate_allow_list(**_kwargs) -> None:
    """Signal receiver: networks, modes or staff homes changed. Applied now and again after commit."""
    _bump_generation()
    transaction.on_commit(_bump_generation)


def network_verdict(*, user, address: IPAddress | None) -> Verdict:
    """May this user work from this address? The one place the allow-list rule is decided."""
    return compiled_allow_list.get().verdict(user.pk, address)


def record_network_refusal(*, request: HttpRequest, user, action: str, verdict: Verdict) -> None:
    access_event_record(
        actor=Actor.from_request(request, user=user),
        action=action,
        outcome=Outcome.DENIED if verdict is Verdict.DENY else Outcome.REPORTED,
        detail="network_not_allowed",
    )


def mark_reported(request: HttpRequest, address: IPAddress | None) -> None:
    request.session[REPORTED_SESSION_KEY] = str(address)


def network_denied_response(request: HttpRequest) -> HttpResponse:
    message = _(
        "Access denied: you are not connected from a network your library allows. "
        "Connect from your library's network or the consortium's remote-access service."
    )
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "network_not_allowed"}, status=403)
    return render(request, "errors/network_denied.html", {"message": message}, status=403)


class IPAllowListMiddleware:
    """Applies the allow-list to every request of a logged-in user: pages, API and admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            address = client_ip(request)
            verdict = network_verdict(user=user, address=address)
            if verdict is Verdict.DENY:
                record_network_refusal(request=request, user=user, action=Action.REQUEST, verdict=verdict)
                logout(request)
                return network_denied_response(request)
            if verdict is Verdict.REPORT and request.session.get(REPORTED_SESSION_KEY) != str(address):
                # Report mode logs a would-be denial once per session and address, not per request.
                record_network_refusal(request=request, user=user, action=Action.REQUEST, verdict=verdict)
                mark_reported(request, address)
        return self.get_response(request)
