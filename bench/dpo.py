"""The DPO's tools on the scale data: access review, access report, erasure, retention, pruning.

In-process against the throwaway PostgreSQL that bench/generate.py filled (1,000,000 patrons,
10,000,000 access events over the last two years by five staff users), as the demo DPO (Lapland):

  1. `dpo.review.access_review_build` for the last --days whole days: the day's events against each
     staff member's 28 days before (latency, queries, findings).
  2. `dpo.access_report.access_report_build` for --reports random Lapland patrons (an access request
     each): the report with the patron's whole access log, then the same rendered to PDF (WeasyPrint).
  3. `dpo.services.erasure.subject_request_erase`, dry run and carried out, for --erasures patrons.
  4. `dpo.services.retention.retention_apply` as a dry run over the whole register.
  5. `audit.prune.access_log_prune` of the oldest month of events (the owner's privileged path).

    scripts/with-postgres.sh bash -c '.venv/bin/python bench/silo.py --migrate-only \
        && .venv/bin/python bench/generate.py && .venv/bin/python bench/dpo.py'

It writes results/dpo.md. It changes the data (requests, erased patrons, pruned events): run it last.
"""

import argparse
import datetime
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import django_setup, fmt, markdown_table, progress, summary, write_section

SEED = 5151


def dpo_actor():
    from audit.actor import Actor
    from staff.models import StaffProfile

    profile = StaffProfile.objects.select_related("user", "home_library__municipality").get(user__username="dpo")
    return Actor(
        user_id=profile.user_id,
        username="dpo",
        municipality_id=profile.municipality_id,
        consortium_id=profile.consortium_id,
        client_ip=None,
    )


def timed[**P, R](function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> tuple[float, R, int]:
    """(milliseconds, result, queries) of one call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = function(*args, **kwargs)
        elapsed = (time.perf_counter() - started) * 1000
    return elapsed, result, len(queries)


def row(name: str, samples: list[float], queries: int | str, note: str = "") -> list[str]:
    stats = summary(samples)
    timings = [fmt(stats[key], 1) for key in ("median", "p95", "max")]
    return [name, str(stats["n"]), *timings, str(queries), note]


def bench_review(actor, days: int) -> list[list[str]]:
    from django.utils import timezone

    from dpo.review import access_review_build

    samples, findings, queries = [], [], 0
    today = timezone.localdate()
    for back in range(1, days + 1):
        day = today - datetime.timedelta(days=back)
        elapsed, review, queries = timed(access_review_build, actor=actor, day=day)
        samples.append(elapsed)
        findings.append(len(review.findings))
        progress(f"access review {day}: {elapsed:.0f} ms, {len(review.findings)} findings")
    cached, _review, cached_queries = timed(access_review_build, actor=actor, day=day)
    note = f"{min(findings)}-{max(findings)} findings a day"
    return [
        row("access review of one day (built)", samples, queries, note),
        row("the same day again (cached)", [cached], cached_queries),
    ]


def access_requests(actor, patron_ids: list[int], kind: str) -> list[int]:
    from django.utils import timezone

    from dpo.services.subject_requests import subject_request_record

    return [
        subject_request_record(
            actor=actor, patron_id=pid, kind=kind, received_on=timezone.localdate(), identity_document="passport"
        ).pk
        for pid in patron_ids
    ]


def bench_reports(actor, patron_ids: list[int]) -> list[list[str]]:
    from dpo.access_report import access_report_build
    from dpo.access_report_document import access_report_pdf

    request_ids = access_requests(actor, patron_ids, "access")
    build, pdf, events, queries = [], [], [], 0
    for number, request_id in enumerate(request_ids, 1):
        elapsed, report, queries = timed(access_report_build, actor=actor, request_id=request_id)
        build.append(elapsed)
        events.append(len(report.section("access_log").records))
        started = time.perf_counter()
        access_report_pdf(report, base_url="http://127.0.0.1/")
        pdf.append((time.perf_counter() - started) * 1000)
        progress(f"access report {number}/{len(request_ids)}: {elapsed:.0f} ms, PDF {pdf[-1]:.0f} ms")
    note = f"{min(events)}-{max(events)} events in a patron's log"
    return [row("access report (data, JSON)", build, queries, note), row("access report as PDF", pdf, "-", note)]


def bench_erasure(actor, patron_ids: list[int]) -> list[list[str]]:
    from dpo.services.erasure import subject_request_erase

    request_ids = access_requests(actor, patron_ids, "erasure")
    dry, real, queries_dry, queries_real = [], [], 0, 0
    for number, request_id in enumerate(request_ids, 1):
        elapsed, _plan, queries_dry = timed(subject_request_erase, actor=actor, request_id=request_id, dry_run=True)
        dry.append(elapsed)
        elapsed, _result, queries_real = timed(subject_request_erase, actor=actor, request_id=request_id, dry_run=False)
        real.append(elapsed)
        progress(f"erasure {number}/{len(request_ids)}: dry run {dry[-1]:.0f} ms, carried out {elapsed:.0f} ms")
    return [row("erasure, dry run", dry, queries_dry), row("erasure, carried out", real, queries_real)]


def bench_retention() -> list[str]:
    from django.utils import timezone

    from dpo.services.retention import retention_apply

    elapsed, _report, queries = timed(retention_apply, day=timezone.localdate(), dry_run=True)
    progress(f"retention dry run: {elapsed:.0f} ms")
    return row("apply_retention --dry-run (all rules)", [elapsed], queries)


def bench_prune() -> list[str]:
    from django.conf import settings
    from django.db.models import Min

    from audit.models import AccessEvent
    from audit.prune import access_log_prune, events_to_prune

    # The generated log spans the last 24 months, all within the default retention, which no prune may
    # reach into (audit/prune.py): with 22 months its oldest month is due.
    settings.ACCESS_LOG_RETENTION_MONTHS = 22

    # The oldest by time, not by id: the demo's own events were written at generation time.
    oldest = AccessEvent.objects.aggregate(oldest=Min("at"))["oldest"]
    cutoff = oldest + datetime.timedelta(days=30)
    older = AccessEvent.objects.filter(at__lt=cutoff).count()
    due = events_to_prune(before=cutoff).count()
    elapsed, prune, _queries = timed(access_log_prune, before=cutoff)
    removed = prune.removed_events if prune else 0
    progress(f"pruned {removed:,} of {older:,} events older than {cutoff:%Y-%m-%d} in {elapsed / 1000:.1f} s")
    if not removed:
        # Only a prefix of the chain goes; seed_demo's events come first by id but carry today's time.
        note = f"nothing due: {older:,} older events, but the chain's first events are newer ({due} due)"
    else:
        note = f"{removed:,} events, {removed / (elapsed / 1000):,.0f} events/s"
    return row("prune_access_log, oldest 30 days", [elapsed], "-", note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=7, help="access reviews of this many past days (default 7)")
    parser.add_argument("--reports", type=int, default=20, help="access reports (default 20)")
    parser.add_argument("--erasures", type=int, default=20, help="erasures (default 20)")
    args = parser.parse_args()
    django_setup()
    from patrons.models import Patron

    actor = dpo_actor()
    rng = random.Random(SEED)
    ids = list(Patron.objects.filter(consortium_id=actor.consortium_id).values_list("id", flat=True))
    picked = rng.sample(ids, args.reports + args.erasures)
    rows = bench_review(actor, args.days)
    rows += bench_reports(actor, picked[: args.reports])
    rows += bench_erasure(actor, picked[args.reports :])
    rows.append(bench_retention())
    rows.append(bench_prune())
    headers = ["what", "runs", "median ms", "p95 ms", "max ms", "queries (1 run)", "notes"]
    write_section(
        "dpo",
        "The DPO's tools (`bench/dpo.py`)",
        f"{Patron.objects.count():,} patrons in the database; the demo DPO of Lapin kirjastot.\n\n"
        + markdown_table(headers, rows),
    )
    print(markdown_table(headers, rows))


if __name__ == "__main__":
    main()
