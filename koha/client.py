"""A client of Koha's REST API (`/api/v1/`), as Koha documents it (../shared/koha/, Koha's OpenAPI files).

- Log-in: OAuth2 client credentials (`POST /api/v1/oauth/token`), the token kept until shortly before it
  expires and fetched again once when Koha answers 401 (Koha restarted, token revoked); or Basic, when
  Koha's RESTBasicAuth is on.
- Failures: connection errors, timeouts, 5xx and 429 are retried with exponential back-off and jitter
  (KOHA_RETRIES times, from KOHA_RETRY_BASE_DELAY_SECONDS), honouring a short Retry-After. A POST is
  retried only when Koha cannot have acted on it (the connection was never made, 429, 503), so a patron
  is never created twice. 401/403 are not retried: a wrong secret stays wrong, and retrying would look
  like a password-guessing storm in Koha's logs.
- Answers: plain dicts and lists, as Koha sends them. Errors: koha.errors, whose messages name the URL
  without its query string (a `q` filter can hold a name) and never a patron's field or the secret.
- Paging: `_page`/`_per_page`, total from `X-Total-Count`; the pagers yield one Page at a time with its
  number, so a caller that stopped (crash, Koha outage) resumes with `start_page`.
"""

import base64
import datetime
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from koha import errors

API_PATH = "/api/v1"
# Statuses after which Koha has done nothing and a retry is safe for any method.
RETRY_ANY_METHOD = {429, 503}
# A token is fetched again this long before Koha says it expires (clocks, slow requests).
TOKEN_MARGIN_SECONDS = 60
RETRY_AFTER_MAX_SECONDS = 30.0
IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "PATCH"}  # PATCH of one attribute's value sets it, twice is once
DEFAULT_PER_PAGE = 100
# Koha's action-log modules whose `object` is the patron's id (borrowernumber).
PATRON_LOG_MODULES = ("MEMBERS", "CIRCULATION", "FINES")
# The patron privacy plugin's restriction route (koha-plugin/, mounted by Koha under /api/v1/contrib/<namespace>),
# and the form of its references: one per ban or access prohibition.
PLUGIN_RESTRICTIONS_PATH = "/contrib/patronprivacy/restrictions/"
RESTRICTION_REF = re.compile(r"\A(ban|prohibition)-[0-9]{1,18}\Z")
# The plugin's error_code of its PUT's 404: Koha has no such patron (its route is there).
PLUGIN_PATRON_NOT_FOUND = "patron_not_found"


class Page(NamedTuple):
    number: int
    items: list[dict[str, Any]]
    total: int


def koha_datetime(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC, as Koha's `q` parses date-times."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KohaClient:
    @sensitive_variables("secret")
    def __init__(
        self,
        *,
        base_url: str,
        auth: str,
        client_id: str,
        secret: str,
        timeout: float | None = None,
        retries: int | None = None,
        retry_base_delay: float | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = base_url.rstrip("/") + API_PATH
        self.auth = auth
        self.client_id = client_id
        self._secret = secret
        self.timeout = settings.KOHA_TIMEOUT_SECONDS if timeout is None else timeout
        self.retries = settings.KOHA_RETRIES if retries is None else retries
        self.retry_base_delay = settings.KOHA_RETRY_BASE_DELAY_SECONDS if retry_base_delay is None else retry_base_delay
        self.session = session or requests.Session()
        self.session.trust_env = False  # no proxy or .netrc from the environment gets the secret
        self._sleep = sleep
        self._token: str | None = None
        self._token_expires = 0.0

    def __repr__(self) -> str:
        return f"<KohaClient {self.api_url} {self.auth}>"

    # --- Koha's resources ---------------------------------------------------------------------------

    def check(self) -> int:
        """One small call that needs a log-in (the token, then one library): how many libraries Koha has."""
        return next(self._pages("/libraries", per_page=1)).total

    def libraries(self) -> list[dict[str, Any]]:
        return [library for page in self._pages("/libraries") for library in page.items]

    def patron_pages(
        self,
        *,
        updated_since: datetime.datetime | None = None,
        after_patron_id: int | None = None,
        per_page: int = DEFAULT_PER_PAGE,
        start_page: int = 1,
        embed: Iterable[str] = (),
    ) -> Iterator[Page]:
        """Patrons by patron id (stable while patrons change during the run: a changed patron keeps its
        place), those changed at or after `updated_since` when given (Koha's timestamps are whole seconds:
        `>` would miss a change made in the second a sync started), those after `after_patron_id` when given
        (keyset paging: a patron deleted in Koha during the walk cannot shift another one out of it)."""
        params: dict[str, Any] = {"_order_by": "+patron_id"}
        query: dict[str, Any] = {}
        if updated_since is not None:
            query["updated_on"] = {">=": koha_datetime(updated_since)}
        if after_patron_id is not None:
            query["patron_id"] = {">": int(after_patron_id)}
        if query:
            params["q"] = json.dumps(query)
        return self._pages("/patrons", params=params, per_page=per_page, start_page=start_page, headers=_embed(embed))

    def patron(self, patron_id: int, *, embed: Iterable[str] = ()) -> dict[str, Any]:
        return self._json(self._request("GET", f"/patrons/{int(patron_id)}", headers=_embed(embed)), dict)

    def patron_create(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._json(self._request("POST", "/patrons", json_body=data), dict)

    def patron_delete(self, patron_id: int) -> None:
        self._request("DELETE", f"/patrons/{int(patron_id)}")

    def extended_attributes(self, patron_id: int) -> list[dict[str, Any]]:
        path = f"/patrons/{int(patron_id)}/extended_attributes"
        return [attribute for page in self._pages(path) for attribute in page.items]

    def extended_attribute_update(self, patron_id: int, attribute_id: int, value: str) -> dict[str, Any]:
        path = f"/patrons/{int(patron_id)}/extended_attributes/{int(attribute_id)}"
        return self._json(self._request("PATCH", path, json_body={"value": value}), dict)

    def patrons_with_attribute(
        self, attribute_type: str, *, per_page: int = DEFAULT_PER_PAGE, start_page: int = 1
    ) -> Iterator[Page]:
        """Patrons that have an extended attribute of this type (code), their attributes embedded."""
        params = {"_order_by": "+patron_id", "q": json.dumps({"extended_attributes.code": attribute_type})}
        return self._pages(
            "/patrons",
            params=params,
            per_page=per_page,
            start_page=start_page,
            headers=_embed(["extended_attributes"]),
        )

    def checkouts(self, patron_id: int, *, checked_in: bool = False) -> list[dict[str, Any]]:
        """The patron's current loans, or with `checked_in` the returned ones Koha keeps (its loan history, as the
        patron's `privacy` choice allows). `patron_id` and `checked_in` are /checkouts' own exact parameters."""
        params: dict[str, Any] = {"patron_id": int(patron_id)}
        if checked_in:
            params["checked_in"] = "true"
        return self._all("/checkouts", params=params)

    def holds(self, patron_id: int) -> list[dict[str, Any]]:
        """The patron's holds. By `q`, an exact match: a plain `?patron_id=1` is one of Koha's filters, which match
        by "contains" unless told otherwise, and would bring patron 12's and 21's holds too."""
        return self._all("/holds", params={"q": json.dumps({"patron_id": int(patron_id)})})

    def account(self, patron_id: int) -> dict[str, Any]:
        return self._json(self._request("GET", f"/patrons/{int(patron_id)}/account"), dict)

    def action_logs(self, patron_id: int, *, modules: Iterable[str] = PATRON_LOG_MODULES) -> list[dict[str, Any]]:
        """Koha's action-log entries about the patron (Koha's `tools: view_system_logs` permission)."""
        return [
            entry
            for module in modules
            # By `q`, exact: plain filters match by "contains" (object 1 would bring object 12's entries).
            for entry in self._all(
                "/action_logs", params={"q": json.dumps({"module": module, "object": int(patron_id)})}
            )
        ]

    def restriction_put(self, ref: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or update the plugin's Koha restriction `ref` (its answer holds Koha's restriction id).
        A PUT sets the same state twice as once, so it is retried like a GET. KohaNotFound when Koha has no such
        patron (the plugin's `patron_not_found`); any other 404 is KohaPluginMissing."""
        try:
            return self._json(self._request("PUT", _restriction_path(ref), json_body=body), dict)
        except errors.KohaNotFound as error:
            if error.error_code == PLUGIN_PATRON_NOT_FOUND:
                raise
            raise errors.plugin_missing(error.url) from None

    def restriction_delete(self, ref: str) -> None:
        """Remove the plugin's Koha restriction `ref`. The plugin answers 204 also for one already gone, so a 404
        means its route is missing (KohaPluginMissing), never that the restriction went: it may well be there."""
        try:
            self._request("DELETE", _restriction_path(ref))
        except errors.KohaNotFound as error:
            raise errors.plugin_missing(error.url) from None

    # --- Paging -------------------------------------------------------------------------------------

    def _all(self, path: str, *, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [item for page in self._pages(path, params=params) for item in page.items]

    def _pages(
        self,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        per_page: int = DEFAULT_PER_PAGE,
        start_page: int = 1,
        headers: dict[str, str] | None = None,
    ) -> Iterator[Page]:
        if per_page < 1 or start_page < 1:
            raise ValueError("per_page and start_page are at least 1")
        number = start_page
        while True:
            response = self._request(
                "GET", path, params={**(params or {}), "_page": number, "_per_page": per_page}, headers=headers
            )
            items = self._json(response, list)
            total = _total(response, self._public_url(path))
            yield Page(number, items, total)
            if not items or number * per_page >= total:
                return
            number += 1

    # --- Requests -----------------------------------------------------------------------------------

    def _public_url(self, path: str) -> str:
        """The URL as errors may name it: no query string, nothing after the path."""
        return self.api_url + path

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        url = self._public_url(path)
        renewed = False
        while True:
            response = self._send(
                method, url, params=params, json=json_body, headers={**(headers or {}), **self._authorization()}
            )
            if response.status_code == 401 and self.auth == "oauth2" and not renewed:
                self._token, renewed = None, True  # Koha forgot the token (restart, revoked): once more
                continue
            _raise_for(response, url)
            return response

    @sensitive_variables("pair")
    def _authorization(self) -> dict[str, str]:
        if self.auth == "basic":
            pair = f"{self.client_id}:{self._secret}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        if self._token is None or time.monotonic() >= self._token_expires:
            self._token_fetch()
        return {"Authorization": f"Bearer {self._token}"}

    @sensitive_variables("form", "answer")
    def _token_fetch(self) -> None:
        url = self._public_url("/oauth/token")
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self._secret}
        response = self._send("POST", url, data=form, retry_any=True)
        if response.status_code == 400:
            raise errors.oauth2_unavailable(url)
        _raise_for(response, url)
        answer = self._json(response, dict)
        token, expires_in = answer.get("access_token"), answer.get("expires_in", 3600)
        if not isinstance(token, str) or not token or not isinstance(expires_in, int) or expires_in < 1:
            raise errors.bad_answer(url, status=response.status_code)
        self._token = token
        self._token_expires = time.monotonic() + max(expires_in - TOKEN_MARGIN_SECONDS, expires_in / 2)

    def _send(self, method: str, url: str, *, retry_any: bool = False, **kwargs: Any) -> requests.Response:
        """One request, retried on the failures a later attempt can cure; the last answer otherwise.

        `retry_any` marks a POST that is safe to repeat (the token request changes nothing)."""
        repeatable = retry_any or method in IDEMPOTENT
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.session.request(method, url, timeout=self.timeout, allow_redirects=False, **kwargs)
            except requests.ConnectTimeout:
                if last:
                    raise errors.unreachable(url) from None
            except (requests.ConnectionError, requests.Timeout):
                # The request may have reached Koha: repeat it only if doing it twice is harmless.
                if last or not repeatable:
                    raise errors.unreachable(url) from None
            else:
                status = response.status_code
                retryable = status in RETRY_ANY_METHOD or (status >= 500 and repeatable)
                if not retryable or last:
                    if status >= 500 or status == 429:
                        raise errors.unreachable(url, status=status)
                    return response
                self._sleep(max(self._backoff(attempt), _retry_after(response)))
                continue
            self._sleep(self._backoff(attempt))
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        """base * 2^attempt, with up to as much again of random jitter so that clients do not retry in step."""
        delay = self.retry_base_delay * 2**attempt
        return delay + random.uniform(0, delay)  # jitter, not a secret

    def _json(self, response: requests.Response, kind: type) -> Any:
        try:
            value = response.json()
        except ValueError:
            value = None
        if not isinstance(value, kind):
            raise errors.bad_answer(response.url.split("?", 1)[0], status=response.status_code)
        return value


def _restriction_path(ref: str) -> str:
    if not RESTRICTION_REF.match(ref):
        raise ValueError("a restriction reference is ban-<id> or prohibition-<id>")
    return PLUGIN_RESTRICTIONS_PATH + ref


def _embed(relations: Iterable[str]) -> dict[str, str]:
    relations = list(relations)
    return {"x-koha-embed": ",".join(relations)} if relations else {}


def _total(response: requests.Response, url: str) -> int:
    try:
        return int(response.headers["X-Total-Count"])
    except (KeyError, ValueError):
        raise errors.bad_answer(url, status=response.status_code) from None


def _retry_after(response: requests.Response) -> float:
    try:
        return min(float(response.headers.get("Retry-After", 0)), RETRY_AFTER_MAX_SECONDS)
    except ValueError:
        return 0.0


def _error_code(response: requests.Response) -> str:
    """Koha's `error_code`, if it is a plain code (it is shown to the operator, so nothing else is)."""
    try:
        code = response.json().get("error_code", "")
    except (ValueError, AttributeError):
        return ""
    if isinstance(code, str) and len(code) <= 50 and code.replace("_", "").isalnum() and code.isascii():
        return code
    return ""


def _raise_for(response: requests.Response, url: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (401, 403):
        raise errors.auth_failed(url, status=status)
    if status == 404:
        raise errors.not_found(url, error_code=_error_code(response))
    if status == 409:
        raise errors.refused(url, error_code=_error_code(response) or "conflict")
    raise errors.bad_answer(url, status=status)
