"""The Koha plugin's privacy panel in headless Chromium, against a real server (see conftest.py).

Koha itself is not here: the plugin's stub staff server (koha-plugin/t/bin/koha-stub-server, Perl and
Mojolicious) installs and configures the real plugin against this service, logs in one fake staff
session, mounts the plugin's routes as Koha does and serves static copies of Koha's patron pages with
the plugin's intranet_js pasted in where Koha pastes it. Between the stub and the service sits a gate
of this module: a plain forwarding proxy that can be shut (the service unreachable) and reopened, and
that can tamper with an answer (a hostile value from the service).

Checked: the panel shows the demo's ban in force with its dates in Finnish; the view lands in the
service's access log under the staff member the stub's Koha user id belongs to, with the page; with the
service unreachable the panel says so and the plugin's queue keeps the view, which a later page load
sends; Swedish and English pages get Swedish and English text; a patron whose processing is restricted (GDPR
Art. 18) gets the warning at the top, and a loan-history value from Koha is said not to be the patron's recorded
choice; a hostile value is shown as text; and the
other way round, the service's restriction push (its real Koha client, OAuth2 at the stub) makes the ban in
force a Koha restriction through the plugin's route, once.
"""

import datetime
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import FloatRect, Page, Route, expect

from tests.e2e.conftest import REPO_ROOT, E2EServer, _free_port, _stop, screenshot

pytestmark = pytest.mark.e2e

STUB = REPO_ROOT / "koha-plugin" / "t" / "bin" / "koha-stub-server"
CONSORTIUM = "lapin-kirjastot"
STAFF = "rovaniemi.staff"
KOHA_USERID = "rovstaff"  # the stub's logged-in Koha user; the service maps it to STAFF
KOHA_API_USER = "privacy-service"  # the service's Koha API user (OAuth2 client id) for the restriction routes
MOREMEMBER = "/cgi-bin/koha/members/moremember.pl"
CIRCULATION = "/cgi-bin/koha/circ/circulation.pl"
DASH = "\u2013"  # the en dash between two dates
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
SCREENSHOT_CLIP: FloatRect = {"x": 0, "y": 0, "width": 1280, "height": 640}
FLUSH_DEADLINE = 150.0  # the plugin flushes at most every 30 s, and a failed row waits 1 min first

# The demo's ban in force (seed_demo: decided, notified, decision number <library>-DEMO-1).
BAN_SQL = """
    SELECT p.id, p.koha_patron_id, b.starts_on, b.ends_on, l.koha_library_id
    FROM patrons_ban b
    JOIN patrons_patron p ON p.id = b.patron_id
    JOIN patrons_consortium c ON c.id = p.consortium_id
    JOIN patrons_library l ON l.id = b.library_id
    WHERE c.slug = %s AND b.decision_number LIKE %s AND p.koha_patron_id IS NOT NULL
"""
BANNED_KOHA_PATRONS_SQL = """
    SELECT DISTINCT p.koha_patron_id
    FROM patrons_ban b
    JOIN patrons_patron p ON p.id = b.patron_id
    JOIN patrons_consortium c ON c.id = p.consortium_id
    WHERE c.slug = %s AND p.koha_patron_id IS NOT NULL
"""
VIEW_EVENTS_SQL = """
    SELECT e.actor_username, e.resource, e.outcome, e.client_ip
    FROM audit_accessevent e JOIN audit_accesseventpatron ep ON ep.event_id = e.id
    WHERE ep.patron_id = %s AND e.action = 'koha_patron_view' AND e.id > %s
    ORDER BY e.id
"""

# Run by the server's own code (manage.py shell) with its environment: a machine key as an administrator
# makes one (the key manager hashes it; the permissions are the Koha ones), and the staff member's Koha
# user id. Prints the key, shown once.
SETUP_SCRIPT = """
import json
from staff.admin import machine_permissions
from staff.models import Consortium, MachineKey, StaffProfile
key, raw = MachineKey.objects.create_key(
    name="koha-plugin-e2e", consortium=Consortium.objects.get(slug={consortium!r}), networks="127.0.0.0/8\\n::1/128"
)
key.permissions.set(machine_permissions())
profile = StaffProfile.objects.get(user__username={staff!r})
profile.koha_userid = {koha_userid!r}
profile.save(update_fields=["koha_userid"])
print(json.dumps({{"key": raw}}))
"""


def _mojolicious_missing(perl: str | None) -> str | None:
    if perl is None:
        return "perl is not installed"
    result = subprocess.run([perl, "-MMojolicious", "-e", "1"], capture_output=True, check=False)  # noqa: S603
    return None if result.returncode == 0 else "perl's Mojolicious is missing (Debian: libmojolicious-perl)"


class _GateHandler(BaseHTTPRequestHandler):
    server: "_GateServer"

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            name: value
            for name, value in self.headers.items()
            if name.lower() in {"authorization", "content-type", "accept", "x-patron-privacy-plugin"}
        }
        request = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 server
            self.server.upstream + self.path, data=body, headers=headers, method=self.command
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
                status, content_type, payload = response.status, response.headers.get("Content-Type"), response.read()
        except urllib.error.HTTPError as error:
            status, content_type, payload = error.code, error.headers.get("Content-Type"), error.read()
        tamper = self.server.tamper
        if tamper is not None and status == 200 and "/privacy-status/" in self.path:
            payload = json.dumps(tamper(json.loads(payload))).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _forward

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test's output is not the place for request lines."""


class _GateServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, upstream: str, gate: "ServiceGate") -> None:
        super().__init__(("127.0.0.1", port), _GateHandler)
        self.upstream = upstream
        self._gate = gate

    @property
    def tamper(self) -> Callable[[dict], dict] | None:
        return self._gate.tamper


class ServiceGate:
    """The service as the plugin reaches it: open (forwarding), shut (nothing listens: unreachable), or
    tampering with the privacy status."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tamper: Callable[[dict], dict] | None = None
        self._server: _GateServer | None = None

    def open(self) -> None:
        self._server = _GateServer(self.port, self.upstream, self)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def shut(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@dataclass(frozen=True)
class Ban:
    patron_id: int
    koha_patron_id: int
    starts_on: datetime.date
    ends_on: datetime.date
    library: str


@dataclass
class KohaStub:
    base_url: str
    cookie: str
    db_path: Path
    gate: ServiceGate
    state: Path  # the module's temporary directory (the service's silo and checkpoints for manage.py)
    api_token: str  # the service's Koha API user's OAuth2 secret (and the Bearer token the stub gives for it)

    def url(self, path: str) -> str:
        return self.base_url + path

    def queued(self, koha_patron_id: int) -> list[str]:
        """Event ids of the plugin's queue (its own table in the stub's database) for a patron."""
        with closing(sqlite3.connect(self.db_path, timeout=20)) as conn:
            tables = [
                name
                for (name,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%queue%'"
                )
            ]
            assert len(tables) == 1, f"the plugin's queue table not found among {tables}"
            rows = conn.execute(
                f"SELECT event_id FROM {tables[0]} WHERE koha_patron_id = ?",
                (koha_patron_id,),
            ).fetchall()
        return [event_id for (event_id,) in rows]


def _shell(server: E2EServer, state: Path, script: str) -> str:
    result = _manage(server, state, "shell", "-c", script)
    if result.returncode != 0:
        pytest.fail(f"manage.py shell failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def _manage(server: E2EServer, state: Path, *args: str) -> subprocess.CompletedProcess:
    """A management command run by the server's own code, on its database, with its environment."""
    env = {
        **os.environ,
        "DATABASE_URL": server.database.url,
        "SOTU_DATABASE_URL": f"sqlite:///{state}/sotu.sqlite3",
        "AUDIT_CHECKPOINT_DIR": f"{state}/checkpoints",
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def ban(e2e_server: E2EServer) -> Ban:
    rows = e2e_server.database.query(BAN_SQL, (CONSORTIUM, "%-DEMO-1"))
    assert len(rows) == 1, f"seed_demo's ban in force not found: {rows}"
    patron_id, koha_patron_id, starts_on, ends_on, library = rows[0]
    return Ban(patron_id, koha_patron_id, _date(starts_on), _date(ends_on), library)


def _date(value: object) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


@pytest.fixture(scope="module")
def koha(e2e_server: E2EServer) -> Iterator[KohaStub]:
    perl = shutil.which("perl")
    reason = _mojolicious_missing(perl)
    if reason or perl is None:
        pytest.skip(reason or "perl is not installed")
    gate = ServiceGate(e2e_server.base_url)
    gate.open()
    with tempfile.TemporaryDirectory(prefix="e2e-koha-") as tmp:
        state = Path(tmp)
        setup = SETUP_SCRIPT.format(consortium=CONSORTIUM, staff=STAFF, koha_userid=KOHA_USERID)
        api_key = json.loads(_shell(e2e_server, state, setup))["key"]
        port = _free_port()
        db_path = state / "koha.sqlite3"
        api_token = secrets.token_urlsafe(24)
        # Koha's patrons the restriction routes find: those of the consortium's bans.
        koha_patrons = [
            arg
            for (koha_patron_id,) in e2e_server.database.query(BANNED_KOHA_PATRONS_SQL, (CONSORTIUM,))
            for arg in ("--patron", str(koha_patron_id))
        ]
        with tempfile.TemporaryFile(mode="w+") as stub_errors:
            process = subprocess.Popen(  # noqa: S603 - the repo's own stub server
                [
                    perl,
                    str(STUB),
                    "--listen",
                    f"http://127.0.0.1:{port}",
                    "--service-url",
                    gate.url,
                    "--api-key",
                    api_key,
                    "--staff-userid",
                    KOHA_USERID,
                    "--db",
                    str(db_path),
                    "--api-user",
                    KOHA_API_USER,
                    "--api-token",
                    api_token,
                    *koha_patrons,
                ],
                cwd=REPO_ROOT,
                stdout=subprocess.PIPE,
                stderr=stub_errors,
                text=True,
            )
            try:
                assert process.stdout is not None
                first_line = process.stdout.readline()
                if not first_line:
                    process.wait(timeout=10)
                    stub_errors.seek(0)
                    pytest.fail(f"the Koha stub server did not start ({process.returncode}):\n{stub_errors.read()}")
                session = json.loads(first_line)
                yield KohaStub(f"http://127.0.0.1:{port}", session["cgisessid"], db_path, gate, state, api_token)
            finally:
                _stop(process)
                gate.shut()


@pytest.fixture
def staff_page(browser, koha: KohaStub) -> Iterator[Page]:
    """A browser logged in to the stub Koha (its CGISESSID cookie), 1280 px wide as a staff desktop."""
    context = browser.new_context(locale="fi-FI", viewport={"width": 1280, "height": 800})
    context.add_cookies([{"name": "CGISESSID", "value": koha.cookie, "url": koha.base_url}])
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def _as_language(page: Page, lang: str) -> None:
    """Koha writes the staff user's language into <html lang>: serve the pages as Koha would in `lang`."""

    def rewrite(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace('<html lang="fi-FI">', f'<html lang="{lang}">'))

    page.route("**/cgi-bin/koha/**", rewrite)


def _panel(page: Page):
    panel = page.locator("section#patronprivacy-panel")
    expect(panel).to_have_attribute("role", "region")
    expect(panel.locator(".patronprivacy-body")).to_have_attribute("aria-busy", "false")
    return panel


def fi(day: datetime.date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


def en(day: datetime.date) -> str:
    return f"{day.day} {day.strftime('%b')} {day.year}"


def test_the_panel_shows_the_ban_and_the_view_lands_in_the_access_log(
    staff_page: Page, koha: KohaStub, ban: Ban, e2e_server: E2EServer
) -> None:
    since = e2e_server.database.query("SELECT COALESCE(MAX(id), 0) FROM audit_accessevent")[0][0]
    staff_page.goto(koha.url(f"{MOREMEMBER}?borrowernumber={ban.koha_patron_id}"))

    panel = _panel(staff_page)
    heading = panel.locator("#patronprivacy-heading")
    expect(heading).to_have_text("Tietosuoja")
    assert panel.get_attribute("aria-labelledby") == "patronprivacy-heading"
    expect(panel.locator("[aria-live=polite]")).to_have_text("1 kielto voimassa.")
    warning = panel.locator(".alert.alert-warning")
    expect(warning).to_have_count(1)
    expect(warning).to_have_text(
        f"Kirjaston käyttökielto voimassa {fi(ban.starts_on)}{DASH}{fi(ban.ends_on)}, kirjasto {ban.library}."
    )
    # The panel sits at the top of Koha's main column, above Koha's own toolbar.
    assert staff_page.evaluate("document.querySelector('main').firstElementChild.id") == "patronprivacy-panel"
    # The ban's patron has a behaviour note: its category is named, its text never is.
    expect(panel).to_contain_text("Arkaluonteiset merkinnät: käyttäytyminen")
    assert "lukusalissa" not in panel.inner_text()
    # A link to the patron in the service, reached by the keyboard alone.
    link = panel.get_by_role("link", name="Avaa asiakas tietosuojapalvelussa")
    expect(link).to_have_attribute("href", f"{koha.gate.url}/patrons/{ban.patron_id}/")
    for _ in range(40):
        staff_page.keyboard.press("Tab")
        if staff_page.evaluate("document.activeElement && document.activeElement.textContent") == link.inner_text():
            break
    else:
        pytest.fail("the panel's link is not reached with the Tab key")
    # No billing link for a staff user without Koha's updatecharges, and never an identity code.
    expect(panel.get_by_role("link", name="Henkilötunnus: palvelun laskutusnäkymässä")).to_have_count(0)

    # The panel at rest, as docs/koha-plugin.md shows it (E2E_SCREENSHOTS=docs/images).
    staff_page.keyboard.press("Escape")
    staff_page.evaluate("document.activeElement && document.activeElement.blur()")
    screenshot(staff_page, "koha-privacy-panel", clip=SCREENSHOT_CLIP)

    # The view: recorded as the staff member whose Koha user id the stub's session has, with the page.
    deadline = time.monotonic() + 15
    while not (events := e2e_server.database.query(VIEW_EVENTS_SQL, (ban.patron_id, since))):
        if time.monotonic() > deadline:
            pytest.fail("the view did not reach the service's access log within 15 s")
        time.sleep(0.3)
    assert events == [(STAFF, "koha:moremember", "allowed", "127.0.0.1")], events


def test_with_the_service_unreachable_the_panel_says_so_and_the_view_waits_in_the_queue(
    staff_page: Page, koha: KohaStub, ban: Ban, e2e_server: E2EServer
) -> None:
    before = set(koha.queued(ban.koha_patron_id))
    koha.gate.shut()
    try:
        staff_page.goto(koha.url(f"{MOREMEMBER}?borrowernumber={ban.koha_patron_id}"))
        panel = _panel(staff_page)
        expect(panel.locator("[aria-live=polite]")).to_have_text(
            "Tietosuojapalvelu ei vastaa; katselu on jonossa ja kirjataan lokiin myöhemmin."
        )
        expect(panel.locator(".alert-warning")).to_have_count(0)
        waiting = set(koha.queued(ban.koha_patron_id)) - before
        assert len(waiting) == 1, f"the view made while the service was down is not queued: {waiting}"
    finally:
        koha.gate.open()

    # The service is back: a page load sends the queue (once the plugin's throttle and back-off allow).
    deadline = time.monotonic() + FLUSH_DEADLINE
    while waiting & set(koha.queued(ban.koha_patron_id)):
        if time.monotonic() > deadline:
            pytest.fail(f"the queued view was not sent within {FLUSH_DEADLINE:.0f} s of the service's return")
        staff_page.wait_for_timeout(3000)
        staff_page.goto(koha.url(f"{MOREMEMBER}?borrowernumber={ban.koha_patron_id}"))
        _panel(staff_page)
    received = e2e_server.database.query(
        "SELECT event_id FROM koha_kohaviewreceipt WHERE event_id IN ({})".format(", ".join(["%s"] * len(waiting))),
        tuple(waiting),
    )
    assert {event_id for (event_id,) in received} == waiting


@pytest.mark.parametrize(
    ("lang", "heading", "sentence"),
    [
        ("sv-SE", "Dataskydd", "Användningsförbud gäller {iso_start}{dash}{iso_end}, bibliotek {library}."),
        ("en", "Privacy", "Library use ban in force {en_start} {dash} {en_end}, library {library}."),
    ],
)
def test_swedish_and_english_pages_get_swedish_and_english_text(
    staff_page: Page, koha: KohaStub, ban: Ban, lang: str, heading: str, sentence: str
) -> None:
    _as_language(staff_page, lang)
    staff_page.goto(koha.url(f"{MOREMEMBER}?borrowernumber={ban.koha_patron_id}"))
    panel = _panel(staff_page)
    expect(panel.locator("#patronprivacy-heading")).to_have_text(heading)
    assert panel.get_attribute("lang") == lang.split("-")[0]
    expect(panel.locator(".alert-warning")).to_have_text(
        sentence.format(
            iso_start=ban.starts_on.isoformat(),
            iso_end=ban.ends_on.isoformat(),
            en_start=en(ban.starts_on),
            en_end=en(ban.ends_on),
            library=ban.library,
            dash=DASH,
        )
    )


def test_the_checkout_page_takes_the_patron_from_its_form(staff_page: Page, koha: KohaStub, ban: Ban) -> None:
    """Koha's circulation.pl after a checkout has no borrowernumber in the address, only in its form."""

    def fill_form(route: Route) -> None:
        response = route.fetch()
        body = response.text().replace("[% patron.borrowernumber | html %]", str(ban.koha_patron_id))
        route.fulfill(response=response, body=body)

    staff_page.route("**" + CIRCULATION, fill_form)
    staff_page.goto(koha.url(CIRCULATION))
    expect(_panel(staff_page).locator(".alert-warning")).to_contain_text(fi(ban.ends_on))


def test_a_page_without_a_patron_gets_no_panel(staff_page: Page, koha: KohaStub) -> None:
    staff_page.goto(koha.url(CIRCULATION))  # the checkout page before a patron is chosen
    staff_page.wait_for_load_state("load")
    expect(staff_page.locator("h1")).to_be_visible()
    expect(staff_page.locator("#patronprivacy-panel")).to_have_count(0)


# A patron of the consortium in Koha with no ban (the ban's patron stays as the other tests expect it).
UNBANNED_KOHA_PATRON_SQL = """
    SELECT p.id, p.koha_patron_id FROM patrons_patron p JOIN patrons_consortium c ON c.id = p.consortium_id
    WHERE c.slug = %s AND p.koha_patron_id IS NOT NULL AND NOT p.held_after_erasure
      AND NOT EXISTS (SELECT 1 FROM patrons_ban b WHERE b.patron_id = p.id)
    ORDER BY p.id LIMIT 1
"""
# The DPO's restriction as the service records it (patrons.ProcessingRestriction), and its lifting afterwards.
RESTRICT_SCRIPT = """
from django.utils import timezone
from patrons.models import ProcessingRestriction
restriction = ProcessingRestriction.objects.create(
    patron_id={patron_id}, ground="art18_1_a", restricted_at=timezone.now(), restricted_by="e2e"
)
print(restriction.pk)
"""
LIFT_SCRIPT = """
from django.utils import timezone
from patrons.models import ProcessingRestriction
print(ProcessingRestriction.objects.filter(pk={pk}).update(lifted_at=timezone.now(), lifted_by="e2e"))
"""


def test_a_restricted_patron_gets_the_warning_at_the_top_of_the_panel(
    staff_page: Page, koha: KohaStub, e2e_server: E2EServer
) -> None:
    rows = e2e_server.database.query(UNBANNED_KOHA_PATRON_SQL, (CONSORTIUM,))
    assert rows, "no patron of the consortium in Koha without a ban"
    patron_id, koha_patron_id = rows[0]
    with closing(sqlite3.connect(koha.db_path, timeout=20)) as conn, conn:  # the patron in the stub's Koha
        conn.execute("INSERT OR IGNORE INTO borrowers (borrowernumber, userid) VALUES (?, ?)", (koha_patron_id, "r"))
    restriction = _shell(e2e_server, koha.state, RESTRICT_SCRIPT.format(patron_id=patron_id))
    try:
        staff_page.goto(koha.url(f"{MOREMEMBER}?borrowernumber={koha_patron_id}"))
        panel = _panel(staff_page)
        warning = panel.locator(".patronprivacy-processing-restricted")
        expect(warning).to_have_text(
            "Käsittelyä rajoitettu (GDPR 18 artikla): älä muuta tämän asiakkaan tietoja äläkä laskuta asiakasta."
        )
        expect(warning).to_have_attribute("role", "alert")
        # At the very top of the panel's body, above the status line and everything else.
        assert panel.locator(".patronprivacy-body > *").first.get_attribute("class") == (
            "alert alert-danger patronprivacy-processing-restricted"
        )
        # The demo records no loan-history choice: Koha's value, which the panel says is not the patron's choice.
        expect(panel).to_contain_text("ei asiakkaan kirjattu valinta")
    finally:
        _shell(e2e_server, koha.state, LIFT_SCRIPT.format(pk=restriction))
    staff_page.goto(koha.url(f"{MOREMEMBER}?borrowernumber={koha_patron_id}"))
    expect(_panel(staff_page).locator(".patronprivacy-processing-restricted")).to_have_count(0)


def test_a_hostile_value_from_the_service_is_shown_as_text(staff_page: Page, koha: KohaStub, ban: Ban) -> None:
    def hostile(status: dict) -> dict:
        status["restrictions"][0]["library"] = HOSTILE
        status["sensitive_marks"].append(HOSTILE)
        status["links"] = {"patron": "javascript:window.__pwned = 3", "billing": None}
        return status

    koha.gate.tamper = hostile
    try:
        staff_page.goto(koha.url(f"{MOREMEMBER}?borrowernumber={ban.koha_patron_id}"))
        panel = _panel(staff_page)
        expect(panel.locator(".alert-warning")).to_contain_text(HOSTILE)
        expect(panel).to_contain_text(f"käyttäytyminen, {HOSTILE}")
        expect(panel.locator("script, img")).to_have_count(0)
        expect(panel.get_by_role("link")).to_have_count(0)  # a javascript: link is not drawn
        staff_page.wait_for_timeout(500)
        assert staff_page.evaluate("window.__pwned") is None
    finally:
        koha.gate.tamper = None


# The service's Koha connection to the stub (OAuth2 with the stub's API user), made by the service's own code.
CONNECT_SCRIPT = """
from koha.models import KohaConnection
from staff.models import Consortium
connection = KohaConnection(consortium=Consortium.objects.get(slug={consortium!r}), base_url={base_url!r},
                            client_id={client_id!r})
connection.secret_set({secret!r})
connection.save()
print(connection.pk)
"""
RESTRICTIONS_SQL = """
    SELECT d.borrowernumber, d.type, d.expiration, d.comment FROM borrower_debarments d WHERE d.type = 'PATRON_PRIVACY'
"""


def test_the_ban_in_force_becomes_a_koha_restriction_through_the_plugin(
    koha: KohaStub, ban: Ban, e2e_server: E2EServer
) -> None:
    """The service's push, its real client and the plugin's real route: OAuth2 at the stub Koha, PUT the ban."""
    setup = CONNECT_SCRIPT.format(
        consortium=CONSORTIUM, base_url=koha.base_url, client_id=KOHA_API_USER, secret=koha.api_token
    )
    _shell(e2e_server, koha.state, setup)

    first = _manage(e2e_server, koha.state, "koha_push_restrictions", "--consortium", CONSORTIUM)
    assert first.returncode == 0, first.stdout + first.stderr
    with closing(sqlite3.connect(koha.db_path, timeout=20)) as conn:
        restrictions = conn.execute(RESTRICTIONS_SQL).fetchall()
    mine = [row for row in restrictions if row[0] == ban.koha_patron_id]
    assert len(mine) == 1, restrictions
    _, _, expiration, comment = mine[0]
    # Koha restricts while the expiration is after today: the day after the ban's last day.
    assert expiration == (ban.ends_on + datetime.timedelta(days=1)).isoformat()
    assert ban.library in comment and ban.ends_on.isoformat() in comment

    # A second run finds Koha as it should be: nothing new there.
    again = _manage(e2e_server, koha.state, "koha_push_restrictions", "--consortium", CONSORTIUM)
    assert again.returncode == 0, again.stdout + again.stderr
    with closing(sqlite3.connect(koha.db_path, timeout=20)) as conn:
        assert conn.execute(RESTRICTIONS_SQL).fetchall() == restrictions
