"""koha_import_identity_codes at scale: --codes identity codes out of a fake Koha, codes per second.

A fake Koha (`python -m tests.fake_koha --patrons N --identity-codes`, each patron an `SSN` attribute with a
valid temporary Finnish code) runs as its own process on a loopback port; the Lapland demo consortium gets
N Patron rows with those Koha ids by one bulk insert (koha_sync is not needed for this). Then
`koha.identity_import.identity_codes_import` runs in-process, as the command does: every code validated,
encrypted into the silo with its access event, and replaced in Koha by a PATCH over HTTP. A second run
(all keys now) measures what a run with nothing to do costs.

    scripts/with-postgres.sh bash -c '.venv/bin/python bench/silo.py --migrate-only \
        && .venv/bin/python bench/koha_import.py --codes 100000'

It writes results/koha_import.md. It adds patrons and codes to the Lapland demo consortium.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import REPO_ROOT, django_setup, fmt, markdown_table, progress, write_section

CONSORTIUM = "lapin-kirjastot"
SECRET = "bench-koha-import-secret"  # noqa: S105 (the fake Koha's, for this run only)


def fake_koha(codes: int) -> tuple[subprocess.Popen, str, str, float]:
    """The fake Koha's process, base URL, client id and seeding seconds (from its first lines)."""
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and module, fixed arguments)
        [sys.executable, "-m", "tests.fake_koha", "--patrons", str(codes), "--port", "0", "--identity-codes"],
        cwd=REPO_ROOT,
        env={**os.environ, "KOHA_CLIENT_SECRET": SECRET},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first, second = process.stdout.readline(), process.stdout.readline()
    base_url = first.split(" at ", 1)[1].split("/api/v1", 1)[0]
    seeded = float(first.rsplit("seeded in ", 1)[1].split(" s", 1)[0])
    client_id = second.split("client_id=", 1)[1].split()[0]
    return process, base_url, client_id, seeded


def patrons_insert(consortium, count: int, *, batch: int = 5000) -> float:
    """Patron rows with Koha ids 1..count (what koha_sync would have made); demo patrons give those ids up."""
    from patrons.models import Patron
    from staff.models import Library

    started = time.monotonic()
    Patron.objects.filter(consortium=consortium, koha_patron_id__lte=count).update(koha_patron_id=None)
    library = Library.objects.filter(municipality__consortium=consortium).order_by("pk").first()
    for first in range(1, count + 1, batch):
        Patron.objects.bulk_create(
            Patron(
                consortium=consortium,
                home_library=library,
                koha_patron_id=koha_id,
                cardnumber=f"K{koha_id:09d}",
                first_name="Aino",
                last_name="Tuonti",
            )
            for koha_id in range(first, min(first + batch, count + 1))
        )
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codes", type=int, default=100_000)
    parser.add_argument("--per-page", type=int, default=100)
    arguments = parser.parse_args()
    os.environ["SOTU_ALLOW_TEMPORARY_CODES"] = "true"  # the fake's codes are temporary ones: nobody's
    django_setup()
    from silo import prepare

    from koha.client import KohaClient
    from koha.identity_import import identity_codes_import
    from sotu_silo.models import IdentityCode
    from staff.models import Consortium

    prepare()
    consortium = Consortium.objects.get(slug=CONSORTIUM)
    process, base_url, client_id, seeded = fake_koha(arguments.codes)
    try:
        progress(f"fake Koha at {base_url} ({arguments.codes} patrons, seeded in {seeded:.1f} s); patrons here ...")
        inserted = patrons_insert(consortium, arguments.codes)
        client = KohaClient(base_url=base_url, auth="oauth2", client_id=client_id, secret=SECRET)
        in_koha = [0.0]  # seconds waiting for Koha's PATCHes, to tell the service's cost from the fake's
        patch = client.extended_attribute_update

        def timed_patch(*args, **kwargs):
            started = time.monotonic()
            try:
                return patch(*args, **kwargs)
            finally:
                in_koha[0] += time.monotonic() - started

        client.extended_attribute_update = timed_patch  # type: ignore[method-assign]
        codes_before = IdentityCode.objects.filter(consortium_id=consortium.pk).count()
        last = [0.0]

        def report(done: int, total: int) -> None:
            if done % 5000 == 0 or done == total:
                now = time.monotonic()
                if now - last[0] > 5 or done == total:
                    last[0] = now
                    progress(f"  {done}/{total}")

        progress("import ...")
        started = time.monotonic()
        counts = identity_codes_import(
            consortium=consortium, client=client, per_page=arguments.per_page, progress=report
        )
        first_run = time.monotonic() - started
        progress(f"first run {first_run:.1f} s; second run ...")
        started = time.monotonic()
        again = identity_codes_import(consortium=consortium, client=client, per_page=arguments.per_page)
        second_run = time.monotonic() - started
        stored = IdentityCode.objects.filter(consortium_id=consortium.pk).count() - codes_before
    finally:
        process.terminate()
        process.wait(timeout=30)
    rows = [
        ("fake Koha seeded (patrons with a code)", f"{arguments.codes:,}", f"{seeded:.1f} s"),
        ("Patron rows inserted here (bulk)", f"{arguments.codes:,}", f"{inserted:.1f} s"),
        ("first run: codes read", f"{counts.read:,}", f"{first_run:.1f} s"),
        ("  stored in the silo (new rows)", f"{counts.stored:,} ({stored:,})", ""),
        ("  conflicts with demo codes", f"{counts.conflicts:,}", ""),
        (
            "  invalid / differs / not synced / refused",
            f"{counts.invalid} / {counts.differs} / {counts.not_synced} / {counts.koha_refused}",
            "",
        ),
        ("  replaced in Koha", f"{counts.replaced_in_koha:,}", ""),
        ("  **codes per second**", f"**{fmt(counts.read / first_run, 0)}**", ""),
        ("  of which waiting for Koha's PATCHes", "", f"{in_koha[0]:.1f} s"),
        ("  codes per second without the PATCHes", fmt(counts.read / (first_run - in_koha[0]), 0), ""),
        ("second run (all keys): values read", f"{again.read:,}", f"{second_run:.1f} s"),
        ("  stored / replaced", f"{again.stored} / {again.replaced_in_koha}", ""),
    ]
    body = (
        f"`koha_import_identity_codes` over HTTP against the fake Koha (its own process), {arguments.per_page} "
        "patrons a page, PostgreSQL for both databases; each code: validation, blind index, AES-GCM, the "
        "`identity_code_store` access event (hash chain), then a PATCH of the attribute.\n\n"
        + markdown_table(("what", "count", "time"), rows)
    )
    path = write_section("koha_import", "Identity codes out of Koha", body)
    print(path.read_text())


if __name__ == "__main__":
    main()
