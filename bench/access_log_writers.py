"""The access log under concurrent writers: events/s, sealing lag, and a chain that verifies afterwards.

N writer processes (default 32), each with its own database connection, write access events for S
seconds, each in its own transaction as a request does (`access_event_record` inside `atomic`). A
monitor polls the unsealed events (every `--poll` seconds) and takes, for each one it saw unsealed, the
time it was first seen sealed minus its time: the sealing lag (an upper bound, to the polling period).
Writers and sealer connect as the runtime role (DATABASE_APP_ROLE), as in production, so the database's
guards on its inserts and seals are paid as there.
Afterwards: the events left unsealed when the writers stopped, sealed by `access_log_seal` as
`seal_access_log` would, and `verify_access_log` over the whole chain.

Runs against the throwaway PostgreSQL of scripts/with-postgres.sh (fsync off there; `--fsync` turns it on
as the superuser through ALTER SYSTEM and a reload, as in production):

    scripts/with-postgres.sh .venv/bin/python bench/access_log_writers.py --seconds 10 [--fsync]

`--label TEXT` keeps the run's figures in bench/results/access_log_writers.jsonl (beside this script, so a
run of another checkout lands here too); `--report` writes bench/results/access_log_writers.md from them.

The same script measures code from before the sealing (events chained under the lock in the writer's
transaction): there nothing is ever unsealed and no lag is shown. Run it from that checkout's root, with
PYTHONPATH pointing there.
"""

import argparse
import importlib.util
import ipaddress
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from types import ModuleType

# The checkout to measure: the current directory's (the code before the change, in another worktree, too).
ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(Path(__file__).resolve().parent))


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacy_service.settings")
    os.environ["DEBUG"] = "false"
    import django

    django.setup()


def as_runtime_role() -> None:
    """The next connection as the runtime role (DATABASE_APP_ROLE; scripts/with-postgres.sh gives it its name
    as its password), as the service and its sealer connect in production: the guards in the database (the
    insert's time window, the seal's link check) let the tables' owner through unchecked."""
    from django.db import connection

    role = os.environ.get("DATABASE_APP_ROLE")
    if role:
        connection.close()
        connection.settings_dict.update(USER=role, PASSWORD=role)


def writer(deadline: float, number: int, counts, no_seal: bool, interval: float | None) -> None:
    """One writer: an event a transaction until the deadline."""
    from django.db import connection, transaction

    if interval is not None:  # diagnosis: how often a writer tries to seal after its commits
        from django.conf import settings

        settings.ACCESS_LOG_SEAL_INTERVAL_SECONDS = interval

    if no_seal:  # the sealer process alone seals (diagnosis: what the attempts after each commit cost)
        import audit.services

        audit.services.seal_soon = lambda: False

    from audit.actor import Actor
    from audit.models import Action
    from audit.services import access_event_record

    connection.close()  # never the parent's connection
    as_runtime_role()
    actor = Actor(
        user_id=number,
        username=f"writer{number}",
        municipality_id=1,
        consortium_id=1,
        client_ip=ipaddress.ip_address("10.0.0.1"),
    )
    written = 0
    while time.time() < deadline:
        with transaction.atomic():
            access_event_record(
                actor=actor, action=Action.PATRON_VIEW, patron_ids=[written % 1000 + 1], data_categories=["basic"]
            )
        written += 1
    counts[number] = written
    connection.close()


def sealer(deadline: float, pause: float) -> None:
    """`seal_access_log --follow`: seal, sleep, until the writers are done."""
    from django.db import connection

    from audit.sealing import access_log_seal

    connection.close()
    as_runtime_role()
    while time.time() < deadline + 1:
        access_log_seal(wait=True, max_batches=None)
        time.sleep(pause)
    connection.close()


def monitor(deadline: float, poll: float, lags, unsealed_peak) -> None:
    """Polls the unsealed events; a lag for each one seen unsealed and then sealed."""
    from django.db import connection

    connection.close()
    seen: dict[int, float] = {}
    peak = 0
    with connection.cursor() as cursor:
        while time.time() < deadline + 5:
            cursor.execute(
                "SELECT id, extract(epoch FROM at)::float8 FROM audit_accessevent WHERE hash IS NULL"
                if has_seal_column(cursor)
                else "SELECT 1, 0 WHERE false"
            )
            now = time.time()
            unsealed = dict(cursor.fetchall())
            peak = max(peak, len(unsealed))
            for event_id in [event_id for event_id in seen if event_id not in unsealed]:
                lags.append(now - seen.pop(event_id))
            for event_id, at in unsealed.items():
                seen.setdefault(event_id, at)
            if not unsealed and time.time() > deadline:
                break
            time.sleep(poll)
    unsealed_peak.value = peak
    connection.close()


def has_seal_column(cursor) -> bool:
    """Whether this code writes unsealed events (the hash may be empty)."""
    cursor.execute(
        "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'audit_accessevent' "
        "AND column_name = 'hash'"
    )
    return cursor.fetchone()[0] == "YES"


def set_fsync(on: bool) -> None:
    conn = own_common().superuser_connection()
    with conn.cursor() as cursor:
        cursor.execute(f"ALTER SYSTEM SET fsync = {'on' if on else 'off'}")
        cursor.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)
        cursor.execute("SHOW fsync")
        print("fsync:", cursor.fetchone()[0], flush=True)
    conn.close()


def percentile(values: list[float], pct: float) -> float:
    """bench/_common's nearest-rank percentile, of values in any order."""
    return own_common().percentile(sorted(values), pct)


def own_common() -> ModuleType:
    """This script's bench/_common.py (the current directory may be another checkout's, whose results are not
    where this script keeps them)."""
    spec = importlib.util.spec_from_file_location("bench_common", Path(__file__).resolve().parent / "_common.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_report() -> None:
    """bench/results/access_log_writers.md from the runs kept with --label, in the order they ran."""
    _common = own_common()
    path = _common.RESULTS_DIR / "access_log_writers.jsonl"
    runs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [
        (
            run["label"], run["started"], run["fsync"], run["writers"], f"{run['events_per_second']:,.0f}",
            "-" if run["lag_p50"] is None else f"{run['lag_p50']:.2f} / {run['lag_p95']:.2f} / {run['lag_max']:.2f}",
            run["left_unsealed"], f"{'intact' if run['intact'] else 'TAMPERED'}, {run['in_log']:,}",
            " ".join(f"{value:.1f}" for value in run["load"]),
        )
        for run in runs
    ]  # fmt: skip
    body = (
        "32 writer processes (unless the table says otherwise), each writing one access event a transaction "
        "as a staff read does, for the seconds given, as the runtime role; the runs interleaved as listed.\n\n"
        + _common.markdown_table(
            (
                "run",
                "started (UTC)",
                "fsync",
                "writers",
                "events/s",
                "sealing lag p50 / p95 / max (s)",
                "left for the catch-up",
                "chain, events",
                "load 1/5/15 min at the end",
            ),
            rows,
        )
    )
    print(_common.write_section("access_log_writers", "The access log under concurrent writers", body))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--poll", type=float, default=0.05, help="the monitor's polling period (s)")
    parser.add_argument("--fsync", action="store_true", help="turn PostgreSQL's fsync on first (superuser)")
    parser.add_argument("--no-migrate", action="store_true")
    parser.add_argument(
        "--sealer-only",
        type=float,
        metavar="PAUSE",
        help="writers do not seal after their commits; one sealer process seals every PAUSE seconds",
    )
    parser.add_argument(
        "--seal-interval", type=float, help="ACCESS_LOG_SEAL_INTERVAL_SECONDS for the writers (default: the setting's)"
    )
    parser.add_argument("--label", help="keep this run's figures under this label (bench/results/*.jsonl)")
    parser.add_argument("--report", action="store_true", help="write the results file from the kept runs, only")
    args = parser.parse_args()
    if args.report:
        write_report()
        return
    if "DATABASE_URL" not in os.environ:
        sys.exit("Run under scripts/with-postgres.sh (needs DATABASE_URL).")
    setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from audit.models import AccessEvent

    if not args.no_migrate:
        call_command("migrate", verbosity=0)
    set_fsync(args.fsync)
    settings.AUDIT_CHECKPOINT_INTERVAL_SECONDS = 0  # checkpoints are not what is measured
    before = AccessEvent.objects.count()
    connection.close()
    context = multiprocessing.get_context("fork")
    manager = context.Manager()
    counts = manager.dict()
    lags = manager.list()
    peak = context.Value("i", 0)
    deadline = time.time() + args.seconds
    processes = [
        context.Process(target=writer, args=(deadline, n, counts, args.sealer_only is not None, args.seal_interval))
        for n in range(args.writers)
    ]
    if args.sealer_only is not None:
        processes.append(context.Process(target=sealer, args=(deadline, args.sealer_only)))
    watcher = context.Process(target=monitor, args=(deadline, args.poll, lags, peak))
    started = time.time()
    started_at = time.strftime("%Y-%m-%d %H:%M", time.gmtime(started))
    watcher.start()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    elapsed = time.time() - started
    load = os.getloadavg()
    watcher.join()
    written = sum(counts.values())
    try:
        from audit.sealing import access_log_seal
    except ImportError:  # the code before the sealing: chained in the writer's transaction
        left, sealed_after = 0, 0
    else:
        left = AccessEvent.objects.filter(hash__isnull=True).count()
        sealed_after = access_log_seal(wait=True, max_batches=None)
    from audit.verify import verify_access_log

    verify_started = time.time()
    report = verify_access_log(use_checkpoints=False)
    verify_seconds = time.time() - verify_started
    in_log = AccessEvent.objects.count() - before
    lag = list(lags)
    print(f"writers: {args.writers}, seconds: {elapsed:.1f}, fsync: {'on' if args.fsync else 'off'}")
    print(f"events written: {written} ({written / elapsed:.0f} events/s); in the log: {in_log}")
    print(f"load average (1/5/15 min) at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, cores: {os.cpu_count()}")
    if lag:
        print(
            f"sealing lag (s, to {args.poll} s): p50 {percentile(lag, 50):.3f}, p95 {percentile(lag, 95):.3f}, "
            f"max {max(lag):.3f} over {len(lag)} events seen unsealed; most unsealed at once: {peak.value}"
        )
    else:
        print("sealing lag: none seen (events chained in the writer's transaction)")
    print(f"left unsealed when the writers stopped: {left}, sealed then: {sealed_after}")
    print(
        f"verify_access_log: {'intact' if report.intact else 'TAMPERED'}, {report.events} events "
        f"in {verify_seconds:.1f} s; findings: {[f.kind for f in report.findings][:5]}"
    )
    if args.label:
        _common = own_common()
        kept = {
            "label": args.label, "started": started_at, "fsync": "on" if args.fsync else "off",
            "writers": args.writers, "seconds": round(elapsed, 1), "events_per_second": written / elapsed,
            "lag_p50": percentile(lag, 50) if lag else None, "lag_p95": percentile(lag, 95) if lag else None,
            "lag_max": max(lag) if lag else None, "left_unsealed": left, "intact": report.intact,
            "in_log": in_log, "load": [round(value, 2) for value in load],
        }  # fmt: skip
        with (_common.RESULTS_DIR / "access_log_writers.jsonl").open("a") as handle:
            handle.write(json.dumps(kept) + "\n")
    if not report.intact or in_log != written:
        sys.exit(1)


if __name__ == "__main__":
    main()
