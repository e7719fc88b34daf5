"""Requests per second of the service's reads over real HTTP, as a ratio to bare Django's, and their queries.

Two gunicorn servers with the project's gunicorn.conf.py (2 sync workers each, `--max-requests 0` so no
worker restarts inside a measurement) against the PostgreSQL of scripts/with-postgres.sh:

  - "bare": `bench/bare_settings.py`, the service's settings with no middleware and one view that answers
    "ok" (`bench/bare_urls.py`; it exists only there, never in the service's urls);
  - "service": the service as it is (`privacy_service.settings`, DEBUG off).

`wrk` (Debian package `wrk`; the bench installs it with apt-get when it is missing and it runs as root)
drives, one endpoint at a time, in --rounds interleaved rounds (the order rotates each round):

  bare Django /bench/bare, /healthz (no cookie, as a load balancer probes it), the patron detail page
  /patrons/<id>/, the detail API /api/v1/patrons/<id>/ and the search API /api/v1/patrons/?search=<name>,
  the last three as the demo staff user `rovaniemi.staff` with a session cookie (the browser's and the
  staff API's authentication) from 127.0.0.1, an address Rovaniemi allows; random patrons of the user's
  consortium and random surnames.

Each round's requests/s per endpoint, its ratio to bare Django in the same round (min/median/max over the
rounds), the load average before and after each measurement, and the queries of one request of each
endpoint (in-process test client, `CaptureQueriesContext` on both databases, after a warm-up request).
Writes results/http_ratio.md and results/http_ratio.csv.

    scripts/with-postgres.sh .venv/bin/python bench/http_ratio.py            # generates 20,000 patrons first

Generates its data (bench/silo.py --migrate-only, bench/generate.py) when fewer than --patrons patrons exist.

Before and after a change, in the same rounds: --baseline DIR serves another checkout as a third server and
measures its endpoints too ("(baseline)" rows; their queries are not counted, the code differs):

    rm -rf /tmp/base && mkdir /tmp/base && git archive <commit> | tar -x -C /tmp/base
    scripts/with-postgres.sh .venv/bin/python bench/http_ratio.py --baseline /tmp/base
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    REPO_ROOT,
    RESULTS_DIR,
    django_setup,
    fmt,
    markdown_table,
    progress,
    save_chart,
    write_csv,
    write_section,
)

STAFF_USER = "rovaniemi.staff"
ADDRESS = "127.0.0.1"
SEED = 1616
PYTHON = str(REPO_ROOT / ".venv" / "bin" / "python")
GUNICORN = str(REPO_ROOT / ".venv" / "bin" / "gunicorn")


@dataclass(frozen=True)
class Endpoint:
    name: str
    server: str  # "bare", "service" or "baseline"
    path: str  # may hold {id} or {name}
    logged_in: bool


RATIO_HEADERS = ("endpoint", "req/s per round", "median req/s", "ratio to bare Django", "p50 ms", "p99 ms", "queries")
ENDPOINTS = (
    Endpoint("bare Django", "bare", "/bench/bare", False),
    Endpoint("/healthz", "service", "/healthz", False),
    Endpoint("detail page", "service", "/patrons/{id}/", True),
    Endpoint("detail API", "service", "/api/v1/patrons/{id}/", True),
    Endpoint("search API", "service", "/api/v1/patrons/?search={name}", True),
)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("bench/http_ratio.py needs wrk: apt-get install -y wrk")
    progress("installing wrk (apt-get) ...")
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL)  # noqa: S607
    return shutil.which("wrk") or "wrk"


def ensure_data(patrons: int, events: int) -> None:
    """Migrated databases with at least `patrons` patrons (bench/generate.py), made in subprocesses."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM patrons_patron")
            present = cursor.fetchone()[0]
    except DatabaseError:
        present = 0
    connection.close()
    if present >= patrons:
        progress(f"{present:,} patrons present, no generation")
        return
    progress(f"{present:,} patrons present: generating {patrons:,} patrons and {events:,} events ...")
    bench = REPO_ROOT / "bench"
    subprocess.run([PYTHON, str(bench / "silo.py"), "--migrate-only"], check=True, cwd=REPO_ROOT)  # noqa: S603
    generate = [PYTHON, str(bench / "generate.py"), "--patrons", str(patrons), "--events", str(events)]
    subprocess.run(generate, check=True, cwd=REPO_ROOT)  # noqa: S603 (this interpreter, this repo's script)


TRANSACTION_CONTROL = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b")


def queries_of(client, url: str) -> tuple[int, int, int, list[str]]:
    """Statements of one request after a warm-up one: (default's queries, sotu's queries, transaction
    control statements of both, the SQL of all). Queries leave out BEGIN/COMMIT/SAVEPOINT/RELEASE."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connections["default"]) as default, CaptureQueriesContext(connections["sotu"]) as sotu:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    sql = [q["sql"] for q in default.captured_queries] + [f"[sotu] {q['sql']}" for q in sotu.captured_queries]

    def queries(captured: list[dict[str, str]]) -> int:
        return sum(1 for q in captured if not TRANSACTION_CONTROL.match(q["sql"]))

    control = sum(1 for q in sql if TRANSACTION_CONTROL.match(q.removeprefix("[sotu] ")))
    return queries(default.captured_queries), queries(sotu.captured_queries), control, sql


def model_backend_of(checkout: Path) -> str:
    """The authentication backend a checkout's settings list that logs staff in (its ModelBackend or subclass),
    for a session of its own: a session made for one backend's path is anonymous where that path is not listed."""
    text = (checkout / "privacy_service" / "settings.py").read_text()
    listed = re.search(r"AUTHENTICATION_BACKENDS = \[([^\]]*)\]", text)
    paths = re.findall(r'"([\w.]+)"', listed[1]) if listed else []
    return next((path for path in paths if path.endswith("ModelBackend")), "django.contrib.auth.backends.ModelBackend")


def lua_script(directory: Path, endpoint: Endpoint, ids: list[int], names: list[str], cookie: str) -> Path:
    """A wrk script that asks for a random patron (or surname) on every request, with the session cookie."""
    path = directory / f"{re.sub(r'[^a-z]+', '_', endpoint.name.lower())}.lua"
    template = endpoint.path.replace("{id}", "%d").replace("{name}", "%s")
    lines = [
        f"local ids = {{{','.join(map(str, ids))}}}",
        f"local names = {{{','.join(json.dumps(quote(n)) for n in names)}}}",
    ]
    if endpoint.logged_in:
        lines.append(f'wrk.headers["Cookie"] = "{cookie}"')
    if "{id}" in endpoint.path:
        pick = "ids[math.random(#ids)]"
    elif "{name}" in endpoint.path:
        pick = "names[math.random(#names)]"
    else:
        pick = None
    target = f'string.format("{template}", {pick})' if pick else f'"{template}"'
    lines += [
        f"math.randomseed({SEED})",
        f'request = function() return wrk.format("GET", {target}) end',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_server(
    settings_module: str,
    port: int,
    log: Path,
    root: Path = REPO_ROOT,
    config: str = "gunicorn.conf.py",
    extra_env: dict[str, str] | None = None,
    workers: int = 2,
) -> subprocess.Popen:
    """gunicorn with `config` (relative to `root`), `workers` sync workers and no worker restarts, on
    127.0.0.1:`port`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DEBUG": "false",
        # One client address sends every request: the API's throttle would measure itself.
        "API_THROTTLE_USER": "100000000/minute",
        "GUNICORN_ACCESS_LOG": str(log),
        "GUNICORN_ERROR_LOG": str(log),
        **(extra_env or {}),
    }
    command = [GUNICORN, "-c", config, "--workers", str(workers), "--max-requests", "0"]
    command += ["--bind", f"127.0.0.1:{port}"]
    return subprocess.Popen(  # noqa: S603 (the venv's gunicorn, fixed arguments)
        command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_ready(port: int, path: str, server: subprocess.Popen) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn on port {port} exited with {server.returncode}: see its log")
        try:
            if requests.get(f"http://127.0.0.1:{port}{path}", timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still starting
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn on port {port} did not answer {path} within 60 s")


def check_status(port: int, path: str, cookie: str | None) -> None:
    import requests

    headers = {"Cookie": cookie} if cookie else {}
    response = requests.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=10, allow_redirects=False)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}, not 200: the bench would measure an error")


def run_wrk(wrk: str, script: Path, port: int, seconds: float, connections: int) -> dict[str, float]:
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "--latency", "-s", str(script)]
    command.append(f"http://127.0.0.1:{port}")
    finished = subprocess.run(command, capture_output=True, text=True)  # noqa: S603 (wrk, arguments from here)
    if finished.returncode:
        raise SystemExit(f"wrk failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}")
    output = finished.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if bad or (errors and any(int(g) for g in errors.groups())):
        raise SystemExit(f"wrk saw errors:\n{output}")

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return float("nan")
        return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]

    return {"rps": rps, "p50": latency("50"), "p99": latency("99")}


def draw_chart(medians: dict[str, float], path: Path, subtitle: str) -> None:
    """Each endpoint's median share of bare Django's requests/s (log scale), this code beside the baseline's,
    with the issue's goals (1/10 for a staff read, 1/2 for /healthz) as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name in medians if not name.endswith(" (baseline)")]
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=120)
    height = 0.38
    for offset, suffix, color, label in (
        (-height / 2, "", "#4f81bd", "this code"),
        (height / 2, " (baseline)", "#a6a6a6", "baseline"),
    ):
        shown = [(i, medians[name + suffix]) for i, name in enumerate(names) if name + suffix in medians]
        if not shown:
            continue
        bars = ax.barh(
            [i + offset for i, _ in shown], [1 / ratio for _, ratio in shown], height, color=color, label=label
        )
        ax.bar_label(bars, labels=[f"1/{ratio:.1f}" for _, ratio in shown], padding=3, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(1 / 400, 2)
    ax.axvline(1 / 10, color="#c0504d", linestyle="--", linewidth=1, label="goal for a staff read: 1/10")
    ax.axvline(1 / 2, color="#9bbb59", linestyle=":", linewidth=1, label="goal for /healthz: 1/2")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("share of bare Django's requests/s in the same round (median, log scale)")
    ax.set_title("Staff reads over HTTP against bare Django", fontsize=11)
    save_chart(fig, ax, path, subtitle)


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patrons", type=int, default=20_000, help="patrons to have (default 20000)")
    parser.add_argument("--events", type=int, default=200_000, help="events to generate with them (default 200000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=10, help="seconds per endpoint and round (default 10)")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per endpoint (default 3)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    parser.add_argument("--port", type=int, default=8731, help="service port; bare Django on the next (default 8731)")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout of the service (e.g. `git archive <commit> | tar -x -C DIR`) served as a third "
        "server on the port after bare Django's and measured in the same rounds: before and after side by side",
    )
    args = parser.parse_args()

    wrk = ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="http-ratio-"))
    # This throwaway database's access-log checkpoints, not var/'s (which sign another database's chain).
    os.environ["AUDIT_CHECKPOINT_DIR"] = str(work / "checkpoints")
    django_setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench/http_ratio.py needs PostgreSQL: run it under scripts/with-postgres.sh")
    ensure_data(args.patrons, args.events)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from patrons.models import Patron
    from staff.selectors import consortium_id_of

    staff = get_user_model().objects.get(username=STAFF_USER)
    consortium_id = consortium_id_of(staff)
    assert consortium_id is not None, f"{STAFF_USER} has no staff profile: was seed_demo run?"
    rng = random.Random(SEED)
    all_ids = list(Patron.objects.filter(consortium_id=consortium_id).values_list("id", flat=True))
    ids = rng.sample(all_ids, min(1000, len(all_ids)))
    names = sorted(set(Patron.objects.filter(consortium_id=consortium_id).values_list("last_name", flat=True)[:2000]))[
        :60
    ]
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(staff)  # a session row in the database, as the log-in form makes
    name = settings.SESSION_COOKIE_NAME
    cookies = {"service": f"{name}={client.cookies[name].value}"}
    if args.baseline:
        # The session names the backend that logged the user in: one the baseline's settings list.
        baseline_client = Client(REMOTE_ADDR=ADDRESS)
        baseline_client.force_login(staff, backend=model_backend_of(args.baseline))
        cookies["baseline"] = f"{name}={baseline_client.cookies[name].value}"
    anonymous = Client(REMOTE_ADDR=ADDRESS)

    endpoints = list(ENDPOINTS)
    if args.baseline:
        service = [e for e in ENDPOINTS if e.server == "service"]
        endpoints += [Endpoint(f"{e.name} (baseline)", "baseline", e.path, e.logged_in) for e in service]
    progress("queries per request (in-process test client) ...")
    query_rows, sql_blocks = [], []
    for endpoint in ENDPOINTS:
        if endpoint.server == "bare":
            continue
        url = endpoint.path.format(id=ids[0], name=names[0])
        default, sotu, control, sql = queries_of(client if endpoint.logged_in else anonymous, url)
        query_rows.append((endpoint.name, default, sotu, default + sotu, control))
        sql_blocks.append(
            f"{endpoint.name} ({default + sotu} queries, {control} transaction control):\n"
            + "\n".join(f"  {s[:160]}" for s in sql)
        )
    connection.close()

    ports = {"service": args.port, "bare": args.port + 1, "baseline": args.port + 2}
    servers = {
        "service": start_server("privacy_service.settings", ports["service"], work / "service.log"),
        "bare": start_server("bench.bare_settings", ports["bare"], work / "bare.log"),
    }
    if args.baseline:
        log = work / "baseline.log"
        # The same access-log keys as the service's: another checkout generates its own development keys (var/),
        # and then each server's sealer finds the other's events unverifiable, leaves them unsealed and reads and
        # checks them again on every seal for the rest of the run (a CRITICAL line for each, once per worker).
        keys = {name: getattr(settings, name) for name in ("AUDIT_CHAIN_KEY", "AUDIT_CHECKPOINT_SIGNING_KEY")}
        root = args.baseline.resolve()
        servers["baseline"] = start_server("privacy_service.settings", ports["baseline"], log, root, extra_env=keys)
    results: dict[str, list[dict[str, float]]] = {e.name: [] for e in endpoints}
    try:
        for name, server in servers.items():
            wait_ready(ports[name], "/bench/bare" if name == "bare" else "/healthz", server)
        scripts = {e.name: lua_script(work, e, ids, names, cookies.get(e.server, "")) for e in endpoints}
        for endpoint in endpoints:
            sample = endpoint.path.format(id=ids[0], name=names[0])
            check_status(ports[endpoint.server], sample, cookies.get(endpoint.server) if endpoint.logged_in else None)
            progress(f"warm-up {endpoint.name}, {args.warmup:g} s ...")
            run_wrk(wrk, scripts[endpoint.name], ports[endpoint.server], args.warmup, args.connections)
        order = list(endpoints)
        for round_no in range(args.rounds):
            for endpoint in order:
                before = load_average()
                measured = run_wrk(wrk, scripts[endpoint.name], ports[endpoint.server], args.seconds, args.connections)
                measured.update(round=round_no + 1, load_before=before, load_after=load_average())
                results[endpoint.name].append(measured)
                progress(
                    f"round {round_no + 1}/{args.rounds} {endpoint.name:12} {measured['rps']:8,.1f} req/s "
                    f"(load {before:.2f} -> {measured['load_after']:.2f})"
                )
            order = order[1:] + order[:1]
        for endpoint in endpoints:  # still a logged-in 200 at the end: no run measured a redirect
            cookie = cookies.get(endpoint.server) if endpoint.logged_in else None
            check_status(ports[endpoint.server], endpoint.path.format(id=ids[0], name=names[0]), cookie)
    finally:
        for server in servers.values():
            server.send_signal(signal.SIGTERM)
        for server in servers.values():
            server.wait(timeout=30)

    bare = results["bare Django"]
    rows, csv_rows = [], []
    medians: dict[str, float] = {}
    for endpoint in endpoints:
        runs = results[endpoint.name]
        ratios = [bare[i]["rps"] / run["rps"] for i, run in enumerate(runs)]
        rps = [run["rps"] for run in runs]
        if endpoint.server != "bare":
            medians[endpoint.name] = statistics.median(ratios)
        queries = next((r[3] for r in query_rows if r[0] == endpoint.name), "-")
        rows.append(
            (
                endpoint.name,
                " / ".join(fmt(v, 0) for v in rps),
                f"**{fmt(statistics.median(rps), 0)}**",
                "1"
                if endpoint.server == "bare"
                else f"1/{fmt(min(ratios), 1)} .. **1/{fmt(statistics.median(ratios), 1)}** .. 1/{fmt(max(ratios), 1)}",
                fmt(statistics.median(run["p50"] for run in runs)),
                fmt(statistics.median(run["p99"] for run in runs)),
                "-" if endpoint.server == "bare" else queries,
            )
        )
        for run in runs:
            csv_rows.append(
                (endpoint.name, run["round"], run["rps"], run["p50"], run["p99"], run["load_before"], run["load_after"])
            )
    load_rows = [
        (
            f"round {r + 1}",
            *(f"{results[e.name][r]['load_before']:.2f} -> {results[e.name][r]['load_after']:.2f}" for e in endpoints),
        )
        for r in range(args.rounds)
    ]
    volumes = Patron.objects.count()
    # _common's code_version cannot read a worktree's HEAD; git can.
    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()  # noqa: S603
    body = f"""
Code at commit {commit or "unknown"} (uncommitted changes not seen). {volumes:,} patrons.
Two gunicorn servers (2 sync workers each, the project's gunicorn.conf.py, `--max-requests 0`),
`wrk -t1 -c{args.connections}` for {args.seconds:g} s per endpoint and round, {args.rounds} rounds with the order
rotated each round, after a {args.warmup:g} s warm-up each. wrk, both servers and PostgreSQL share the machine's
CPUs, and so do other people's jobs: the load average column shows how busy it was. Compare the ratios of one
run, not absolute numbers across runs. "Ratio" is bare Django's requests/s over the endpoint's in the same
round (best .. median .. worst over the rounds). Queries: one request after a warm-up one, in-process test
client, both databases (the silo's included), without BEGIN/COMMIT/SAVEPOINT/RELEASE (counted apart).

{markdown_table(RATIO_HEADERS, rows)}

![Share of bare Django's requests/s per endpoint](http_ratio.png)

Load average (1 min) before -> after each measurement:

{markdown_table(["round", *(e.name for e in endpoints)], load_rows)}

Queries of one request:

{markdown_table(["endpoint", "default", "sotu", "queries", "+ transaction control"], query_rows)}

<details><summary>The SQL of one request of each endpoint</summary>

```
{chr(10).join(sql_blocks)}
```
</details>
"""
    write_csv("http_ratio", ["endpoint", "round", "rps", "p50_ms", "p99_ms", "load_before", "load_after"], csv_rows)
    loads = [value for e in endpoints for run in results[e.name] for value in (run["load_before"], run["load_after"])]
    draw_chart(
        medians,
        RESULTS_DIR / "http_ratio.png",
        f"commit {commit or 'unknown'}, {volumes:,} patrons, 2 sync workers, wrk -c{args.connections}, "
        f"{args.rounds} rounds; load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} CPUs",
    )
    path = write_section(
        "http_ratio", "Requests per second over HTTP, as a ratio to bare Django (`bench/http_ratio.py`)", body
    )
    print(body)
    progress(f"wrote {path} and bench/results/http_ratio.csv; server logs in {work}")


if __name__ == "__main__":
    main()
