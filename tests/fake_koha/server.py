"""The fake Koha's HTTP side: a real server on 127.0.0.1 answering /api/v1 as Koha does (Koha/REST/V1/Auth.pm,
OAuth.pm, the controllers behind the paths files in ../shared/koha/api), with faults a test can inject.

`FakeKoha` is what tests use (see fixtures.py); the server thread is shared by a test session and `reset()`
between tests.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from tests.fake_koha import query as q
from tests.fake_koha.store import (
    ACTION_LOG_KINDS,
    ATTRIBUTE_COLUMNS,
    CHECKOUT_KINDS,
    HOLD_KINDS,
    LIBRARY_KINDS,
    PATRON_DEFAULTS,
    PATRON_KINDS,
    KohaRefusal,
    KohaStore,
)

API = "/api/v1"
# Where Koha mounts the patron privacy plugin's routes (its api_namespace), and the restriction body's fields.
PLUGIN = f"{API}/contrib/patronprivacy"
RESTRICTION_FIELDS = {"patron_id", "kind", "library_id", "starts_on", "ends_on"}
RESTRICTION_KINDS = {"library_use_ban", "access_prohibition"}
RESERVED_LIST_PARAMETERS = frozenset({"_page", "_per_page", "_match", "_order_by", "q"})
# GET /patrons lists every column as a filter except these (paths/patrons.yaml).
PATRON_QUERY_FIELDS = frozenset(PATRON_DEFAULTS) - {
    "preferred_name",
    "middle_name",
    "pronouns",
    "date_renewed",
    "overdrive_auth_token",
    "privacy_guarantor_fines",
    "anonymized",
}
AUTHENTICATION_FAILURE = {"error": "Authentication failure."}
FAULT_BODIES: dict[int, dict[str, Any]] = {
    401: AUTHENTICATION_FAILURE,
    403: {"error": "Authorization failure. Missing required permission(s).", "required_permissions": {}},
    500: {"error": "Something went wrong, check Koha logs for details.", "error_code": "internal_server_error"},
    503: {"error": "System is under maintenance."},
}


class KohaRequest(NamedTuple):
    """One request the fake received: for assertions such as "no identity code was sent"."""

    method: str
    path: str
    query: dict[str, list[str]]


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    status: int
    remaining: int
    path: str | None


@dataclass
class Incoming:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def params(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]

    def param(self, name: str) -> str | None:
        values = self.params(name)
        return values[-1] if values else None

    def embeds(self) -> list[str]:
        return [part.strip() for part in self.headers.get("x-koha-embed", "").split(",") if part.strip()]

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise KohaRefusal(400, {"errors": [{"message": "Invalid JSON.", "path": "/body"}], "status": 400}) from None


@dataclass(frozen=True)
class ListRoute:
    """What a list route accepts: its plain filters, the embeds of its enum, the kinds of its fields."""

    kinds: dict[str, str]
    filters: frozenset[str]
    embeds: frozenset[str] = frozenset()
    extra_parameters: frozenset[str] = frozenset()


LIST_ROUTES = {
    "libraries": ListRoute(
        kinds=LIBRARY_KINDS,
        filters=frozenset(LIBRARY_KINDS)
        - {"library_id", "ill_email", "geolocation", "marc_org_code", "pickup_location", "public"},
        embeds=frozenset({"cash_registers", "desks", "smtp_server"}),
    ),
    "patrons": ListRoute(
        kinds=PATRON_KINDS,
        filters=PATRON_QUERY_FIELDS,
        embeds=frozenset({"extended_attributes", "checkouts+count", "overdues+count", "account_balance", "library"}),
    ),
    "checkouts": ListRoute(
        kinds=CHECKOUT_KINDS,
        filters=frozenset(),
        embeds=frozenset({"issuer", "renewals"}),
        extra_parameters=frozenset({"patron_id", "checked_in"}),
    ),
    "holds": ListRoute(
        kinds=HOLD_KINDS,
        filters=frozenset(HOLD_KINDS) - {"desk_id", "item_type", "item_level"},
        embeds=frozenset({"cancellation_requested", "biblio", "pickup_library"}),
        extra_parameters=frozenset({"old"}),
    ),
    "action_logs": ListRoute(
        kinds=ACTION_LOG_KINDS,
        filters=frozenset({"action_id", "timestamp", "user", "module", "action", "object", "info", "interface"}),
        embeds=frozenset({"librarian", "patron"}),
    ),
    "extended_attributes": ListRoute(
        kinds={"extended_attribute_id": "int", "type": "str", "value": "str"}, filters=frozenset()
    ),
}


class FakeKoha:
    """A Koha REST API on a loopback port, its data, its switches (sysprefs) and fault injection."""

    def __init__(self, *, port: int = 0, timezone: str = "Europe/Helsinki"):
        self.store = KohaStore(timezone=timezone)
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._list_cache: dict[tuple[Any, ...], tuple[int, list[Any]]] = {}
        self.reset()

    # --- life cycle -----------------------------------------------------------------------------------------
    def reset(self) -> None:
        """A fresh Koha: no data, default switches, one valid OAuth2 client, Basic off, no faults."""
        self.store.reset()
        self.store.now = None
        self.store.attributes_touch_updated_on = True
        self.store.borrowers_log = True
        self.client_id = "privacy-service"
        self.client_secret = secrets.token_urlsafe(24)
        self.basic_user = "koha_api"
        self.basic_password = secrets.token_urlsafe(12)
        self.oauth_enabled = True
        self.basic_auth_enabled = False
        self.token_lifetime = 3600
        self.default_per_page = 20
        # The plugin's routes need `borrowers: edit_borrowers`; False: the API user lacks it (403).
        self.edit_borrowers = True
        # False: the plugin is not installed (or disabled, or Plack not restarted): its routes answer 404, as
        # any path Koha does not know.
        self.plugin_installed = True
        self.delay = 0.0
        self.requests: list[KohaRequest] = []
        self.request_bodies: list[bytes] = []
        self._tokens: dict[str, float] = {}
        self._faults: list[Fault] = []
        self._list_cache.clear()

    def start(self) -> FakeKoha:
        self.up()
        return self

    def up(self) -> None:
        """Listen (again, on the same port once it had one)."""
        if self._httpd is not None:
            return
        httpd = _Server(("127.0.0.1", self._port), _Handler)
        httpd.fake = self
        self._port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-koha", daemon=True
        )
        self._thread.start()

    def down(self) -> None:
        """Koha unreachable: stop listening and drop kept-alive connections, so clients get connection refused."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with self._connections_lock:
            for connection in list(self._connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    stop = down

    @property
    def is_up(self) -> bool:
        return self._httpd is not None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # --- data a test arranges -------------------------------------------------------------------------------
    @property
    def now(self) -> datetime | None:
        return self.store.now

    @now.setter
    def now(self, moment: datetime | None) -> None:
        self.store.now = moment

    @property
    def patrons(self):
        return self.store.patrons

    @property
    def restrictions(self) -> dict[str, dict[str, Any]]:
        """The plugin's restrictions by ref (patron_id, type, expiration, comment, the PUT's fields)."""
        return self.store.restrictions

    def add_library(self, *, library_id: str, name: str, **fields: Any) -> dict[str, Any]:
        return dict(self.store.library_add(library_id=library_id, name=name, **fields))

    def add_patron(self, **koha_fields: Any) -> dict[str, Any]:
        """A patron as Koha would hold it; surname, library (created when unknown) and category get defaults.
        `extended_attributes=[{"type", "value"}, ...]` adds attributes as POST /patrons does."""
        attributes = koha_fields.pop("extended_attributes", [])
        koha_fields.setdefault("surname", "Virtanen")
        koha_fields.setdefault("category_id", "PT")
        library_id = koha_fields.setdefault("library_id", "MPL")
        if library_id not in self.store.libraries:
            self.store.library_add(library_id=library_id, name=f"Library {library_id}")
        patron = self.store.patron_add(koha_fields)
        for attribute in attributes:
            self.store.attribute_add(patron["patron_id"], attribute["type"], attribute["value"])
        return self.store.patron_render(patron["patron_id"])

    def update_patron(self, patron_id: int, **koha_fields: Any) -> dict[str, Any]:
        return self.store.patron_update(patron_id, **koha_fields)

    def add_extended_attribute(self, patron_id: int, type: str, value: Any) -> dict[str, Any]:
        return self.store.attribute_add(patron_id, type, value)

    def add_attribute_type(self, code: str, *, unique: bool = False, repeatable: bool = False) -> None:
        self.store.attribute_type_add(code, unique=unique, repeatable=repeatable)

    def extended_attributes(self, patron_id: int) -> list[dict[str, Any]]:
        return [dict(a) for a in self.store.attributes[patron_id]]

    def add_guarantee(self, *, guarantor_id: int, guarantee_id: int, relationship: str | None = None) -> None:
        self.store.guarantee_add(guarantor_id=guarantor_id, guarantee_id=guarantee_id, relationship=relationship)

    def add_checkout(self, patron_id: int, **fields: Any) -> dict[str, Any]:
        return self.store.checkout_add(patron_id, **fields)

    def add_hold(self, patron_id: int, **fields: Any) -> dict[str, Any]:
        return self.store.hold_add(patron_id, **fields)

    def add_account_line(self, patron_id: int, amount: float, **fields: Any) -> dict[str, Any]:
        return self.store.account_line_add(patron_id, amount, **fields)

    def add_action_log(self, **fields: Any) -> dict[str, Any]:
        return self.store.action_log_add(**fields)

    def seed(self, n_patrons: int, *, library_id: str = "MPL", identity_codes: bool = False) -> None:
        self.store.seed(n_patrons, library_id=library_id, identity_codes=identity_codes)

    # --- faults ---------------------------------------------------------------------------------------------
    def fail_next(self, status: int, times: int = 1, path: str | None = None) -> None:
        """The next `times` requests (whose path starts with `path`, e.g. "/api/v1/patrons") get `status`."""
        self._faults.append(Fault(status=status, remaining=times, path=path))

    def expire_tokens(self) -> None:
        """Every issued access token is past its expires_in."""
        self._tokens = dict.fromkeys(self._tokens, 0.0)

    def _take_fault(self, path: str) -> Answer | None:
        for fault in self._faults:
            if fault.remaining > 0 and (fault.path is None or path.startswith(fault.path)):
                fault.remaining -= 1
                body = FAULT_BODIES.get(fault.status, {"error": HTTPStatus(fault.status).phrase})
                return Answer(fault.status, body)
        return None

    # --- dispatch -------------------------------------------------------------------------------------------
    def answer(self, incoming: Incoming) -> Answer:
        self.requests.append(
            KohaRequest(incoming.method, incoming.path, parse_qs(urlencode(incoming.query), keep_blank_values=True))
        )
        self.request_bodies.append(incoming.body)
        if self.delay:
            time.sleep(self.delay)
        fault = self._take_fault(incoming.path)
        if fault is not None:
            return fault
        try:
            handler, arguments = self._route(incoming)
            if handler != self._token:
                self._authenticate(incoming)
            answer = handler(incoming, *arguments)
        except KohaRefusal as refusal:
            answer = Answer(refusal.status, refusal.body)
        except q.BadParameters as bad:
            answer = Answer(400, bad.errors)
        except q.InvalidQuery as invalid:
            answer = Answer(400, {"error": str(invalid), "error_code": "invalid_query"})
        request_id = incoming.headers.get("x-koha-request-id")
        if request_id is not None:
            answer.headers["x-koha-request-id"] = request_id
        return answer

    def _route(self, incoming: Incoming) -> tuple[Callable[..., Answer], tuple[Any, ...]]:
        path_allowed = False
        for method, pattern, handler in self._routes():
            match = pattern.fullmatch(incoming.path)
            if match is None:
                continue
            path_allowed = True
            if method == incoming.method:
                return handler, tuple(int(group) if group.isdigit() else group for group in match.groups())
        status, message = (405, "Method Not Allowed.") if path_allowed else (404, "Not Found.")
        raise KohaRefusal(status, {"errors": [{"message": message, "path": "/"}], "status": status})

    def _routes(self) -> Iterable[tuple[str, re.Pattern[str], Callable[..., Answer]]]:
        patron = rf"{API}/patrons/(\d+)"
        table = (
            ("POST", f"{API}/oauth/token", self._token),
            ("GET", f"{API}/libraries", self._libraries),
            ("GET", f"{API}/patrons", self._patrons_list),
            ("POST", f"{API}/patrons", self._patron_add),
            ("GET", patron, self._patron_get),
            ("DELETE", patron, self._patron_delete),
            ("GET", f"{patron}/extended_attributes", self._attributes_list),
            ("POST", f"{patron}/extended_attributes", self._attribute_post),
            ("PUT", f"{patron}/extended_attributes", self._attributes_put),
            ("PATCH", rf"{patron}/extended_attributes/(\d+)", self._attribute_patch),
            ("DELETE", rf"{patron}/extended_attributes/(\d+)", self._attribute_delete),
            ("GET", f"{patron}/account", self._account),
            ("GET", f"{API}/checkouts", self._checkouts),
            ("GET", f"{API}/holds", self._holds),
            ("GET", f"{API}/action_logs", self._action_logs),
        )
        plugin = (
            ("PUT", rf"{PLUGIN}/restrictions/((?:ban|prohibition)-[0-9]{{1,18}})", self._restriction_put),
            ("DELETE", rf"{PLUGIN}/restrictions/((?:ban|prohibition)-[0-9]{{1,18}})", self._restriction_delete),
        )
        routes = (*table, *plugin) if self.plugin_installed else table
        return ((method, re.compile(pattern), handler) for method, pattern, handler in routes)

    # --- authentication (Auth.pm, OAuth.pm) -----------------------------------------------------------------
    def _token(self, incoming: Incoming) -> Answer:
        form = dict(parse_qsl(incoming.body.decode("utf-8", "replace")))
        if not self.oauth_enabled or form.get("grant_type") != "client_credentials":
            return Answer(400, {"error": "Unimplemented grant type"})
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = _basic_credentials(incoming.headers.get("authorization", ""))
        if client_id is None and basic is not None:
            client_id, client_secret = basic
        if client_id != self.client_id or not secrets.compare_digest(client_secret or "", self.client_secret):
            return Answer(403, {"error": "unauthorized_client"})
        token = secrets.token_urlsafe(32)
        self._tokens[token] = time.monotonic() + self.token_lifetime
        return Answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime})

    def _authenticate(self, incoming: Incoming) -> None:
        header = incoming.headers.get("authorization", "")
        if header.startswith("Bearer "):
            expiry = self._tokens.get(header.removeprefix("Bearer ").strip())
            if expiry is None or expiry < time.monotonic():
                raise KohaRefusal(401, AUTHENTICATION_FAILURE)
            return
        if header.startswith("Basic "):
            if not self.basic_auth_enabled:
                raise KohaRefusal(401, {"error": "Basic authentication disabled"})
            credentials = _basic_credentials(header)
            if credentials != (self.basic_user, self.basic_password):
                raise KohaRefusal(401, {"error": "Invalid password"})
            return
        raise KohaRefusal(401, AUTHENTICATION_FAILURE)

    # --- lists ----------------------------------------------------------------------------------------------
    def _list(
        self,
        incoming: Incoming,
        route_name: str,
        *,
        ids: Callable[[], list[int] | list[str]],
        getter: Callable[[Any], q.Row],
        render: Callable[[Any, list[str]], dict[str, Any]],
        base: Callable[[Any], bool] = lambda _id: True,
        relation_rows: Callable[[Any, q.Row], Iterable[q.Row]] | None = None,
    ) -> Answer:
        """Objects.pm's search: plain filters and q over the base set, ordered, paged, with Koha's headers."""
        route = LIST_ROUTES[route_name]
        allowed = RESERVED_LIST_PARAMETERS | route.filters | route.extra_parameters
        unknown = sorted({name for name, _ in incoming.query if name not in allowed})
        if unknown:
            raise q.BadParameters([{"message": "Malformed query string", "path": f"/query/{name}"} for name in unknown])
        embeds = incoming.embeds()
        bad_embeds = [name for name in embeds if name not in route.embeds]
        if bad_embeds:
            raise KohaRefusal(
                400, {"errors": [{"message": "Not in enum list.", "path": "/x-koha-embed"}], "status": 400}
            )
        page, per_page = q.page_bounds(incoming.param("_page"), incoming.param("_per_page"), self.default_per_page)
        match = incoming.param("_match") or "contains"
        if match not in ("contains", "exact", "starts_with", "ends_with"):
            raise q.BadParameters([{"message": "Not in enum list.", "path": "/query/_match"}])
        conditions = q.parse_q(incoming.params("q"))
        if incoming.method == "GET" and incoming.body.strip():
            conditions += q.parse_q([incoming.body.decode("utf-8", "replace")])
        conditions += [
            {name: q.match_condition(value, match)} for name, value in incoming.query if name in route.filters
        ]
        order = q.order_key(incoming.params("_order_by"), route.kinds)
        conditions, id_floor = _keyset_floor(conditions, order) if route_name == "patrons" else (conditions, None)
        relations = {"extended_attributes": ATTRIBUTE_COLUMNS} if "extended_attributes" in embeds else {}
        compiler = q.QueryCompiler(route.kinds, relations)
        predicate = compiler.compile({"-and": conditions}) if conditions else None
        filters = tuple(sorted(pair for pair in incoming.query if pair[0] not in ("_page", "_per_page", "q")))
        cache_key = (
            route_name,
            incoming.path,
            filters,
            json.dumps(conditions, sort_keys=True, default=str),
            tuple(embeds),
            self.store.version,
        )
        with self.store.lock:
            cached = self._list_cache.get(cache_key)
            if cached is None:
                base_ids = [item for item in ids() if base(item)]
                matched = [
                    item
                    for item in base_ids
                    if predicate is None or _any_row(predicate, getter(item), item, relation_rows)
                ]
                if order:
                    rows = {item: getter(item) for item in matched}
                    keyed = [{"_id": item, **{name: rows[item](name) for name, _ in order}} for item in matched]
                    matched = [entry["_id"] for entry in q.sort_objects(keyed, order)]
                if len(self._list_cache) > 16:
                    self._list_cache.clear()
                cached = self._list_cache[cache_key] = (len(base_ids), matched)
            base_count, matched = cached
            if id_floor is not None:
                matched = matched[bisect.bisect_right(matched, id_floor) :]
            chosen = matched if per_page == -1 else matched[(page - 1) * per_page : page * per_page]
            body = [render(item, embeds) for item in chosen]
        headers = {"X-Total-Count": str(len(matched)), "X-Base-Total-Count": str(base_count)}
        link = q.link_header(self.base_url + incoming.path, incoming.query, page, per_page, len(matched))
        if link:
            headers["Link"] = link
        return Answer(200, body, headers)

    def _list_of(
        self, incoming: Incoming, route_name: str, objects: dict[Any, dict[str, Any]], **options: Any
    ) -> Answer:
        """A list of objects stored whole, as Koha renders them (all but patrons, which are stored sparsely)."""
        return self._list(
            incoming,
            route_name,
            ids=lambda: list(objects),
            getter=lambda key: objects[key].get,
            render=lambda key, _embeds: dict(objects[key]),
            **options,
        )

    def _libraries(self, incoming: Incoming) -> Answer:
        return self._list_of(incoming, "libraries", self.store.libraries)

    def _patrons_list(self, incoming: Incoming) -> Answer:
        store = self.store
        return self._list(
            incoming,
            "patrons",
            ids=store.patron_ids,
            getter=lambda patron_id: _patron_getter(store._patrons[patron_id]),
            render=self._patron_render,
            relation_rows=lambda patron_id, row: _attribute_rows(store.attributes.get(patron_id, []), patron_id, row),
        )

    def _patron_render(self, patron_id: int, embeds: list[str]) -> dict[str, Any]:
        patron = self.store.patron_render(patron_id)
        store = self.store
        if "extended_attributes" in embeds:
            patron["extended_attributes"] = [dict(a) for a in store.attributes.get(patron_id, [])]
        if "checkouts+count" in embeds:
            patron["checkouts_count"] = sum(
                1 for c in store.checkouts.values() if c["patron_id"] == patron_id and c["checkin_date"] is None
            )
        if "overdues+count" in embeds:
            now = store.clock()
            patron["overdues_count"] = sum(
                1
                for c in store.checkouts.values()
                if c["patron_id"] == patron_id
                and c["checkin_date"] is None
                and datetime.fromisoformat(c["due_date"]) < now
            )
        if "account_balance" in embeds:
            patron["account_balance"] = store.balance(patron_id)
        if "library" in embeds:
            patron["library"] = dict(store.libraries[patron["library_id"]])
        if "+strings" in embeds:
            patron["_strings"] = {}
        return patron

    def _existing_patron(self, patron_id: int) -> None:
        if not self.store.patron_exists(patron_id):
            raise KohaRefusal(404, {"error": "Patron not found"})

    def _no_parameters(self, incoming: Incoming) -> None:
        if incoming.query:
            names = sorted({name for name, _ in incoming.query})
            raise q.BadParameters([{"message": "Malformed query string", "path": f"/query/{name}"} for name in names])

    def _patron_get(self, incoming: Incoming, patron_id: int) -> Answer:
        self._no_parameters(incoming)
        embeds = incoming.embeds()
        if any(name not in ("extended_attributes", "+strings") for name in embeds):
            raise KohaRefusal(
                400, {"errors": [{"message": "Not in enum list.", "path": "/x-koha-embed"}], "status": 400}
            )
        with self.store.lock:
            self._existing_patron(patron_id)
            return Answer(200, self._patron_render(patron_id, embeds))

    def _patron_add(self, incoming: Incoming) -> Answer:
        self._no_parameters(incoming)
        body = incoming.json()
        if not isinstance(body, dict):
            raise KohaRefusal(400, {"errors": [{"message": "Expected object.", "path": "/body"}], "status": 400})
        attributes = body.pop("extended_attributes", None) or []
        with self.store.lock:
            patron = self.store.patron_add(body, log=self.store.borrowers_log)
            if attributes:
                try:
                    self.store.attributes_overwrite(patron["patron_id"], attributes)
                except KohaRefusal:
                    self.store._patrons.pop(patron["patron_id"])
                    self.store.changed()
                    raise
            patron = self.store.patron_render(patron["patron_id"])
        return Answer(201, patron, {"Location": f"{API}/patrons/{patron['patron_id']}"})

    def _patron_delete(self, incoming: Incoming, patron_id: int) -> Answer:
        self._no_parameters(incoming)
        self.store.patron_delete(patron_id)
        return Answer(204)

    # --- extended attributes --------------------------------------------------------------------------------
    def _attributes_list(self, incoming: Incoming, patron_id: int) -> Answer:
        self._existing_patron(patron_id)
        attributes = {a["extended_attribute_id"]: a for a in self.store.attributes[patron_id]}
        return self._list_of(incoming, "extended_attributes", attributes)

    def _attribute_body(self, item: Any, path: str) -> dict[str, Any]:
        if not isinstance(item, dict) or "type" not in item or "value" not in item:
            raise KohaRefusal(400, {"errors": [{"message": "Missing property.", "path": path}], "status": 400})
        extra = set(item) - {"type", "value", "extended_attribute_id"}
        if extra:
            raise KohaRefusal(400, {"errors": [{"message": "Properties not allowed.", "path": path}], "status": 400})
        return item

    def _attribute_post(self, incoming: Incoming, patron_id: int) -> Answer:
        self._existing_patron(patron_id)
        item = self._attribute_body(incoming.json(), "/body")
        return Answer(201, self.store.attribute_post(patron_id, item["type"], item["value"]))

    def _attributes_put(self, incoming: Incoming, patron_id: int) -> Answer:
        self._existing_patron(patron_id)
        body = incoming.json()
        if not isinstance(body, list):
            raise KohaRefusal(400, {"errors": [{"message": "Expected array.", "path": "/body"}], "status": 400})
        items = [self._attribute_body(item, f"/body/{index}") for index, item in enumerate(body)]
        return Answer(200, self.store.attributes_overwrite(patron_id, items))

    def _attribute_patch(self, incoming: Incoming, patron_id: int, attribute_id: int) -> Answer:
        self._existing_patron(patron_id)
        body = incoming.json()
        if not isinstance(body, dict) or set(body) - {"value"}:
            raise KohaRefusal(400, {"errors": [{"message": "Properties not allowed.", "path": "/body"}], "status": 400})
        return Answer(200, self.store.attribute_patch(patron_id, attribute_id, body.get("value")))

    def _attribute_delete(self, incoming: Incoming, patron_id: int, attribute_id: int) -> Answer:
        self._existing_patron(patron_id)
        self.store.attribute_delete(patron_id, attribute_id)
        return Answer(204)

    # --- circulation, money, logs ---------------------------------------------------------------------------
    def _account(self, incoming: Incoming, patron_id: int) -> Answer:
        self._no_parameters(incoming)
        with self.store.lock:
            self._existing_patron(patron_id)
            return Answer(200, self.store.account_render(patron_id))

    def _checkouts(self, incoming: Incoming) -> Answer:
        """Checkouts#list: patron_id and checked_in are the controller's own, exact, not plain filters."""
        checkouts = self.store.checkouts
        patron_text = incoming.param("patron_id")
        try:
            patron_id = int(patron_text) if patron_text is not None else None
        except ValueError:
            raise q.BadParameters([{"message": "Expected integer - got string.", "path": "/query/patron_id"}]) from None
        checked_in = (incoming.param("checked_in") or "false").lower() in ("1", "true")

        def base(checkout_id: int) -> bool:
            checkout = checkouts[checkout_id]
            if patron_id is not None and checkout["patron_id"] != patron_id:
                return False
            return (checkout["checkin_date"] is not None) == checked_in

        return self._list_of(incoming, "checkouts", checkouts, base=base)

    def _holds(self, incoming: Incoming) -> Answer:
        return self._list_of(incoming, "holds", self.store.holds)

    def _action_logs(self, incoming: Incoming) -> Answer:
        return self._list_of(incoming, "action_logs", self.store.action_logs)

    # --- the patron privacy plugin (koha-plugin/, CONTRACT B3-4) ---------------------------------------------
    def _plugin_permission(self) -> None:
        if not self.edit_borrowers:
            raise KohaRefusal(403, FAULT_BODIES[403])

    def _restriction_put(self, incoming: Incoming, ref: str) -> Answer:
        self._no_parameters(incoming)
        self._plugin_permission()
        body = incoming.json()
        if not _restriction_body_valid(body):
            raise KohaRefusal(400, {"errors": [{"message": "Invalid body.", "path": "/body"}], "status": 400})
        status, answer = self.store.restriction_put(ref, body)
        return Answer(status, answer)

    def _restriction_delete(self, incoming: Incoming, ref: str) -> Answer:
        self._no_parameters(incoming)
        self._plugin_permission()
        self.store.restriction_delete(ref)
        return Answer(204)


def _restriction_body_valid(body: Any) -> bool:
    """The plugin's openapi.json: exactly these fields (additionalProperties false), typed."""
    if not isinstance(body, dict) or set(body) != RESTRICTION_FIELDS:
        return False
    if not isinstance(body["patron_id"], int) or body["patron_id"] < 1 or body["kind"] not in RESTRICTION_KINDS:
        return False
    if not isinstance(body["library_id"], str) or not 1 <= len(body["library_id"]) <= 10:
        return False
    try:
        return all(
            isinstance(body[name], str) and bool(datetime.strptime(body[name], "%Y-%m-%d"))
            for name in ("starts_on", "ends_on")
        )
    except ValueError:
        return False


def _patron_getter(stored: dict[str, Any]) -> q.Row:
    return lambda name: stored.get(name, PATRON_DEFAULTS.get(name))


def _attribute_rows(attributes: list[dict[str, Any]], patron_id: int, row: q.Row) -> Iterable[q.Row]:
    """The LEFT JOIN of borrower_attributes: one row per attribute (one with NULLs when there is none)."""
    columns = [
        {"code": a["type"], "attribute": a["value"], "id": a["extended_attribute_id"], "borrowernumber": patron_id}
        for a in attributes
    ] or [{}]
    for column_values in columns:
        yield partial(_joined_value, column_values, row)


def _joined_value(columns: dict[str, Any], row: q.Row, name: str) -> Any:
    if name.startswith("extended_attributes."):
        return columns.get(name.removeprefix("extended_attributes."))
    return row(name)


def _any_row(
    predicate: q.Predicate,
    row: q.Row,
    item: Any,
    relation_rows: Callable[[Any, q.Row], Iterable[q.Row]] | None,
) -> bool:
    if relation_rows is None:
        return predicate(row)
    return any(predicate(joined) for joined in relation_rows(item, row))


def _basic_credentials(header: str) -> tuple[str, str] | None:
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header.removeprefix("Basic ").strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeKoha


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, a kept-alive client's delayed ACK
    # held each small answer back 40 ms (a bench of PATCHes measured the fake, not the service).
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.fake._connections_lock:
            self.server.fake._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.fake._connections_lock:
                self.server.fake._connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a test's output is its own."""

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        incoming = Incoming(
            method=self.command,
            path=parts.path,
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        answer = self.server.fake.answer(incoming)
        payload = b"" if answer.body is None else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        if answer.body is not None:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


def _keyset_floor(conditions: list[Any], order: list[tuple[str, bool]]) -> tuple[list[Any], int | None]:
    """Split `patron_id > N` off a walk ordered by patron id, as Koha answers it from the primary key's index.

    A keyset walk (koha/client.py `patron_pages`) asks the same query with a new floor on every page; the
    fake filters and orders the rest once (cached) and finds the floor by bisection, so a 100,000-patron walk
    costs what it costs in Koha instead of a full scan per page. The answer is the same as without it."""
    if order != [("patron_id", False)]:
        return conditions, None
    floor = None
    rest: list[Any] = []
    for condition in conditions:
        bound = condition.get("patron_id") if isinstance(condition, dict) else None
        if isinstance(bound, dict) and set(bound) == {">"} and isinstance(bound[">"], int) and floor is None:
            floor = bound[">"]
            condition = {key: value for key, value in condition.items() if key != "patron_id"}
        if condition != {}:
            rest.append(condition)
    return rest, floor
