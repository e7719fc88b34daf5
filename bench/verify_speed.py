"""How fast `manage.py verify_access_log` walks a sealed access log on PostgreSQL (issue 16: >= 500,000 events/s).

    scripts/with-postgres.sh .venv/bin/python bench/verify_speed.py --events 2000000 [--before DIR]

Generates `--events` sealed events under the configured chain key into an empty database: their content
in Python (five demo-like staff users, addresses of their municipality's network, 80 % `patron_view` of
one patron and 20 % `patron_search` of 1-4, one event every `--step-ms` ending an hour ago), their links
with the real definition (audit.chain.link_message and keyed_link: the sealer's), streamed to the
database with COPY, with their patron index rows. That is what a sealer would have written, without a
sealer's round trips (which bench/access_log_writers.py measures). Then it runs the real command,
`manage.py verify_access_log`, `--rounds` times, and reports events/s with the load average around each
run. With `--before DIR` (a checkout of another commit, e.g. `git archive main | tar -x -C DIR`, with a
`.venv` symlink) each round also runs that checkout's command on the same data, interleaved.
"""

import argparse
import datetime
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    REPO_ROOT,
    django_setup,
    markdown_table,
    postmaster_pid,
    process_tree_cpu_seconds,
    progress,
    write_section,
)

ACTORS = (  # (actor id, username, municipality id, network)
    (101, "rovaniemi.staff", 1, "10.10"),
    (102, "rovaniemi.billing", 1, "10.10"),
    (103, "rovaniemi.director", 1, "10.10"),
    (104, "kemi.staff", 2, "10.20"),
    (105, "mikkeli.staff", 3, "10.30"),
)
VIEW_CATEGORIES = json.dumps(["basic", "contact", "guardians", "preferences"])
SEARCH_CATEGORIES = json.dumps(["listing"])
EVENT_COPY = (
    "COPY audit_accessevent (id, at, actor_id, actor_username, actor_municipality_id, client_ip, action, resource, "
    "patron_ids, data_categories, reason, outcome, detail, prev_hash, hash, seq, key_id) FROM STDIN"
)
INDEX_COPY = "COPY audit_accesseventpatron (event_id, patron_id, at) FROM STDIN"
CHUNK = 50_000


def generate(*, events: int, step_us: int) -> float:
    """Write `events` sealed events (and their index rows) after the current head; the seconds it took."""
    from django.db import connection

    from audit.chain import EPOCH, address_text, json_list_text, keyed_link, link_message, microseconds
    from audit.keys import chain_link_bases
    from audit.sealing import chain_head

    key_id, base = next(iter(chain_link_bases().items()))
    link, position = chain_head()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM audit_accessevent")
        next_id = cursor.fetchone()[0] + 1
    now_us = microseconds(datetime.datetime.now(datetime.UTC)) - 3_600_000_000
    first_us = now_us - events * step_us
    started = time.monotonic()
    raw = connection.connection
    with connection.cursor():  # an open connection
        pass
    for chunk_start in range(0, events, CHUNK):
        event_lines = io.StringIO()
        index_lines = io.StringIO()
        for i in range(chunk_start, min(events, chunk_start + CHUNK)):
            actor_id, username, municipality_id, network = ACTORS[i % 5]
            ip = f"{network}.{(i // 7) % 4}.{1 + (i * 13) % 50}"  # 200 desks a municipality
            search = i % 5 == 4
            patron = 1_000_000 + (i * 7919) % 900_000
            patrons = [patron + 5 * k for k in range(1 + i % 4)] if search else [patron]
            action, resource = ("patron_search", "api:patron-list") if search else ("patron_view", "patrons:detail")
            categories = SEARCH_CATEGORIES if search else VIEW_CATEGORIES
            at_us = first_us + i * step_us
            patron_text = json_list_text(patrons)
            position += 1
            new_link = keyed_link(
                base,
                link_message(
                    position, at_us, actor_id, username, municipality_id, address_text(ip), action, resource,
                    patron_text, categories, "", "allowed", "", link, key_id,
                ),
            )  # fmt: skip
            at = (EPOCH + datetime.timedelta(microseconds=at_us)).isoformat()
            event_lines.write(
                f"{next_id}\t{at}\t{actor_id}\t{username}\t{municipality_id}\t{ip}\t{action}\t{resource}\t"
                f"{patron_text}\t{categories}\t\tallowed\t\t{link}\t{new_link}\t{position}\t{key_id}\n"
            )
            index_lines.writelines(f"{next_id}\t{p}\t{at}\n" for p in patrons)
            link = new_link
            next_id += 1
        with raw.cursor() as cursor:
            event_lines.seek(0)
            cursor.copy_expert(EVENT_COPY, event_lines)
            index_lines.seek(0)
            cursor.copy_expert(INDEX_COPY, index_lines)
        raw.commit()
        done = min(events, chunk_start + CHUNK)
        rate = done / (time.monotonic() - started)
        progress(f"  {done:,} events ({rate:,.0f}/s)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('audit_accessevent', 'id'), (SELECT max(id) FROM audit_accessevent))"
        )
        for table in ("audit_accessevent", "audit_accesseventpatron"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    return time.monotonic() - started


def postgres_cpu(postmaster: int | None) -> float | None:
    """CPU seconds of the server so far: the postmaster's own and its children's, ended (backends, parallel
    workers: added to it when reaped) and running; None where /proc does not show the server."""
    if postmaster is None:
        return None
    try:
        return process_tree_cpu_seconds(postmaster)
    except OSError:
        return None


def run_verify(
    code_dir: Path, checkpoint_dir: str, extra: tuple[str, ...] = (), postmaster: int | None = None
) -> tuple[float, float, float | None, str, str, str]:
    """One run of the real command from `code_dir`: (seconds, CPU seconds of the command's processes, of the
    PostgreSQL server's (None when not readable here), load before, load after, its first line)."""
    load_before = " ".join(f"{load:.2f}" for load in os.getloadavg())
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = postgres_cpu(postmaster)
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [str(code_dir / ".venv" / "bin" / "python"), "manage.py", "verify_access_log", "--verbosity", "0", *extra],
        cwd=code_dir,
        capture_output=True,
        text=True,
        # An empty checkpoint directory: the generated events are in no checkpoint.
        env={**os.environ, "DEBUG": "false", "AUDIT_CHECKPOINT_DIR": checkpoint_dir},
    )
    seconds = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    time.sleep(0.2)  # the backends' exit reaped by the postmaster
    server_after = postgres_cpu(postmaster)
    server = None if server_before is None or server_after is None else server_after - server_before
    cpu = cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    load_after = " ".join(f"{load:.2f}" for load in os.getloadavg())
    output = (result.stdout + result.stderr).strip().splitlines()
    if result.returncode != 0:
        raise SystemExit(f"verify_access_log in {code_dir} failed ({result.returncode}): {output[-5:]}")
    return seconds, cpu, server, load_before, load_after, output[0] if output else ""


HEADERS = [
    "round",
    "code",
    "seconds",
    "events/s",
    "Python CPU s",
    "PostgreSQL CPU s",
    "µs an event (Python + PostgreSQL)",
    "load before",
    "load after",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--step-ms", type=int, default=200, help="milliseconds between two events (default 200)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with (its verify_access_log)")
    parser.add_argument("--no-generate", action="store_true", help="verify the events already there")
    parser.add_argument(
        "--workers",
        default="",
        help="comma-separated --workers values to run this checkout with, each a row (default: its default only)",
    )
    args = parser.parse_args()

    django_setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench/verify_speed.py needs PostgreSQL: run it under scripts/with-postgres.sh.")
    generation = ""
    if not args.no_generate and args.events:
        progress("migrate ...")
        call_command("migrate", interactive=False, verbosity=0)
        progress(f"generating {args.events:,} sealed events ...")
        seconds = generate(events=args.events, step_us=args.step_ms * 1000)
        generation = f"Generated {args.events:,} sealed events in {seconds:,.0f} s ({args.events / seconds:,.0f}/s)."
        progress(generation)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_accessevent WHERE hash IS NOT NULL")
        total = cursor.fetchone()[0]
    postmaster = postmaster_pid()
    codes: list[tuple[str, Path, tuple[str, ...]]] = [("before", args.before, ())] if args.before else []
    if args.workers:
        codes += [(f"after, --workers {n}", REPO_ROOT, ("--workers", n)) for n in args.workers.split(",")]
    else:
        codes.append(("after", REPO_ROOT, ()))
    rows = []
    checkpoint_dir = tempfile.mkdtemp(prefix="verify-speed-")
    for round_number in range(1, args.rounds + 1):
        for label, code_dir, extra in codes:
            seconds, cpu, server, load_before, load_after, line = run_verify(
                code_dir, checkpoint_dir, extra, postmaster
            )
            rate = total / seconds
            server_text = "-" if server is None else f"{server:.1f}"
            per_event = "-" if server is None else f"{1e6 * cpu / total:.2f} + {1e6 * server / total:.2f}"
            progress(
                f"round {round_number} {label}: {seconds:.2f} s, {rate:,.0f} events/s, CPU {cpu:.1f} s Python, "
                f"{server_text} s PostgreSQL ({line})"
            )
            rows.append(
                (
                    round_number,
                    label,
                    f"{seconds:.2f}",
                    f"{rate:,.0f}",
                    f"{cpu:.1f}",
                    server_text,
                    per_event,
                    load_before,
                    load_after,
                )
            )
    if not rows:  # generation only
        return
    body = f"""
{generation} {total:,} sealed events verified by `manage.py verify_access_log` (the whole command: Django's
start, the checkpoints, the walk), {os.cpu_count()} CPUs; the CPU seconds of the command's own processes and of
the PostgreSQL server (its postmaster's children, read from /proc: the backends and any parallel workers; the
server's own background work in those seconds too), per event in µs, and the load average (1, 5, 15 min)
before and after each run.

{markdown_table(HEADERS, rows)}
"""
    print(body)
    write_section("verify_speed", "Verifying the access log (`bench/verify_speed.py`)", body)


if __name__ == "__main__":
    main()
