"""Patron detail with and without the access log, on the scale data; and reads of the log itself.

In-process (Django's test `Client`, full middleware stack, no HTTP server) as a logged-in demo staff
user (`rovaniemi.staff`, REMOTE_ADDR 127.0.0.1, which Rovaniemi's allow-list admits), single-threaded:

  1. GET /patrons/<id>/ (HTML) and /api/v1/patrons/<id>/ (JSON) for random patrons of the user's
     consortium, for --seconds per variant (split into --rounds alternating segments), first with the
     access log as it is, then with it switched off. Reports requests per second and latency
     median/p95/p99, queries per request and the events actually written, and draws
     results/detail_rps.png.
     The log is switched off ONLY here, by monkeypatching `patrons.selectors.access_event_record`
     with a no-op for the duration of the "without log" segments.
  2. `patrons.selectors.access_event_list_for_patron` (formerly `audit.selectors`; the DPO's
     "who read my data") for random patrons: latency median/p95, the event query alone, EXPLAIN
     ANALYZE of that query, the same through GET /api/v1/patrons/<id>/access-events/, and for
     comparison `access_event_record()` alone.
  3. A few probes of other reads that touch the big tables (patron search API, the DPO's admin
     browser of the access log), a handful of requests each: they show what the volume does to them.

Needs the data from bench/generate.py in the same throwaway PostgreSQL:

    scripts/with-postgres.sh bash -c '.venv/bin/python bench/generate.py && .venv/bin/python bench/detail_rps.py'
"""

import argparse
import contextlib
import ipaddress
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import RESULTS_DIR, django_setup, fmt, markdown_table, progress, summary, write_csv, write_section

SEED = 4242
STAFF_USER = "rovaniemi.staff"
DPO_USER = "dpo"
ADDRESS = "127.0.0.1"
RPS_HEADERS = (
    "endpoint",
    "access log",
    "requests",
    "req/s",
    "median ms",
    "p95 ms",
    "p99 ms",
    "queries (1 req)",
    "events",
)
VARIANTS = (
    ("HTML", "/patrons/{id}/"),
    ("API", "/api/v1/patrons/{id}/"),
)


def _noop_access_event_record(**_kwargs):
    return None


@contextlib.contextmanager
def access_log(enabled: bool):
    """With enabled=False, patrons.selectors.access_event_record is a no-op (the only place it is disabled)."""
    import patrons.selectors

    original = patrons.selectors.access_event_record
    if not enabled:
        patrons.selectors.access_event_record = _noop_access_event_record
    try:
        yield
    finally:
        patrons.selectors.access_event_record = original


def run_segment(client, url_template: str, patron_ids: list[int], rng: random.Random, seconds: float) -> list[float]:
    """GET random patrons for `seconds`; latencies in ms. Any non-200 answer stops the bench."""
    latencies = []
    clock = time.perf_counter
    deadline = clock() + seconds
    while True:
        url = url_template.format(id=rng.choice(patron_ids))
        start = clock()
        response = client.get(url)
        end = clock()
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
        latencies.append((end - start) * 1000)
        if end >= deadline:
            return latencies


def event_count(cursor) -> int:
    cursor.execute("SELECT max(id) FROM audit_accessevent")
    return cursor.fetchone()[0] or 0


def estimated_rows(cursor, table: str) -> int:
    cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
    return cursor.fetchone()[0]


def queries_per_request(client, url: str, form: dict | None = None) -> tuple[int, list[str]]:
    """Queries of one GET of `url`, or of one POST of `form` to it (a search travels in the body)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert (client.get(url) if form is None else client.post(url, form)).status_code == 200
    return len(captured), [q["sql"] for q in captured.captured_queries]


def timed(fn, repeat: int) -> tuple[list[float], list]:
    out, results = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        results.append(fn())
        out.append((time.perf_counter() - start) * 1000)
    return out, results


def draw_chart(rows: list[dict], path: Path, subtitle: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    labels = [r["variant"] for r in rows if r["log"]]
    width = 0.38
    xs = range(len(labels))
    for offset, log, color, name in (
        (-width / 2, True, "#c0504d", "with access log"),
        (width / 2, False, "#4f81bd", "without access log"),
    ):
        values = [next(r["rps"] for r in rows if r["variant"] == label and r["log"] is log) for label in labels]
        bars = ax.bar([x + offset for x in xs], values, width, label=name, color=color)
        ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=2, fontsize=9)
    ax.set_xticks(list(xs), [f"{label} detail" for label in labels])
    ax.set_ylabel("requests per second (1 client, in-process)")
    ax.set_title("Patron detail, with and without the access log", fontsize=11)
    fig.text(0.5, 0.005, subtitle, ha="center", fontsize=7, color="#555555")
    ax.legend(loc="upper center", ncol=2, fontsize=8, frameon=False)
    ax.set_ylim(0, max(r["rps"] for r in rows) * 1.3)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per variant (default 20)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating segments per variant (default 2)")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per variant (default 3)")
    parser.add_argument("--log-reads", type=int, default=300, help="patron access-log reads (default 300)")
    parser.add_argument("--probes", type=int, default=5, help="requests per extra probe (default 5)")
    parser.add_argument("--no-probes", action="store_true", help="skip the extra probes (part 3)")
    args = parser.parse_args()

    django_setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from audit.actor import Actor
    from audit.models import AccessEvent, Action
    from audit.services import access_event_record
    from patrons.models import Patron
    from patrons.selectors import DETAIL_CATEGORIES
    from staff.models import StaffProfile

    if connection.vendor != "postgresql":
        raise SystemExit("bench/detail_rps.py needs the PostgreSQL scale data: see bench/README.md.")
    from patrons.selectors import access_event_list_for_patron as read_patron_log

    def staff_profile_of(user):
        return StaffProfile.objects.select_related("home_library__municipality").get(user=user)

    rng = random.Random(SEED)
    users = get_user_model().objects
    staff, dpo = users.get(username=STAFF_USER), users.get(username=DPO_USER)
    consortium_id = staff_profile_of(staff).home_library.municipality.consortium_id
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0].split()[0]
        volumes = {
            t: estimated_rows(cursor, t) for t in ("patrons_patron", "audit_accessevent", "audit_accesseventpatron")
        }
    progress("volumes (pg_class estimates): " + ", ".join(f"{table} {rows:,}" for table, rows in volumes.items()))
    progress(f"loading the ids of consortium {consortium_id}'s patrons ...")
    patron_ids = list(Patron.objects.filter(consortium_id=consortium_id).values_list("id", flat=True))
    progress(f"  {len(patron_ids):,} patrons to pick from")

    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(staff)

    # --- 1. detail with and without the log ---------------------------------------------------------
    print(
        "NOTE: the 'without access log' runs disable the log by monkeypatching "
        "patrons.selectors.access_event_record with a no-op (bench only; nothing else is changed).",
        flush=True,
    )
    latencies: dict[tuple[str, bool], list[float]] = {}
    seconds: dict[tuple[str, bool], float] = {}
    written: dict[tuple[str, bool], int] = {}
    queries: dict[tuple[str, bool], int] = {}
    for name, template in VARIANTS:
        for log in (True, False):
            with access_log(log):
                progress(f"warm-up {name} {'with' if log else 'without'} log, {args.warmup:.0f} s ...")
                run_segment(client, template, patron_ids, rng, args.warmup)
                queries[(name, log)], _sql = queries_per_request(client, template.format(id=rng.choice(patron_ids)))
            latencies[(name, log)], seconds[(name, log)], written[(name, log)] = [], 0.0, 0

    segment = args.seconds / args.rounds
    with connection.cursor() as cursor:
        for round_no in range(args.rounds):
            order = (True, False) if round_no % 2 == 0 else (False, True)
            for name, template in VARIANTS:
                for log in order:
                    key = (name, log)
                    before = event_count(cursor)
                    with access_log(log):
                        start = time.perf_counter()
                        lat = run_segment(client, template, patron_ids, rng, segment)
                        seconds[key] += time.perf_counter() - start
                    written[key] += event_count(cursor) - before
                    latencies[key] += lat
                    progress(
                        f"round {round_no + 1}/{args.rounds} {name:4} {'with' if log else 'without':7} log: "
                        f"{len(lat):,} requests, {len(lat) / segment:,.1f} rps, median {summary(lat)['median']:.2f} ms"
                    )

    rps_rows: list[dict[str, Any]] = []
    for name, _template in VARIANTS:
        for log in (True, False):
            key = (name, log)
            s = summary(latencies[key])
            rps_rows.append(
                {
                    "variant": name,
                    "log": log,
                    "requests": s["n"],
                    "rps": s["n"] / seconds[key],
                    "median": s["median"],
                    "p95": s["p95"],
                    "p99": s["p99"],
                    "mean": s["mean"],
                    "queries": queries[key],
                    "events": written[key],
                }
            )
    cost_rows = []
    for name, _template in VARIANTS:
        on = next(r for r in rps_rows if r["variant"] == name and r["log"])
        off = next(r for r in rps_rows if r["variant"] == name and not r["log"])
        cost_rows.append(
            (
                name,
                fmt(on["mean"] - off["mean"]),
                fmt(on["median"] - off["median"]),
                fmt(on["p95"] - off["p95"]),
                f"{(1 - on['rps'] / off['rps']) * 100:.0f} %",
            )
        )

    # --- 2. reading a patron's log ------------------------------------------------------------------
    dpo_profile = staff_profile_of(dpo)
    actor = Actor(
        user_id=dpo.pk,
        username=dpo.get_username(),
        municipality_id=dpo_profile.home_library.municipality_id,
        consortium_id=dpo_profile.home_library.municipality.consortium_id,
        client_ip=ipaddress.ip_address(ADDRESS),
        resource="api:patron-access-events",
    )
    sample = [rng.choice(patron_ids) for _ in range(args.log_reads)]
    progress(f"{read_patron_log.__name__} for {len(sample)} random patrons ...")
    it = iter(sample)
    selector_ms, found = timed(lambda: len(read_patron_log(actor=actor, patron_id=next(it))), len(sample))
    sample2 = [rng.choice(patron_ids) for _ in range(args.log_reads)]
    it2 = iter(sample2)
    query_ms, _ = timed(
        lambda: len(list(AccessEvent.objects.filter(subjects__patron_id=next(it2)).order_by("-id")[:500])), len(sample2)
    )
    staff_profile = staff_profile_of(staff)
    staff_actor = Actor(
        user_id=staff.pk,
        username=staff.get_username(),
        municipality_id=staff_profile.home_library.municipality_id,
        consortium_id=consortium_id,
        client_ip=ipaddress.ip_address(ADDRESS),
        resource="patrons:detail",
    )
    sample4 = [rng.choice(patron_ids) for _ in range(len(sample))]
    it4 = iter(sample4)
    record_ms, _ = timed(
        lambda: access_event_record(
            actor=staff_actor,
            action=Action.PATRON_VIEW,
            patron_ids=[next(it4)],
            data_categories=DETAIL_CATEGORIES,
        ),
        len(sample4),
    )
    dpo_client = Client(REMOTE_ADDR=ADDRESS)
    dpo_client.force_login(dpo)
    sample3 = [rng.choice(patron_ids) for _ in range(max(50, args.log_reads // 3))]
    it3 = iter(sample3)

    def api_log_read():
        response = dpo_client.get(f"/api/v1/patrons/{next(it3)}/access-events/")
        assert response.status_code == 200, response.status_code
        return len(response.json())

    api_ms, _ = timed(api_log_read, len(sample3))
    explain_patron = rng.choice(patron_ids)
    queryset = AccessEvent.objects.filter(subjects__patron_id=explain_patron).order_by("-id")[:500]
    plan = queryset.explain(analyze=True, buffers=True)
    log_rows = []
    for label, values, n in (
        (f"`{read_patron_log.__name__}()` (exists + query + its own logged event)", selector_ms, len(sample)),
        ("the event query alone (`subjects__patron_id`, newest 500)", query_ms, len(sample2)),
        ("GET /api/v1/patrons/<id>/access-events/ as `dpo` (whole request)", api_ms, len(sample3)),
        (
            "for comparison: `access_event_record()` alone, one patron_view event (own transaction)",
            record_ms,
            len(sample4),
        ),
    ):
        s = summary(values)
        log_rows.append((label, n, fmt(s["median"]), fmt(s["p95"]), fmt(s["p99"]), fmt(s["max"])))
    found_s = summary(found)
    progress(f"  events per patron: median {found_s['median']:.0f}, max {found_s['max']:.0f}")

    # --- 3. probes ------------------------------------------------------------------------------------
    probe_rows = []
    if not args.no_probes:
        admin_client = Client(REMOTE_ADDR=ADDRESS)
        admin_client.force_login(dpo)
        probes: list[tuple[str, Client, str, dict[str, str] | None]] = [
            ("patron search API `?search=Virtanen` (staff)", client, "/api/v1/patrons/?search=Virtanen", None),
            (
                "patron search API `?search=Aino Virtanen` (staff)",
                client,
                "/api/v1/patrons/?search=Aino%20Virtanen",
                None,
            ),
            (
                "patron search API by card prefix `?search=2900000012` (staff)",
                client,
                "/api/v1/patrons/?search=2900000012",
                None,
            ),
            ("patron search page, POST `q=Virtanen` (staff)", client, "/patrons/", {"q": "Virtanen"}),
            ("admin access-log browser, first page (dpo)", admin_client, "/admin/audit/accessevent/", None),
            (
                "admin access-log browser, `?patron=<id>` (dpo)",
                admin_client,
                f"/admin/audit/accessevent/?patron={rng.choice(patron_ids)}",
                None,
            ),
            (
                "admin access-log browser, `?actor=kemi.staff` (dpo)",
                admin_client,
                "/admin/audit/accessevent/?actor=kemi.staff",
                None,
            ),
        ]
        for label, probe_client, url, form in probes:
            progress(f"probe: {label}, {args.probes} requests ...")
            values = []
            status = None
            for _ in range(args.probes):
                start = time.perf_counter()
                response = probe_client.get(url) if form is None else probe_client.post(url, form)
                values.append((time.perf_counter() - start) * 1000)
                status = response.status_code
                if status != 200:
                    break
            s = summary(values)
            count, _sql = queries_per_request(probe_client, url, form) if status == 200 else (0, [])
            probe_rows.append((label, status, len(values), count, fmt(s["median"], 0), fmt(s["max"], 0)))
            progress(f"  median {s['median']:.0f} ms ({status})")

    # --- output ---------------------------------------------------------------------------------------
    subtitle = (
        f"{volumes['patrons_patron']:,} patrons, {volumes['audit_accessevent']:,} access events, "
        f"{volumes['audit_accesseventpatron']:,} index rows; PostgreSQL {server_version}; 2 cores; Django test Client"
    )
    chart = RESULTS_DIR / "detail_rps.png"
    draw_chart(rps_rows, chart, subtitle)
    table = [
        (
            r["variant"],
            "with" if r["log"] else "**without** (no-op)",
            f"{r['requests']:,}",
            f"**{r['rps']:,.1f}**",
            fmt(r["median"]),
            fmt(r["p95"]),
            fmt(r["p99"]),
            r["queries"],
            f"{r['events']:,}",
        )
        for r in rps_rows
    ]
    body = f"""
Volumes: {subtitle}. One single-threaded in-process client (`django.test.Client`, whole middleware
stack, no HTTP server), logged in as `{STAFF_USER}` from {ADDRESS}, GETting random patrons of its
consortium ({len(patron_ids):,} to pick from); {args.seconds:g} s per variant in {args.rounds} alternating
segments after a {args.warmup:g} s warm-up; DEBUG off. "Without" disables the access log by
monkeypatching `patrons.selectors.access_event_record` with a no-op, in this script only. "Events" is
how many access events the measured requests wrote (should equal the requests with the log, 0 without);
"queries" counts one sample request (it varies by one or two with the patron and the allow-list recheck).

{markdown_table(RPS_HEADERS, table)}

What the access log costs per request (with minus without):

{markdown_table(["endpoint", "mean ms", "median ms", "p95 ms", "req/s lost"], cost_rows)}

![Patron detail requests per second](detail_rps.png)

### Reading a patron's access log with {volumes["audit_accessevent"]:,} events present

Random patrons of the consortium; events per patron: median {found_s["median"]:.0f}, max {found_s["max"]:.0f}.

{markdown_table(["what", "calls", "median ms", "p95 ms", "p99 ms", "max ms"], log_rows)}

<details><summary>EXPLAIN (ANALYZE, BUFFERS) of the event query for one patron</summary>

```
{plan}
```
</details>
"""
    if probe_rows:
        body += f"""
### Other reads on the big tables (probes, {args.probes} requests each)

{markdown_table(["request", "status", "requests", "queries", "median ms", "max ms"], probe_rows)}
"""
    csv_rows = [
        (
            "detail",
            r["variant"],
            "with" if r["log"] else "without",
            r["requests"],
            r["rps"],
            r["median"],
            r["p95"],
            r["p99"],
        )
        for r in rps_rows
    ]
    for label, values in (
        (read_patron_log.__name__, selector_ms),
        ("event query", query_ms),
        ("access-events API", api_ms),
    ):
        s = summary(values)
        csv_rows.append(("log read", label, "", s["n"], "", s["median"], s["p95"], s["p99"]))
    write_csv(
        "detail_rps", ["part", "what", "access_log", "requests", "rps", "median_ms", "p95_ms", "p99_ms"], csv_rows
    )
    path = write_section("detail_rps", "Patron detail with and without the access log (`bench/detail_rps.py`)", body)
    print(body)
    progress(f"wrote {path}, {chart} and bench/results/detail_rps.csv")


if __name__ == "__main__":
    main()
