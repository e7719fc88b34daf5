"""Per-municipality IP allow-lists: the rule, its compiled form, and the middleware.

A staff member may work only from their municipality's networks or their
consortium's networks (a Citrix gateway). The rule is `network_verdict`; the
middleware applies it to every request of a logged-in user, and the log-in
view applies it to every successful password check.

Networks are compiled into sorted integer ranges once per change, so a
request costs a dictionary lookup and a bisect, never a CIDR parse. Which
change a process has compiled is a generation number kept in the database
(staff.models.AllowListGeneration), raised in the same transaction as the
change; each process reads it at most once a second, so a removed network is
refused by every worker within a second of its commit.
"""

import enum
import ipaddress
import threading
import time
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import logout
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from audit.models import Action, Outcome
from audit.services import access_event_record
from staff.actor import actor_from_request
from staff.client_ip import IPAddress, client_ip

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
    consortium_networks: dict[int, NetworkSet]  # consortium id -> every network of the consortium

    def verdict(self, user_id: int, address: IPAddress | None) -> Verdict:
        municipality_id = self.user_municipality.get(user_id)
        if municipality_id is None:
            return Verdict.DENY  # no staff profile: no network is theirs
        networks = self.networks.get(municipality_id)
        if address is not None and networks is not None and address in networks:
            return Verdict.ALLOW
        return Verdict.REPORT if municipality_id in self.report_only else Verdict.DENY

    def consortium_verdict(self, consortium_id: int, address: IPAddress | None) -> Verdict:
        """A machine client of the consortium: any of its networks, enforced (no report mode: a key is new)."""
        networks = self.consortium_networks.get(consortium_id)
        if address is not None and networks is not None and address in networks:
            return Verdict.ALLOW
        return Verdict.DENY


def compile_allow_list() -> CompiledAllowList:
    from staff.models import AllowedNetwork, EnforcementMode, Municipality, StaffProfile

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
    everything: dict[int, list[str]] = {cid: list(cidrs) for cid, cidrs in consortium_wide.items()}
    for municipality_id, consortium_id, mode in Municipality.objects.values_list("id", "consortium_id", "network_mode"):
        networks[municipality_id] = NetworkSet(own.get(municipality_id, []) + consortium_wide.get(consortium_id, []))
        everything.setdefault(consortium_id, []).extend(own.get(municipality_id, []))
        if mode == EnforcementMode.REPORT:
            report_only.add(municipality_id)
    user_municipality = dict(StaffProfile.objects.values_list("user_id", "home_library__municipality_id"))
    consortium_networks = {cid: NetworkSet(cidrs) for cid, cidrs in everything.items()}
    return CompiledAllowList(networks, frozenset(report_only), user_municipality, consortium_networks)


# How often a process reads the generation number: a change made elsewhere reaches this process within
# this time (a query a second per process; the requests in between pay a clock read).
GENERATION_CHECK_SECONDS = 1.0


def current_generation() -> int:
    from staff.models import AllowListGeneration

    return (
        AllowListGeneration.objects.filter(pk=AllowListGeneration.ROW_ID).values_list("value", flat=True).first() or 0
    )


class CompiledAllowListCache:
    """A process's compiled allow-list, rebuilt when the database's generation number has moved."""

    def __init__(self):
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._checked_at = 0.0
        self._value: CompiledAllowList | None = None

    def reset(self) -> None:
        with self._lock:  # not in the middle of a compilation, which would put its older result back
            self._value = None

    def get(self) -> CompiledAllowList:
        now = time.monotonic()
        if self._value is not None and now - self._checked_at < GENERATION_CHECK_SECONDS:
            return self._value
        # Read before compiling: a change committed in between is compiled now or at the next check.
        generation = current_generation()
        with self._lock:
            if self._value is None or generation != self._generation:
                self._value = compile_allow_list()
                self._generation = generation
            self._checked_at = now
            return self._value


compiled_allow_list = CompiledAllowListCache()


def generation_bump() -> None:
    """Raise the generation number inside the caller's transaction: other processes see it at its commit."""
    from staff.models import AllowListGeneration

    if not AllowListGeneration.objects.filter(pk=AllowListGeneration.ROW_ID).update(value=F("value") + 1):
        AllowListGeneration.objects.get_or_create(pk=AllowListGeneration.ROW_ID, defaults={"value": 1})


def invalidate_allow_list(**_kwargs) -> None:
    """Signal receiver: networks, modes, libraries or staff homes changed.

    The generation goes up in the change's own transaction (rolled back with it); this process
    recompiles at once, and again after the commit.
    """
    generation_bump()
    compiled_allow_list.reset()
    transaction.on_commit(compiled_allow_list.reset)


def network_verdict(*, user, address: IPAddress | None) -> Verdict:
    """May this user work from this address? The one place the allow-list rule is decided."""
    return compiled_allow_list.get().verdict(user.pk, address)


def consortium_network_verdict(*, consortium_id: int, address: IPAddress | None) -> Verdict:
    """May a machine client of this consortium call from this address? Any of the consortium's networks
    (its municipalities' and its consortium-wide ones), by the same compiled allow-list as staff."""
    return compiled_allow_list.get().consortium_verdict(consortium_id, address)


def record_network_refusal(*, request: HttpRequest, user, action: str, verdict: Verdict) -> None:
    access_event_record(
        actor=actor_from_request(request, user=user),
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
