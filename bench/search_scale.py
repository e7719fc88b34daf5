"""Patron search at national scale: the search's server time at 1,000,000 patrons, before and after its indexes.

    scripts/with-postgres.sh .venv/bin/python bench/search_scale.py
    scripts/with-postgres.sh .venv/bin/python bench/search_scale.py --patrons 100000 --reps 20   # quick

Against the PostgreSQL of `scripts/with-postgres.sh`: when it holds fewer than `--patrons` patrons, the data is
made first (bench/silo.py --migrate-only, bench/generate.py --patrons N --events M in subprocesses; timed, and
bench/results/generate.md is put back as it was, since it holds the full-scale run's numbers). Then, as
`rovaniemi.staff` (Lapin kirjastot, 3/5 of the patrons), for each query class (one letter, two letters, a common
last name's start, a full last name, last and first name, a rare name, a card number and its start, no match, the
empty search the API answers with everyone), `--reps` times, interleaved (every repetition runs every query in a
new random order, before and after in a random order):

- **before**: the search as it was (commit b17332b: an OR of `istartswith` over the names and `startswith` over
  the card number, ORDER BY last_name, first_name, id, Django's Paginator with its COUNT(*)), with the indexes it
  had (0004's text_pattern_ops name indexes) and without the new ones;
- **after**: `patrons.selectors.SearchPaginator` as `patron_search` uses it, with 0016's indexes and without
  0004's name indexes.

Each variant runs in a transaction that drops the other variant's indexes and is rolled back, so both are
measured on the same data in the same run. Timed with `time.perf_counter` around what the selector evaluates
(the count and the page, read into a list as the view does; not the access event the selector then writes),
and every 10th repetition the same SQL again under EXPLAIN (ANALYZE): its execution time and the indexes of the
plan. Writes bench/results/search_scale.md (committed) and search_scale.csv (gitignored).
"""

import argparse
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    REPO_ROOT,
    RESULTS_DIR,
    django_setup,
    fmt,
    markdown_table,
    progress,
    rebuild_readme,
    summary,
    write_csv,
    write_section,
)

PYTHON = sys.executable
USERNAME = "rovaniemi.staff"
RARE = [("Zetterqvist", "Åsa"), ("Zetterqvist", "Örjan"), ("Ylikärppä", "Äänis")]
OLD_INDEXES = {
    "patron_last_name_prefix_idx": "(consortium_id, UPPER(last_name::text) text_pattern_ops)",
    "patron_first_name_prefix_idx": "(consortium_id, UPPER(first_name::text) text_pattern_ops)",
}
NEW_INDEXES = ("patron_search_last_idx", "patron_search_first_idx")
EXPLAIN_EVERY = 10


class Rollback(Exception):
    pass


def ensure_data(patrons: int, events: int) -> float | None:
    """At least `patrons` patrons (bench/http_ratio.py's generation in subprocesses); the seconds the generation
    took, None when the patrons were there. The committed generate.md (the full-scale run's) is put back."""
    from django.db import DatabaseError

    from bench.http_ratio import ensure_data as generate_when_missing
    from patrons.models import Patron

    try:
        present = Patron.objects.count()
    except DatabaseError:  # not migrated yet
        present = 0
    if present >= patrons:
        progress(f"{present:,} patrons present, no generation")
        return None
    kept = (RESULTS_DIR / "generate.md").read_bytes()
    started = time.perf_counter()
    generate_when_missing(patrons, events)
    seconds = time.perf_counter() - started
    (RESULTS_DIR / "generate.md").write_bytes(kept)
    rebuild_readme()
    return seconds


def the_actor():
    from audit.actor import Actor
    from staff.models import StaffProfile

    profile = StaffProfile.objects.select_related("user").get(user__username=USERNAME)
    return Actor(
        user_id=profile.user_id,
        username=USERNAME,
        municipality_id=profile.municipality_id,
        consortium_id=profile.consortium_id,
        client_ip=None,
        resource="patrons:search",
    )


def rare_patrons(consortium_id: int) -> None:
    """A few patrons with names the generator never gives (a rare name, and å/ä/ö at the start)."""
    from patrons.models import Patron
    from staff.models import Library

    library = Library.objects.filter(municipality__consortium_id=consortium_id).order_by("id")[0]
    for number, (last, first) in enumerate(RARE):
        Patron.objects.get_or_create(
            consortium_id=consortium_id,
            cardnumber=f"BENCHRARE{number}",
            defaults={"last_name": last, "first_name": first, "home_library": library},
        )


def query_classes(consortium_id: int) -> list[tuple[str, str]]:
    """(class, search text): the common names are the data's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_name, first_name FROM patrons_patron WHERE consortium_id = %s AND cardnumber LIKE '29%%'"
            " GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1",
            [consortium_id],
        )
        last, first = cursor.fetchone()
        cursor.execute(
            "SELECT cardnumber FROM patrons_patron WHERE consortium_id = %s AND cardnumber LIKE '29%%'"
            " ORDER BY id DESC LIMIT 1 OFFSET 1234",
            [consortium_id],
        )
        card = cursor.fetchone()[0]
    return [
        ("one letter", "a"),
        ("one letter", "v"),
        ("one letter", "ö"),
        ("two letters", "vi"),
        ("last name start", "virt"),
        ("last name start", "korh"),
        ("full last name", last),
        ("last + first name", f"{last} {first}"),
        ("first + last name", f"{first} {last}"),
        ("rare name", "zetterq"),
        ("card number", card),
        ("card number start", card[:9]),
        ("no match", "qxzy"),
        ("empty (API: everyone)", ""),
    ]


def before_page(scope, query: str):
    """The search as it was before 0016 (commit b17332b): its queryset and Django's Paginator."""
    from django.core.paginator import Paginator
    from django.db.models import Q

    from patrons.processing import restricted_subquery
    from patrons.selectors import search_terms

    patrons = scope
    for term in search_terms(query.strip()):
        patrons = patrons.filter(
            Q(last_name__istartswith=term) | Q(first_name__istartswith=term) | Q(cardnumber__startswith=term)
        )
    patrons = patrons.select_related("home_library").annotate(processing_restricted=restricted_subquery())
    return Paginator(patrons.order_by("last_name", "first_name", "id"), 25).get_page(1)


def after_page(scope, query: str):
    from patrons.processing import restricted_subquery
    from patrons.selectors import SearchPaginator, search_terms

    patrons = scope.select_related("home_library").annotate(processing_restricted=restricted_subquery())
    return SearchPaginator(patrons, scope=scope, terms=search_terms(query.strip()), per_page=25).get_page(1)


def measure(variant: str, scope, query: str, explain: bool) -> dict:
    """One search of `variant` in a transaction without the other variant's indexes, rolled back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    result: dict = {}
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                for name in NEW_INDEXES if variant == "before" else OLD_INDEXES:
                    cursor.execute(f"DROP INDEX {name}")
                # The drop invalidated the table's cached catalog entries: rebuild them outside the timing.
                cursor.execute("EXPLAIN SELECT 1 FROM patrons_patron WHERE id = 0")
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                page = (before_page if variant == "before" else after_page)(scope, query)
                listed = list(page.object_list)
                result["ms"] = (time.perf_counter() - started) * 1000
            result["count"] = page.paginator.count
            result["exact"] = getattr(page.paginator, "count_exact", True)
            result["listed"] = [patron.pk for patron in listed]
            sqls = [q["sql"] for q in captured.captured_queries]
            result["queries"] = len(sqls)
            if explain:
                result["explain_ms"], result["indexes"], result["plans"] = explained(sqls)
            raise Rollback
    except Rollback:
        pass
    return result


def explained(sqls: list[str]) -> tuple[float, list[str], list[str]]:
    """EXPLAIN (ANALYZE) of each statement: summed execution time, the indexes (and seq scans) used, the plans."""
    from django.db import connection

    total, used, plans = 0.0, [], []
    with connection.cursor() as cursor:
        for sql in sqls:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            plans.append(plan)
            executed = re.search(r"Execution Time: ([\d.]+) ms", plan)
            if executed is None:
                raise SystemExit(f"no execution time in the plan:\n{plan}")
            total += float(executed.group(1))
            for found in re.findall(r"(?:using|Index Scan on|Seq Scan on) (\w+)", plan):
                name = found if "Seq Scan on " + found not in plan else f"Seq Scan {found}"
                if name not in used:
                    used.append(name)
    return total, used, plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patrons", type=int, default=1_000_000, help="patrons to have (default 1000000)")
    parser.add_argument("--events", type=int, default=10_000, help="access events to generate with them (10000)")
    parser.add_argument("--reps", type=int, default=50, help="repetitions of every query and variant (default 50)")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()

    django_setup()
    generation = ensure_data(args.patrons, args.events)
    from django.db import connection

    from patrons.selectors import SEARCH_COUNT_LIMIT, staff_patrons

    progress("migrating (0016's indexes), adding the rare patrons, recreating 0004's name indexes for 'before' ...")
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], check=True, cwd=REPO_ROOT)  # noqa: S603
    actor = the_actor()
    rare_patrons(actor.consortium_id)
    with connection.cursor() as cursor:
        started = time.perf_counter()
        for name, columns in OLD_INDEXES.items():
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON patrons_patron {columns}")
        cursor.execute("VACUUM (ANALYZE) patrons_patron")
        setup_seconds = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM patrons_patron")
        total_patrons = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM patrons_patron WHERE consortium_id = %s", [actor.consortium_id])
        scoped = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
        cursor.execute("SHOW lc_collate")
        collate = cursor.fetchone()[0]
        sizes = {}
        for name in (*NEW_INDEXES, *OLD_INDEXES, "patron_cardnumber_prefix_idx"):
            cursor.execute("SELECT pg_size_pretty(pg_relation_size(%s::regclass))", [name])
            sizes[name] = cursor.fetchone()[0]
    scope = staff_patrons(actor)
    queries = query_classes(actor.consortium_id)
    rng = random.Random(args.seed)
    samples: dict[tuple[int, str], list[dict]] = {(i, v): [] for i in range(len(queries)) for v in ("before", "after")}
    loads = [os.getloadavg()[0]]
    started = time.perf_counter()
    for rep in range(args.reps):
        order = list(range(len(queries)))
        rng.shuffle(order)
        for index in order:
            variants = ["before", "after"]
            rng.shuffle(variants)
            for variant in variants:
                samples[(index, variant)].append(
                    measure(variant, scope, queries[index][1], explain=rep % EXPLAIN_EVERY == 0)
                )
        loads.append(os.getloadavg()[0])
        progress(f"repetition {rep + 1}/{args.reps} done, load average {loads[-1]:.2f}")
    run_seconds = time.perf_counter() - started

    rows, csv_rows, plans = [], [], []
    for index, (klass, query) in enumerate(queries):
        cells = [klass, f"`{query}`" if query else "(empty)"]
        first = {v: samples[(index, v)][0] for v in ("before", "after")}
        for variant in ("before", "after"):
            runs = samples[(index, variant)]
            timing = summary(r["ms"] for r in runs)
            explain = summary(r["explain_ms"] for r in runs if "explain_ms" in r)
            shown = f"{first[variant]['count']:,}" if first[variant]["exact"] else f"> {SEARCH_COUNT_LIMIT:,}"
            cells += [
                shown,
                f"{fmt(timing['median'], 1)} / {fmt(timing['p95'], 1)} / {fmt(timing['max'], 1)}",
                fmt(explain["median"], 1),
                str(first[variant]["queries"]),
            ]
            csv_rows += [[klass, query, variant, i, r["ms"], r.get("explain_ms", "")] for i, r in enumerate(runs)]
        cells.append(", ".join(first["after"]["indexes"]))
        rows.append(cells)
        plans.append((klass, query, first["after"]["plans"], first["before"]["plans"]))
    write_csv("search_scale", ["class", "query", "variant", "rep", "ms", "explain_ms"], csv_rows)

    same = [
        klass
        for index, (klass, _q) in enumerate(queries)
        if samples[(index, "before")][0]["listed"] != samples[(index, "after")][0]["listed"]
    ]
    headers = ["class", "search", "matches before", "before p50 / p95 / max ms", "EXPLAIN ms", "queries"]
    headers += ["matches after", "after p50 / p95 / max ms", "EXPLAIN ms", "queries", "indexes (after)"]
    body = [
        f"PostgreSQL {server} of `scripts/with-postgres.sh` (fsync off, shared_buffers 128 MB, lc_collate "
        f"{collate}); {total_patrons:,} patrons, {scoped:,} of them in the searching staff member's consortium "
        f"(`{USERNAME}`, Lapin kirjastot). "
        + (
            f"Data generated in this run in {generation:.0f} s (`bench/silo.py --migrate-only` and "
            f"`bench/generate.py --patrons {args.patrons} --events {args.events}`)."
            if generation is not None
            else "Data present before the run."
        )
        + f" Setup (0004's name indexes again for 'before', VACUUM ANALYZE) {setup_seconds:.0f} s.",
        f"{args.reps} repetitions of each query and variant, interleaved, in {run_seconds:.0f} s; the 1-minute load "
        f"average was {min(loads):.2f}-{max(loads):.2f} during the run (2 cores shared with other work). Times are "
        "the selector's count and page as `patron_search` evaluates them (the access event it then writes not "
        "included); EXPLAIN is the median of the summed `Execution Time` of the same statements under "
        f"EXPLAIN (ANALYZE), every {EXPLAIN_EVERY}th repetition. First page (25) of each search.",
        "Same patrons listed before and after: "
        + ("yes, for every search" if not same else f"not for {', '.join(same)} (see the order note in the docs)")
        + ". Index sizes: "
        + ", ".join(f"`{name}` {size}" for name, size in sizes.items())
        + ".",
        markdown_table(headers, rows),
    ]
    for klass, query, after_plans, before_plans in plans:
        body.append(
            f"<details><summary>Plans of {klass} `{query}`</summary>\n\nAfter:\n\n```\n"
            + "\n\n".join(after_plans)
            + "\n```\n\nBefore:\n\n```\n"
            + "\n\n".join(before_plans)
            + "\n```\n</details>"
        )
    path = write_section("search_scale", "Patron search at scale (`bench/search_scale.py`)", "\n\n".join(body))
    progress(f"wrote {path}")
    with connection.cursor() as cursor:
        for name in OLD_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


if __name__ == "__main__":
    main()
