"""The daily access review at the volume of 10,000,000 events in 13 months: the 28-day scan against the daily
summary of staff reads (issue 16: one day's review in <= 200 ms).

    scripts/with-postgres.sh bash -c '.venv/bin/python bench/silo.py --migrate-only \
        && .venv/bin/python bench/access_review.py --before /work/main'

Migrates, seeds the demo, then writes --days days of access events ending now at the density of 10M events
in 13 months (--per-day, default 25,300 a day): the review reads the reviewed day and the 28 before it, and
nothing older, so older months would only make the table bigger (their rows are not on the `at` index's
ranges it reads). The five demo staff users of generate.py read the demo's patrons (so the reads of
colleagues' records, of protected patrons and of shared surnames are there to find), 80 % views of one
patron and 20 % searches of 1-4, each with its patron index rows; shaped as events from before the chain
key (a link, no position: the review reads no link, and the sealer, which the review's own access event
calls, then has nothing of them to seal), into the monthly partitions made first (audit/partitions.py).

Then, as the demo DPO (Lapland), the review of yesterday (or --day) is built --scan-runs times without a
summary (the scan of 29 days: what runs for any day not summarised), then `summarize_access_reads` makes the
summary (timed), and the review is built --runs times again. With `--before DIR` (a checkout of other code,
e.g. /work/main) that code's dpo/review.py is loaded beside this one and the two are called in turn in each
round (interleaved: the machine's load, shared with others, falls on both alike). Each call clears the cache
(a finished day's review is cached for 15 minutes). Timed: the selector (`access_review_build`) and the
service the page and the API call (`access_review_read`, which also records the review's access event), in
process. Every review built must equal every other (the scan's, the summary's, before and after), or the
script fails.
"""

import argparse
import datetime
import importlib.util
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import django_setup, fmt, markdown_table, progress, summary, write_section
from bench.dpo import dpo_actor, timed

ACTORS = ("rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "kemi.staff", "mikkeli.staff")
EVENTS_SQL = """
WITH src AS (
    SELECT g, a.user_id, a.username, a.municipality_id, a.ip, (g %% 5) = 4 AS is_search,
           a.patrons[1 + ((g * 7919) %% array_length(a.patrons, 1))] AS p0,
           a.patrons AS patrons
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
    JOIN bench_review_actor AS a ON a.idx = g %% 5
),
ev AS (
    INSERT INTO audit_accessevent (at, actor_id, actor_username, actor_municipality_id, client_ip, action, resource,
        patron_ids, data_categories, reason, outcome, detail, prev_hash, hash)
    SELECT %(start)s::timestamptz + g * %(step)s::interval, user_id, username, municipality_id, ip,
        CASE WHEN is_search THEN 'patron_search' ELSE 'patron_view' END,
        CASE WHEN is_search THEN 'api:patron-list' ELSE 'patrons:detail' END,
        CASE WHEN is_search THEN jsonb_build_array(p0, patrons[1 + ((g * 31) %% array_length(patrons, 1))])
             ELSE jsonb_build_array(p0) END,
        '["basic"]'::jsonb, '', 'allowed', '',
        md5('review-bench' || (g - 1)) || md5('review-bench' || g),
        md5('review-bench' || g) || md5('review-bench' || (g + 1))
    FROM src ORDER BY g
    RETURNING id, at, patron_ids
)
INSERT INTO audit_accesseventpatron (event_id, patron_id, at)
SELECT DISTINCT ev.id, x.value::bigint, ev.at
FROM ev CROSS JOIN LATERAL jsonb_array_elements_text(ev.patron_ids) AS x(value)
"""


def generate(*, days: int, per_day: int) -> str:
    from django.db import connection
    from django.utils import timezone

    from audit.partitions import partitions_ensure

    partitions_ensure(start=timezone.now() - datetime.timedelta(days=days + 1))  # no event in DEFAULT

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_review_actor AS SELECT row_number() OVER (ORDER BY u.username) - 1 AS idx, "
            "u.id AS user_id, u.username, l.municipality_id, ('10.10.0.' || (row_number() OVER ()))::inet AS ip, "
            "(SELECT array_agg(p.id ORDER BY p.id) FROM patrons_patron AS p WHERE p.consortium_id = m.consortium_id) "
            "AS patrons FROM auth_user AS u JOIN patrons_staffprofile AS s ON s.user_id = u.id "
            "JOIN patrons_library AS l ON l.id = s.home_library_id JOIN patrons_municipality AS m "
            "ON m.id = l.municipality_id WHERE u.username = ANY(%s)",
            [list(ACTORS)],
        )
        total = days * per_day
        cursor.execute("SELECT now() - %s * interval '1 day', interval '1 day' / %s", [days, per_day])
        start, step = cursor.fetchone()
        batch = 100_000
        for lo in range(0, total, batch):
            hi = min(total, lo + batch) - 1
            cursor.execute(EVENTS_SQL, {"lo": lo, "hi": hi, "start": start, "step": step})
            progress(f"  {hi + 1:,} of {total:,} events")
        for table in ("audit_accessevent", "audit_accesseventpatron"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("SELECT count(*), min(at), max(at) FROM audit_accessevent")
        count, first, last = cursor.fetchone()
    return f"{count:,} access events from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"


def before_review(checkout: Path) -> ModuleType:
    """The review module of another checkout (dpo/review.py and the dpo/read_summary.py it imports), loaded
    beside this one in the same process: both then read the same database, same models, in turn."""
    loaded = {}
    saved = sys.modules.get("dpo.read_summary")
    try:
        for name in ("read_summary", "review"):
            spec = importlib.util.spec_from_file_location(f"before_{name}", checkout / "dpo" / f"{name}.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module  # its reviews are pickled into the cache by their module's name
            spec.loader.exec_module(module)
            loaded[name] = module
            sys.modules["dpo.read_summary"] = loaded["read_summary"]  # what the other review imports
    finally:
        sys.modules["dpo.read_summary"] = saved  # type: ignore[assignment]
    return loaded["review"]


def interleaved(variants: list[tuple[str, Callable]], runs: int, **kwargs: object) -> tuple[list[list[str]], list]:
    """`runs` rounds, each calling every variant once in turn (the cache cleared before each call): under a
    changing load each variant gets the same share of it. A row per variant, and each one's last result."""
    from django.core.cache import cache

    samples: list[list[float]] = [[] for _ in variants]
    queries = [0] * len(variants)
    results: list[object] = [None] * len(variants)
    for _ in range(runs):
        for index, (_label, function) in enumerate(variants):
            cache.clear()
            elapsed, results[index], queries[index] = timed(function, **kwargs)
            samples[index].append(elapsed)
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    rows = []
    for (label, _function), times, count in zip(variants, samples, queries, strict=True):
        stats = summary(times)
        rows.append(
            [
                label,
                str(stats["n"]),
                fmt(stats["median"], 1),
                fmt(stats["p95"], 1),
                fmt(stats["max"], 1),
                str(count),
                load,
            ]
        )
        progress(f"{label}: median {stats['median']:.1f} ms, p95 {stats['p95']:.1f} ms ({count} queries; load {load})")
    return rows, results


def explain(function: Callable, **kwargs: object) -> None:
    """EXPLAIN ANALYZE of each query of one call, to stderr: where the review's time goes."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        function(**kwargs)
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plan = "\n".join(line for (line,) in cursor.fetchall())
            progress(f"{query['time']} s: {query['sql'][:300]}\n{plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=25_300, help="events a day (10M in 13 months: 25,300)")
    parser.add_argument("--runs", type=int, default=20, help="rounds with the summary")
    parser.add_argument("--scan-runs", type=int, default=5, help="rounds without a summary (seconds each)")
    parser.add_argument("--day", type=datetime.date.fromisoformat, help="the day reviewed (default yesterday)")
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with (e.g. /work/main)")
    parser.add_argument("--explain", action="store_true", help="print each query's plan of one review (stderr)")
    args = parser.parse_args()

    django_setup()
    from dataclasses import astuple

    from django.core.management import call_command
    from django.db import connection

    from dpo import review
    from dpo.models import ReadSummaryDay, StaffReadDay

    if connection.vendor != "postgresql":
        raise SystemExit("bench/access_review.py needs PostgreSQL: run it under scripts/with-postgres.sh.")
    codes = [("before", before_review(args.before))] if args.before else []
    codes.append(("after" if args.before else "this code", review))
    progress("migrate and seed_demo ...")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", verbosity=0)
    progress(f"generating {args.days} days of {args.per_day:,} events ...")
    started = time.monotonic()
    data = generate(days=args.days, per_day=args.per_day)
    data += f" (generated in {time.monotonic() - started:,.0f} s)"
    progress(data)

    actor = dpo_actor()
    day = args.day or review.default_review_day()
    ReadSummaryDay.objects.all().delete()
    StaffReadDay.objects.all().delete()
    reviews: dict[str, Any] = {}
    scan, results = interleaved(
        [(f"selector, 28-day scan ({name})", code.access_review_build) for name, code in codes],
        args.scan_runs,
        actor=actor,
        day=day,
    )
    reviews |= {f"the scan ({name})": result for (name, _code), result in zip(codes, results, strict=True)}
    started = time.perf_counter()
    call_command("summarize_access_reads", days=args.days + 1, stdout=open(os.devnull, "w"))  # noqa: SIM115
    made = (time.perf_counter() - started) * 1000
    summarised = ReadSummaryDay.objects.count()
    variants = [(f"selector, daily summary ({name})", code.access_review_build) for name, code in codes]
    variants += [(f"page/API service, daily summary ({name})", code.access_review_read) for name, code in codes]
    built, results = interleaved(variants, args.runs, actor=actor, day=day)
    reviews |= {label: result for (label, _function), result in zip(variants, results, strict=True)}
    if args.explain:
        for name, code in codes:
            progress(f"--- {name}")
            explain(code.access_review_build, actor=actor, day=day)
    first, *others = reviews.values()
    same = all(astuple(other) == astuple(first) for other in others)
    compared = ", ".join(reviews)
    before = f"`--before {args.before}`: main's dpo/review.py beside this one, " if args.before else ""
    body = f"""
{data}; the review of {day} as the demo DPO (Lapland), {before}in rounds that call each code in turn
(interleaved, so each gets the same share of the machine's load), the cache cleared before each call.
`summarize_access_reads` made {summarised} days in {made:,.0f} ms ({made / max(summarised, 1):,.0f} ms a day).
The reviews are {"all equal" if same else "NOT ALL EQUAL"} ({compared}).

{markdown_table(["review", "runs", "median ms", "p95 ms", "max ms", "queries", "load after"], scan + built)}
"""
    print(body)
    write_section("access_review", "The daily access review at 10M events (`bench/access_review.py`)", body)
    if not same:
        raise SystemExit("the reviews differ")


if __name__ == "__main__":
    main()
