"""The shipped production server: real gunicorn with ./gunicorn.conf.py, production settings, two workers.

Two attacks of issue 10, on a database of its own that the server's processes share (a SQLite file,
or a fresh PostgreSQL database in the PostgreSQL run; pytest's test database lives inside a
transaction no other process can see):

- a planted patron's name is searched for over HTTP in every way a client can (the POSTed forms,
  htmx, the API's POST and its GET with `?search=`, an old bookmark with `?q=`, an invalid request
  line), and the name must appear in no log line (gunicorn's access and error logs, Django's log on
  the workers' stderr) and in no URL the server hands out;
- a network removed by another process (the admin's) is refused by every worker within a second.
"""

import base64
import html
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import REPO_ROOT, _free_port, _stop, _throwaway_database, _wait_until_healthy

PASSWORD = "kirjasto-demo-2026"
PLANTED = {"first_name": "Vuokkoliina", "last_name": "Kanarialintu", "cardnumber": "24409876543210"}
URL_ATTRIBUTE = re.compile(r'\b(?:href|action|src|formaction|hx-[a-z]+)="([^"]*)"')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# The pid gunicorn's access log ends each line with (access_log_format's %(p)s).
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.[01]" (?P<status>\d{3}) .* <(?P<pid>\d+)>$')

PLANT_PATRON = """
from tests.factories import PatronFactory
from staff.models import Library
PatronFactory(home_library=Library.objects.get(koha_library_id="ROV"), koha_patron_id=987654, **{planted!r})
"""
MAKE_SESSIONS = """
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.get(username={username!r})
backend = next(b for b in settings.AUTHENTICATION_BACKENDS if b.endswith("ModelBackend"))
for _ in range({count}):
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = backend
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    print(session.session_key)
"""
REMOVE_NETWORK = """
from staff.models import AllowedNetwork
AllowedNetwork.objects.get(municipality__name={municipality!r}, cidr={cidr!r}).delete()
"""


@dataclass
class ProductionServer:
    port: int
    env: dict[str, str]
    logs: dict[str, Path]

    def manage(self, *args: str) -> str:
        result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", code)

    def log_text(self) -> dict[str, str]:
        return {name: path.read_text(encoding="utf-8", errors="replace") for name, path in self.logs.items()}

    def access_lines(self) -> list[str]:
        return self.logs["gunicorn access log"].read_text(encoding="utf-8").splitlines()


@dataclass
class HttpClient:
    """A minimal browser: one new connection per request (so they spread over the workers), cookies kept."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        all_headers = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response.status, response.headers, text

    def form(self, path: str, data: dict, token: str, **headers):
        body = urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded", **headers})

    def log_in(self, username: str) -> str:
        status, _headers, page = self.request("GET", "/accounts/login/")
        assert status == 200
        status, headers, _page = self.form(
            "/accounts/login/", {"username": username, "password": PASSWORD}, CSRF_INPUT.search(page).group(1)
        )
        assert status == 302 and "sessionid" in self.cookies, (status, headers)
        return self.cookies["csrftoken"]


def production_env(database_url: str, silo_url: str, checkpoint_dir: Path) -> dict[str, str]:
    """Production settings (secrets made up for the run), on this run's throwaway databases."""
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "SQLITE_TEST_NAME"}}
    return {
        **env,
        # The service's own settings, not the suite's (tests/settings.py swaps the password hasher).
        "DJANGO_SETTINGS_MODULE": "privacy_service.settings",
        "PRIVACY_SERVICE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "SOTU_DATABASE_URL": silo_url,
        "SOTU_ENCRYPTION_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "SOTU_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "AUDIT_CHAIN_KEY": "c1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "AUDIT_CHECKPOINT_SIGNING_KEY": "s1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "AUDIT_CHECKPOINT_DIR": str(checkpoint_dir),
        "KOHA_CREDENTIAL_KEYS": "q1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "SECURE_SSL_REDIRECT": "false",  # no TLS proxy in front of the test server
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(autouse=True)
def _fresh_allow_list():
    """Overrides tests/conftest.py's: the server has its own database, and this module needs no test database."""
    yield


@pytest.fixture(scope="module")
def server() -> Iterator[ProductionServer]:
    with (
        _throwaway_database() as database,
        tempfile.TemporaryDirectory(prefix="gunicorn-") as tmp,
    ):
        directory = Path(tmp)
        (directory / "checkpoints").mkdir()
        env = production_env(database.url, f"sqlite:///{directory}/sotu.sqlite3", directory / "checkpoints")
        logs = {
            "gunicorn access log": directory / "access.log",
            "gunicorn error log": directory / "error.log",
            "the workers' stdout and stderr (Django's log)": directory / "output.log",
        }
        port = _free_port()
        setup = ProductionServer(port=port, env=env, logs=logs)
        setup.manage("migrate", "--noinput")
        setup.manage("migrate", "--noinput", "--database=sotu")
        setup.manage("seed_demo")
        setup.shell(PLANT_PATRON.format(planted=PLANTED))
        with logs["the workers' stdout and stderr (Django's log)"].open("w") as output:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and gunicorn
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--config",
                    str(REPO_ROOT / "gunicorn.conf.py"),  # the shipped file, as it is
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--access-logfile",
                    str(logs["gunicorn access log"]),
                    "--error-logfile",
                    str(logs["gunicorn error log"]),
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            try:
                with logs["gunicorn error log"].open("a+") as error_log:
                    _wait_until_healthy(process, f"http://127.0.0.1:{port}/healthz", error_log)
                yield setup
            finally:
                _stop(process)


def invalid_request_line(port: int, line: str) -> bytes:
    """Send a request line gunicorn cannot parse (it holds a space); gunicorn answers 400 and logs it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"{line}\r\nHost: 127.0.0.1\r\n\r\n".encode())
        return sock.recv(4096)


def test_a_planted_name_searched_every_way_reaches_no_log_line_and_no_url(server):
    name, first = PLANTED["last_name"], PLANTED["first_name"]
    search = f"{name} {first}"
    staff = HttpClient(server.port)
    token = staff.log_in("rovaniemi.staff")
    _status, _headers, page = staff.request("GET", "/patrons/")
    form_token = CSRF_INPUT.search(page).group(1)
    answers = []

    def keep(answer):
        answers.append(answer)
        return answer

    # The ways the service offers: the form, htmx as you type, the API's POST.
    # The plain form posts, is redirected to the search page (its query kept in the session), which shows it.
    status, headers, _redirect = keep(staff.form("/patrons/", {"q": search}, form_token))
    assert status == 302 and headers["Location"] == "/patrons/"
    status, _headers, found = keep(staff.request("GET", headers["Location"]))
    assert status == 200 and PLANTED["cardnumber"] in found  # the search did find the planted patron
    status, _headers, fragment = keep(staff.form("/patrons/", {"q": name[:5]}, form_token, **{"HX-Request": "true"}))
    assert status == 200 and name in fragment and "<html" not in fragment
    api_body = json.dumps({"search": search}).encode()
    api_headers = {"Content-Type": "application/json", "X-CSRFToken": token}
    status, _headers, api = keep(staff.request("POST", "/api/v1/patrons/search/", api_body, api_headers))
    assert status == 200 and json.loads(api)["results"][0]["last_name"] == name
    # The ways that put it in a URL: the API's GET (its contract), an old bookmark, a typo'd page,
    # a page the role may not see, a log-in's `next`, and a request line gunicorn cannot even parse.
    query = urlencode({"search": search})
    status, _headers, listed = keep(staff.request("GET", f"/api/v1/patrons/?{query}"))
    assert status == 200 and json.loads(listed)["count"] == 1
    status, headers, _page = keep(staff.request("GET", "/patrons/?" + urlencode({"q": search})))
    assert status == 302 and headers["Location"] == "/patrons/"
    assert keep(staff.request("GET", "/no-such-page/?" + urlencode({"q": search})))[0] == 404
    assert keep(staff.form("/billing/", {"q": search}, form_token))[0] == 403
    anonymous = HttpClient(server.port)
    assert keep(anonymous.request("GET", "/patrons/?" + urlencode({"q": search})))[1]["Location"] == "/patrons/"
    assert keep(anonymous.request("GET", "/patrons/"))[1]["Location"] == "/accounts/login/?next=/patrons/"
    assert invalid_request_line(server.port, f"GET /patrons/?q={name} {first} HTTP/1.1").startswith(b"HTTP/1.1 400")

    # No URL the server handed out holds the name: redirects, links, form actions, htmx attributes,
    # the API's next/previous.
    urls = []
    for _status, headers, body in answers:
        urls += [headers["Location"]] if headers["Location"] else []
        urls += [html.unescape(url) for url in URL_ATTRIBUTE.findall(body)]
        if headers["Content-Type"] == "application/json":
            document = json.loads(body)
            urls += [document[key] for key in ("next", "previous") if isinstance(document.get(key), str)]
    assert len(urls) > 20
    assert not [url for url in urls if name in url or first in url]

    # No log line holds it, in any spelling a URL would give it.
    time.sleep(0.5)  # the workers have answered; let the log handlers finish writing
    spellings = {name, first, name.lower(), first.lower()}
    logs = server.log_text()
    leaks = [
        (log, line) for log, text in logs.items() for line in text.splitlines() if any(s in line for s in spellings)
    ]
    assert not leaks, f"the planted name in the logs: {leaks}"
    # ...and the logs did record those requests, without their query strings.
    access = logs["gunicorn access log"]
    assert '"POST /patrons/ HTTP/1.1" 200' in access and '"POST /api/v1/patrons/search/ HTTP/1.1" 200' in access
    assert '"GET /api/v1/patrons/ HTTP/1.1" 200' in access and '"GET /patrons/ HTTP/1.1" 302' in access
    assert "?" not in access
    assert "Not Found: /no-such-page/" in logs["the workers' stdout and stderr (Django's log)"]
    assert "Forbidden (Permission denied): /billing/" in logs["the workers' stdout and stderr (Django's log)"]
    assert "Invalid request" in logs["gunicorn error log"] and "'[redacted]'" in logs["gunicorn error log"]


def test_a_network_removed_elsewhere_is_refused_by_every_worker_within_a_second(server):
    """The other attack: mikkeli.staff works from 127.0.0.1 (Mikkeli's 127.0.0.0/8); both workers have
    compiled the allow-list; the network is removed in another process (as the admin would). A second
    after that change's commit, every worker refuses. Before issue 10 they let it in for up to 30 s."""
    sessions = server.shell(MAKE_SESSIONS.format(username="mikkeli.staff", count=40)).split()

    def get_as(session: str) -> int:
        return HttpClient(server.port, cookies={"sessionid": session}).request("GET", "/patrons/")[0]

    def pids_answering(status: int, lines: list[str]) -> set[str]:
        matches = (ACCESS_LINE.search(line) for line in lines)
        return {m["pid"] for m in matches if m and m["path"] == "/patrons/" and m["status"] == str(status)}

    # Both workers compile the list that still holds the network.
    seen = len(server.access_lines())
    with ThreadPoolExecutor(max_workers=6) as pool:
        for _round in range(10):
            assert set(pool.map(get_as, sessions[:12])) == {200}
            time.sleep(0.1)
            if len(pids_answering(200, server.access_lines()[seen:])) == 2:
                break
    assert len(pids_answering(200, server.access_lines()[seen:])) == 2, "one worker never answered"

    server.shell(REMOVE_NETWORK.format(municipality="Mikkeli", cidr="127.0.0.0/8"))
    committed = time.monotonic()  # the removing process has exited: its transaction is committed
    time.sleep(max(0.0, committed + 1.05 - time.monotonic()))

    seen = len(server.access_lines())
    statuses = []
    with ThreadPoolExecutor(max_workers=6) as pool:
        # A refusal ends its session, so each attempt takes a live one; until both workers have answered.
        for start in range(12, len(sessions), 6):
            statuses += pool.map(get_as, sessions[start : start + 6])
            time.sleep(0.1)
            if set(statuses) != {403} or len(pids_answering(403, server.access_lines()[seen:])) == 2:
                break
    assert set(statuses) == {403}, f"a worker still let the removed network in: {statuses}"
    assert len(pids_answering(403, server.access_lines()[seen:])) == 2
