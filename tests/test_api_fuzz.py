"""The API against its own schema: schemathesis generates requests for every operation of /api/schema/ and
sends them to the real WSGI application (CSRF and the network check included), logged in as each demo role
and anonymously, each from the role's own network.

Every answer must be documented: no server error (5xx), a status code the schema lists for the operation,
its content type, and a body that conforms to the documented schema (errors included: `Error`). A failure
prints the request that reproduces it (as curl); Django's traceback is in the captured log.

Two tiers, to stay within about 2-3 minutes a database on two cores:
- as the operation's own role (the first of staff, billing, director, DPO and admin whose plain request
  is not refused): schemathesis's coverage phase (boundary values of every parameter and field: the
  largest ids, the longest texts, the earliest dates) and its fuzzing phase, valid and invalid data;
- as every role and anonymously: a few fuzzed requests, so every refusal is documented too.
Fuzzed strings and integers often take a value that once broke a parser (HOSTILE below). Generation is
derandomised with a fixed seed, so a run is reproducible; `FUZZ_EXAMPLES` (default 12) sets the fuzzing
examples of the first tier. Run it alone with `make fuzz`.

What the fuzzer may call: everything, identity-code stores and reveals and erasures included. Each
operation (and role) is one pytest test in its own transaction on both databases, rolled back at its end,
so nothing generated outlives the test; the access log's append-only triggers are not in the way, since a
rollback deletes nothing. Path ids are drawn from real objects of the demo world, another consortium's
among them (which must be a 404); larger generated ids stay as they are (not found).
"""

import os
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.http import HttpRequest
from django.middleware.csrf import get_token
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from audit.actor import Actor
from bans.models import AccessProhibition, Ban
from dpo.models import Breach, SubjectRequest
from patrons.models import Note, Patron
from sotu_silo import crypto
from sotu_silo.models import IdentityCode, IdentityCodeConflict
from sotu_silo.services import identity_code_store
from tests.conftest import OWN_NETWORK, client_for

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

LOGGED_IN = ["rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "dpo", "admin"]
ROLES: list[str | None] = [*LOGGED_IN, None]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SEED = 20260101
APPLICATION = get_wsgi_application()


# Values that broke parsers before: dates and times at the ends of the calendar, ids no column holds, a NUL,
# digits of other scripts, a very long text. Fuzzed strings and integers take one of them now and then
# (where the schema allows it, or as invalid data); a field left unbounded meets them.
HOSTILE = {
    "hostile-strings": {
        "values": [
            "0001-01-01",
            "0001-01-01T00:00:00+14:00",
            "\x00",
            "Ai\x00kio",
            "9" * 25,
            "x" * 3000,
        ]
    },
    "hostile-integers": {"values": [0, 2**31, 2**63 - 1, 2**63, 10**25]},
    # Real references of the demo world, so generated bodies get past "no such library" to the deeper rules.
    "libraries": {"values": ["ROV", "KEM", "MIK"]},
    "ban-grounds": {"values": ["repeated_substantial_disturbance", "damaging_property"]},
}
GENERATION = {
    "mode": "all",
    "dictionaries": {
        "string": {"dictionary": "hostile-strings", "probability": 0.5},
        "integer": {"dictionary": "hostile-integers", "probability": 0.5},
    },
}
PARAMETERS = {
    # Searches are where a NUL byte reached PostgreSQL: every other search gets a hostile string.
    "query.search": {"dictionary": "hostile-strings", "probability": 0.5},
    "body.library": {"dictionary": "libraries", "probability": 0.7},
    "body.grounds[*]": {"dictionary": "ban-grounds", "probability": 0.7},
}


def api_schema(phases: dict) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"deterministic": True},
            "dictionaries": HOSTILE,
            "parameters": PARAMETERS,
            "phases": phases,
        }
    )
    return schemathesis.openapi.from_wsgi("/api/schema/", APPLICATION, config=config)


THOROUGH = api_schema(
    {
        "examples": {"enabled": False},
        "coverage": {"enabled": True, "generation": {"mode": "positive"}},
        "fuzzing": {"enabled": True, "generation": GENERATION},
    }
)
LIGHT = api_schema(
    {"examples": {"enabled": False}, "coverage": {"enabled": False}, "fuzzing": {"generation": GENERATION}}
)
HYPOTHESIS: dict[str, Any] = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
}


@pytest.fixture(autouse=True)
def outside_the_test_client():
    """The real WSGI handler closes the database connection around each request; the test's transaction
    must survive it, as Django's own test client arranges."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def ids() -> dict[str, list[int]]:
    """Ids of real objects for each path parameter: Lapland's (the roles' consortium) and one of Mikkeli's."""
    lapland = Patron.objects.filter(consortium__slug="lapin-kirjastot").order_by("pk")
    patrons = [*lapland.filter(notes__isnull=False).distinct().values_list("pk", flat=True)[:3], lapland[0].pk]
    patrons.append(Patron.objects.filter(consortium__slug="mikkelin-seutukirjasto").values_list("pk", flat=True)[0])
    # A conflict for billing to resolve: another Lapland patron's (demo) code entered for the first patron.
    first = lapland[0]
    held = IdentityCode.objects.filter(consortium_id=first.consortium_id).exclude(patron_id=first.pk).first()
    desk = Actor(
        user_id=None,
        username="seed",
        municipality_id=first.home_library.municipality_id,
        consortium_id=first.consortium_id,
        client_ip=None,
    )
    identity_code_store(actor=desk, patron_id=first.pk, code=crypto.decrypt_row(held), allow_temporary=True)
    return {
        "patron_id": patrons,
        "koha_patron_id": [
            koha_id
            for koha_id in Patron.objects.filter(pk__in=patrons).values_list("koha_patron_id", flat=True)
            if koha_id is not None
        ],
        "note_id": list(Note.objects.filter(patron_id__in=patrons).values_list("pk", flat=True)[:5]),
        "ban_id": list(Ban.objects.values_list("pk", flat=True)[:4]),
        "prohibition_id": list(AccessProhibition.objects.values_list("pk", flat=True)[:4]),
        "request_id": list(SubjectRequest.objects.values_list("pk", flat=True)[:4]),
        "breach_id": list(Breach.objects.values_list("pk", flat=True)[:4]),
        "conflict_id": list(IdentityCodeConflict.objects.filter(resolved_at__isnull=True).values_list("pk", flat=True)),
    }


def towards_real_objects(path_parameters: dict, ids: dict[str, list[int]]) -> dict:
    """A small generated id becomes a real object's; larger ones stay as generated (not found)."""
    mapped = {}
    for name, value in path_parameters.items():
        known = ids.get(name) or []
        number = int(value) if str(value).isascii() and str(value).isdigit() else None  # coverage sends strings
        small = number is not None and 0 < number <= 2 * len(known)
        mapped[name] = known[number % len(known)] if small and number is not None else value
    return mapped


class Sessions:
    """Logged-in browser sessions of the demo roles (client_for: whatever log-in requires), made once a test."""

    def __init__(self):
        self._made: dict[str | None, tuple[dict, dict, dict]] = {}
        self._own_role: str | None = None

    def of(self, role: str | None) -> tuple[dict, dict, dict]:
        """Cookies, headers and WSGI environ of `role` (None: anonymous), from the role's own network."""
        if role not in self._made:
            client = client_for(role)
            csrf_request = HttpRequest()
            token = get_token(csrf_request)
            cookies = {settings.CSRF_COOKIE_NAME: csrf_request.META["CSRF_COOKIE"]}
            if settings.SESSION_COOKIE_NAME in client.cookies:
                cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
            headers = {"X-CSRFToken": token, "Accept-Language": "fi"}
            self._made[role] = (cookies, headers, {"REMOTE_ADDR": OWN_NETWORK.get(role or "", "127.0.0.1")})
        return self._made[role]

    def own_role_of(self, operation, ids: dict[str, list[int]]) -> str:
        """The first role whose plain request to the operation is not refused (403)."""
        if self._own_role is None:
            path_parameters = {name: ids[name][0] for name in ids if "{" + name + "}" in operation.path}
            plain = operation.Case(path_parameters=path_parameters)
            if operation.body:
                plain = operation.Case(path_parameters=path_parameters, body={}, media_type="application/json")
            self._own_role = next(
                (role for role in LOGGED_IN if send(plain, self.of(role)).status_code != 403), LOGGED_IN[0]
            )
        return self._own_role


@pytest.fixture
def sessions() -> Sessions:
    return Sessions()


def send(case, session: tuple[dict, dict, dict]):
    cookies, headers, environ = session
    return case.call(cookies=cookies, headers=headers, environ_base=environ)


def send_and_check(case, session: tuple[dict, dict, dict], ids: dict[str, list[int]]) -> None:
    case.path_parameters = towards_real_objects(case.path_parameters or {}, ids)
    response = send(case, session)
    case.validate_response(response, checks=CHECKS, headers=session[1])


@THOROUGH.parametrize()
@hypothesis_settings(max_examples=EXAMPLES, **HYPOTHESIS)
def test_api_as_the_operations_own_role(case, sessions, ids):
    send_and_check(case, sessions.of(sessions.own_role_of(case.operation, ids)), ids)


@pytest.mark.parametrize("role", ROLES)
@LIGHT.parametrize()
@hypothesis_settings(max_examples=2, **HYPOTHESIS)
def test_api_as_every_role(case, role, sessions, ids):
    send_and_check(case, sessions.of(role), ids)
