"""The access log at national scale on PostgreSQL: monthly partitions, one patron's log, a month's prune.

    scripts/with-postgres.sh .venv/bin/python bench/access_log_scale.py [--events 10000000] [--patrons 1000000]

Migrates an empty database (the log partitioned by month, audit/partitions.py), makes the partitions of the
last 13 months, and writes `--events` events evenly over the last ~13 months (395 days) server-side with
`INSERT ... SELECT ... FROM generate_series(...)` in batches, as the tables' owner: 80 % `patron_view` of
one random patron of `--patrons`, 20 % `patron_search` of two, so ~1.2 patron index rows per event. The
events are sealed with made-up links (seq = id, md5 text as the hashes, key "bench"): the prune takes them,
`verify_access_log` does not (its speed is measured elsewhere). Then VACUUM (ANALYZE), and:

1. one patron's log, the query of the readers ("who processed my data", the access report, the DPO's
   browser: `AccessEvent.objects.about_patron(id)`, newest 500 first) for 100 random patrons:
   p50 / p95 / max in ms, and the same for the join on the event id alone (before 0015's time join),
   with EXPLAIN (ANALYZE, BUFFERS) of each;
   (wall time in 3 interleaved rounds, and the database's own planning + execution time);
2. the prune at a 12-month retention (ACCESS_LOG_RETENTION_MONTHS=12 for this run): first as before, every
   due event DELETEd (in a transaction rolled back afterwards), then with the whole months detached and
   dropped (committed), in seconds;
3. the machine's load average at each step.

Writes bench/results/access_log_scale.md. The insert throughput is `bench/access_log_writers.py`'s.
"""

import argparse
import datetime
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import django_setup, fmt, markdown_table, progress, summary, write_csv, write_section

RETENTION_MONTHS = 12
SAMPLE = 100
ROUNDS = 3
SERVER_HEADERS = ["query", "patrons", "planning p50", "execution p50", "total p50 ms", "total p95 ms", "total max ms"]
PLANNING = re.compile(r"Planning Time: ([0-9.]+) ms")
EXECUTION = re.compile(r"Execution Time: ([0-9.]+) ms")
DAYS = 395

EVENT_SQL = """
WITH src AS (
    SELECT g,
        %(start)s::timestamptz + (g - 1) * %(step)s::interval AS at,
        1 + floor(random() * %(patrons)s)::bigint AS p0,
        random() < 0.2 AS is_search,
        g %% 5 AS a
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
),
ev AS (
    INSERT INTO audit_accessevent (
        id, at, actor_id, actor_username, actor_municipality_id, client_ip, action, resource, patron_ids,
        data_categories, reason, outcome, detail, seq, prev_hash, hash, key_id)
    SELECT g, at, 1 + a, 'bench.staff' || a, 1 + a %% 3, ('10.10.0.' || (1 + a))::inet,
        CASE WHEN is_search THEN 'patron_search' ELSE 'patron_view' END,
        CASE WHEN is_search THEN 'patrons:search' ELSE 'patrons:detail' END,
        CASE WHEN is_search THEN jsonb_build_array(p0, 1 + (p0 + 7919) %% %(patrons)s) ELSE jsonb_build_array(p0) END,
        CASE WHEN is_search THEN '["listing"]'::jsonb ELSE '["basic", "contact"]'::jsonb END,
        '', 'allowed', '', g, md5((g - 1)::text) || md5(g::text), md5(g::text) || md5((g + 1)::text), 'bench'
    FROM src
    ORDER BY g
    RETURNING id, at, patron_ids
)
INSERT INTO audit_accesseventpatron (event_id, patron_id, at)
SELECT ev.id, x.value::bigint, ev.at
FROM ev CROSS JOIN LATERAL jsonb_array_elements_text(ev.patron_ids) AS x(value)
"""


def _match(pattern: re.Pattern[str], plan: str) -> str:
    """The first group of `pattern` in an EXPLAIN output; a plan without it is a broken run."""
    found = pattern.search(plan)
    if found is None:
        raise SystemExit(f"no {pattern.pattern!r} in the plan:\n{plan}")
    return found.group(1)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def timed_ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--patrons", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=500_000)
    args = parser.parse_args()
    os.environ["ACCESS_LOG_RETENTION_MONTHS"] = str(RETENTION_MONTHS)
    django_setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from audit import prune as prune_module
    from audit.models import AccessEvent, AccessEventPatron
    from audit.partitions import EVENTS, PATRONS, partitions, partitions_ensure
    from audit.prune import access_log_cutoff, access_log_prune, first_kept_event
    from core.dates import today

    if connection.vendor != "postgresql":
        raise SystemExit("bench/access_log_scale.py needs PostgreSQL: run it under scripts/with-postgres.sh.")
    loads = [("start", load())]
    call_command("migrate", interactive=False, verbosity=0)
    now = timezone.now()
    start = now - datetime.timedelta(days=DAYS)
    partitions_ensure(start=start)
    step = datetime.timedelta(days=DAYS) / args.events
    progress(f"{args.events:,} events over {DAYS} days for {args.patrons:,} patrons, batches of {args.batch:,}")
    started = time.monotonic()
    index_rows = 0
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SELECT setseed(0.16)")
        lo = 1
        while lo <= args.events:
            hi = min(args.events, lo + args.batch - 1)
            values = {"lo": lo, "hi": hi, "start": start, "step": step, "patrons": args.patrons}
            cursor.execute(EVENT_SQL, values)
            index_rows += cursor.rowcount
            rate = hi / (time.monotonic() - started)
            progress(f"  {hi:,} events ({rate:,.0f}/s), load {load()}")
            lo = hi + 1
        cursor.execute(f"SELECT setval('{EVENTS}_id_seq', %s)", [args.events])
        generated = time.monotonic() - started
        loads.append(("after generating", load()))
        progress("VACUUM (ANALYZE) ...")
        vacuum_started = time.monotonic()
        for table in (EVENTS, PATRONS):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        vacuumed = time.monotonic() - vacuum_started
        cursor.execute(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits "
            "WHERE inhparent = ANY(ARRAY[%s::regclass, %s::regclass])",
            [EVENTS, PATRONS],
        )
        total_size = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    month_rows = []
    with connection.cursor() as cursor:
        for partition in partitions(EVENTS):
            cursor.execute(f"SELECT count(*) FROM {partition.name}")
            month_rows.append((partition.name, f"{cursor.fetchone()[0]:,}"))

    # --- 1. one patron's log ------------------------------------------------------------------------------
    rng = random.Random(16)
    shapes = {
        "`about_patron(id)` (patron and time, 0015)": lambda pid: AccessEvent.objects.about_patron(pid),
        "`filter(subjects__patron_id=id)` (event id alone, before)": lambda pid: AccessEvent.objects.filter(
            subjects__patron_id=pid
        ),
    }
    log_rows, server_rows, plans = [], [], []
    found: list[int] = []
    wall: dict[str, list[float]] = {label: [] for label in shapes}
    round_medians: dict[str, list[str]] = {label: [] for label in shapes}
    # Interleaved rounds, the order turned each round, fresh patrons every time (no patron read twice).
    labels = list(shapes)
    for round_no in range(ROUNDS):
        for label in labels[round_no % 2 :] + labels[: round_no % 2]:
            shape = shapes[label]
            times = [
                timed_ms(lambda pid=pid, shape=shape: found.append(len(list(shape(pid).order_by("-id")[:500]))))
                for pid in rng.sample(range(1, args.patrons + 1), SAMPLE)
            ]
            wall[label] += times
            round_medians[label].append(fmt(summary(times)["median"]))
        loads.append((f"after round {round_no + 1} of the patron log reads", load()))
    for label in labels:
        s = summary(wall[label])
        log_rows.append(
            (label, len(wall[label]), fmt(s["median"]), fmt(s["p95"]), fmt(s["max"]), " / ".join(round_medians[label]))
        )
    # The database's own time (planning + execution, EXPLAIN ANALYZE without per-node timing), fresh patrons.
    for label in labels:
        planning, execution = [], []
        for pid in rng.sample(range(1, args.patrons + 1), SAMPLE):
            plan = shapes[label](pid).order_by("-id")[:500].explain(analyze=True, timing=False)
            planning.append(float(_match(PLANNING, plan)))
            execution.append(float(_match(EXECUTION, plan)))
        total = [a + b for a, b in zip(planning, execution, strict=True)]
        server_rows.append(
            (
                label,
                SAMPLE,
                fmt(summary(planning)["median"]),
                fmt(summary(execution)["median"]),
                fmt(summary(total)["median"]),
                fmt(summary(total)["p95"]),
                fmt(summary(total)["max"]),
            )
        )
    for label in labels:
        plans.append(
            (
                label,
                shapes[label](rng.randint(1, args.patrons)).order_by("-id")[:500].explain(analyze=True, buffers=True),
            )
        )
    loads.append(("after the patron log reads", load()))
    per_patron = summary(found)

    # --- 2. the prune ----------------------------------------------------------------------------------------
    cutoff = access_log_cutoff(day=today())
    due = AccessEvent.objects.filter(at__lt=cutoff).count()
    whole = [p.name for p in partitions(EVENTS) if not p.default and p.upper is not None and p.upper <= cutoff]
    progress(f"prune before {cutoff:%Y-%m-%d}: {due:,} events due, whole months {whole}")
    first_kept_s = timed_ms(lambda: first_kept_event(before=cutoff)) / 1000
    progress("  as before: every due event DELETEd (rolled back) ...")
    original = prune_module.partitions_drop
    with transaction.atomic():
        prune_module.partitions_drop = lambda **kwargs: 0
        try:
            delete_s = timed_ms(lambda: access_log_prune(before=cutoff)) / 1000
        finally:
            prune_module.partitions_drop = original
        transaction.set_rollback(True)
    loads.append(("after the DELETE prune", load()))
    drop_s: list[float] = []

    def timed_drop(**kwargs) -> int:
        started = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            drop_s.append(time.perf_counter() - started)

    progress("  with the whole months detached and dropped ...")
    prune_module.partitions_drop = timed_drop
    try:
        started = time.perf_counter()
        record = access_log_prune(before=cutoff)
        prune_s = time.perf_counter() - started
    finally:
        prune_module.partitions_drop = original
    loads.append(("after the partition prune", load()))
    left = AccessEvent.objects.filter(at__lt=cutoff).count()
    left_patrons = AccessEventPatron.objects.filter(at__lt=cutoff).count()
    removed = record.removed_events if record else 0
    remaining_partitions = [p.name for p in partitions(EVENTS)]

    body = (
        f"""
PostgreSQL {server_version} from `scripts/with-postgres.sh` (fsync off, shared_buffers 128MB). {args.events:,}
events over {DAYS} days for {args.patrons:,} patrons, {index_rows:,} patron index rows; generated in
{generated:,.0f} s ({args.events / generated:,.0f} events/s), VACUUM (ANALYZE) {vacuumed:,.0f} s; the two tables
with their indexes {total_size}.

Events per partition:

{markdown_table(["partition", "events"], month_rows)}

### One patron's log (newest 500, the readers' query)

Wall time in the service's process (Django ORM, the rows made into objects), {ROUNDS} interleaved rounds of
{SAMPLE} random patrons per query, none read twice:

{markdown_table(["query", "reads", "p50 ms", "p95 ms", "max ms", "p50 per round"], log_rows)}

The database's own time (EXPLAIN ANALYZE without per-node timing, {SAMPLE} other random patrons each):

{markdown_table(SERVER_HEADERS, server_rows)}

Events per patron: median {per_patron["median"]:.0f}, max {per_patron["max"]:.0f}.

"""
        + "\n".join(f"EXPLAIN (ANALYZE, BUFFERS), {label}:\n\n```\n{plan}\n```\n" for label, plan in plans)
        + f"""
### The prune at a {RETENTION_MONTHS}-month retention (cutoff {cutoff:%Y-%m-%d})

{due:,} events due; whole months: {", ".join(whole) or "none"}.

{
            markdown_table(
                ["prune", "seconds", "notes"],
                [
                    (
                        "as before: every due event DELETEd in batches (rolled back)",
                        fmt(delete_s, 1),
                        "the prune record, the first kept event, the count and the DELETEs",
                    ),
                    (
                        "0015: whole months detached and dropped, the rest DELETEd",
                        fmt(prune_s, 1),
                        f"of which detach + drop {fmt(sum(drop_s), 2)} s; {removed:,} events removed",
                    ),
                    ("(both) finding the first kept event", fmt(first_kept_s, 1), "in each of the two above"),
                ],
            )
        }

Left before the cutoff afterwards: {left:,} events, {left_patrons:,} patron index rows. Partitions afterwards:
{", ".join(remaining_partitions)}.

Load average (1, 5, 15 min) at each step: {"; ".join(f"{label}: {value}" for label, value in loads)}.
"""
    )
    write_csv("access_log_scale", ["query", "reads", "p50", "p95", "max", "p50 per round"], log_rows)
    path = write_section(
        "access_log_scale", "The access log at 10M events: partitions, one patron's log, a month's prune", body
    )
    print(body)
    progress(f"wrote {path}")


if __name__ == "__main__":
    main()
