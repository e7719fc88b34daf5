"""The daily access review at the volume of 10,000,000 events in 13 months: the 28-day scan against the daily
summary of staff reads (issue 16: one day's review in <= 200 ms).

    scripts/with-postgres.sh bash -c '.venv/bin/python bench/silo.py --migrate-only \
        && .venv/bin/python bench/access_review.py'

Migrates, seeds the demo, then writes --days days of access events ending now at the density of 10M events
in 13 months (--per-day, default 25,300 a day): the review reads the reviewed day and the 28 before it, and
nothing older, so older months would only make the table bigger (their rows are not on the `at` index's
ranges it reads). The five demo staff users of generate.py read the demo's patrons (so the reads of
colleagues' records, of protected patrons and of shared surnames are there to find), 80 % views of one
patron and 20 % searches of 1-4, each with its patron index rows; shaped as events from before the chain
key (a link, no position: the review reads no link, and the sealer, which the review's own access event
calls, then has nothing of them to seal).

Then, as the demo DPO (Lapland), yesterday's review is built --runs times without a summary (the scan of
29 days: what the code before the summary ran, which it still runs for any day not summarised), then
`summarize_access_reads` makes the summary (timed), and the review is built --runs times again. Each run
clears the cache (a finished day's review is cached for 15 minutes). Timed: the selector
(`dpo.review.access_review_build`) and the service the page and the API call (`access_review_read`, which
also records the review's access event), in process.
"""

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

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
    RETURNING id, patron_ids
)
INSERT INTO audit_accesseventpatron (event_id, patron_id)
SELECT DISTINCT ev.id, x.value::bigint FROM ev CROSS JOIN LATERAL jsonb_array_elements_text(ev.patron_ids) AS x(value)
"""


def generate(*, days: int, per_day: int) -> str:
    from django.db import connection

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


def runs(label: str, function: Callable, runs: int, **kwargs: object) -> tuple[list[str], object]:
    from django.core.cache import cache

    samples, queries, result = [], 0, None
    for _ in range(runs):
        cache.clear()
        elapsed, result, queries = timed(function, **kwargs)
        samples.append(elapsed)
    stats = summary(samples)
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    row = [label, str(stats["n"]), fmt(stats["median"], 1), fmt(stats["p95"], 1), fmt(stats["max"], 1), str(queries)]
    progress(f"{label}: median {stats['median']:.1f} ms, p95 {stats['p95']:.1f} ms ({queries} queries; load {load})")
    return [*row, load], result


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
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="print each query's plan of one review (stderr)")
    args = parser.parse_args()

    django_setup()
    from django.core.management import call_command
    from django.db import connection

    from dpo.models import ReadSummaryDay, StaffReadDay
    from dpo.review import access_review_build, access_review_read, default_review_day

    if connection.vendor != "postgresql":
        raise SystemExit("bench/access_review.py needs PostgreSQL: run it under scripts/with-postgres.sh.")
    progress("migrate and seed_demo ...")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", verbosity=0)
    progress(f"generating {args.days} days of {args.per_day:,} events ...")
    started = time.monotonic()
    data = generate(days=args.days, per_day=args.per_day)
    data += f" (generated in {time.monotonic() - started:,.0f} s)"
    progress(data)

    actor = dpo_actor()
    day = default_review_day()
    ReadSummaryDay.objects.all().delete()
    StaffReadDay.objects.all().delete()
    rows = []
    scan, before = runs("selector, 28-day scan (before)", access_review_build, args.runs, actor=actor, day=day)
    rows.append(scan)
    rows.append(runs("page/API service, 28-day scan (before)", access_review_read, args.runs, actor=actor, day=day)[0])
    started = time.perf_counter()
    call_command("summarize_access_reads", stdout=open(os.devnull, "w"))  # noqa: SIM115 (closed at exit)
    made = (time.perf_counter() - started) * 1000
    summarised = ReadSummaryDay.objects.count()
    built, after = runs("selector, daily summary (after)", access_review_build, args.runs, actor=actor, day=day)
    rows.append(built)
    rows.append(runs("page/API service, daily summary (after)", access_review_read, args.runs, actor=actor, day=day)[0])
    if args.explain:
        explain(access_review_build, actor=actor, day=day)
    same = before == after
    body = f"""
{data}; the review of {day} as the demo DPO (Lapland), {args.runs} runs each, the cache cleared before each.
`summarize_access_reads` made {summarised} days in {made:,.0f} ms ({made / max(summarised, 1):,.0f} ms a day).
The review from the summary {"equals" if same else "DIFFERS FROM"} the one from the scan.

{markdown_table(["review", "runs", "median ms", "p95 ms", "max ms", "queries", "load after"], rows)}
"""
    print(body)
    write_section("access_review", "The daily access review at 10M events (`bench/access_review.py`)", body)
    if not same:
        raise SystemExit("the review from the summary differs from the scan's")


if __name__ == "__main__":
    main()
