"""Does a desk store take longer when another patron holds the code? Timing the identity-code oracle.

A desk user who knows a date of birth can store candidate codes on a throwaway patron; the answer must not
tell a code someone holds (a conflict entry for billing) from a fresh one, and neither may its timing.
This script times N stores of each kind, interleaved in a random order, and compares the two samples:
min / median / mean / max, the difference of the medians, the Mann-Whitney U test (rank-based, so a
few slow outliers do not decide it) and Welch's t test, both two-sided with the normal approximation.

Two ways to run it:

- In process (default), through Django's test client against the configured databases, which must be
  migrated and seeded (`seed_demo`). Everything it writes is rolled back: each store runs in a savepoint
  that is undone, so every store starts from the same state. Two scenarios: a throwaway patron without a
  code (the code or the entry is INSERTed) and one with a code (an UPDATE of its code against an INSERT
  of the entry).

      .venv/bin/python bench/oracle.py --stores 500
      scripts/with-postgres.sh bash -c '.venv/bin/python manage.py migrate -v0 \\
          && .venv/bin/python manage.py migrate --database=sotu -v0 && .venv/bin/python manage.py seed_demo -v0 \\
          && .venv/bin/python bench/oracle.py --stores 500'

- Against a running service (`--url`), logged in as a desk user over HTTP, as an attacker would. It uses
  two throwaway patrons that keep their state (one holds a code of its own, the other a waiting entry),
  so it leaves one code and one conflict entry behind. The service must allow that many stores:
  start it with IDENTITY_CODE_STORE_RATE_PER_HOUR raised.

      IDENTITY_CODE_STORE_RATE_PER_HOUR=100000 .venv/bin/python manage.py runserver
      .venv/bin/python bench/oracle.py --url http://127.0.0.1:8000 --stores 300

Timing is reported, never asserted: the unit tests check what must be equal (answers and statements).
"""

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import django_setup, fmt, markdown_table, progress, write_section

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
DESK_USER = "rovaniemi.staff"


def hetu(ddmmyy: str, individual: int, sign: str = "-") -> str:
    return f"{ddmmyy}{sign}{individual:03d}{CHECK[int(f'{ddmmyy}{individual:03d}') % 31]}"


SECRET = hetu("230375", 517)  # the victim's code
FRESH = hetu("230375", 518)  # nobody's


# --- Statistics -----------------------------------------------------------------------------------------


def _normal_two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def mann_whitney(a: list[float], b: list[float]) -> tuple[float, float]:
    """(z, two-sided p) of the Mann-Whitney U test, normal approximation with the tie correction."""
    ranked = sorted([(value, 0) for value in a] + [(value, 1) for value in b])
    ranks = [0.0] * len(ranked)
    ties = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        ties += (j - i + 1) ** 3 - (j - i + 1)
        i = j + 1
    n1, n2 = len(a), len(b)
    rank_sum = sum(rank for rank, (_value, group) in zip(ranks, ranked, strict=True) if group == 0)
    u = rank_sum - n1 * (n1 + 1) / 2
    n = n1 + n2
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    z = (u - n1 * n2 / 2) / sigma if sigma else 0.0
    return z, _normal_two_sided(z)


def welch(a: list[float], b: list[float]) -> tuple[float, float]:
    """(t, two-sided p) of Welch's t test, with the normal approximation (fine from a few dozen samples)."""
    se = math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
    t = (statistics.fmean(a) - statistics.fmean(b)) / se if se else 0.0
    return t, _normal_two_sided(t)


def compare(name: str, held: list[float], fresh: list[float]) -> tuple[list[object], str]:
    """A table row (milliseconds) and a one-line verdict."""
    z, p_u = mann_whitney(held, fresh)
    t, p_t = welch(held, fresh)
    ms = [value * 1000 for value in (*_five(held), *_five(fresh))]
    delta = (statistics.median(held) - statistics.median(fresh)) * 1000
    row = [name, len(held), *(fmt(v, 2) for v in ms), fmt(delta, 3), f"{z:.2f} (p={p_u:.2f})", f"{t:.2f} (p={p_t:.2f})"]
    verdict = (
        "no difference found at the 5 % level"
        if min(p_u, p_t) >= 0.05
        else "a difference at the 5 % level: run again with more stores, then investigate"
    )
    return row, f"{name}: median held - fresh = {delta:+.3f} ms; {verdict}."


def _five(values: list[float]) -> tuple[float, float, float, float, float]:
    return min(values), statistics.median(values), statistics.fmean(values), max(values), statistics.pstdev(values)


HEADERS = [
    "scenario",
    "stores each",
    "held min",
    "held median",
    "held mean",
    "held max",
    "held sd",
    "fresh min",
    "fresh median",
    "fresh mean",
    "fresh max",
    "fresh sd",
    "Δ median",
    "Mann-Whitney z",
    "Welch t",
]


def interleaved(stores: int, held: Callable[[], None], fresh: Callable[[], None], label: str) -> tuple[list, list]:
    """Time `stores` calls of each, in a random interleaving (so that drift hits both alike)."""
    order = [True] * stores + [False] * stores
    random.Random(10).shuffle(order)
    times: dict[bool, list[float]] = {True: [], False: []}
    for done, is_held in enumerate(order, 1):
        started = time.perf_counter()
        (held if is_held else fresh)()
        times[is_held].append(time.perf_counter() - started)
        if done % 200 == 0:
            progress(f"{label}: {done}/{len(order)} stores")
    return times[True], times[False]


# --- In process -----------------------------------------------------------------------------------------


def run_in_process(stores: int, warmup: int) -> tuple[list[list[object]], list[str]]:
    django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test import Client

    from patrons.models import Patron
    from sotu_silo.models import IdentityCode

    settings.IDENTITY_CODE_STORE_RATE_PER_HOUR = 10 * (stores + warmup) + 100
    coded = set(IdentityCode.objects.values_list("patron_id", flat=True))
    adults = Patron.objects.filter(consortium__slug="lapin-kirjastot", date_of_birth__year__lt=2000).exclude(
        pk__in=list(coded)
    )
    victim, codeless, replaced = list(adults.order_by("pk")[:3])
    desk = Client(REMOTE_ADDR="127.0.0.1")
    desk.force_login(get_user_model().objects.get(username=DESK_USER))

    def store(patron, code: str) -> None:
        response = desk.put(
            f"/api/v1/patrons/{patron.pk}/identity-code/", {"identity_code": code}, content_type="application/json"
        )
        if response.status_code != 200:
            raise SystemExit(f"store refused: {response.status_code} {response.content[:200]!r}")

    def undone(patron, code: str) -> Callable[[], None]:
        def call() -> None:
            with transaction.atomic(using="default"), transaction.atomic(using="sotu"):
                store(patron, code)
                transaction.set_rollback(True, using="sotu")
                transaction.set_rollback(True, using="default")

        return call

    rows, verdicts = [], []
    with transaction.atomic(using="default"), transaction.atomic(using="sotu"):
        store(victim, SECRET)
        store(replaced, hetu("010170", 333))
        for name, patron in (
            ("codeless throwaway (INSERT / INSERT)", codeless),
            ("throwaway with a code (INSERT / UPDATE)", replaced),
        ):
            interleaved(warmup, undone(patron, SECRET), undone(patron, FRESH), f"{name} warm-up")
            held, fresh = interleaved(stores, undone(patron, SECRET), undone(patron, FRESH), name)
            row, verdict = compare(name, held, fresh)
            rows.append(row)
            verdicts.append(verdict)
        transaction.set_rollback(True, using="sotu")
        transaction.set_rollback(True, using="default")
    return rows, verdicts


# --- Against a running service -----------------------------------------------------------------------------


def run_against(url: str, stores: int, warmup: int, password: str) -> tuple[list[list[object]], list[str]]:
    import re

    import requests

    session = requests.Session()
    login = f"{url}/accounts/login/"
    page = session.get(login, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no log-in form at /accounts/login/")
    answer = session.post(
        login,
        {"username": DESK_USER, "password": password, "csrfmiddlewaretoken": token[1]},
        headers={"Referer": login},
        timeout=30,
    )
    if "sessionid" not in session.cookies:
        raise SystemExit(f"log-in as {DESK_USER} failed ({answer.status_code})")
    headers = {"X-CSRFToken": session.cookies.get("csrftoken", ""), "Referer": url}
    listing = session.get(f"{url}/api/v1/patrons/", params={"search": "a"}, timeout=30).json()["results"]
    if len(listing) < 3:
        raise SystemExit("fewer than three patrons found by the search 'a'")
    victim, held_on, fresh_on = (patron["id"] for patron in listing[:3])

    def store(patron_id: int, code: str) -> None:
        response = session.put(
            f"{url}/api/v1/patrons/{patron_id}/identity-code/",
            json={"identity_code": code},
            headers=headers,
            timeout=30,
        )
        if response.status_code != 200:
            raise SystemExit(f"store refused: {response.status_code} {response.text[:200]}")

    store(victim, SECRET)
    store(fresh_on, hetu("010170", 333))
    name = "throwaway with a code, over HTTP (INSERT / UPDATE)"
    interleaved(warmup, lambda: store(held_on, SECRET), lambda: store(fresh_on, FRESH), f"{name} warm-up")
    held, fresh = interleaved(stores, lambda: store(held_on, SECRET), lambda: store(fresh_on, FRESH), name)
    row, verdict = compare(name, held, fresh)
    return [row], [verdict]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=500, help="timed stores of each kind (default 500)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed stores of each kind first (default 50)")
    parser.add_argument("--url", help="time a running service at this address instead of in process")
    parser.add_argument("--password", help=f"{DESK_USER}'s password (--url only; default: the demo password)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/oracle.md")
    args = parser.parse_args()
    if args.stores < 3:
        parser.error("--stores must be at least 3")
    if args.url:
        password = args.password
        if password is None:
            django_setup()
            from demo.patron_data import DEMO_PASSWORD as password
        rows, verdicts = run_against(args.url.rstrip("/"), args.stores, args.warmup, password)
    else:
        rows, verdicts = run_in_process(args.stores, args.warmup)
    table = markdown_table(HEADERS, rows)
    print(table)
    print("\n".join(verdicts))
    if not args.no_write:
        if not args.url:
            from django.db import connections

            where = f"in process, {connections['default'].vendor}"
        else:
            where = f"over HTTP against {args.url}"
        body = (
            f"A desk store of a code another patron holds (held) against a fresh code (fresh), {where}; "
            "times in milliseconds.\n\n" + table + "\n\n" + "\n".join(f"- {v}" for v in verdicts)
        )
        write_section("oracle", "The identity-code oracle: store timing", body)


if __name__ == "__main__":
    main()
