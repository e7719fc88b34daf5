"""The service under load and faults: 32 HTTP clients, then `kill -9` of a worker and a PostgreSQL restart.

Against the throwaway PostgreSQL of scripts/with-postgres.sh, turned durable first (fsync, synchronous_commit
and full_page_writes on, through ALTER SYSTEM as the superuser and a reload; read back from the server and
printed), as production runs:

  - both databases migrated, the demo seeded and --patrons generated patrons (bench/silo.py's `prepare` and
    `ensure_patrons`: bench/generate.py's SQL, no generated access events, so the whole chain verifies);
  - gunicorn with the project's gunicorn.conf.py, 2 sync workers (its max_requests recycling kept), and the
    sealer `manage.py seal_access_log --follow 2`, both as the runtime role (DATABASE_APP_ROLE), the sealer
    supervised as systemd's `Restart=always` would (restarted 1 s after it exits; the exits are reported);
  - --clients (32) threads, each with its own HTTP connection (requests), a random mix of: the search API
    (a surname), the patron detail API, the patron page, a patron's notes (API), all as the demo staff
    `rovaniemi.staff` with a session cookie from 127.0.0.1 (allowed in Rovaniemi), and Koha view batches
    (POST /api/v1/koha/views/, --batch views each) with a machine key of Lapland's consortium sent as the
    plugin sends it (`Authorization: Api-Key ...`, `X-Patron-Privacy-Plugin`). Every answer's status (or the
    client-side exception) is counted per endpoint; a client pauses 0.1 s after an error.

Phase 1 (clean, --duration s): no error; the access events written == the 2xx reads per kind (events counted
by action and resource; a view batch is one event per view plus one for the batch); each patron read (detail,
page, notes: every request names a patron without guardians or wards, so the event names only them) matched
to its event by patron; each Koha view by its receipt; after the sealer caught up (the sealing lag reported),
`verify_access_log` passes.

Phase 2 (faults, --duration s): at 25 % `kill -9` of one gunicorn worker (gunicorn starts another), at 50 %
`pg_ctl restart -m immediate` (the harsher test: no shutdown checkpoint, the server recovers from its WAL as
after a crash; `--restart-mode fast` for the orderly one). Errors per window, the recovery time (from the
restart to the first 2xx of a request sent after it, and to the last error), the same accounting as phase 1
with every mismatch named (an event without a 2xx is a request that committed and lost its answer; a 2xx
without an event would be a read not logged), no partial write (every event has its patron rows, every patron
row its event, every Koha receipt its event), the failed Koha batches sent again as the plugin would (the ones
recorded before the failure answer `duplicate`: each view logged exactly once), the sealer resumed (nothing
left unsealed) and the chain verifies.

    scripts/with-postgres.sh .venv/bin/python bench/faults.py               # ~3.5 minutes
    scripts/with-postgres.sh .venv/bin/python bench/faults.py --duration 30 --restart-mode fast

Writes results/faults.md and results/faults.csv (every request: phase, endpoint, times, status or error).
Runs as root (the server is restarted as the `postgres` system user, as scripts/with-postgres.sh runs it).
"""

import argparse
import itertools
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    REPO_ROOT,
    django_setup,
    fmt,
    markdown_table,
    progress,
    superuser_connection,
    write_csv,
    write_section,
)

STAFF_USER = "rovaniemi.staff"
CONSORTIUM = "lapin-kirjastot"
KOHA_USERID = "bench.faults"
PLUGIN_VERSION = "1.1.0"
ADDRESS = "127.0.0.1"
SEED = 1616
PYTHON = str(REPO_ROOT / ".venv" / "bin" / "python")
GUNICORN = str(REPO_ROOT / ".venv" / "bin" / "gunicorn")
PG_BINDIR = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
DURABILITY = ("fsync", "synchronous_commit", "full_page_writes")
# Endpoint kinds and their share of the requests.
MIX = {"search": 25, "detail_api": 25, "detail_page": 15, "notes": 20, "koha_views": 15}
PATRON_PATHS = {
    "detail_api": "/api/v1/patrons/{id}/",
    "detail_page": "/patrons/{id}/",
    "notes": "/api/v1/patrons/{id}/notes/",
}
ERROR_PAUSE = 0.1


@dataclass
class Answer:
    """One request as its client saw it."""

    phase: str
    kind: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer (see error)
    error: str
    keys: tuple = ()  # the patron id, or the batch's view event ids

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Target:
    """What the clients need: the service's address, credentials and what to ask for."""

    base: str
    cookie: str
    machine_key: str
    surnames: list[str]
    patrons: dict[str, "itertools.cycle[int]"]
    koha_ids: list[int]
    batch: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_patron(self, kind: str) -> int:
        with self.lock:
            return next(self.patrons[kind])


# --- PostgreSQL as the superuser -------------------------------------------------------------------------


def make_durable() -> tuple[dict[str, str], str]:
    """fsync, synchronous_commit and full_page_writes on (scripts/with-postgres.sh turns them off); the settings
    read back from the server, and its data directory."""
    conn = superuser_connection()
    with conn.cursor() as cursor:
        for name in DURABILITY:
            cursor.execute(f"ALTER SYSTEM SET {name} = on")
        cursor.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)
        cursor.execute("SHOW data_directory")
        data_dir = cursor.fetchone()[0]
    conn.close()
    return durability(), data_dir


def durability() -> dict[str, str]:
    """The durability settings as the server reports them (a new connection: after a reload or restart)."""
    conn = superuser_connection()
    with conn.cursor() as cursor:
        values = {}
        for name in DURABILITY:
            cursor.execute(f"SHOW {name}")
            values[name] = cursor.fetchone()[0]
    conn.close()
    return values


def pg_restart(data_dir: str, mode: str) -> tuple[float, int, str]:
    """`pg_ctl restart -m MODE -w` as the server's owner; (seconds, exit code, output)."""
    log = str(Path(data_dir).parent / "server.log")  # scripts/with-postgres.sh's server log
    command = [f"{PG_BINDIR}/pg_ctl", "restart", "-D", data_dir, "-m", mode, "-w", "-t", "60", "-l", log]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, cwd=Path(data_dir).parent)  # noqa: S603
    return time.monotonic() - started, done.returncode, (done.stdout + done.stderr).strip()


# --- the service ----------------------------------------------------------------------------------------


def app_database_url() -> str:
    """DATABASE_URL as the runtime role (scripts/with-postgres.sh gives each role its name as password)."""
    if os.environ.get("FAULTS_APP_DATABASE_URL"):
        return os.environ["FAULTS_APP_DATABASE_URL"]
    role = os.environ.get("DATABASE_APP_ROLE")
    url = urlsplit(os.environ["DATABASE_URL"])
    if not role:
        return os.environ["DATABASE_URL"]
    return urlunsplit(url._replace(netloc=f"{role}:{role}@{url.hostname}:{url.port}"))


# The server's and the sealer's settings: the service's own.
SERVICE_SETTINGS = "privacy_service.settings"


def service_env(work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SERVICE_SETTINGS,
        "DEBUG": "false",
        "DATABASE_URL": app_database_url(),
        # One client address sends everything: the throttles would measure themselves.
        "API_THROTTLE_USER": "100000000/minute",
        "API_THROTTLE_MACHINE": "100000000/minute",
        "AUDIT_CHECKPOINT_DIR": str(work / "checkpoints"),
        "GUNICORN_ACCESS_LOG": str(work / "gunicorn-access.log"),
        "GUNICORN_ERROR_LOG": str(work / "gunicorn.log"),
    }


def start_gunicorn(port: int, work: Path) -> subprocess.Popen:
    command = [GUNICORN, "-c", "gunicorn.conf.py", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    # The workers' own stderr: Django's log (django.request's "Internal Server Error" and its traceback).
    with (work / "django.log").open("w") as log:
        return subprocess.Popen(  # noqa: S603 (the venv's gunicorn, fixed arguments)
            command, cwd=REPO_ROOT, env=service_env(work), stdout=log, stderr=subprocess.STDOUT
        )


def gunicorn_workers(master: int) -> list[int]:
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


class Sealer:
    """`manage.py seal_access_log --follow 2`, restarted 1 s after it exits (systemd's Restart=always)."""

    def __init__(self, work: Path):
        self.work = work
        self.exits: list[tuple[float, int, str]] = []  # (time, exit code, its last stderr line)
        self.stopping = threading.Event()
        self.process: subprocess.Popen | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        number = 0
        while not self.stopping.is_set():
            number += 1
            log = self.work / f"sealer-{number}.log"
            with log.open("w") as handle:
                self.process = subprocess.Popen(  # noqa: S603 (this interpreter, this repo's manage.py)
                    [PYTHON, "manage.py", "seal_access_log", "--follow", "2", "-v", "0"],
                    cwd=REPO_ROOT,
                    env=service_env(self.work),
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                )
                code = self.process.wait()
            if self.stopping.is_set():
                break
            lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
            self.exits.append((time.monotonic(), code, lines[-1][:200] if lines else ""))
            progress(f"the sealer exited ({code}): {lines[-1][:120] if lines else ''}; restarting it in 1 s")
            time.sleep(1)

    def stop(self) -> None:
        self.stopping.set()
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.thread.join(timeout=30)


def wait_ready(base: str, server: subprocess.Popen) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}: see its log")
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


# --- data and credentials -------------------------------------------------------------------------------


def prepare_data(patrons: int) -> None:
    from bench import silo

    for label, seconds, note in silo.prepare():
        progress(f"{label}: {seconds:.1f} s {note}")
    existing, added, seconds = silo.ensure_patrons(patrons, batch=100_000, seed=0.2026)
    progress(f"patrons: {existing:,} generated ones existed, {added:,} added in {seconds:.1f} s")


def make_target(base: str, batch: int, rng: random.Random) -> Target:
    """A session of the staff user, a machine key of the consortium, and what to ask for."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench.generate import KOHA_ID_BASE
    from patrons.models import Guardianship, Patron
    from staff.admin import machine_permissions
    from staff.models import Consortium, MachineKey, StaffProfile

    staff = get_user_model().objects.get(username=STAFF_USER)
    consortium = Consortium.objects.get(slug=CONSORTIUM)
    generated = Patron.objects.filter(consortium=consortium, koha_patron_id__gte=KOHA_ID_BASE)
    # Patrons without guardians or wards: a read of one names that patron alone, so it matches one event.
    lone = list(
        generated.exclude(pk__in=Guardianship.objects.values("ward_id"))
        .exclude(pk__in=Guardianship.objects.values("guardian_id"))
        .values_list("pk", flat=True)
    )
    pools = {}
    for kind in PATRON_PATHS:
        ids = lone[:]
        rng.shuffle(ids)
        pools[kind] = itertools.cycle(ids)
    surnames = sorted(set(generated.values_list("last_name", flat=True)[:5000]))
    koha_ids = [k for k in generated.values_list("koha_patron_id", flat=True)[:20000] if k is not None]

    key, raw = MachineKey.objects.create_key(name="bench-faults", consortium=consortium, networks="127.0.0.0/8")
    key.permissions.set(machine_permissions())
    StaffProfile.objects.filter(user=staff).update(koha_userid=KOHA_USERID)
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(staff)  # a session row, as the log-in form makes
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    progress(f"{len(lone):,} patrons without guardians or wards, {len(surnames)} surnames, {len(koha_ids):,} Koha ids")
    return Target(base, cookie, raw, surnames, pools, koha_ids, batch)


# --- the clients ----------------------------------------------------------------------------------------


def one_request(session, target: Target, kind: str, rng: random.Random) -> tuple[int, str, tuple]:
    """Send one request of `kind`; (status, error, keys). Status 0 when no answer came."""
    import requests

    keys: tuple
    headers = {"Cookie": target.cookie}
    if kind == "search":
        url, keys = f"{target.base}/api/v1/patrons/?search={quote(rng.choice(target.surnames))}", ()
        method, body = "GET", None
    elif kind in PATRON_PATHS:
        patron = target.next_patron(kind)
        url, keys = target.base + PATRON_PATHS[kind].format(id=patron), (patron,)
        method, body = "GET", None
    else:
        moment = datetime.now(UTC).isoformat()
        views = [
            {
                "event_id": uuid.uuid4().hex,
                "koha_patron_id": rng.choice(target.koha_ids),
                "staff_userid": KOHA_USERID,
                "staff_address": ADDRESS,
                "page": "moremember",
                "viewed_at": moment,
            }
            for _ in range(target.batch)
        ]
        url, keys, method, body = (
            f"{target.base}/api/v1/koha/views/",
            tuple(v["event_id"] for v in views),
            "POST",
            views,
        )
        headers = {"Authorization": f"Api-Key {target.machine_key}", "X-Patron-Privacy-Plugin": PLUGIN_VERSION}
    try:
        response = session.request(
            method,
            url,
            json={"views": body} if body is not None else None,
            headers=headers,
            timeout=(5, 30),
            allow_redirects=False,
        )
    except requests.RequestException as failure:
        return 0, type(failure).__name__, keys
    error = ""
    if kind == "koha_views" and response.status_code == 200:
        statuses = Counter(view["status"] for view in response.json()["views"])
        if set(statuses) != {"recorded"}:
            error = "views answered " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    return response.status_code, error, keys


class Clients:
    """--clients threads sending requests until stopped; every answer kept."""

    def __init__(self, target: Target, count: int):
        self.target = target
        self.count = count
        self.answers: list[Answer] = []
        self.phase = ""
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, phase: str) -> None:
        self.phase = phase
        self.stopping.clear()
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(self.count)]
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _client(self, number: int) -> None:
        import requests

        rng = random.Random(f"{SEED}-{self.phase}-{number}")
        kinds, weights = list(MIX), list(MIX.values())
        session = requests.Session()
        while not self.stopping.is_set():
            kind = rng.choices(kinds, weights)[0]
            started = time.monotonic()
            status, error, keys = one_request(session, self.target, kind, rng)
            answer = Answer(self.phase, kind, started, time.monotonic(), status, error, keys)
            self.answers.append(answer)
            if not answer.ok:
                time.sleep(ERROR_PAUSE)
        session.close()


class Monitor:
    """Once a second: the load average, the unsealed events and the age of the oldest one."""

    def __init__(self):
        self.samples: list[tuple[float, float, int | None, float | None]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psycopg2

        conn = None
        while not self.stopping.is_set():
            unsealed = oldest = None
            try:
                if conn is None:
                    conn = psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=2)
                    conn.autocommit = True
                with conn.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*), extract(epoch FROM now() - min(at))::float8 FROM audit_accessevent"
                        " WHERE hash IS NULL"
                    )
                    unsealed, oldest = cursor.fetchone()
            except psycopg2.Error:  # the server restarting
                conn = None
            self.samples.append((time.monotonic(), load_average(), unsealed, oldest))
            self.stopping.wait(1)
        if conn is not None:
            conn.close()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


# --- accounting -----------------------------------------------------------------------------------------


def max_event_id() -> int:
    from django.db import connections

    connections.close_all()
    from audit.models import AccessEvent

    return AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_by_kind(low: int, high: int) -> Counter:
    from django.db.models import Count

    from audit.models import AccessEvent

    rows = (
        AccessEvent.objects.filter(id__gt=low, id__lte=high)
        .values_list("action", "resource")
        .annotate(n=Count("id"))
        .order_by()
    )
    return Counter({(action, resource): n for action, resource, n in rows})


def patrons_of_events(low: int, high: int, action: str, resource: str) -> Counter:
    from audit.models import AccessEventPatron

    rows = AccessEventPatron.objects.filter(
        event_id__gt=low, event_id__lte=high, event__action=action, event__resource=resource
    ).values_list("patron_id", flat=True)
    return Counter(rows)


def calibrate(target: Target) -> dict[str, Counter]:
    """The events one request of each kind writes, by (action, resource): one request each, logged in."""
    import requests

    session = requests.Session()
    rng = random.Random(SEED)
    expected = {}
    for kind in MIX:
        before = max_event_id()
        status, error, _keys = one_request(session, target, kind, rng)
        if status != 200 or error:
            raise SystemExit(f"calibration: {kind} answered {status} {error}: the bench would measure an error")
        expected[kind] = events_by_kind(before, max_event_id())
        progress(f"calibration: {kind} -> {dict(expected[kind])}")
    for kind in PATRON_PATHS:
        if sum(expected[kind].values()) != 1:
            raise SystemExit(f"calibration: one {kind} request wrote {dict(expected[kind])}, not one event")
    session.close()
    return expected


def unsealed_count() -> int:
    from audit.models import AccessEvent

    return AccessEvent.objects.filter(hash__isnull=True).count()


def wait_sealed(timeout: float) -> tuple[float, int]:
    """Seconds until no event is unsealed (the sealer's catch-up), and how many were unsealed at the start."""
    from django.db import connections

    started = time.monotonic()
    first = None
    while True:
        try:
            left = unsealed_count()
        except Exception:
            connections.close_all()
            left = -1
        first = left if first is None else first
        if left == 0 or time.monotonic() - started > timeout:
            return time.monotonic() - started, first
        time.sleep(0.2)


VERIFY_IN_ENGLISH = """
import sys
import django
django.setup()
from django.core.management import CommandError, call_command
from django.utils import translation
translation.activate("en")
try:
    call_command("verify_access_log")
except CommandError as error:
    print(error, file=sys.stderr)
    sys.exit(error.returncode)
"""


def verify(work: Path) -> tuple[int, str]:
    """`manage.py verify_access_log` as the runtime role, its messages in English: (exit code, first lines)."""
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [PYTHON, "-c", VERIFY_IN_ENGLISH], cwd=REPO_ROOT, env=service_env(work), capture_output=True, text=True
    )
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip() and " INFO " not in line]
    return done.returncode, " / ".join(lines[:6])


def integrity(low: int, high: int) -> dict[str, int]:
    """Partial writes among the events in (low, high]: patron rows missing or extra, receipts without event."""
    from django.db import connection

    checks = {
        "events whose patron rows differ from their patrons": """
            SELECT count(*) FROM audit_accessevent e WHERE e.id > %(low)s AND e.id <= %(high)s
            AND jsonb_array_length(e.patron_ids) <> (SELECT count(*) FROM audit_accesseventpatron p
                                                      WHERE p.event_id = e.id)""",
        "patron rows without their event": """
            SELECT count(*) FROM audit_accesseventpatron p LEFT JOIN audit_accessevent e ON e.id = p.event_id
            WHERE e.id IS NULL""",
        "Koha receipts without their event": """
            SELECT count(*) FROM koha_kohaviewreceipt r LEFT JOIN audit_accessevent e ON e.id = r.access_event_id
            WHERE e.id IS NULL""",
        "Koha view events without a receipt": """
            SELECT count(*) FROM audit_accessevent e WHERE e.id > %(low)s AND e.id <= %(high)s
            AND e.action = 'koha_patron_view'
            AND NOT EXISTS (SELECT 1 FROM koha_kohaviewreceipt r WHERE r.access_event_id = e.id)""",
    }
    found = {}
    with connection.cursor() as cursor:
        for label, sql in checks.items():
            cursor.execute(sql, {"low": low, "high": high})
            found[label] = cursor.fetchone()[0]
    return found


def recorded_views(event_ids: list[str]) -> set[str]:
    from koha.models import KohaViewReceipt

    found: set[str] = set()
    for start in range(0, len(event_ids), 5000):
        chunk = event_ids[start : start + 5000]
        found |= set(KohaViewReceipt.objects.filter(event_id__in=chunk).values_list("event_id", flat=True))
    return found


@dataclass
class PhaseResult:
    name: str
    answers: list[Answer]
    low: int
    high: int
    started: float
    ended: float
    load: tuple[float, float]
    samples: list = field(default_factory=list)
    faults: dict = field(default_factory=dict)
    findings: dict = field(default_factory=dict)


def account(result: PhaseResult, expected: dict[str, Counter]) -> dict:
    """Events against 2xx answers per kind, and per patron / per Koha view where a request names one."""
    ok = Counter(a.kind for a in result.answers if a.ok)
    want: Counter = Counter()
    for kind, per_request in expected.items():
        for key, n in per_request.items():
            # A view batch's view events scale with its size; its own event is one a batch.
            want[key] += ok[kind] * n
    got = events_by_kind(result.low, result.high)
    rows = []
    for key in sorted(set(want) | set(got)):
        kinds = [kind for kind, per_request in expected.items() if key in per_request]
        rows.append((", ".join(kinds) or "(none)", f"{key[0]} / {key[1]}", want[key], got[key], got[key] - want[key]))
    # Per patron: each 2xx read of a patron has its event naming the patron; each event one 2xx read.
    per_patron = {}
    for kind in PATRON_PATHS:
        (action, resource), _n = next(iter(expected[kind].items()))
        answered = Counter(a.keys[0] for a in result.answers if a.kind == kind and a.ok)
        failed = {a.keys[0]: a for a in result.answers if a.kind == kind and not a.ok}
        logged = patrons_of_events(result.low, result.high, action, resource)
        without_event = answered - logged
        without_answer = logged - answered
        explained = Counter({p: n for p, n in without_answer.items() if p in failed})
        how = Counter(when(failed[p], result.faults) for p in explained)
        per_patron[kind] = {
            "2xx": sum(answered.values()),
            "2xx without event": sum(without_event.values()),
            "events without 2xx": sum(without_answer.values()),
            "of which the request failed": sum(explained.values()),
            "how they failed": how,
        }
    # Koha views: each view of a 2xx batch has its receipt (and so its event); views of failed batches.
    batches = [a for a in result.answers if a.kind == "koha_views"]
    recorded = recorded_views([key for a in batches for key in a.keys])
    koha = {
        "batches 2xx": sum(a.ok for a in batches),
        "views of 2xx batches not recorded": sum(k not in recorded for a in batches if a.ok for k in a.keys),
        "failed batches": sum(not a.ok for a in batches),
        "views of failed batches recorded anyway": sum(k in recorded for a in batches if not a.ok for k in a.keys),
        "failed batches recorded whole": sum(
            all(k in recorded for k in a.keys) for a in batches if not a.ok and a.keys
        ),
        "how the recorded ones failed": ", ".join(
            f"{n} {s}"
            for s, n in Counter(
                when(a, result.faults) for a in batches if not a.ok and any(k in recorded for k in a.keys)
            ).items()
        )
        or "-",
    }
    return {"rows": rows, "per_patron": per_patron, "koha": koha}


def describe(answer: Answer) -> str:
    return f"HTTP {answer.status}" if answer.status else answer.error


def when(answer: Answer, faults: dict) -> str:
    """The answer's end relative to the faults: "HTTP 500 at restart+0.4 s"."""
    marks = [(name, faults[name]) for name in ("kill", "restart", "restarted") if name in faults]
    past = [(name, at) for name, at in marks if at <= answer.ended]
    if not past:
        return describe(answer)
    name, at = past[-1]
    return f"{describe(answer)} at {name}+{answer.ended - at:.1f} s"


def resend_failed(result: PhaseResult, target: Target) -> Counter:
    """The failed view batches sent again, as the plugin does with its queue: the answers' statuses."""
    import requests

    statuses: Counter = Counter()
    session = requests.Session()
    headers = {"Authorization": f"Api-Key {target.machine_key}", "X-Patron-Privacy-Plugin": PLUGIN_VERSION}
    for answer in result.answers:
        if answer.kind != "koha_views" or answer.ok:
            continue
        # The same event ids; the other fields are not what idempotency goes by.
        moment = datetime.fromtimestamp(time.time(), UTC).isoformat()
        views = [
            {
                "event_id": key,
                "koha_patron_id": target.koha_ids[0],
                "staff_userid": KOHA_USERID,
                "staff_address": ADDRESS,
                "page": "moremember",
                "viewed_at": moment,
            }
            for key in answer.keys
        ]
        response = session.post(f"{target.base}/api/v1/koha/views/", json={"views": views}, headers=headers, timeout=30)
        if response.status_code != 200:
            statuses[f"HTTP {response.status_code}"] += len(views)
            continue
        statuses.update(view["status"] for view in response.json()["views"])
    session.close()
    return statuses


# --- a phase --------------------------------------------------------------------------------------------


def run_phase(name: str, clients: Clients, duration: float, faults=None) -> PhaseResult:
    low = max_event_id()
    monitor = Monitor()
    load_before = load_average()
    progress(f"phase {name}: {clients.count} clients for {duration:g} s (load {load_before:.2f})")
    started = time.monotonic()
    clients.start(name)
    fault_times = faults(started) if faults else {}
    remaining = started + duration - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    clients.stop()
    ended = time.monotonic()
    monitor.stop()
    high = max_event_id()
    answers = [a for a in clients.answers if a.phase == name]
    progress(f"phase {name}: {len(answers):,} requests, {sum(not a.ok for a in answers)} not 2xx; events {low}..{high}")
    return PhaseResult(
        name, answers, low, high, started, ended, (load_before, load_average()), monitor.samples, fault_times
    )


def fault_schedule(master: int, data_dir: str, mode: str, duration: float):
    def faults(started: float) -> dict:
        times: dict = {}
        time.sleep(max(0.0, started + duration * 0.25 - time.monotonic()))
        workers = gunicorn_workers(master)
        if workers:
            victim = workers[0]
            os.kill(victim, signal.SIGKILL)
            times["kill"] = time.monotonic()
            progress(f"kill -9 of gunicorn worker {victim} (workers were {workers})")
        time.sleep(max(0.0, started + duration * 0.5 - time.monotonic()))
        times["restart"] = time.monotonic()
        progress(f"pg_ctl restart -m {mode} ...")
        seconds, code, output = pg_restart(data_dir, mode)
        times["restarted"] = time.monotonic()
        times["pg_ctl"] = (seconds, code, output.splitlines()[-1] if output else "")
        progress(f"pg_ctl restart returned {code} after {seconds:.2f} s; workers now {gunicorn_workers(master)}")
        return times

    return faults


def recovery(result: PhaseResult) -> dict:
    """Errors per window and the recovery after the restart, in seconds from the restart's start."""
    faults = result.faults
    kill, restart = faults.get("kill"), faults.get("restart")
    restarted = faults.get("restarted", float("inf"))
    errors = [a for a in result.answers if not a.ok]
    windows: Counter = Counter()
    for answer in errors:
        if kill is None or answer.ended < kill:
            windows["before the faults"] += 1
        elif restart is None or answer.ended < restart:
            windows["after the kill -9, before the restart"] += 1
        elif answer.ended <= restarted:
            windows["during pg_ctl restart"] += 1
        else:
            windows["after pg_ctl restart returned"] += 1
    out: dict = {"windows": windows}
    if restart is not None:
        first_ok = min((a.ended for a in result.answers if a.ok and a.started >= restart), default=None)
        first_back = min((a.ended for a in result.answers if a.ok and a.ended >= restarted), default=None)
        out["first 2xx answered"] = None if first_back is None else first_back - restart
        last_error = max((a.ended for a in errors if a.ended >= restart), default=None)
        out["first 2xx"] = None if first_ok is None else first_ok - restart
        out["last error"] = None if last_error is None else last_error - restart
        out["pg_ctl"] = faults["pg_ctl"]
        out["after restart by error"] = Counter(describe(a) for a in errors if a.ended > restarted)
    if kill is not None:
        out["kill errors"] = Counter(describe(a) for a in errors if kill <= a.ended < (restart or 1e18))
    out["by error"] = Counter(f"{a.kind}: {describe(a)}" for a in errors)
    return out


EXCEPTION_LINE = re.compile(r"^([a-zA-Z_][\w.]*(?:Error|Exception)): ?(.*)$")


def gunicorn_log_facts(work: Path) -> tuple[dict[str, int], Counter]:
    """What gunicorn's log says about the workers, and the exceptions that ended Django's 500s (the last
    exception line of each traceback Django logged, the server's port left out)."""
    log = (work / "gunicorn.log").read_text(errors="replace") if (work / "gunicorn.log").exists() else ""
    django_log = (work / "django.log").read_text(errors="replace") if (work / "django.log").exists() else ""
    facts = {
        "worker killed (SIGKILL)": log.count("was sent SIGKILL"),
        "workers booted": log.count("Booting worker"),
        "requests whose error page failed too (gunicorn's own 500)": log.count("Error handling request"),
        "Django's 500s logged": django_log.count("ERROR django.request"),
    }
    causes: Counter = Counter()
    last = ""
    for line in [*django_log.splitlines(), "ERROR django.request"]:
        if "ERROR django.request" in line or line.startswith("[") or " INFO " in line:
            if last:
                causes[last] += 1
            last = ""
            continue
        match = EXCEPTION_LINE.match(line.strip())
        if match:
            last = f"{match.group(1)}: {re.sub(r'port \d+ ', '', match.group(2))[:110]}"
    return facts, causes


# --- the report -----------------------------------------------------------------------------------------


def counted(counter: Counter) -> str:
    return ", ".join(f"{n} {label}" for label, n in counter.most_common()) or "none"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def phase_table(result: PhaseResult) -> str:
    rows = []
    span = result.ended - result.started
    for kind in MIX:
        answers = [a for a in result.answers if a.kind == kind]
        statuses = Counter(describe(a) for a in answers if not a.ok)
        latencies = sorted(a.ended - a.started for a in answers if a.ok)
        median = latencies[len(latencies) // 2] * 1000 if latencies else float("nan")
        rows.append(
            (
                kind,
                len(answers),
                sum(a.ok for a in answers),
                ", ".join(f"{n} {s}" for s, n in statuses.most_common()) or "0",
                fmt(sum(a.ok for a in answers) / span, 1),
                fmt(median, 0),
            )
        )
    return markdown_table(["endpoint", "requests", "2xx", "errors", "2xx/s", "median ms"], rows)


def accounting_text(acc: dict) -> str:
    rows = acc["rows"]
    table = markdown_table(["endpoint", "event action / resource", "expected from 2xx", "events", "difference"], rows)
    patron_rows = [
        (
            kind,
            v["2xx"],
            v["2xx without event"],
            v["events without 2xx"],
            v["of which the request failed"],
            ", ".join(f"{n} {s}" for s, n in v["how they failed"].items()) or "-",
        )
        for kind, v in acc["per_patron"].items()
    ]
    patrons = markdown_table(
        ["endpoint", "2xx", "2xx without its event", "events without a 2xx", "of which the request failed", "how"],
        patron_rows,
    )
    koha = ", ".join(f"{label}: {n}" for label, n in acc["koha"].items())
    return (
        f"{table}\n\nPer patron (each request names one patron without guardians or wards):\n\n{patrons}\n\n"
        f"Koha view batches: {koha}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds per phase (default 60)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--patrons", type=int, default=20_000, help="generated patrons (default 20000)")
    parser.add_argument("--batch", type=int, default=10, help="views per Koha batch (default 10)")
    parser.add_argument(
        "--restart-mode",
        choices=("immediate", "fast"),
        default="immediate",
        help="pg_ctl restart -m: immediate (a crash: WAL recovery at start; default) or fast",
    )
    parser.add_argument("--port", type=int, default=8741, help="gunicorn's port (default 8741)")
    args = parser.parse_args()
    if "POSTGRES_SUPERUSER_SOCKET_DIR" not in os.environ:
        raise SystemExit("bench/faults.py restarts PostgreSQL: run it under scripts/with-postgres.sh")

    begun = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="faults-"))
    # This throwaway database's checkpoints, not var/'s (which sign another database's chain).
    os.environ["AUDIT_CHECKPOINT_DIR"] = str(work / "checkpoints")
    os.environ["API_THROTTLE_MACHINE"] = "100000000/minute"
    settings_read, data_dir = make_durable()
    progress(f"PostgreSQL durability read back: {settings_read}; data directory {data_dir}")
    if any(value != "on" for value in settings_read.values()):
        raise SystemExit(f"durability settings not on: {settings_read}")
    django_setup()
    prepare_data(args.patrons)
    base = f"http://127.0.0.1:{args.port}"
    target = make_target(base, args.batch, random.Random(SEED))

    server = start_gunicorn(args.port, work)
    sealer = Sealer(work)
    clients = Clients(target, args.clients)
    try:
        wait_ready(base, server)
        expected = calibrate(target)
        clean = run_phase("clean", clients, args.duration)
        clean_lag, clean_unsealed = wait_sealed(60)
        clean.findings = {
            "seal": (clean_lag, clean_unsealed),
            "verify": verify(work),
            "account": account(clean, expected),
            "integrity": integrity(clean.low, clean.high),
        }
        progress(f"clean: sealed {clean_lag:.2f} s after the clients stopped; verify {clean.findings['verify'][0]}")

        faults = run_phase(
            "faults",
            clients,
            args.duration,
            fault_schedule(server.pid, data_dir, args.restart_mode, args.duration),
        )
        fault_lag, fault_unsealed = wait_sealed(90)
        faults.findings = {"seal": (fault_lag, fault_unsealed), "account": account(faults, expected)}
        resent = resend_failed(faults, target)
        after_resend = max_event_id()
        all_views = [k for a in faults.answers if a.kind == "koha_views" for k in a.keys]
        faults.findings.update(
            {
                "resent": resent,
                "views recorded after the resend": (len(recorded_views(all_views)), len(all_views)),
                "seal after resend": wait_sealed(60),
                "verify": verify(work),
                "integrity": integrity(faults.low, after_resend),
                "durability after restart": durability(),
                "recovery": recovery(faults),
            }
        )
        progress(f"faults: verify {faults.findings['verify'][0]}; {faults.findings['verify'][1][:200]}")
        faults.findings["sealer running at the end"] = sealer.process is not None and sealer.process.poll() is None
    finally:
        clients.stop()
        sealer.stop()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    facts, causes = gunicorn_log_facts(work)
    report(args, clean, faults, sealer, (facts, causes), settings_read, work, time.monotonic() - begun)


def sealing_lag(samples: list) -> str:
    ages = [oldest for _t, _load, count, oldest in samples if count and oldest is not None]
    counts = [count for _t, _load, count, _o in samples if count is not None]
    return (
        f"oldest unsealed event, sampled each second: max {seconds(max(ages) if ages else 0.0)}; "
        f"unsealed events max {max(counts) if counts else 0}"
    )


def report(args, clean: PhaseResult, faults: PhaseResult, sealer: Sealer, facts, settings_read, work, total) -> None:
    rec = faults.findings["recovery"]
    windows = ", ".join(f"{label}: {n}" for label, n in rec["windows"].items()) or "none"
    pg_seconds, pg_code, pg_line = rec.get("pg_ctl", (0.0, -1, ""))
    sealer_exits = (
        "; ".join(f"at +{t - faults.started:.1f} s exit {code} ({line})" for t, code, line in sealer.exits) or "none"
    )
    loads = [load for _t, load, _c, _o in clean.samples + faults.samples]
    csv_rows = [
        (
            a.phase,
            a.kind,
            f"{a.started - clean.started:.3f}",
            f"{a.ended - clean.started:.3f}",
            a.status,
            a.error,
            a.keys[0] if a.keys else "",
        )
        for a in clean.answers + faults.answers
    ]
    headers = ["phase", "endpoint", "started_s", "ended_s", "status", "error", "patron_or_first_view"]
    name = "faults"
    write_csv(name, headers, csv_rows)

    def phase_findings(result: PhaseResult) -> str:
        lag, unsealed = result.findings["seal"]
        code, text = result.findings["verify"]
        problems = ", ".join(f"{label}: {n}" for label, n in result.findings["integrity"].items())
        return (
            f"Sealing: {unsealed} events unsealed when the clients stopped, none left {lag:.2f} s later; "
            f"{sealing_lag(result.samples)}.\n\n"
            f"`verify_access_log`: exit {code} ({text}).\n\nPartial writes: {problems}.\n\n"
            f"{accounting_text(result.findings['account'])}"
        )

    resent = ", ".join(f"{n} {s}" for s, n in faults.findings["resent"].items()) or "nothing to resend"
    fault_title = (
        f"`kill -9` of a worker at {args.duration * 0.25:g} s, `pg_ctl restart -m {args.restart_mode}` at "
        f"{args.duration * 0.5:g} s"
    )
    recorded, sent = faults.findings["views recorded after the resend"]
    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()  # noqa: S603
    durable = ", ".join(f"{k}={v}" for k, v in settings_read.items())
    body = f"""
Code at commit {commit or "unknown"} (uncommitted changes not seen), settings `{SERVICE_SETTINGS}`.
PostgreSQL with {durable} (read back from
the server; after the
restart: {", ".join(f"{k}={v}" for k, v in faults.findings["durability after restart"].items())}); gunicorn with the
project's gunicorn.conf.py, 2 sync workers, and `seal_access_log --follow 2`, both as the runtime role;
{args.clients} client threads (requests, one connection each) for {args.duration:g} s per phase, {args.patrons:,}
generated patrons, Koha batches of {args.batch} views. Load average (1 min) during the run: min {min(loads):.2f},
max {max(loads):.2f}; clean phase {clean.load[0]:.2f} -> {clean.load[1]:.2f}, fault phase {faults.load[0]:.2f} ->
{faults.load[1]:.2f} (2 cores; clients, gunicorn, the sealer and PostgreSQL share them, and other people's jobs
run too). Whole script {total:.0f} s.

### Phase 1: clean

{phase_table(clean)}

{phase_findings(clean)}

### Phase 2: {fault_title}

{phase_table(faults)}

Errors by window: {windows}. At the kill: {counted(rec.get("kill errors", Counter()))}.
After pg_ctl returned: {counted(rec.get("after restart by error", Counter()))}.
By endpoint: {counted(rec["by error"])}.

`pg_ctl restart -m {args.restart_mode}` took {pg_seconds:.2f} s (exit {pg_code}: {pg_line}). Recovery, from the
start of the restart: first 2xx answered after pg_ctl returned {seconds(rec.get("first 2xx answered"))}, first 2xx
of a request sent
after the restart began {seconds(rec.get("first 2xx"))} (it waited behind the queued ones); last error
{seconds(rec.get("last error"))}.

The sealer's exits (restarted after 1 s, as systemd's Restart=always): {sealer_exits}; running at the end:
{"yes" if faults.findings.get("sealer running at the end") else "NO"}.
Gunicorn's log: {", ".join(f"{label} {n}" for label, n in facts[0].items())}.
What ended Django's 500s (the last exception of each traceback it logged):
{chr(10).join(f"- {n} x `{cause}`" for cause, n in facts[1].most_common()) or "- none"}

Failed Koha batches sent again (as the plugin's queue does): {resent}; afterwards {recorded:,} of the {sent:,}
views of the phase recorded. After the resend: sealed {faults.findings["seal after resend"][0]:.2f} s later.

{phase_findings(faults)}

Server logs, the sealer's output and the checkpoints of this run: `{work}` (not kept by the with-postgres
wrapper's cleanup, which removes only the database).
"""
    path = write_section(name, "Behaviour under load and faults (`bench/faults.py`)", body)
    print(body)
    progress(f"wrote {path} and bench/results/{name}.csv")


if __name__ == "__main__":
    main()
