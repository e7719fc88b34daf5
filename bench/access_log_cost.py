"""What the access log costs each staff read over HTTP: the service as it is against the same service whose
access-event write is a no-op, with PostgreSQL durable (fsync, synchronous_commit and full_page_writes on).

Two gunicorn servers of this checkout (`--workers` sync workers each, `--max-requests 0`), on the PostgreSQL of
scripts/with-postgres.sh, turned durable first as the superuser (bench/faults.py's `make_durable`):

  - "with log": the project's gunicorn.conf.py, the service as it is;
  - "without log": bench/gunicorn_without_access_log.py, the same settings plus a worker hook that rebinds
    `access_event_record` to a no-op in every module that imported it (bench only: it refuses to run in
    production or without its environment variable; nothing in privacy_service/ can switch the log off).

`wrk` drives every read endpoint that records an access event, one at a time, both servers back to back (which
goes first alternates), in --rounds rounds: the patron search API, the patron detail API and page, a patron's
notes (API), a patron's access log (the API the DPO reads it with, as the demo DPO with a session that passed
the second factor) and the loan-history confirmations due (API). The other users are the demo staff user
`rovaniemi.staff`; random patrons of the user's consortium and random surnames, as bench/http_ratio.py.

After each measurement the access events written during it are counted: none may appear while the server
without the log is measured, at least one per request while the other one is (else the bench stops).

Cost = 1 - (req/s with the log / req/s without it) in the same round; min/median/max over the rounds.
Writes results/access_log_cost.md, .csv and .png.

    scripts/with-postgres.sh .venv/bin/python bench/access_log_cost.py      # generates 20,000 patrons first
"""

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    REPO_ROOT,
    RESULTS_DIR,
    django_setup,
    fmt,
    markdown_table,
    postmaster_pid,
    process_tree_cpu_seconds,
    progress,
    save_chart,
    write_csv,
    write_section,
)
from bench.http_ratio import (
    ADDRESS,
    SEED,
    STAFF_USER,
    Endpoint,
    check_status,
    ensure_data,
    ensure_wrk,
    load_average,
    lua_script,
    run_wrk,
    start_server,
    wait_ready,
)

DPO_USER = "dpo"
# (endpoint, the user who reads it). Endpoint.server names nothing here: both servers serve every endpoint.
ENDPOINTS = (
    (Endpoint("search API", "", "/api/v1/patrons/?search={name}", True), STAFF_USER),
    (Endpoint("detail API", "", "/api/v1/patrons/{id}/", True), STAFF_USER),
    (Endpoint("detail page", "", "/patrons/{id}/", True), STAFF_USER),
    (Endpoint("notes API", "", "/api/v1/patrons/{id}/notes/", True), STAFF_USER),
    (Endpoint("access log API (DPO)", "", "/api/v1/patrons/{id}/access-events/", True), DPO_USER),
    (Endpoint("loan-history confirmations API", "", "/api/v1/patrons/loan-history-confirmations/", True), STAFF_USER),
)
SERVERS = ("with log", "without log")
SETTLE_SECONDS = 0.8
NO_LOG_CONFIG = str(REPO_ROOT / "bench" / "gunicorn_without_access_log.py")


def last_event_id() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM audit_accessevent")
        return cursor.fetchone()[0]


def session_cookie(username: str) -> str:
    """A session of `username` from ADDRESS, past the second factor when the user needs one (the DPO)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.get(username=username)
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:  # django-otp's own record of a verified session, as its log-in step leaves it
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def draw_chart(rows: list[tuple[str, float, float, float, float]], path: Path, subtitle: str, workers: int) -> None:
    """Per endpoint: median req/s with and without the log (bars), and the cost in req/s and in CPU, in %
    (label; red over the goal's 10 %)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.4), dpi=120)
    height = 0.38
    names = [row[0] for row in rows]
    positions = range(len(rows))
    ax.barh([i - height / 2 for i in positions], [r[1] for r in rows], height, color="#4f81bd", label="with the log")
    bars = ax.barh(
        [i + height / 2 for i in positions], [r[2] for r in rows], height, color="#a6a6a6", label="without (no-op)"
    )
    labels = ax.bar_label(bars, labels=[f"cost {r[3]:.0f} %, CPU {r[4]:.0f} %" for r in rows], padding=3, fontsize=8)
    for label, row in zip(labels, rows, strict=True):
        label.set_color("#c0504d" if row[4] > 10 else "#333333")  # the CPU cost over the goal in red
    ax.set_yticks(list(positions), names)
    ax.invert_yaxis()
    ax.set_xlim(0, max(r[2] for r in rows) * 1.55)
    ax.set_xlabel(f"requests/s (median over the rounds; {workers} sync workers per server)")
    ax.set_title("What the access log costs each read (goal: <= 10 %)", fontsize=11)
    save_chart(fig, ax, path, subtitle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patrons", type=int, default=20_000, help="patrons to have (default 20000)")
    parser.add_argument("--events", type=int, default=200_000, help="events to generate with them (default 200000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=8, help="seconds per endpoint, server and round (default 8)")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds per endpoint and server (default 2)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="sync workers per server (default 2; gunicorn.conf.py's production default is 2 x cores + 1)",
    )
    parser.add_argument("--port", type=int, default=8741, help="the server with the log; without on the next")
    parser.add_argument(
        "--fsync-off",
        action="store_true",
        help="leave PostgreSQL as scripts/with-postgres.sh starts it (fsync off), to tell the log's CPU from its "
        "fsyncs; results go to access_log_cost_fsync_off.md",
    )
    args = parser.parse_args()
    result_name = "access_log_cost_fsync_off" if args.fsync_off else "access_log_cost"
    if args.workers != 2:  # the production default's own results, beside the 2-worker ones
        result_name += f"_{args.workers}_workers"

    wrk = ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="access-log-cost-"))
    os.environ["AUDIT_CHECKPOINT_DIR"] = str(work / "checkpoints")  # this throwaway database's, not var/'s
    django_setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench/access_log_cost.py needs PostgreSQL: run it under scripts/with-postgres.sh")
    ensure_data(args.patrons, args.events)
    from bench.faults import durability as durability_now
    from bench.faults import make_durable

    durability = durability_now() if args.fsync_off else make_durable()[0]
    postmaster = postmaster_pid()
    if postmaster is None:
        raise SystemExit("bench/access_log_cost.py reads PostgreSQL's CPU from /proc: run the server on this machine")
    if set(durability.values()) != {"off" if args.fsync_off else "on"}:
        raise SystemExit(f"PostgreSQL's durability is not as asked: {durability}")
    progress(f"PostgreSQL: {durability}")

    from django.contrib.auth import get_user_model

    from patrons.models import Patron
    from staff.selectors import consortium_id_of

    staff = get_user_model().objects.get(username=STAFF_USER)
    consortium_id = consortium_id_of(staff)
    rng = random.Random(SEED)
    all_ids = list(Patron.objects.filter(consortium_id=consortium_id).values_list("id", flat=True))
    ids = rng.sample(all_ids, min(1000, len(all_ids)))
    names = sorted(set(Patron.objects.filter(consortium_id=consortium_id).values_list("last_name", flat=True)[:2000]))[
        :60
    ]
    cookies = {user: session_cookie(user) for user in {user for _, user in ENDPOINTS}}
    connection.close()

    ports = {"with log": args.port, "without log": args.port + 1}
    servers = {
        "with log": start_server(
            "privacy_service.settings", ports["with log"], work / "with-log.log", workers=args.workers
        ),
        "without log": start_server(
            "privacy_service.settings",
            ports["without log"],
            work / "without-log.log",
            config=NO_LOG_CONFIG,
            extra_env={"BENCH_ACCESS_LOG_OFF": "bench-only"},
            workers=args.workers,
        ),
    }
    results: dict[tuple[str, str], list[dict[str, float]]] = {(e.name, s): [] for e, _ in ENDPOINTS for s in SERVERS}
    try:
        for name, server in servers.items():
            wait_ready(ports[name], "/healthz", server)
        scripts = {e.name: lua_script(work, e, ids, names, cookies[user]) for e, user in ENDPOINTS}
        for endpoint, user in ENDPOINTS:
            sample = endpoint.path.format(id=ids[0], name=names[0])
            for server in SERVERS:
                check_status(ports[server], sample, cookies[user])
                progress(f"warm-up {endpoint.name} ({server}), {args.warmup:g} s ...")
                run_wrk(wrk, scripts[endpoint.name], ports[server], args.warmup, args.connections)
        for round_no in range(args.rounds):
            for index, (endpoint, _) in enumerate(ENDPOINTS):
                order = SERVERS if (round_no + index) % 2 == 0 else SERVERS[::-1]
                for server in order:
                    first = last_event_id()
                    before = load_average()
                    cpu_before = process_tree_cpu_seconds(servers[server].pid, postmaster)
                    measured = run_wrk(wrk, scripts[endpoint.name], ports[server], args.seconds, args.connections)
                    time.sleep(SETTLE_SECONDS)  # the requests wrk left in flight commit before the count
                    # What the requests cost the machine, the seal after them included (the settle's second).
                    cpu = process_tree_cpu_seconds(servers[server].pid, postmaster) - cpu_before
                    connection.close()  # the count below must see what the servers committed
                    written = last_event_id() - first
                    requests = measured["rps"] * args.seconds
                    if server == "without log" and written:
                        raise SystemExit(f"{written} events written without the log ({endpoint.name}): not a no-op")
                    if server == "with log" and written < 0.9 * requests:
                        raise SystemExit(f"{written} events for ~{requests:.0f} requests ({endpoint.name})")
                    measured.update(
                        round=round_no + 1,
                        load_before=before,
                        load_after=load_average(),
                        events=written,
                        cpu_ms=1000 * cpu / (measured["rps"] * args.seconds),
                    )
                    results[(endpoint.name, server)].append(measured)
                    progress(
                        f"round {round_no + 1}/{args.rounds} {endpoint.name:32} {server:11} {measured['rps']:8,.1f} "
                        f"req/s, {written:,} events (load {before:.2f} -> {measured['load_after']:.2f})"
                    )
        for endpoint, user in ENDPOINTS:  # still a logged-in 200 at the end: no run measured a redirect
            for server in SERVERS:
                check_status(ports[server], endpoint.path.format(id=ids[0], name=names[0]), cookies[user])
    finally:
        for server in servers.values():
            server.send_signal(signal.SIGTERM)
        for server in servers.values():
            server.wait(timeout=30)

    rows, csv_rows, chart_rows = [], [], []
    for endpoint, user in ENDPOINTS:
        with_log, without = results[(endpoint.name, "with log")], results[(endpoint.name, "without log")]
        costs = [100 * (1 - a["rps"] / b["rps"]) for a, b in zip(with_log, without, strict=True)]
        median_with = statistics.median(r["rps"] for r in with_log)
        median_without = statistics.median(r["rps"] for r in without)
        cost = statistics.median(costs)
        cpu_with = statistics.median(r["cpu_ms"] for r in with_log)
        cpu_without = statistics.median(r["cpu_ms"] for r in without)
        cpu_costs = [100 * (1 - b["cpu_ms"] / a["cpu_ms"]) for a, b in zip(with_log, without, strict=True)]
        loads = [v for r in with_log + without for v in (r["load_before"], r["load_after"])]
        rows.append(
            (
                endpoint.name,
                user,
                " / ".join(fmt(r["rps"], 0) for r in with_log),
                " / ".join(fmt(r["rps"], 0) for r in without),
                f"**{fmt(median_with, 0)}** / **{fmt(median_without, 0)}**",
                f"{fmt(min(costs), 1)} .. **{fmt(cost, 1)}** .. {fmt(max(costs), 1)}",
                "yes" if cost <= 10 else "**no**",
                f"{fmt(cpu_with, 2)} / {fmt(cpu_without, 2)}",
                f"{fmt(min(cpu_costs), 1)} .. **{fmt(statistics.median(cpu_costs), 1)}** .. {fmt(max(cpu_costs), 1)}",
                " / ".join(fmt(statistics.median(r["p50"] for r in runs)) for runs in (with_log, without)),
                f"{min(loads):.1f}-{max(loads):.1f}",
                fmt(statistics.median(r["events"] / (r["rps"] * args.seconds) for r in with_log), 2),
            )
        )
        chart_rows.append((endpoint.name, median_with, median_without, cost, statistics.median(cpu_costs)))
        for server, runs in (("with log", with_log), ("without log", without)):
            for r in runs:
                columns = ("round", "rps", "p50", "p99", "events", "load_before", "load_after", "cpu_ms")
                csv_rows.append((endpoint.name, server, *(r[c] for c in columns)))
    all_loads = [v for runs in results.values() for r in runs for v in (r["load_before"], r["load_after"])]
    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()  # noqa: S603
    volumes = Patron.objects.count()
    headers = (
        "endpoint",
        "user",
        "req/s with the log, per round",
        "req/s without, per round",
        "median req/s with / without",
        "cost % (min .. median .. max)",
        "<= 10 %",
        "CPU ms per request with / without",
        "CPU cost % (min .. median .. max)",
        "p50 ms with / without",
        "load (1 min)",
        "events per request",
    )
    body = f"""
Code at commit {commit or "unknown"} (uncommitted changes not seen). {volumes:,} patrons. PostgreSQL:
{", ".join(f"{k} {v}" for k, v in durability.items())}. Two gunicorn servers of the same code ({args.workers} sync
workers each, `--max-requests 0`): with the log (the project's gunicorn.conf.py) and without it
(`bench/gunicorn_without_access_log.py`: `access_event_record` a no-op in every module that imported it, in the
workers of that server only). `wrk -t1 -c{args.connections}` for {args.seconds:g} s per endpoint, server and round,
{args.rounds} rounds, the two servers back to back with the first alternating, after a {args.warmup:g} s warm-up
each. Events were counted after every measurement: none without the log, the number in the last column (per
request) with it. Cost = 1 - with/without in the same round. wrk, both servers and PostgreSQL share the machine's
{os.cpu_count()} CPUs with other people's jobs (load average {min(all_loads):.1f}-{max(all_loads):.1f}), which move
req/s by tens of per cent from one measurement to the next. The CPU columns do not move with them: the CPU seconds
the measured server's processes and every PostgreSQL process spent during the measurement and the settle after it
(/proc), per request. CPU cost = 1 - without/with in the same round: the share of a saturated machine's work that
is the log's. (The log's fsync waits cost no CPU; they cost a sync worker its time, which is why production runs
2 x cores + 1 workers.)

{markdown_table(headers, rows)}

![Requests/s with and without the access log]({result_name}.png)
"""
    write_csv(
        result_name,
        ["endpoint", "server", "round", "rps", "p50_ms", "p99_ms", "events", "load_before", "load_after", "cpu_ms"],
        csv_rows,
    )
    draw_chart(
        chart_rows,
        RESULTS_DIR / f"{result_name}.png",
        f"commit {commit or 'unknown'}, {volumes:,} patrons, fsync {durability['fsync']}, "
        f"{args.workers} sync workers per server, "
        f"wrk -c{args.connections}, {args.rounds} rounds; load {min(all_loads):.1f}-{max(all_loads):.1f} "
        f"on {os.cpu_count()} CPUs",
        args.workers,
    )
    title = "What the access log costs each read (`bench/access_log_cost.py`)"
    path = write_section(result_name, title + (", fsync off" if args.fsync_off else ""), body)
    print(body)
    progress(f"wrote {path}, bench/results/{result_name}.csv and .png; server logs in {work}")


if __name__ == "__main__":
    main()
