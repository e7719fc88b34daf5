"""The machine API the Koha plugin calls, on the scale data: views reported in batches, and the panel's status.

In-process (Django's test `Client`, full middleware stack, no HTTP server; as bench/detail_rps.py), one machine
key of Lapland's consortium (made here, with the Koha permissions; REMOTE_ADDR 127.0.0.1 is in its networks), the
Koha user id of `rovaniemi.staff` set so every view is a known staff member's:

  1. POST /api/v1/koha/views/ with batches of 1, 50 and 500 views (KOHA_VIEWS_BATCH_MAX) of random patrons of the
     consortium, fresh event ids, for --seconds per size: views per second, the batch's latency median/p95, the
     queries of one batch and the access events written. This is how fast a plugin's queue drains after the
     service was away (the plugin sends 500 a batch).
  2. The same batch of 500 sent again: all `duplicate`, nothing written (the cost of a plugin's retry after a lost
     answer).
  3. GET /api/v1/koha/patrons/<id>/privacy-status/ (each Koha patron page's panel; an access event each):
     requests per second, latency median/p95/p99, queries of one request.

Needs the data from bench/generate.py in the same throwaway PostgreSQL (the Makefile's `bench` target):

    scripts/with-postgres.sh bash -c '.venv/bin/python bench/generate.py && .venv/bin/python bench/koha_views.py'
"""

import argparse
import datetime
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import django_setup, fmt, markdown_table, progress, summary, write_csv, write_section

SEED = 1313
CONSORTIUM = "lapin-kirjastot"
STAFF_USER = "rovaniemi.staff"
KOHA_USERID = "bench.rovstaff"
ADDRESS = "127.0.0.1"
BATCH_SIZES = (1, 50, 500)
HEADERS = ("batch size", "batches", "views", "views/s", "batch median ms", "batch p95 ms", "queries (1 batch)")


def _machine_key() -> str:
    from staff.admin import machine_permissions
    from staff.models import Consortium, MachineKey, StaffProfile

    key, raw = MachineKey.objects.create_key(
        name="bench-koha-views", consortium=Consortium.objects.get(slug=CONSORTIUM), networks="127.0.0.0/8"
    )
    key.permissions.set(machine_permissions())
    StaffProfile.objects.filter(user__username=STAFF_USER).update(koha_userid=KOHA_USERID)
    return raw


def _koha_patron_ids(limit: int) -> list[int]:
    from patrons.models import Patron

    ids = [
        koha_id
        for koha_id in Patron.objects.filter(consortium__slug=CONSORTIUM, koha_patron_id__isnull=False)
        .order_by("?")
        .values_list("koha_patron_id", flat=True)[:limit]
        if koha_id is not None
    ]
    if not ids:
        sys.exit("no patrons with a Koha id in Lapland's consortium: run bench/generate.py first")
    return ids


def _views(koha_ids: list[int], rng: random.Random, size: int) -> list[dict]:
    moment = datetime.datetime.now(datetime.UTC).isoformat()
    return [
        {
            "event_id": uuid.uuid4().hex,
            "koha_patron_id": rng.choice(koha_ids),
            "staff_userid": KOHA_USERID,
            "staff_address": ADDRESS,
            "page": "moremember",
            "viewed_at": moment,
        }
        for _ in range(size)
    ]


def _post(client, key: str, views: list[dict]) -> dict:
    response = client.post(
        "/api/v1/koha/views/", {"views": views}, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key}"
    )
    if response.status_code != 200:
        sys.exit(f"views: HTTP {response.status_code}: {response.content[:300]!r}")
    return response.json()


def _queries(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def _event_count() -> int:
    from audit.models import AccessEvent

    return AccessEvent.objects.count()


def bench_views(client, key: str, koha_ids: list[int], rng: random.Random, seconds: float) -> tuple[list, str]:
    rows = []
    for size in BATCH_SIZES:
        progress(f"views: batches of {size} for {seconds:.0f} s")
        queries = _queries(lambda size=size: _post(client, key, _views(koha_ids, rng, size)))
        latencies: list[float] = []
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            batch = _views(koha_ids, rng, size)
            begin = time.perf_counter()
            answer = _post(client, key, batch)
            latencies.append(time.perf_counter() - begin)
            assert all(view["status"] == "recorded" for view in answer["views"]), answer["views"][:3]
        elapsed = time.monotonic() - started
        stats = summary(latencies)
        views = len(latencies) * size
        rows.append(
            (
                size,
                len(latencies),
                views,
                fmt(views / elapsed, 0),
                fmt(stats["median"] * 1000, 1),
                fmt(stats["p95"] * 1000, 1),
                queries,
            )
        )
    progress("views: one batch of 500 sent twice")
    batch = _views(koha_ids, rng, 500)
    _post(client, key, batch)
    before = _event_count()
    begin = time.perf_counter()
    answer = _post(client, key, batch)
    again_ms = (time.perf_counter() - begin) * 1000
    written = _event_count() - before
    duplicates = sum(view["status"] == "duplicate" for view in answer["views"])
    note = f"The same 500 sent again: {duplicates} duplicate, {written} events written, {fmt(again_ms, 1)} ms."
    return rows, note


def bench_status(client, key: str, koha_ids: list[int], rng: random.Random, seconds: float) -> tuple[list, int]:
    progress(f"privacy-status for {seconds:.0f} s")

    def one() -> None:
        response = client.get(
            f"/api/v1/koha/patrons/{rng.choice(koha_ids)}/privacy-status/", HTTP_AUTHORIZATION=f"Api-Key {key}"
        )
        if response.status_code != 200:
            sys.exit(f"privacy-status: HTTP {response.status_code}")

    queries = _queries(one)
    latencies: list[float] = []
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        begin = time.perf_counter()
        one()
        latencies.append(time.perf_counter() - begin)
    elapsed = time.monotonic() - started
    stats = summary(latencies)
    row = (
        len(latencies),
        fmt(len(latencies) / elapsed, 0),
        fmt(stats["median"] * 1000, 1),
        fmt(stats["p95"] * 1000, 1),
        fmt(stats["p99"] * 1000, 1),
        queries,
    )
    return [row], queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="per batch size, and for the status")
    arguments = parser.parse_args()
    django_setup()
    from django.db import connection
    from django.test import Client

    from patrons.models import Patron

    rng = random.Random(SEED)
    key = _machine_key()
    koha_ids = _koha_patron_ids(200_000)
    patrons = Patron.objects.count()
    events = _event_count()
    progress(f"{patrons:,} patrons, {events:,} access events; {len(koha_ids):,} Koha ids sampled")
    client = Client(REMOTE_ADDR=ADDRESS)

    view_rows, again = bench_views(client, key, koha_ids, rng, arguments.seconds)
    status_rows, _ = bench_status(client, key, koha_ids, rng, arguments.seconds)
    write_csv("koha_views", HEADERS, view_rows)

    database = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(connection.vendor, connection.vendor)
    body = f"""
{database}, {patrons:,} patrons and {events:,} access events at the start; in-process (Django's test client, the
whole middleware stack, no HTTP server), one machine key of Lapland's consortium, `--seconds {arguments.seconds:.0f}`
per row.

### `POST /api/v1/koha/views/`: the plugin's queue draining

{markdown_table(HEADERS, view_rows)}

{again}

### `GET /api/v1/koha/patrons/<id>/privacy-status/`: the panel on each Koha patron page

{markdown_table(("requests", "req/s", "median ms", "p95 ms", "p99 ms", "queries (1 request)"), status_rows)}
"""
    path = write_section("koha_views", "The Koha plugin's machine API on the scale data", body)
    progress(f"wrote {path}")


if __name__ == "__main__":
    main()
