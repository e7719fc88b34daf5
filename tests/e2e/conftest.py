"""End-to-end fixtures: a real server on its own throwaway database, and headless Chromium.

pytest-django's live_server needs transactional_db, which empties every table between
tests -- and the access log's triggers refuse DELETE/TRUNCATE. So the server runs in a
subprocess (`manage.py runserver`) against a database of its own: a fresh PostgreSQL
database when the run's DATABASE_URL is PostgreSQL, otherwise a temporary SQLite file. The run migrates
and seeds one template once; each module's server gets a copy of it.
The tests read that database with plain SQL, never through Django's ORM (which points
at pytest's test database), and need no test database of their own.
"""

import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django_otp.oath import totp

from demo.totp_secrets import DEMO_TOTP_SECRETS, demo_totp_key

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# axe-core from the npm registry (package.json; `make assets` installs it), the engine of assert_accessible.
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 level AA, as axe tags it: each version's A and AA rules (2.2 added AA rules only).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 30.0


@dataclass(frozen=True)
class E2EDatabase:
    url: str

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith(("postgres://", "postgresql://"))

    @contextmanager
    def connect(self):
        """A plain DB-API connection to the server's database (autocommit on PostgreSQL)."""
        if self.is_postgres:
            import psycopg2

            conn = psycopg2.connect(self.url)
            conn.autocommit = True
        else:
            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=20)
        try:
            yield conn
        finally:
            conn.close()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of `sql`; write it with %s placeholders (turned into ? for SQLite)."""
        with self.connect() as conn:
            cursor = conn.cursor()
            cursor.execute(sql if self.is_postgres else sql.replace("%s", "?"), params)
            rows = cursor.fetchall()
            cursor.close()
            return rows


@dataclass(frozen=True)
class E2EServer:
    base_url: str
    database: E2EDatabase

    def url(self, path: str) -> str:
        return self.base_url + path


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _postgres_admin(url: str, statement: str, *names: str) -> None:
    """Run CREATE/DROP DATABASE on a short autocommit connection (held open, it would block DROP); `names`
    fill the statement's {} as identifiers."""
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL(statement).format(*map(sql.Identifier, names)))
    finally:
        conn.close()


@contextmanager
def _throwaway_database(template: E2EDatabase | None = None) -> Iterator[E2EDatabase]:
    """A database of its own: empty, or a copy of `template` (PostgreSQL's CREATE DATABASE ... TEMPLATE,
    SQLite's backup API, which copies a consistent snapshot whatever the journal mode)."""
    run_url = os.environ.get("DATABASE_URL", "")
    if run_url.startswith(("postgres://", "postgresql://")):
        name = f"e2e_{secrets.token_hex(6)}"
        if template is None:
            _postgres_admin(run_url, "CREATE DATABASE {}", name)
        else:
            _postgres_admin(run_url, "CREATE DATABASE {} TEMPLATE {}", name, urlsplit(template.url).path.lstrip("/"))
        try:
            yield E2EDatabase(_with_database(run_url, name))
        finally:
            _postgres_admin(run_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
    else:
        with tempfile.TemporaryDirectory(prefix="e2e-") as tmp:
            database = E2EDatabase(f"sqlite:///{tmp}/e2e.sqlite3")
            if template is not None:
                _sqlite_copy(template.url, database.url)
            yield database


def _sqlite_copy(source_url: str, target_url: str) -> None:
    with (
        closing(sqlite3.connect(source_url.removeprefix("sqlite:///"))) as source,
        closing(sqlite3.connect(target_url.removeprefix("sqlite:///"))) as target,
    ):
        source.backup(target)


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(process: subprocess.Popen, url: str, server_log) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    last_error = ""
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http://127.0.0.1
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as error:
            last_error = str(error)
        time.sleep(0.2)
    _stop(process)
    server_log.seek(0)
    pytest.fail(
        f"the e2e server did not answer 200 at {url} within {SERVER_START_TIMEOUT:.0f} s "
        f"(exit code {process.returncode}, last error: {last_error}).\nServer output:\n{server_log.read()}"
    )


@pytest.fixture(autouse=True)
def _fresh_allow_list():
    """Overrides tests/conftest.py's fixture of this name, so the e2e tests need no test database.

    Nothing here may use Django's ORM: while Playwright's sync API runs its event loop in
    this thread, Django refuses ORM calls (SynchronousOnlyOperation), and with
    DJANGO_ALLOW_ASYNC_UNSAFE it would quietly open a second connection that pytest-django
    never closes. The server's own database is read with plain SQL (E2EDatabase.query).
    """
    yield


@dataclass(frozen=True)
class _SeededTemplate:
    database: E2EDatabase
    silo: Path
    checkpoints: Path


def _server_env(database: E2EDatabase, state: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database.url,
        # The silo on a throwaway SQLite file in both runs; its PostgreSQL schema is tested elsewhere.
        "SOTU_DATABASE_URL": f"sqlite:///{state}/sotu.sqlite3",
        # The server's access-log checkpoints belong to its throwaway database, not to var/.
        "AUDIT_CHECKPOINT_DIR": f"{state}/checkpoints",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="session")
def _seeded_template() -> Iterator[_SeededTemplate]:
    """Migrated and seeded once per run (about 12 s); every module's server starts on a copy of it."""
    with _throwaway_database() as database, tempfile.TemporaryDirectory(prefix="e2e-template-") as state:
        env = _server_env(database, Path(state))
        _manage(env, "migrate", "--noinput")
        _manage(env, "migrate", "--noinput", "--database=sotu")
        _manage(env, "seed_demo")
        yield _SeededTemplate(database, Path(state) / "sotu.sqlite3", Path(state) / "checkpoints")


# Module scope, not session: the browser's event loop and the server end with this module,
# before the rest of the suite runs.
@pytest.fixture(scope="module")
def e2e_server(_seeded_template: _SeededTemplate) -> Iterator[E2EServer]:
    """`manage.py runserver` on a free port, on a fresh copy of the migrated and seeded database: the modules
    never see each other's writes, as if each had seeded its own."""
    template = _seeded_template
    with _throwaway_database(template.database) as database, tempfile.TemporaryDirectory(prefix="e2e-") as state:
        state_dir = Path(state)
        _sqlite_copy(f"sqlite:///{template.silo}", f"sqlite:///{state_dir / 'sotu.sqlite3'}")
        # The signed checkpoints the seeding wrote belong with the copied log.
        shutil.copytree(template.checkpoints, state_dir / "checkpoints")
        env = _server_env(database, state_dir)

        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        # A file, not a pipe: a pipe nobody reads could fill up and stall the server.
        with tempfile.TemporaryFile(mode="w+") as server_log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=REPO_ROOT,
                env=env,
                stdout=server_log,
                stderr=subprocess.STDOUT,
                text=True,
            )
            try:
                _wait_until_healthy(process, base_url + "/healthz", server_log)
                yield E2EServer(base_url=base_url, database=database)
            finally:
                _stop(process)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium package")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    # An English-speaking browser: staff pages are still Finnish until the user picks another language.
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


DEMO_PASSWORD = "kirjasto-demo-2026"
TOTP_STEP = 30
_used_steps: dict[tuple[str, bytes], int] = {}


def authenticator_code(server: E2EServer, key: bytes) -> str:
    """The code an authenticator app with `key` shows now, as a person would read it off their phone.

    A code is accepted once: when this key's code of the current 30-second step was already used on
    this server, wait for the next step, as a person logging in twice within half a minute would.
    """
    step = int(time.time()) // TOTP_STEP
    if _used_steps.get((server.base_url, key), -1) >= step:
        time.sleep((step + 1) * TOTP_STEP - time.time() + 0.2)
        step += 1
    _used_steps[(server.base_url, key)] = step
    return f"{totp(key, step=TOTP_STEP):06d}"


def log_in(page, server: E2EServer, username: str, *, next_path: str = "", accessible: bool = False) -> None:
    """Log in through the form; billing, the DPO and the superuser then pass the real second-factor step
    with the code their demo authenticator (README) shows now. `accessible`: axe checks both forms' pages too."""
    from playwright.sync_api import expect

    page.goto(server.url("/accounts/login/" + (f"?next={next_path}" if next_path else "")))
    if accessible:
        assert_accessible(page, "the log-in page")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    if username in DEMO_TOTP_SECRETS:
        expect(page).to_have_url(re.compile(r"/accounts/two-factor/\?next="))
        if accessible:
            assert_accessible(page, "the second-factor page")
        page.fill("#id_code", authenticator_code(server, demo_totp_key(username)))
        page.click("main form button[type=submit]")  # not the header's log-out button


def screenshot(page, name: str, **options) -> None:
    """With E2E_SCREENSHOTS=<directory> (e.g. /tmp), the page as <directory>/<name>.png for a person to look at;
    without it, nothing. The one switch of every e2e test; `options` go to Playwright's page.screenshot
    (full_page, clip)."""
    if directory := os.environ.get("E2E_SCREENSHOTS"):
        page.screenshot(path=Path(directory) / f"{name}.png", **options)


_AXE_RUN = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
    return result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((node) => node.target.join(" ")),
    }));
}"""


def assert_accessible(page, label: str) -> None:
    """Fail, listing each rule broken (id, impact, the elements' selectors), when axe-core finds a WCAG 2.2 A/AA
    violation on the page as it is now. Call it after each navigation and after each swap that changes the page.

    The script is evaluated through the DevTools protocol, which the pages' Content-Security-Policy (no inline
    scripts) does not govern, so the pages are checked with their real policy."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    violations = page.evaluate(_AXE_RUN, WCAG_TAGS)
    if violations:
        lines = [f"{len(violations)} accessibility rule(s) broken on {label} ({page.url}):"]
        for violation in violations:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            lines.extend(f"    {target}" for target in violation["targets"][:10])
            if len(violation["targets"]) > 10:
                lines.append(f"    ... and {len(violation['targets']) - 10} more")
        pytest.fail("\n".join(lines), pytrace=False)
