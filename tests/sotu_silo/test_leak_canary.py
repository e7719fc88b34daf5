"""The leak canary: a known identity code goes in, and must come out ONLY in the billing reveal responses.

One test per DEBUG value stores an unusual but valid HETU (the canary) for a Lapland adult
through the API (desk staff) and a second one through the HTML form (billing), reveals and looks
them up as billing, walks the error paths, crawls every URL of the URL configuration as every role,
and then searches for the codes, in every spelling, in:

* every response body, header and cookie (messages cookies decoded),
* every row of every table of both databases (sessions decoded, the silo's ciphertext as raw bytes),
* everything logged during the test (root and the non-propagating Django loggers, at DEBUG),
* the process's local-memory caches.

The only responses allowed to carry a code are the billing clerk's reveals (superusers do not
bypass the silo); the test counts them, so it cannot pass by never revealing.
"""

import datetime
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import cast

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache.backends import locmem
from django.db import connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.test import Client
from django.views.debug import ExceptionReporter, get_exception_reporter_class

from audit.models import AccessEvent, Action, Outcome
from patrons.models import Patron
from sotu_silo import crypto
from sotu_silo.models import IdentityCode, IdentityCodeConflict
from tests.conftest import client_for
from tests.test_access_matrix import ROLES, concrete_path, objects, url_patterns  # noqa: F401 (objects: fixture)

pytestmark = pytest.mark.django_db

CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
ADULT_BORN_BEFORE = datetime.date(2008, 1, 1)
LAPLAND = "lapin-kirjastot"


def hetu(born: datetime.date, individual: int, sign: str = "-") -> str:
    """A valid HETU: DDMMYY, the century sign, ZZZ and the check character int(DDMMYYZZZ) % 31."""
    digits = f"{born:%d%m%y}{individual:03d}"
    return f"{born:%d%m%y}{sign}{individual:03d}{CHECK_CHARACTERS[int(digits) % 31]}"


CANARY = hetu(datetime.date(1961, 7, 14), 468)  # stored through the API by desk staff
SECOND = hetu(datetime.date(1958, 3, 22), 731)  # stored through the HTML form by billing
WRONG_CHECK = CANARY[:-1] + next(c for c in CHECK_CHARACTERS if c != CANARY[-1])  # refused: check character
TEMPORARY = hetu(datetime.date(1961, 7, 14), 968)  # refused at the store (temporary), looked up: nobody has it
NOT_STORED = hetu(datetime.date(1947, 2, 3), 215)  # valid, looked up, stored for nobody
CODES = {"canary": CANARY, "second": SECOND, "wrong_check": WRONG_CHECK, "temporary": TEMPORARY}
CODES["not_stored"] = NOT_STORED

REVEAL_REASON_API = "lasku 2026-1234"
REVEAL_REASON_PAGE = "lasku 2026-1235"
LOOKUP_REASON = "henkilöllisyyden tarkistus 77"


def spellings(code: str) -> list[bytes]:
    """Lower-cased (haystacks are lower-cased too): as stored, without the century sign, with a space
    instead of it, and the first 6 + last 4 characters (DDMMYY + ZZZC) joined."""
    forms = {code, code[:6] + code[7:], f"{code[:6]} {code[7:]}", code[:6] + code[-4:]}
    return sorted({form.lower().encode() for form in forms})


SPELLINGS = {name: spellings(code) for name, code in CODES.items()}


def as_bytes(value) -> bytes:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return str(value).encode("utf-8", errors="replace")


def occurrences(data: bytes | str) -> list[tuple[str, bytes]]:
    """(code name, spelling) of every canary code in `data`: raw bytes, and decoded with errors="ignore"."""
    raw = as_bytes(data)
    haystacks = [raw.lower(), raw.decode("utf-8", errors="ignore").lower().encode()]
    return [
        (name, spelling)
        for name, forms in SPELLINGS.items()
        for spelling in forms
        if any(spelling in haystack for haystack in haystacks)
    ]


@dataclass
class Canary:
    leaks: list[str] = field(default_factory=list)
    reveals: list[tuple[str, str]] = field(default_factory=list)  # (where, code name) of allowed reveals

    def scan(self, data, where: str, allowed: str | None = None) -> bool:
        """Record every code in `data` as a leak, except `allowed` (a code name); True if `allowed` was there."""
        seen = False
        for name, spelling in occurrences(data):
            if name == allowed:
                seen = True
            else:
                self.leaks.append(f"{where}: the {name} code ({spelling.decode()!r})")
        return seen

    def response(self, response: HttpResponseBase, where: str, reveal: str | None = None) -> HttpResponseBase:
        """Scan body, headers and cookies. `reveal`: the code name this reveal response must (only) show."""
        where = f"{where} -> {response.status_code}"
        if isinstance(response, StreamingHttpResponse):
            body = b"".join(cast(Iterator[bytes], response.streaming_content))
        else:
            body = cast(HttpResponse, response).content
        seen = self.scan(body, f"{where} [body]", reveal)
        self.scan("\n".join(f"{k}: {v}" for k, v in response.items()), f"{where} [headers]")
        self.scan(response.cookies.output(), f"{where} [cookies]")
        for morsel in response.cookies.values():
            if morsel.key == "messages" and morsel.value:
                decoded = CookieStorage(HttpRequest())._decode(morsel.value) or []  # type: ignore[attr-defined]  # Django's own reader of the cookie
                self.scan(repr([str(m) for m in decoded]), f"{where} [messages cookie]")
        if reveal is not None:
            if seen:
                self.reveals.append((where, reveal))
            else:
                self.leaks.append(f"{where}: this reveal response did not contain the {reveal} code")
        return response


class Collect(logging.Handler):
    """Keeps the text of every record: message, exception, stack, extras, and the error report."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []
        self.formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        parts = [record.name, str(record.msg)]
        try:
            parts.append(record.getMessage())
            parts.extend(f"{k}={v!r}" for k, v in vars(record).items() if k not in STANDARD_RECORD_ATTRIBUTES)
            if record.exc_info:
                parts.append(self.formatter.formatException(record.exc_info))
                request = getattr(record, "request", None)
                if request is not None:  # what an error email would carry (AdminEmailHandler)
                    reporter_class: type[ExceptionReporter] = get_exception_reporter_class(request)  # type: ignore[assignment]  # the stubs say an instance
                    exc_type, exc_value, traceback = record.exc_info
                    reporter = reporter_class(request, exc_type, exc_value, traceback, is_email=True)
                    parts.append(reporter.get_traceback_text())
            if record.exc_text:
                parts.append(record.exc_text)
            if record.stack_info:
                parts.append(self.formatter.formatStack(record.stack_info))
        finally:  # a record that fails to format is still searched for what it has
            self.texts.append("\n".join(parts))


STANDARD_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


@pytest.fixture
def captured_logs() -> Iterator[Collect]:
    """Everything logged during the test, at DEBUG, from the root and every non-propagating logger."""
    handler = Collect()
    names = {"", "django", "django.request", "django.server", "django.security"}
    names |= {
        name
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and not logger.propagate
    }
    loggers = [logging.getLogger(name) for name in sorted(names)]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.handlers.insert(0, handler)  # before the console handler's query-string redaction
        if logger.name in {"root", "django", "django.request", "django.server", "django.security"}:
            logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)


def canary_patrons() -> tuple[Patron, Patron, Patron]:
    """Three Lapland adults without a stored code (or, if every adult has one, some whose code is replaced)."""
    adults = Patron.objects.filter(consortium__slug=LAPLAND, date_of_birth__lt=ADULT_BORN_BEFORE).order_by("pk")
    with_code = set(IdentityCode.objects.values_list("patron_id", flat=True))
    without = [patron for patron in adults if patron.pk not in with_code]
    chosen = (without + [patron for patron in adults if patron.pk in with_code])[:3]
    assert len(chosen) == 3, "the demo data has no three Lapland adults"
    return chosen[0], chosen[1], chosen[2]


def database_rows(alias: str) -> Iterator[tuple[str, list[str], tuple]]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                yield table, columns, row


def cache_entries() -> Iterable[tuple[str, str, bytes]]:
    for cache_name, entries in list(locmem._caches.items()):  # type: ignore[attr-defined]  # every local-memory cache's store
        for key, value in list(entries.items()):
            yield cache_name, key, value


@pytest.mark.parametrize("debug", [False, True], ids=["debug_off", "debug_on"])
def test_identity_codes_leak_only_in_billing_reveals(settings, debug, objects, captured_logs):  # noqa: F811
    settings.DEBUG = debug
    settings.SOTU_ALLOW_TEMPORARY_CODES = False
    canary = Canary()
    users = {user.username: user for user in get_user_model().objects.filter(username__in=[r for r in ROLES if r])}
    revealers = {"rovaniemi.billing"}  # superusers do not bypass the silo: nobody else may reveal or look up
    clients: dict[str | None, Client] = {role: client_for(role) for role in ROLES}

    statuses: dict[tuple[str | None, str], int] = {}

    def request(role: str | None, method: str, path: str, reveal: str | None = None, **kwargs):
        client = clients[role]
        response = getattr(client, method)(path, **kwargs)
        statuses[role, path] = response.status_code
        canary.response(response, f"{method.upper()} {path} as {role or 'anonymous'}", reveal)
        if role and "sessionid" in response.cookies and "_auth_user_id" not in client.session:
            client.force_login(users[role])  # a denial ends the session; the next request starts logged in
        return response

    def put_json(role, path, body, **kwargs):
        return request(role, "put", path, data=body, content_type="application/json", **kwargs)

    def post_json(role, path, body, **kwargs):
        return request(role, "post", path, data=body, content_type="application/json", **kwargs)

    patron, second, third = canary_patrons()
    api_code_url = f"/api/v1/patrons/{patron.pk}/identity-code/"

    # 1. Store: the canary through the API as desk staff, the second code through the form as billing.
    response = put_json("rovaniemi.staff", api_code_url, {"identity_code": CANARY})
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": True}
    response = request(
        "rovaniemi.billing", "post", f"/patrons/{second.pk}/identity-code/", data={"identity_code": SECOND}
    )
    assert response.status_code == 302, response.content
    response = request("rovaniemi.billing", "get", response["Location"])
    assert response.status_code == 200
    row = IdentityCode.objects.get(patron_id=patron.pk)
    plain = crypto.decrypt_row(row)
    assert plain == CANARY  # the silo holds the canary, encrypted: the scans below are not vacuous
    assert IdentityCode.objects.filter(patron_id=second.pk).exists()
    # The canary entered at the desk for a third patron too: a conflict entry for billing, encrypted as well,
    # listed on the conflict pages the crawl below visits.
    response = request("rovaniemi.staff", "post", f"/patrons/{third.pk}/identity-code/", data={"identity_code": CANARY})
    assert response.status_code == 302, response.content
    assert crypto.decrypt_conflict_row(IdentityCodeConflict.objects.get(patron_id=third.pk)) == CANARY

    # 2. Reveal (the only responses that may show a code) and look up (the patron, never the code).
    reveal_api = f"/api/v1/patrons/{patron.pk}/identity-code/reveal/"
    response = post_json("rovaniemi.billing", reveal_api, {"reason": REVEAL_REASON_API}, reveal="canary")
    assert response.status_code == 200
    assert response.json() == {"identity_code": CANARY}
    assert "no-store" in response["Cache-Control"]
    data = {"reason": REVEAL_REASON_PAGE}
    response = request("rovaniemi.billing", "post", f"/billing/patrons/{patron.pk}/reveal/", "canary", data=data)
    assert response.status_code == 200
    assert CANARY in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    data = {"reason": "lasku 2026-1236"}
    response = request("rovaniemi.billing", "post", f"/billing/patrons/{second.pk}/reveal/", "second", data=data)
    assert response.status_code == 200
    for role in ROLES:  # everybody else, the superuser included, is refused
        if role not in revealers:
            response = post_json(role, reveal_api, {"reason": "kokeilu"})
            assert response.status_code in (302, 403), f"API reveal as {role}: {response.status_code}"
            response = request(role, "post", f"/billing/patrons/{patron.pk}/reveal/", data={"reason": "kokeilu"})
            assert response.status_code in (302, 403), f"page reveal as {role}: {response.status_code}"

    lookup_api = "/api/v1/identity-codes/lookup/"
    for spelling in (CANARY, CANARY.lower(), f" {CANARY} "):
        body = {"identity_code": spelling, "reason": LOOKUP_REASON}
        response = post_json("rovaniemi.billing", lookup_api, body)
        assert response.status_code == 200, response.content
        assert response.json() == {"patron": {"id": patron.pk}}
    data = {"identity_code": CANARY, "reason": LOOKUP_REASON}
    response = request("rovaniemi.billing", "post", "/billing/lookup/", data=data)
    assert response.status_code == 200
    assert f"/billing/patrons/{patron.pk}/reveal/" in response.content.decode()
    body = {"identity_code": NOT_STORED, "reason": LOOKUP_REASON}
    assert post_json("rovaniemi.billing", lookup_api, body).status_code == 404
    data = {"identity_code": NOT_STORED, "reason": LOOKUP_REASON}
    assert request("rovaniemi.billing", "post", "/billing/lookup/", data=data).status_code == 404
    for role in ROLES:
        if role not in revealers:
            response = post_json(role, lookup_api, {"identity_code": CANARY, "reason": LOOKUP_REASON})
            assert response.status_code in (302, 403), f"API lookup as {role}: {response.status_code}"
            data = {"identity_code": CANARY, "reason": LOOKUP_REASON}
            response = request(role, "post", "/billing/lookup/", data=data)
            assert response.status_code in (302, 403), f"page lookup as {role}: {response.status_code}"

    # 4. Error paths: refused codes are not echoed, and a reveal needs a reason.
    # A temporary code is refused at the store but looked up (nobody has this one): a lookup finds what is stored.
    for code, lookup_status in ((WRONG_CHECK, 400), (TEMPORARY, 404)):
        response = put_json("rovaniemi.staff", api_code_url, {"identity_code": code})
        assert response.status_code == 400, response.content
        data = {"identity_code": code}
        response = request("rovaniemi.staff", "post", f"/patrons/{patron.pk}/identity-code/", data=data)
        assert response.status_code == 400
        response = post_json("rovaniemi.billing", lookup_api, {"identity_code": code, "reason": LOOKUP_REASON})
        assert response.status_code == lookup_status
        data = {"identity_code": code, "reason": LOOKUP_REASON}
        assert request("rovaniemi.billing", "post", "/billing/lookup/", data=data).status_code == lookup_status
    for malformed in (
        '{"identity_code": "' + CANARY + '",,}',  # not JSON
        {"identity_code": CANARY * 4},  # too long
        {"identity_code": [CANARY]},  # not a string
        {"identity_code": {CANARY: CANARY}},
    ):
        assert put_json("rovaniemi.staff", api_code_url, malformed).status_code == 400
        assert post_json("rovaniemi.billing", lookup_api, malformed).status_code == 400
    assert post_json("rovaniemi.billing", reveal_api, {}).status_code == 400
    assert post_json("rovaniemi.billing", reveal_api, {"reason": "   "}).status_code == 400
    assert request("rovaniemi.billing", "post", f"/billing/patrons/{patron.pk}/reveal/", data={}).status_code == 400
    assert IdentityCode.objects.filter(patron_id=patron.pk).count() == 1

    # 3. Crawl every URL, and the canary's own pages, as every role from its own network.
    code_row = IdentityCode.objects.get(patron_id=patron.pk)
    reveal_event = AccessEvent.objects.filter(action=Action.IDENTITY_CODE_REVEAL, reason=REVEAL_REASON_API).first()
    paths = [concrete_path(key, route, objects) for key, route in url_patterns()]
    for someone in (patron, second, third):
        paths += [
            f"/patrons/{someone.pk}/",
            f"/api/v1/patrons/{someone.pk}/",
            f"/api/v1/patrons/{someone.pk}/access-events/",
            f"/api/v1/patrons/?search={someone.cardnumber}",
            f"/admin/audit/accessevent/?patron={someone.pk}",
            f"/admin/sotu_silo/identitycode/?q={someone.pk}",
        ]
    paths += [
        "/admin/sotu_silo/identitycode/",
        f"/admin/sotu_silo/identitycode/{code_row.pk}/change/",
        f"/admin/sotu_silo/identitycode/{code_row.pk}/history/",
        f"/admin/sotu_silo/identitycode/?country={code_row.country}&key_id={code_row.key_id}",
        "/admin/audit/accessevent/",
        f"/admin/audit/accessevent/{reveal_event.pk}/change/",
        "/api/schema/",
        "/api/docs/",
    ]
    for role in ROLES:
        if role:
            clients[role].force_login(users[role])
        for path in paths:
            request(role, "get", path)
        for someone in (patron, second):  # the searches, in POST bodies
            request(role, "post", "/billing/", data={"q": someone.cardnumber})
            request(role, "post", "/patrons/", data={"q": someone.cardnumber}, follow=True)  # to the kept search
            post_json(role, "/api/v1/patrons/search/", {"search": someone.cardnumber})
    assert len(paths) > 50
    # The crawl saw the real pages, logged in (not log-in redirects): the canary's own pages and logs.
    for role, path, status in [
        ("rovaniemi.staff", f"/patrons/{patron.pk}/", 200),
        ("rovaniemi.billing", f"/api/v1/patrons/{patron.pk}/", 200),
        ("kemi.staff", f"/patrons/{patron.pk}/", 200),
        ("rovaniemi.billing", "/billing/", 200),
        ("rovaniemi.staff", "/patrons/", 200),
        ("kemi.staff", "/api/v1/patrons/search/", 200),
        ("dpo", f"/api/v1/patrons/{patron.pk}/access-events/", 200),
        ("dpo", f"/admin/audit/accessevent/?patron={patron.pk}", 200),
        ("dpo", f"/admin/audit/accessevent/{reveal_event.pk}/change/", 200),
        # Nobody lists the stored codes' rows in the admin (it told held codes from fresh ones).
        ("admin", f"/admin/sotu_silo/identitycode/{code_row.pk}/change/", 404),
        ("admin", "/admin/sotu_silo/identitycode/", 404),
        ("mikkeli.staff", f"/patrons/{patron.pk}/", 404),
        (None, "/api/schema/", 200),
    ]:
        assert statuses[role, path] == status, f"GET {path} as {role}: {statuses[role, path]}, expected {status}"
    dpo_view = clients["dpo"].get(f"/api/v1/patrons/{patron.pk}/access-events/")
    canary.response(dpo_view, "GET the canary's access events as dpo")
    assert REVEAL_REASON_API in dpo_view.content.decode()  # the DPO sees the reasons...

    # 5. Every row of every table of both databases.
    scanned: dict[str, int] = {}
    for alias in ("default", "sotu"):
        for table, columns, row in database_rows(alias):
            scanned[table] = scanned.get(table, 0) + 1
            values = dict(zip(columns, row, strict=True))
            where = f"database {alias!r}, table {table}"
            canary.scan(b"\x00".join(as_bytes(value) for value in row), where)
            if table == "django_session":
                decoded = SessionStore().decode(as_bytes(values["session_data"]).decode())
                canary.scan(repr(decoded), f"{where}, session {values['session_key']} (decoded)")
    assert {"django_session", "audit_accessevent", "sotu_silo_identitycode"} <= scanned.keys(), scanned
    assert scanned["sotu_silo_identitycode"] >= 2
    for reason in (REVEAL_REASON_API, REVEAL_REASON_PAGE, LOOKUP_REASON):
        assert AccessEvent.objects.filter(reason=reason, subjects__patron_id=patron.pk).exists(), reason
    assert AccessEvent.objects.filter(
        action=Action.IDENTITY_CODE_STORE, actor_username="rovaniemi.staff", subjects__patron_id=patron.pk
    ).exists()
    assert AccessEvent.objects.filter(
        action=Action.IDENTITY_CODE_STORE, outcome=Outcome.DENIED, detail="invalid_checksum"
    ).exists()

    # 6. The logs and the caches.
    assert captured_logs.texts, "the log capture saw nothing"
    for text in captured_logs.texts:
        canary.scan(text, f"log record {text[:200]!r}")
    for cache_name, key, value in cache_entries():
        canary.scan(key, f"cache {cache_name!r} key")
        canary.scan(value, f"cache {cache_name!r} value of {key!r}")

    # 7. The codes came out in the reveals, and nowhere else.
    assert not canary.leaks, "IDENTITY CODE LEAK:\n" + "\n".join(dict.fromkeys(canary.leaks))
    reveals_of_canary = [where for where, name in canary.reveals if name == "canary"]
    assert len(reveals_of_canary) >= 2, canary.reveals
    assert any(where.startswith(f"POST {reveal_api} as rovaniemi.billing") for where in reveals_of_canary)
    assert any(
        where.startswith(f"POST /billing/patrons/{patron.pk}/reveal/ as rovaniemi.billing")
        for where in reveals_of_canary
    )
    assert [name for _where, name in canary.reveals].count("second") == 1
