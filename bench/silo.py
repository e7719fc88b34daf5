"""The sotu-silo at scale: storing 1,000,000 identity codes, revealing and looking them up, rotating the key.

Needs PostgreSQL (scripts/with-postgres.sh: DATABASE_URL and SOTU_DATABASE_URL). Steps:

  0. `migrate` of both databases, the silo first (see `migrate_both` for why, and for the CREATE grant
     it may need on the throwaway database); `--migrate-only` stops there, which `make bench` runs before
     bench/generate.py (that one migrates only "default", and its `seed_demo` needs the silo's table).
     Then `seed_demo` if the demo users are missing, and generated patrons up to --codes if fewer exist:
     bench/generate.py's own patron SQL (function call, no access events), continuing its numbering.
  1. Stores one identity code for each of --codes generated patrons (that has none yet), FAST and not
     through `identity_code_store` (one service call per code would take hours): a valid HETU from
     `demo.identity_codes.demo_hetu(date_of_birth, rng)`, checked and normalised by `identity_code_validate`,
     `crypto.blind_index` and `crypto.encrypt` exactly as the service does, unique per consortium (a code
     whose blind index is taken is drawn again), inserted with `bulk_create(batch_size=--batch)` into the
     "sotu" database. No access events are written for these (the service would write one per code).
  2. Latency of `identity_code_reveal` and `identity_code_lookup` as the demo billing clerk
     (`rovaniemi.billing`, Lapland) for random patrons whose code is known (a sample kept while
     generating), each call checked (the code revealed, the patron found). Each call writes an access
     event, which is part of its cost; a smaller "without log" series monkeypatches
     `sotu_silo.events.access_event_record` with a no-op (in this script only) to show that part.
     Then the same through the API with Django's test Client (force_login, REMOTE_ADDR 127.0.0.1):
     POST /api/v1/patrons/<id>/identity-code/reveal/ and /api/v1/identity-codes/lookup/ (JSON).
  3. Key rotation: a new newest key is put in front of SOTU_ENCRYPTION_KEYS in this process only, and
     `sotu_silo.rotation.identity_codes_rotate(batch_size=--rotate-batch)` re-encrypts every code,
     stopped after --rotate-seconds (the rate is then extrapolated, and said so). `manage.py
     sotu_rotate_keys --dry-run` runs before and after (as a subprocess, given the same key list).
     The bench keys are derived from a fixed string ("bench-new-N"): throwaway databases only.
     Then optionally short probes of other batch sizes, rotating on to one more key.
  4. Writes results/silo.md (+ README), results/silo.csv and the chart results/silo_latency.png.

    scripts/with-postgres.sh bash -c '.venv/bin/python bench/silo.py --migrate-only \\
        && .venv/bin/python bench/generate.py --patrons 1000000 --events 10000000 && .venv/bin/python bench/silo.py'
"""

import argparse
import base64
import contextlib
import datetime
import hashlib
import ipaddress
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    REPO_ROOT,
    RESULTS_DIR,
    django_setup,
    fmt,
    markdown_table,
    progress,
    summary,
    write_csv,
    write_section,
)

SEED = 5151
SILO = "sotu"
BILLING_USER = "rovaniemi.billing"
ADDRESS = "127.0.0.1"
REASON = "lasku 123"
BENCH_KEY_PREFIX = "bench-new-"
TABLE = "sotu_silo_identitycode"
LATENCY_HEADERS = ("call", "calls", "median ms", "p95 ms", "p99 ms", "max ms", "mean ms", "queries", "events")


# --- helpers --------------------------------------------------------------------------------------------


def bench_key(n: int) -> tuple[str, str]:
    """Key id and base64 key of bench rotation key n: derived from a fixed string, for throwaway databases only."""
    raw = hashlib.sha256(f"bench/silo.py rotation key {n}".encode()).digest()
    return f"{BENCH_KEY_PREFIX}{n}", base64.b64encode(raw).decode()


def set_keys(value: str) -> None:
    """SOTU_ENCRYPTION_KEYS in this process only; crypto parses it again."""
    from django.conf import settings

    from sotu_silo import crypto

    settings.SOTU_ENCRYPTION_KEYS = value
    crypto._parse.cache_clear()
    crypto.keyring()  # fail early on a bad value


def max_event_id() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM audit_accessevent")
        return cursor.fetchone()[0]


def relation_sizes(cursor, table: str) -> tuple[list[tuple[str, str]], str, str, str]:
    """Indexes (name, size) and heap / indexes / total size of a table."""
    cursor.execute(
        "SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid)) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass"
        " ORDER BY pg_relation_size(c.oid) DESC",
        [table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT pg_size_pretty(pg_table_size(%s::regclass)), pg_size_pretty(pg_indexes_size(%s::regclass)),"
        " pg_size_pretty(pg_total_relation_size(%s::regclass))",
        [table, table, table],
    )
    heap, index_total, total = cursor.fetchone()
    return indexes, heap, index_total, total


@contextlib.contextmanager
def access_log(enabled: bool):
    """With enabled=False, sotu_silo.events.access_event_record (the silo's one writer of its events) is a no-op
    (the only place it is disabled)."""
    import sotu_silo.events

    original = sotu_silo.events.access_event_record
    if not enabled:
        sotu_silo.events.access_event_record = lambda **_kwargs: None  # type: ignore[assignment]  # the no-op writer
    try:
        yield
    finally:
        sotu_silo.events.access_event_record = original


@contextlib.contextmanager
def capture_queries():
    """Queries on both databases ("default", "sotu"); yields a dict filled in on exit."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, int] = {}
    with CaptureQueriesContext(connections["default"]) as main, CaptureQueriesContext(connections[SILO]) as silo:
        yield counts
    counts["default"], counts[SILO] = len(main), len(silo)


# --- 0. setup and patrons -------------------------------------------------------------------------------


def migrate_both() -> list[tuple[str, float, str]]:
    """migrate "sotu", then "default"; (step, seconds, note) rows. Two workarounds, both for the app as it is:

    - The silo first: its connection's search_path is "sotu,public", so once "default" has created
      public.django_migrations (owned by the owner role), the silo's `migrate` finds that table instead of
      creating its own, may not read it, and fails.
    - The silo's first migration runs `CREATE SCHEMA IF NOT EXISTS sotu`, which PostgreSQL refuses to a role
      without CREATE on the database even when the schema exists (the privilege is checked first). The
      database of scripts/with-postgres.sh is like that; then the database owner grants CREATE to the silo
      role for the migration and revokes it afterwards, and the note in the results says so.
    """
    from django.core.management import call_command
    from django.db import connection, connections
    from django.db.utils import ProgrammingError

    timings = []
    for database in (SILO, "default"):
        progress(f"migrate --database={database} ...")
        started = time.monotonic()
        note = ""
        try:
            call_command("migrate", database=database, interactive=False, verbosity=0)
        except ProgrammingError as error:
            if database != SILO or "permission denied for database" not in str(error):
                raise
            silo_settings = connections[SILO].settings_dict
            db_name = connection.ops.quote_name(silo_settings["NAME"])
            role = connection.ops.quote_name(silo_settings["USER"])
            note = (
                f"failed with '{str(error).strip()}' (CREATE SCHEMA IF NOT EXISTS needs CREATE on the database);"
                f" retried with CREATE granted to {silo_settings['USER']} for the migration only"
            )
            progress(f"  {note}")
            with connection.cursor() as cursor:
                cursor.execute(f"GRANT CREATE ON DATABASE {db_name} TO {role}")
                try:
                    call_command("migrate", database=database, interactive=False, verbosity=0)
                finally:
                    cursor.execute(f"REVOKE CREATE ON DATABASE {db_name} FROM {role}")
        timings.append((f"migrate ({database})", time.monotonic() - started, note))
    return timings


def prepare() -> list[tuple[str, float, str]]:
    """migrate both databases, seed_demo if the demo users are missing."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    timings = migrate_both()
    if not get_user_model().objects.filter(username=BILLING_USER).exists():
        progress("seed_demo ...")
        started = time.monotonic()
        call_command("seed_demo", verbosity=0)
        timings.append(("seed_demo", time.monotonic() - started, ""))
    return timings


def ensure_patrons(target: int, *, batch: int, seed: float) -> tuple[int, int, float]:
    """Generated patrons (koha id >= generate.KOHA_ID_BASE): add the missing ones with generate.py's SQL.

    Returns (existing before, added, seconds).
    """
    from django.db import connection

    from bench import generate as gen
    from patrons.models import Patron

    existing = Patron.objects.filter(koha_patron_id__gte=gen.KOHA_ID_BASE).count()
    if existing >= target:
        return existing, 0, 0.0
    missing = target - existing
    progress(f"patrons: {existing:,} generated ones exist, adding {missing:,} with bench/generate.py's SQL ...")
    started = time.monotonic()
    with connection.cursor() as cursor:
        gen.pg_setup(cursor, seed=seed)
        gen.create_lookup_tables(cursor)
        cursor.execute("SELECT coalesce(max(id), 0) FROM patrons_patron")
        # Generated patron g gets id id_base + g; g continues after the ones generated before.
        id_base = (cursor.fetchone()[0] // 1000 + 1) * 1000 - existing
        for lo, hi in gen.batches(missing, batch):
            cursor.execute(
                gen.PATRON_SQL,
                gen.patron_sql_params(id_base=id_base, lo=existing + lo - 1, hi=existing + hi - 1),
            )
            progress(f"  patrons {gen.eta(hi, missing, started)}")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('patrons_patron', 'id'), (SELECT max(id) FROM patrons_patron))"
        )
        cursor.execute(gen.GUARDIAN_SQL, {"lo": id_base + existing + 5, "hi": id_base + target})
        progress(f"  {cursor.rowcount:,} guardianships; ANALYZE ...")
        cursor.execute("ANALYZE patrons_patron")
        cursor.execute("ANALYZE patrons_guardianship")
    return existing, missing, time.monotonic() - started


# --- 1. storing codes -------------------------------------------------------------------------------------


def store_codes(target: int, *, batch: int, sample_size: int, lapland_id: int, rng: random.Random) -> dict:
    """One code per generated patron without one, up to `target` generated patrons with a code."""
    from django.utils import timezone

    from bench import generate as gen
    from demo.identity_codes import demo_hetu
    from patrons.models import Patron
    from sotu_silo import crypto
    from sotu_silo.models import IdentityCode
    from sotu_silo.validation import identity_code_validate
    from staff.models import Consortium

    silo = IdentityCode.objects.using(SILO)
    jurisdictions = dict(Consortium.objects.values_list("id", "jurisdiction"))
    progress("loading the patron ids and blind indexes already in the silo ...")
    have = set(silo.values_list("patron_id", flat=True))
    used = set(silo.values_list("consortium_id", "blind_index"))
    progress(f"  {len(have):,} codes stored before")
    today = timezone.localdate()
    patrons = (
        Patron.objects.filter(koha_patron_id__gte=gen.KOHA_ID_BASE)
        .order_by("id")
        .values_list("id", "consortium_id", "date_of_birth")
    )
    sample: list[tuple[int, str]] = []  # (patron id, code) of Lapland patrons, reservoir-sampled
    seen_lapland = 0
    already = new = redrawn = skipped = temporary = 0
    prepare_s = insert_s = 0.0
    pending: list = []
    started = clock = time.perf_counter()
    next_report = 100_000

    def flush() -> None:
        nonlocal insert_s
        t0 = time.perf_counter()
        silo.bulk_create(pending, batch_size=batch)
        insert_s += time.perf_counter() - t0
        pending.clear()

    for patron_id, consortium_id, dob in patrons.iterator(chunk_size=20_000):
        if patron_id in have:
            already += 1
            continue
        if already + new >= target:
            break
        country = jurisdictions[consortium_id]
        if country != "FI":  # demo_hetu makes Finnish codes only
            skipped += 1
            continue
        for _attempt in range(100):
            # allow_temporary as seed_demo stores them: demo_hetu may make temporary codes (nobody's).
            born = cast(datetime.date, dob)  # generated patrons all have a date of birth
            valid = identity_code_validate(
                code=demo_hetu(born, rng), country=country, allow_temporary=True, today=today
            )
            index = crypto.blind_index(valid.normalized, country=valid.country)
            if (consortium_id, index) not in used:
                break
            redrawn += 1
        else:
            raise SystemExit(f"no free code for patron {patron_id} born {dob} after 100 draws")
        used.add((consortium_id, index))
        key_id, nonce, ciphertext = crypto.encrypt(
            valid.normalized,
            patron_id=patron_id,
            consortium_id=consortium_id,
            country=valid.country,
            blind_index=index,
        )
        pending.append(
            IdentityCode(
                patron_id=patron_id,
                consortium_id=consortium_id,
                country=valid.country,
                key_id=key_id,
                nonce=nonce,
                ciphertext=ciphertext,
                blind_index=index,
            )
        )
        new += 1
        temporary += valid.kind == "temporary_hetu"
        if consortium_id == lapland_id:
            seen_lapland += 1
            if len(sample) < sample_size:
                sample.append((patron_id, valid.normalized))
            else:
                slot = rng.randrange(seen_lapland)
                if slot < sample_size:
                    sample[slot] = (patron_id, valid.normalized)
        if len(pending) >= batch:
            now = time.perf_counter()
            prepare_s += now - clock
            flush()
            clock = time.perf_counter()
        if new >= next_report:
            next_report += 100_000
            elapsed = time.perf_counter() - started
            left = (target - already - new) * elapsed / new
            progress(
                f"  codes {new:,}/{target - already:,} ({new / elapsed:,.0f}/s, {elapsed:,.0f} s elapsed,"
                f" ~{left:,.0f} s left; prepare {prepare_s:,.0f} s, INSERT {insert_s:,.0f} s)"
            )
    prepare_s += time.perf_counter() - clock
    if pending:
        flush()
    seconds = time.perf_counter() - started
    return {
        "before": len(have),
        "already": already,
        "new": new,
        "redrawn": redrawn,
        "temporary": temporary,
        "skipped": skipped,
        "seconds": seconds,
        "prepare_s": prepare_s,
        "insert_s": insert_s,
        "sample": sample,
    }


def sample_from_database(size: int, lapland_id: int, rng: random.Random) -> list[tuple[int, str]]:
    """When nothing new was stored (a rerun): decrypt random stored Lapland codes directly (no events)."""
    from sotu_silo import crypto
    from sotu_silo.models import IdentityCode

    rows = IdentityCode.objects.using(SILO).filter(consortium_id=lapland_id).order_by("?")[:size]
    return [
        (
            row.patron_id,
            crypto.decrypt_row(row),
        )
        for row in rows
    ]


# --- 2. reveal and lookup --------------------------------------------------------------------------------


def service_call(kind: str, actor, patron_id: int, code: str) -> None:
    from sotu_silo.services import identity_code_lookup, identity_code_reveal

    if kind == "reveal":
        got = identity_code_reveal(actor=actor, patron_id=patron_id, reason=REASON)
        if got != code:
            raise SystemExit(f"reveal of patron {patron_id} returned another code")
    else:
        found = identity_code_lookup(actor=actor, code=code, reason=REASON)
        if found.pk != patron_id:
            raise SystemExit(f"lookup found patron {found.pk}, expected {patron_id}")


def api_call(client, kind: str, patron_id: int, code: str) -> None:
    if kind == "reveal":
        url, body = f"/api/v1/patrons/{patron_id}/identity-code/reveal/", {"reason": REASON}
    else:
        url, body = "/api/v1/identity-codes/lookup/", {"identity_code": code, "reason": REASON}
    response = client.post(url, body, content_type="application/json")
    if response.status_code != 200:
        raise SystemExit(f"POST {url} answered {response.status_code}: {response.content[:300]!r}")
    data = response.json()
    if (kind == "reveal" and data["identity_code"] != code) or (kind == "lookup" and data["patron"]["id"] != patron_id):
        raise SystemExit(f"POST {url} answered with the wrong {kind} result")


def timed_calls(fn, sample, rng: random.Random, calls: int) -> list[float]:
    out = []
    clock = time.perf_counter
    for _ in range(calls):
        patron_id, code = rng.choice(sample)
        start = clock()
        fn(patron_id, code)
        out.append((clock() - start) * 1000)
    return out


# --- 3. rotation -----------------------------------------------------------------------------------------


def stale_codes(queryset):
    """The codes sotu_silo.rotation re-encrypts, the way this checkout selects them (for EXPLAIN)."""
    from sotu_silo import crypto

    ring = crypto.keyring()
    older = getattr(ring, "older_ids", None)  # newer checkouts: only rows under the older keys held
    return queryset.filter(key_id__in=older) if older is not None else queryset.exclude(key_id=ring.newest_id)


class _Stop(Exception):
    pass


class Timers:
    """Wall time spent in crypto.decrypt / crypto.encrypt / QuerySet.bulk_update while active (rotation only)."""

    def __init__(self):
        self.seconds = {"decrypt": 0.0, "encrypt": 0.0, "bulk_update": 0.0}

    @contextlib.contextmanager
    def active(self):
        from django.db.models import QuerySet

        from sotu_silo import crypto

        originals: dict[str, Any] = {"decrypt": crypto.decrypt, "encrypt": crypto.encrypt}
        original_bulk_update = QuerySet.bulk_update

        def wrap(name, fn):
            def timed(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    self.seconds[name] += time.perf_counter() - start

            return timed

        crypto.decrypt, crypto.encrypt = wrap("decrypt", crypto.decrypt), wrap("encrypt", crypto.encrypt)
        QuerySet.bulk_update = wrap("bulk_update", original_bulk_update)  # type: ignore[method-assign]  # timed
        try:
            yield self
        finally:
            crypto.decrypt, crypto.encrypt = originals["decrypt"], originals["encrypt"]
            QuerySet.bulk_update = original_bulk_update  # type: ignore[method-assign]  # restored


def rotate(batch_size: int, limit_seconds: float, *, report_every: int = 100_000, timers: Timers | None = None):
    """identity_codes_rotate until done or `limit_seconds`: (last result, seconds, finished)."""
    from sotu_silo.rotation import RotationResult, identity_codes_rotate

    started = time.perf_counter()
    state: dict[str, Any] = {"last": None, "next": report_every}

    def on_progress(result: RotationResult) -> None:
        elapsed = time.perf_counter() - started
        state["last"] = result
        if result.rotated >= state["next"]:
            state["next"] += report_every
            rate = result.rotated / elapsed
            left = (result.to_rotate - result.rotated) / rate if rate else 0
            progress(
                f"  re-encrypted {result.rotated:,}/{result.to_rotate:,} ({rate:,.0f}/s, {elapsed:,.0f} s elapsed,"
                f" ~{left:,.0f} s left)"
            )
        if elapsed >= limit_seconds and result.rotated < result.to_rotate:
            raise _Stop  # raised after the batch's transaction committed: the rotation resumes cleanly

    with timers.active() if timers else contextlib.nullcontext():
        try:
            result = identity_codes_rotate(batch_size=batch_size, progress=on_progress)
            finished = True
        except _Stop:
            result, finished = state["last"], False
    return result, time.perf_counter() - started, finished


def dry_run(keys: str) -> tuple[str, float]:
    """`manage.py sotu_rotate_keys --dry-run` in a subprocess with SOTU_ENCRYPTION_KEYS=keys."""
    env = {**os.environ, "SOTU_ENCRYPTION_KEYS": keys, "DEBUG": "false"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "sotu_rotate_keys", "--dry-run"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"sotu_rotate_keys --dry-run failed: {done.stderr[-1000:]}")
    return done.stdout.strip(), seconds


# --- chart -----------------------------------------------------------------------------------------------


def draw_chart(series: dict[str, list[float]], path: Path, subtitle: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"reveal": "#c0504d", "lookup": "#4f81bd"}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), dpi=120)
    for ax, (title, keys) in zip(
        axes,
        (
            ("service call (identity_code_reveal / _lookup)", ("service reveal", "service lookup")),
            ("API request (test Client)", ("API reveal", "API lookup")),
        ),
        strict=True,
    ):
        values = [v for key in keys for v in series[key]]
        top = sorted(values)[int(len(values) * 0.995) - 1] if values else 1
        bins = [top * i / 60 for i in range(61)]
        for key in keys:
            kind = key.split()[-1]
            data = series[key]
            s = summary(data)
            ax.hist(
                [min(v, top) for v in data],
                bins=bins,
                alpha=0.55,
                color=colors[kind],
                label=f"{kind}: median {s['median']:.1f}, p99 {s['p99']:.1f} ms (n={s['n']:,})",
            )
        for key in keys:
            no_log = series.get(f"{key} (no log)")
            if no_log:
                kind = key.split()[-1]
                ax.hist(
                    [min(v, top) for v in no_log],
                    bins=bins,
                    histtype="step",
                    linestyle="--",
                    color=colors[kind],
                    label=f"{kind} without the access event (no-op): median {summary(no_log)['median']:.1f} ms",
                )
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("latency, ms (last bin: >= p99.5)")
        ax.set_ylabel("calls")
        ax.legend(fontsize=7, frameon=False)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Identity code reveal and lookup, each writing an access event", fontsize=11)
    fig.text(0.5, 0.005, subtitle, ha="center", fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path)
    plt.close(fig)


# --- main ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codes", type=int, default=1_000_000, help="generated patrons with a code (default 1000000)")
    parser.add_argument("--batch", type=int, default=5000, help="bulk_create batch size (default 5000)")
    parser.add_argument("--patron-batch", type=int, default=100_000, help="patrons per INSERT if any are missing")
    parser.add_argument("--sample", type=int, default=20_000, help="(patron, code) pairs kept for the calls")
    parser.add_argument("--calls", type=int, default=2000, help="service calls of each kind with the log (2000)")
    parser.add_argument("--calls-without-log", type=int, default=500, help="service calls of each kind without")
    parser.add_argument("--api-calls", type=int, default=300, help="API requests of each kind (default 300)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating segments of the series (default 2)")
    parser.add_argument("--rotate-batch", type=int, default=1000, help="rotation batch size (default 1000)")
    parser.add_argument(
        "--rotate-seconds", type=float, default=600, help="stop the rotation after this long and extrapolate (600)"
    )
    parser.add_argument(
        "--probe-batches",
        default="100,5000",
        help="after the rotation, other batch sizes to probe for --probe-seconds each ('' to skip)",
    )
    parser.add_argument("--probe-seconds", type=float, default=20)
    parser.add_argument("--seed", type=float, default=0.2026, help="setseed() for new patrons (default 0.2026)")
    parser.add_argument(
        "--migrate-only",
        action="store_true",
        help="only migrate both databases (before bench/generate.py, which migrates only 'default')",
    )
    args = parser.parse_args()

    django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, connections
    from django.test import Client

    from audit.actor import Actor
    from sotu_silo import crypto
    from sotu_silo.models import IdentityCode
    from staff.selectors import staff_profile_of

    if connection.vendor != "postgresql" or connections[SILO].vendor != "postgresql":
        raise SystemExit(
            "bench/silo.py needs PostgreSQL for both databases: run it under scripts/with-postgres.sh "
            "(DATABASE_URL and SOTU_DATABASE_URL)."
        )
    if args.migrate_only:
        for label, seconds, note in migrate_both():
            progress(f"{label}: {seconds:.1f} s {note}")
        return
    rng = random.Random(SEED)
    overall = time.monotonic()
    setup_rows = prepare()
    existing, added, patron_s = ensure_patrons(args.codes, batch=args.patron_batch, seed=args.seed)
    if added:
        note = f"{added:,} added to {existing:,} generated before, {added / patron_s:,.0f}/s"
        setup_rows.append(("patrons (bench/generate.py's SQL)", patron_s, note))

    # Rows rotated by an earlier run of this script are under bench keys: keep those readable.
    original_keys = settings.SOTU_ENCRYPTION_KEYS
    stored_key_ids = set(IdentityCode.objects.using(SILO).values_list("key_id", flat=True).distinct())
    bench_numbers = sorted(
        int(k[len(BENCH_KEY_PREFIX) :])
        for k in stored_key_ids
        if k.startswith(BENCH_KEY_PREFIX) and k[len(BENCH_KEY_PREFIX) :].isdigit()
    )
    base_keys = ",".join([original_keys] + [":".join(bench_key(n)) for n in reversed(bench_numbers)])
    set_keys(base_keys)

    billing = get_user_model().objects.get(username=BILLING_USER)
    profile = staff_profile_of(billing)
    assert profile is not None, f"{BILLING_USER} has no staff profile: run seed_demo"
    lapland_id = profile.consortium_id

    def actor(resource: str) -> Actor:
        return Actor(
            user_id=billing.pk,
            username=billing.get_username(),
            municipality_id=profile.municipality_id,
            consortium_id=lapland_id,
            client_ip=ipaddress.ip_address(ADDRESS),
            resource=resource,
        )

    # --- 1. store -------------------------------------------------------------------------------------------
    progress(f"storing codes for up to {args.codes:,} generated patrons (bulk_create, batch {args.batch:,}) ...")
    stored = store_codes(args.codes, batch=args.batch, sample_size=args.sample, lapland_id=lapland_id, rng=rng)
    if stored["new"]:
        progress(
            f"  {stored['new']:,} codes in {stored['seconds']:,.1f} s ({stored['new'] / stored['seconds']:,.0f}/s);"
            f" {stored['redrawn']:,} draws repeated for a taken code"
        )
    sample = stored["sample"] or sample_from_database(args.sample, lapland_id, rng)
    if not sample:
        raise SystemExit("no identity codes of the billing user's consortium to reveal")
    temporary_note = ""
    if not settings.SOTU_ALLOW_TEMPORARY_CODES and any(int(code[7:10]) >= 900 for _pid, code in sample):
        # The lookup validates the code it is given with SOTU_ALLOW_TEMPORARY_CODES; demo codes are temporary.
        settings.SOTU_ALLOW_TEMPORARY_CODES = True
        temporary_note = (
            " `demo_hetu` makes temporary codes (individual number 900-999), so this process sets"
            " `SOTU_ALLOW_TEMPORARY_CODES = True` for the lookups."
        )
        progress("demo codes are temporary ones: SOTU_ALLOW_TEMPORARY_CODES = True in this process")
    with connections[SILO].cursor() as cursor:
        progress(f"VACUUM (ANALYZE) {TABLE} ...")
        started = time.monotonic()
        cursor.execute(f"VACUUM (ANALYZE) {TABLE}")
        vacuum_s = time.monotonic() - started
        cursor.execute(f"SELECT count(*), count(DISTINCT consortium_id) FROM {TABLE}")
        total_codes, consortia_with_codes = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE consortium_id = %s", [lapland_id])
        lapland_codes = cursor.fetchone()[0]
        sizes_after_store = relation_sizes(cursor, TABLE)
    plans = {}
    plan_patron, plan_code = rng.choice(sample)
    silo_codes = IdentityCode.objects.using(SILO)
    plans["lookup: the blind-index query of `identity_code_lookup`"] = (
        silo_codes.filter(consortium_id=lapland_id, blind_index=crypto.blind_index(plan_code, country="FI"))
        .values_list("patron_id", flat=True)[:1]
        .explain(analyze=True, buffers=True)
    )
    plans["reveal: the row query of `identity_code_reveal`"] = silo_codes.filter(
        patron_id=plan_patron, consortium_id=lapland_id
    )[:1].explain(analyze=True, buffers=True)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0].split()[0]
        settings_rows = []
        for name in ("shared_buffers", "work_mem", "synchronous_commit", "fsync"):
            cursor.execute(f"SHOW {name}")
            settings_rows.append(f"{name}={cursor.fetchone()[0]}")
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = 'patrons_patron'::regclass")
        patron_rows = cursor.fetchone()[0]
    events_before = max_event_id()
    progress(
        f"volumes: {total_codes:,} codes ({lapland_codes:,} in Lapland), ~{patron_rows:,} patrons,"
        f" ~{events_before:,} access events"
    )

    # --- 2. reveal and lookup ---------------------------------------------------------------------------------
    reveal_actor, lookup_actor = actor("api:identity-code-reveal"), actor("api:identity-code-lookup")
    callers = {
        "reveal": lambda pid, code: service_call("reveal", reveal_actor, pid, code),
        "lookup": lambda pid, code: service_call("lookup", lookup_actor, pid, code),
    }
    queries: dict[str, dict[str, int]] = {}
    for kind, call in callers.items():
        timed_calls(call, sample, rng, 20)  # warm-up
        patron_id, code = rng.choice(sample)
        with capture_queries() as counts:
            call(patron_id, code)
        queries[f"service {kind}"] = counts
    print(
        "NOTE: the 'without access log' series disable the log by monkeypatching "
        "sotu_silo.events.access_event_record with a no-op (bench only; nothing else is changed).",
        flush=True,
    )
    latencies: dict[str, list[float]] = {}
    events: dict[str, int] = {}
    for round_no in range(args.rounds):
        order = (True, False) if round_no % 2 == 0 else (False, True)
        for kind, call in callers.items():
            for log in order:
                key = f"service {kind}" + ("" if log else " (no log)")
                n = (args.calls if log else args.calls_without_log) // args.rounds
                before = max_event_id()
                with access_log(log):
                    values = timed_calls(call, sample, rng, n)
                events[key] = events.get(key, 0) + max_event_id() - before
                latencies.setdefault(key, []).extend(values)
                progress(
                    f"round {round_no + 1}/{args.rounds} {key}: {n:,} calls, median {summary(values)['median']:.2f} ms"
                )

    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(billing)
    api_callers = {kind: (lambda pid, code, kind=kind: api_call(client, kind, pid, code)) for kind in callers}
    for kind, call in api_callers.items():
        timed_calls(call, sample, rng, 10)  # warm-up
        patron_id, code = rng.choice(sample)
        with capture_queries() as counts:
            call(patron_id, code)
        queries[f"API {kind}"] = counts
    for round_no in range(args.rounds):
        for kind, call in api_callers.items():
            key = f"API {kind}"
            before = max_event_id()
            values = timed_calls(call, sample, rng, args.api_calls // args.rounds)
            events[key] = events.get(key, 0) + max_event_id() - before
            latencies.setdefault(key, []).extend(values)
            progress(f"round {round_no + 1}/{args.rounds} {key}: median {summary(values)['median']:.2f} ms")

    # --- 3. rotation ---------------------------------------------------------------------------------------
    number = (bench_numbers[-1] if bench_numbers else 0) + 1
    new_id, new_key = bench_key(number)
    rotated_keys = f"{new_id}:{new_key},{base_keys}"
    dry_before, dry_before_s = dry_run(rotated_keys)
    progress(f"before: {dry_before} ({dry_before_s:.1f} s)")
    set_keys(rotated_keys)
    stale = stale_codes(silo_codes)
    plans["rotation: the codes to re-encrypt (all of them here; `count()` aggregates the same scan)"] = stale.explain(
        analyze=True, buffers=True
    ).replace(new_id, "new key")
    plans["rotation: one batch (without FOR UPDATE)"] = (
        stale.filter(id__gt=0).order_by("id")[: args.rotate_batch].explain(analyze=True, buffers=True)
    ).replace(new_id, "new key")
    progress(
        f"rotating to {new_id!r}: identity_codes_rotate(batch_size={args.rotate_batch}),"
        f" at most {args.rotate_seconds:,.0f} s ..."
    )
    timers = Timers()
    result, rotate_s, finished = rotate(args.rotate_batch, args.rotate_seconds, timers=timers)
    rotated = result.rotated if result else 0
    rate = rotated / rotate_s if rotate_s else 0
    to_rotate = result.to_rotate if result else 0
    progress(
        f"  {rotated:,}/{to_rotate:,} codes re-encrypted in {rotate_s:,.1f} s ({rate:,.0f}/s)"
        + ("" if finished else f"; stopped after {args.rotate_seconds:,.0f} s")
    )
    dry_after, dry_after_s = dry_run(rotated_keys)
    progress(f"after: {dry_after} ({dry_after_s:.1f} s)")
    # The rotated codes still decrypt to what was stored (a direct check, no events).
    check = {pid: code for pid, code in rng.sample(sample, min(500, len(sample)))}
    rows = IdentityCode.objects.using(SILO).filter(patron_id__in=check)
    checked_new_key = 0
    for row in rows:
        plain = crypto.decrypt_row(row)
        if plain != check[row.patron_id]:
            raise SystemExit(f"after the rotation patron {row.patron_id}'s code decrypts to another code")
        checked_new_key += row.key_id == new_id
    progress(f"  {len(check)} sampled codes decrypt as stored, {checked_new_key} of them under {new_id!r}")
    with connections[SILO].cursor() as cursor:
        sizes_after_rotation = relation_sizes(cursor, TABLE)

    probe_rows = []
    probe_sizes = [int(x) for x in args.probe_batches.split(",") if x.strip()]
    if probe_sizes and finished:
        probe_id, probe_key = bench_key(number + 1)
        set_keys(f"{probe_id}:{probe_key},{rotated_keys}")
        progress(f"batch-size probes, rotating on to {probe_id!r}, {args.probe_seconds:g} s each ...")
        for size in [*probe_sizes, args.rotate_batch]:
            res, seconds, _done = rotate(size, args.probe_seconds, report_every=10**12)
            n = res.rotated if res else 0
            if not n:
                break  # nothing left to rotate
            probe_rows.append((size, n, seconds, n / seconds if seconds else 0))
            progress(f"  batch {size:,}: {n:,} codes in {seconds:.1f} s ({n / seconds:,.0f}/s)")
    set_keys(original_keys)

    # --- 4. output --------------------------------------------------------------------------------------------
    total_s = time.monotonic() - overall
    subtitle = (
        f"{total_codes:,} identity codes, ~{patron_rows:,} patrons, ~{events_before:,} access events;"
        f" PostgreSQL {server_version}; {os.cpu_count()} cores; one thread"
    )
    chart = RESULTS_DIR / "silo_latency.png"
    draw_chart(latencies, chart, subtitle)

    def qcount(key: str) -> str:
        q = queries.get(key.replace(" (no log)", ""))
        return f"{q['default']} + {q[SILO]}" if q else ""

    latency_rows = []
    csv_rows: list[tuple[object, ...]] = []
    rows_in_order = [
        "service reveal",
        "service reveal (no log)",
        "service lookup",
        "service lookup (no log)",
        "API reveal",
        "API lookup",
    ]
    for key in rows_in_order:
        s = summary(latencies[key])
        no_log = "(no log)" in key
        latency_rows.append(
            (
                key.replace("(no log)", "**without** log (no-op)"),
                f"{s['n']:,}",
                f"**{fmt(s['median'])}**" if not no_log else fmt(s["median"]),
                fmt(s["p95"]),
                fmt(s["p99"]),
                fmt(s["max"]),
                fmt(s["mean"]),
                "" if no_log else qcount(key),
                f"{events[key]:,}",
            )
        )
        csv_rows.append(("latency", key, s["n"], "", "", s["median"], s["p95"], s["p99"]))
    log_cost = []
    for kind in ("reveal", "lookup"):
        on, off = summary(latencies[f"service {kind}"]), summary(latencies[f"service {kind} (no log)"])
        log_cost.append(
            (
                kind,
                fmt(on["median"] - off["median"]),
                fmt(on["mean"] - off["mean"]),
                f"{(on['median'] - off['median']) / on['median'] * 100:.0f} %",
            )
        )

    store_rows = [(label, fmt(seconds, 1), note) for label, seconds, note in setup_rows]
    if stored["new"]:
        store_rows += [
            (
                f"**{stored['new']:,} codes stored**",
                f"**{fmt(stored['seconds'], 1)}**",
                f"**{stored['new'] / stored['seconds']:,.0f} codes/s** overall",
            ),
            (
                "  of which: read patrons, draw + validate + blind index + encrypt",
                fmt(stored["prepare_s"], 1),
                f"{stored['prepare_s'] / stored['new'] * 1e6:,.1f} µs per code (Python, one thread)",
            ),
            (
                f"  of which: `bulk_create(batch_size={args.batch})` INSERTs",
                fmt(stored["insert_s"], 1),
                f"{stored['insert_s'] / stored['new'] * 1e6:,.1f} µs per code",
            ),
        ]
    else:
        store_rows.append(("codes stored", "0", f"all {stored['already']:,} generated patrons had a code already"))
    store_rows.append((f"VACUUM (ANALYZE) {TABLE}", fmt(vacuum_s, 1), ""))
    if stored["new"]:
        csv_rows.append(
            ("store", "codes", stored["new"], stored["seconds"], stored["new"] / stored["seconds"], "", "", "")
        )

    indexes_store, heap1, idx1, total1 = sizes_after_store
    _indexes_rot, heap2, idx2, total2 = sizes_after_rotation
    dt = timers.seconds
    accounted = dt["decrypt"] + dt["encrypt"] + dt["bulk_update"]

    def share(seconds: float) -> str:
        return f"{seconds / rotate_s * 100:.0f} %" if rotate_s else "-"

    rotation_rows = [
        ("codes to re-encrypt (under older keys)", f"{to_rotate:,}"),
        ("re-encrypted", f"{rotated:,}" + ("" if finished else f" (**stopped after {args.rotate_seconds:g} s**)")),
        ("batch size", f"{args.rotate_batch:,} (the command's default)"),
        ("seconds", fmt(rotate_s, 1)),
        ("**codes/s**", f"**{rate:,.0f}**"),
        (
            "time for all codes" + ("" if finished else " (extrapolated at this rate)"),
            f"{(to_rotate / rate if rate else 0) / 60:,.1f} min",
        ),
        (
            "of which `crypto.decrypt` / `crypto.encrypt`",
            f"{dt['decrypt']:,.1f} s / {dt['encrypt']:,.1f} s ({share(dt['decrypt'] + dt['encrypt'])})",
        ),
        ("of which `bulk_update` (3 fields)", f"{dt['bulk_update']:,.1f} s ({share(dt['bulk_update'])})"),
        (
            "the rest (count, `SELECT ... FOR UPDATE` per batch, transactions)",
            f"{rotate_s - accounted:,.1f} s ({share(rotate_s - accounted)})",
        ),
        (
            f"`manage.py sotu_rotate_keys --dry-run` before ({dry_before_s:.1f} s)",
            dry_before.replace(new_id, "new key"),
        ),
        (f"... and after ({dry_after_s:.1f} s)", dry_after.replace(new_id, "new key")),
        (
            "check",
            f"{len(check)} sampled codes decrypt to what was stored; {checked_new_key} of them under the new key",
        ),
        (f"`{TABLE}` after rotation (no VACUUM)", f"heap {heap2}, indexes {idx2}, total {total2}"),
    ]
    csv_rows.append(("rotation", f"batch {args.rotate_batch}", rotated, rotate_s, rate, "", "", ""))
    for size, n, seconds, probe_rate in probe_rows:
        csv_rows.append(("rotation probe", f"batch {size}", n, seconds, probe_rate, "", "", ""))

    body = f"""
Volumes: {total_codes:,} identity codes in the silo ({lapland_codes:,} in Lapland, {consortia_with_codes} consortia),
~{patron_rows:,} patrons, ~{events_before:,} access events before the calls. PostgreSQL {server_version} from
`scripts/with-postgres.sh` ({", ".join(settings_rows)}); the silo is schema `sotu` of the same server, reached
as role `privacy_sotu`. Total run {total_s / 60:,.1f} min.

### Storing the codes

Not through `identity_code_store` (one service call and one access event per code): each generated patron
gets a valid HETU from `demo_hetu(date_of_birth, rng)`, checked by `identity_code_validate`, with
`crypto.blind_index` and `crypto.encrypt` as the service does, a new draw when the blind index is taken in
the consortium ({stored["redrawn"]:,} draws repeated), and `IdentityCode.objects.using("sotu").bulk_create`.
{stored["temporary"]:,} of the new codes are temporary ones (900-999). No access events are written here.

{markdown_table(["step", "seconds", "notes"], store_rows)}

`{TABLE}` after VACUUM: heap {heap1}, indexes {idx1}, total {total1}.

{markdown_table(["index", "size"], indexes_store)}

### Reveal and lookup

As `{BILLING_USER}` (Lapland), random patrons among {len(sample):,} whose code is known; every answer
checked.{temporary_note}
Service: `identity_code_reveal(actor=..., patron_id=..., reason="{REASON}")` and
`identity_code_lookup(actor=..., code=..., reason=...)` called directly. API: Django's test `Client`
(`force_login`, REMOTE_ADDR {ADDRESS}, whole middleware stack, no HTTP server) POSTing JSON to
`/api/v1/patrons/<id>/identity-code/reveal/` and `/api/v1/identity-codes/lookup/`. **Every call writes an
access event** (advisory lock on the chain head, last hash, two INSERTs, commit): that is part of the cost
below. "Without log" monkeypatches `sotu_silo.events.access_event_record` with a no-op, in this script
only, to show the share. Series in {args.rounds} alternating segments; "queries" is one sample call,
"default + sotu" database.

{markdown_table(LATENCY_HEADERS, latency_rows)}

What the access event costs per service call (with minus without):

{markdown_table(["call", "median ms", "mean ms", "share of the median"], log_cost)}

![Reveal and lookup latency](silo_latency.png)

### Key rotation

A new newest key in front of `SOTU_ENCRYPTION_KEYS` (in the process; the `--dry-run` subprocesses get the same
list), then `sotu_silo.rotation.identity_codes_rotate(batch_size={args.rotate_batch})` over all codes, one
transaction per batch, with progress. The split into parts comes from timing wrappers around
`crypto.decrypt`, `crypto.encrypt` and `QuerySet.bulk_update` during this run.

{markdown_table(["", ""], rotation_rows)}
"""
    if probe_rows:
        probe_table = [(f"{s:,}", f"{n:,}", fmt(sec, 1), f"{r:,.0f}") for s, n, sec, r in probe_rows]
        body += f"""
Batch-size probes afterwards, rotating on to yet another key for {args.probe_seconds:g} s each (same codes,
now also with dead row versions from the rotation above):

{markdown_table(["batch size", "codes", "seconds", "codes/s"], probe_table)}
"""
    body += "\n" + "\n".join(
        f"<details><summary>EXPLAIN (ANALYZE, BUFFERS), {label}</summary>\n\n```\n{plan}\n```\n</details>\n"
        for label, plan in plans.items()
    )
    write_csv("silo", ["part", "what", "n", "seconds", "per_second", "median_ms", "p95_ms", "p99_ms"], csv_rows)
    path = write_section("silo", "The sotu-silo at scale: store, reveal, lookup, rotate (`bench/silo.py`)", body)
    print(body)
    progress(f"wrote {path}, {chart} and bench/results/silo.csv")


if __name__ == "__main__":
    main()
