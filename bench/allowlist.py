"""Cost of the IP allow-list per request, with 1,000 networks in one municipality.

Measures, in microseconds per call:
  (a) `NetworkSet.__contains__` alone (hits and misses, IPv4 and IPv6),
  (b) `network_verdict(user=..., address=...)`, including the once-a-second check of the generation number,
  (c) `IPAllowListMiddleware.__call__` on a RequestFactory request of a logged-in user, against the bare
      `get_response` it wraps (the difference is the middleware's overhead), directly and behind a
      trusted proxy (X-Forwarded-For),
plus the compile time of the 1,000 networks (`NetworkSet(...)` alone and `compile_allow_list()` with its
queries), in milliseconds.

Runs on a throwaway in-memory SQLite database migrated in-process (DATABASE_URL is ignored), so it
needs no PostgreSQL:

    .venv/bin/python bench/allowlist.py [--checks 200000] [--networks 1000] [--batch 10]

Timing is timeit-style: garbage collection off, calls timed in batches of --batch consecutive calls with
perf_counter_ns, every case in --repeats rounds interleaved with the others (so a noisy neighbour on
the VM hits all cases alike). A batch's time minus the median time of an empty batch of the same
shape (loop and timer overhead), divided by the batch size, is one sample; median and p95 are over
those samples, the mean over all calls, and "best" is the best round's mean.
"""

import argparse
import gc
import ipaddress
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Always a scratch SQLite database, whatever the shell says.
os.environ.pop("DATABASE_URL", None)
os.environ.pop("DATABASE_APP_ROLE", None)
os.environ.pop("SQLITE_TEST_NAME", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "privacy_service.settings"

from bench._common import django_setup, fmt, markdown_table, progress, summary, write_csv, write_section

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SEED = 1000


def random_networks(rng: random.Random, count: int) -> list[str]:
    """`count` distinct CIDRs: ~60 % IPv4 /16-/29, ~40 % IPv6 /48-/64 (global unicast 2000::/3)."""
    networks: set[str] = set()
    network: IPNetwork
    while len(networks) < count:
        if rng.random() < 0.6:
            prefix = rng.randint(16, 29)
            address = rng.getrandbits(32)
            network = ipaddress.IPv4Network((address, prefix), strict=False)
        else:
            prefix = rng.randint(48, 64)
            address = (0b001 << 125) | rng.getrandbits(125)
            network = ipaddress.IPv6Network((address, prefix), strict=False)
        networks.add(str(network))
    return sorted(networks)


def addresses_inside(rng: random.Random, cidrs: list[str], count: int) -> list[IPAddress]:
    out: list[IPAddress] = []
    for _ in range(count):
        network = ipaddress.ip_network(rng.choice(cidrs))
        offset = rng.randrange(network.num_addresses)
        out.append(network.network_address + offset)
    return out


def addresses_outside(rng: random.Random, networks, count: int) -> list[IPAddress]:
    out: list[IPAddress] = []
    address: IPAddress
    while len(out) < count:
        if rng.random() < 0.6:
            address = ipaddress.IPv4Address(rng.getrandbits(32))
        else:
            address = ipaddress.IPv6Address((0b001 << 125) | rng.getrandbits(125))
        if not any(address in network for network in networks if network.version == address.version):
            out.append(address)
    return out


# --- timing ---------------------------------------------------------------------------------------


def _timed_batches(loop, items: list, batch: int) -> list[int]:
    """Nanoseconds per batch of `batch` items, calling loop(chunk) for each chunk."""
    chunks = [items[i : i + batch] for i in range(0, len(items) - batch + 1, batch)]
    clock = time.perf_counter_ns
    out = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for chunk in chunks:
            start = clock()
            loop(chunk)
            out.append(clock() - start)
    finally:
        if gc_was_enabled:
            gc.enable()
    return out


def _empty_loop(chunk):
    for _item in chunk:
        pass


def measure_interleaved(
    cases: list[tuple[str, Callable[[list], object], list]], batch: int, repeats: int
) -> dict[str, dict]:
    """Time every case in `repeats` rounds, round-robin, so machine noise spreads evenly over the cases.

    Each round times an empty loop over the same items first; its median batch time (loop and timer
    overhead) is subtracted from that round's batches. Returns per-case stats in µs per call: median and
    p95 over batch samples, the mean over all calls, and the best round's mean (timeit's "min").
    """
    acc: dict[str, dict[str, Any]] = {
        label: {"samples": [], "net_ns": 0.0, "calls": 0, "round_means": []} for label, _loop, _items in cases
    }
    baselines = []
    for round_no in range(repeats):
        for label, loop, items in cases:
            size = len(items) // repeats
            part = items[round_no * size : (round_no + 1) * size]
            loop(part[: min(len(part), 2000)])  # warm-up
            empty = sorted(_timed_batches(_empty_loop, part, batch))
            baseline = empty[len(empty) // 2]
            baselines.append(baseline / batch)
            batches = _timed_batches(loop, part, batch)
            net = sum(batches) - baseline * len(batches)
            a = acc[label]
            a["samples"] += [(ns - baseline) / batch / 1000 for ns in batches]
            a["net_ns"] += net
            a["calls"] += len(batches) * batch
            a["round_means"].append(net / (len(batches) * batch) / 1000)
        progress(f"  round {round_no + 1}/{repeats} done")
    out = {}
    for label, a in acc.items():
        stats = summary(a["samples"])
        stats["mean"] = a["net_ns"] / a["calls"] / 1000
        stats["best"] = min(a["round_means"])
        stats["calls"] = a["calls"]
        out[label] = stats
        progress(
            f"    {label}: median {stats['median']:.3f} µs, p95 {stats['p95']:.3f} µs, mean {stats['mean']:.3f} µs"
        )
    out["_baseline_ns"] = {"median": sorted(baselines)[len(baselines) // 2]}
    return out


def time_ms_interleaved(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, dict]:
    times: dict[str, list[float]] = {label: [] for label in fns}
    for _ in range(repeat):
        for label, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[label].append((time.perf_counter() - start) * 1000)
    return {label: summary(values) for label, values in times.items()}


# --- main -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=200_000, help="calls per measured case (default 200000)")
    parser.add_argument("--networks", type=int, default=1000, help="networks in the municipality (default 1000)")
    parser.add_argument("--batch", type=int, default=10, help="calls per timed batch (default 10)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds per case (default 5)")
    parser.add_argument("--compile-repeat", type=int, default=30, help="compile runs (default 30)")
    args = parser.parse_args()

    django_setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.http import HttpResponse
    from django.test import RequestFactory, override_settings

    from staff import ip_allowlist
    from staff.client_ip import client_ip
    from staff.ip_allowlist import (
        IPAllowListMiddleware,
        NetworkSet,
        Verdict,
        compile_allow_list,
        invalidate_allow_list,
        network_verdict,
    )
    from staff.models import AllowedNetwork, Consortium, Library, Municipality, StaffProfile

    progress("creating and migrating an in-memory SQLite database ...")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)

    rng = random.Random(SEED)
    cidrs = random_networks(rng, args.networks)
    v4 = sum(1 for c in cidrs if ":" not in c)
    progress(f"{len(cidrs)} networks: {v4} IPv4 /16-/29, {len(cidrs) - v4} IPv6 /48-/64 (seed {SEED})")

    consortium = Consortium.objects.create(name="Bench", slug="bench", jurisdiction="FI")
    municipality = Municipality.objects.create(consortium=consortium, name="Benchville")
    Municipality.objects.create(consortium=consortium, name="Other")  # a second one, as in real life
    library = Library.objects.create(municipality=municipality, name="Bench library", koha_library_id="BENCH")
    user = get_user_model().objects.create_user("bench.staff", password=None)
    StaffProfile.objects.create(user=user, home_library=library)
    AllowedNetwork.objects.bulk_create(AllowedNetwork(municipality=municipality, cidr=c) for c in cidrs)
    invalidate_allow_list()  # bulk_create sends no signals

    networks = [ipaddress.ip_network(c) for c in cidrs]
    network_set = NetworkSet(cidrs)
    merged = {version: len(starts) for version, (starts, _ends) in network_set._ranges.items()}
    progress(f"merged into {merged[4]} IPv4 and {merged[6]} IPv6 ranges")

    n = args.checks
    inside = addresses_inside(rng, cidrs, n // 2)
    outside = addresses_outside(rng, networks, n - n // 2)
    mixed = inside + outside
    rng.shuffle(mixed)
    # Sanity: the bisect agrees with a naive scan.
    for address in mixed[:2000]:
        naive = any(address in network for network in networks if network.version == address.version)
        assert (address in network_set) is naive, address

    hits = (inside * 2)[:n]
    misses = (outside * 2)[:n]

    # (a) NetworkSet.__contains__ alone.
    def contains_loop(chunk, _set=network_set):
        for address in chunk:
            address in _set  # noqa: B015 - the expression is what is measured

    # (b) network_verdict, including the once-a-second check of the generation number.
    def verdict_loop(chunk, _user=user):
        for address in chunk:
            network_verdict(user=_user, address=address)

    assert network_verdict(user=user, address=inside[0]) is Verdict.ALLOW
    assert network_verdict(user=user, address=outside[0]) is Verdict.DENY

    # (c) the middleware on a request of a logged-in user (allowed addresses: a denial logs out and
    # writes an access event, which is not the per-request cost).
    response = HttpResponse("ok")

    def get_response(request):
        return response

    middleware = IPAllowListMiddleware(get_response)
    factory = RequestFactory()
    distinct = 2000

    def make_requests(extra_for):
        requests = []
        for address in inside[:distinct]:
            request = factory.get("/patrons/1/", **extra_for(address))
            request.user = user
            requests.append(request)
        return [requests[i % distinct] for i in range(n)]

    direct = make_requests(lambda a: {"REMOTE_ADDR": str(a)})
    proxied = make_requests(lambda a: {"REMOTE_ADDR": "192.0.2.10", "HTTP_X_FORWARDED_FOR": f"{a}, 192.0.2.11"})
    assert middleware(direct[0]) is response

    def bare_loop(chunk, _get=get_response):
        for request in chunk:
            _get(request)

    def middleware_loop(chunk, _mw=middleware):
        for request in chunk:
            _mw(request)

    # Where the time goes besides the bisect.
    def client_ip_loop(chunk):
        for request in chunk:
            client_ip(request)

    # Paid once a second per process, not per request.
    def generation_loop(chunk, _read=ip_allowlist.current_generation):
        for _request in chunk:
            _read()

    A_MIXED = "(a) `NetworkSet.__contains__`, 50 % hits"
    A_HITS = "(a) `NetworkSet.__contains__`, hits only"
    A_MISSES = "(a) `NetworkSet.__contains__`, misses only"
    B_MIXED = "(b) `network_verdict()`, 50 % allowed"
    B_HITS = "(b) `network_verdict()`, allowed only"
    C_BARE = "(c) bare `get_response` (reference)"
    C_MW = "(c) middleware + `get_response`, direct (REMOTE_ADDR)"
    C_PROXY = "(c) middleware + `get_response`, via trusted proxy (X-Forwarded-For)"
    P_IP = "(part of c) `client_ip(request)`, direct"
    P_GENERATION = "(once a second) `current_generation()`: the generation number's query"
    progress(f"measuring {n:,} calls per case in {args.repeats} interleaved rounds, batches of {args.batch} ...")
    stats = measure_interleaved(
        [
            (A_MIXED, contains_loop, mixed),
            (A_HITS, contains_loop, hits),
            (A_MISSES, contains_loop, misses),
            (B_MIXED, verdict_loop, mixed),
            (B_HITS, verdict_loop, hits),
            (C_BARE, bare_loop, direct),
            (C_MW, middleware_loop, direct),
            (P_IP, client_ip_loop, direct),
            (P_GENERATION, generation_loop, direct),
        ],
        args.batch,
        args.repeats,
    )
    progress("measuring the middleware behind a trusted proxy ...")
    with override_settings(TRUSTED_PROXIES=["192.0.2.0/24"]):
        assert middleware(proxied[0]) is response
        stats.update(
            {
                k: v
                for k, v in measure_interleaved([(C_PROXY, middleware_loop, proxied)], args.batch, args.repeats).items()
                if k != "_baseline_ns"
            }
        )
    baseline = stats.pop("_baseline_ns")["median"]

    # Compile time.
    progress(f"compile time, {args.compile_repeat} interleaved runs each ...")

    def cold_get():
        invalidate_allow_list()
        ip_allowlist.compiled_allow_list.get()

    COMPILE_SET = "`NetworkSet(cidrs)`: parse + merge only"
    COMPILE_ALL = "`compile_allow_list()`: 3 queries + parse + merge"
    COMPILE_COLD = "first `compiled_allow_list.get()` after an invalidation"
    compile_stats = time_ms_interleaved(
        {COMPILE_SET: lambda: NetworkSet(cidrs), COMPILE_ALL: compile_allow_list, COMPILE_COLD: cold_get},
        args.compile_repeat,
    )

    # --- output ---
    keys = ("median", "p95", "mean", "best")
    overhead = {k: stats[C_MW][k] - stats[C_BARE][k] for k in keys}
    overhead_proxy = {k: stats[C_PROXY][k] - stats[C_BARE][k] for k in keys}
    order = (A_MIXED, A_HITS, A_MISSES, B_MIXED, B_HITS, C_BARE, C_MW, C_PROXY)
    table_rows = [
        (f"{label}", f"{stats[label]['calls']:,}", *(fmt(stats[label][k], 3) for k in keys)) for label in order
    ]
    table_rows += [
        ("**(c) middleware overhead, direct** (middleware - bare)", "", *(f"**{fmt(overhead[k], 3)}**" for k in keys)),
        ("**(c) middleware overhead via proxy** (middleware - bare)", "", *(fmt(overhead_proxy[k], 3) for k in keys)),
        *(
            (label, f"{stats[label]['calls']:,}", *(fmt(stats[label][k], 3) for k in keys))
            for label in (P_GENERATION, P_IP)
        ),
    ]
    compile_rows = [
        (label, fmt(s["median"]), fmt(s["p95"]), fmt(s["mean"]), fmt(s["min"])) for label, s in compile_stats.items()
    ]
    body = f"""
{len(cidrs):,} networks in one municipality ({v4} IPv4 /16-/29, {len(cidrs) - v4} IPv6 /48-/64, random with seed
{SEED}), merged into {merged[4]} IPv4 and {merged[6]} IPv6 ranges. In-memory SQLite, DEBUG off.
Microseconds per call. Each case runs {n:,} calls in {args.repeats} rounds interleaved with the other cases;
a sample is a batch of {args.batch} calls minus the empty-loop overhead (~{baseline:.0f} ns/call), so median
and p95 are over batch means; "mean" is over all calls, "best" is the best round's mean (timeit's min).
Addresses: 50 % inside a listed network, 60 % IPv4; the middleware cases use allowed addresses.

{markdown_table(["case", "calls", "median µs", "p95 µs", "mean µs", "best µs"], table_rows)}

Compile time of the {len(cidrs):,} networks ({args.compile_repeat} runs each, interleaved):

{markdown_table(["what", "median ms", "p95 ms", "mean ms", "min ms"], compile_rows)}

A process reads the generation number from the database at most once a second (the query above; the
requests in between pay a clock read, included in (b) and (c)) and recompiles when it has moved (a
network, municipality, library or staff profile was saved, in that change's transaction).
"""
    csv_rows = [
        (label, stats[label]["calls"], *(stats[label][k] for k in keys)) for label in (*order, P_GENERATION, P_IP)
    ]
    csv_rows += [
        ("middleware overhead direct", "", *(overhead[k] for k in keys)),
        ("middleware overhead via proxy", "", *(overhead_proxy[k] for k in keys)),
    ]
    csv_rows += [
        (f"{label} [ms]", s["n"], s["median"], s["p95"], s["mean"], s["min"]) for label, s in compile_stats.items()
    ]
    write_csv("allowlist", ["case", "calls", "median_us", "p95_us", "mean_us", "best_us"], csv_rows)
    path = write_section("allowlist", "IP allow-list per request (`bench/allowlist.py`)", body)
    print(body)
    progress(f"wrote {path} and bench/results/allowlist.csv")


if __name__ == "__main__":
    main()
