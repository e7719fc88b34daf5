"""Bench: `koha_sync --full` of 100,000 patrons from the fake Koha, then 1,000 changed and an incremental sync.

    .venv/bin/python bench/koha_sync.py [--patrons 100000] [--changed 1000] [--per-page 200]

The fake Koha (tests/fake_koha) runs in this process, seeded in bulk; each sync is `manage.py koha_sync` in a
child process on a fresh SQLite database in a temporary directory (DATABASE_URL in the environment is used
instead when set, e.g. a PostgreSQL one), timed by the wall clock, its peak memory from
resource.getrusage(RUSAGE_CHILDREN). Writes bench/results/koha_sync.md.
"""

import argparse
import datetime
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO_ROOT, fmt, markdown_table, progress, write_section
from tests.fake_koha import FakeKoha

SLUG = "bench-koha"
SETUP = """
from koha.models import KohaConnection
from staff.models import Consortium, Library, Municipality
consortium, _ = Consortium.objects.get_or_create(slug="{slug}", defaults={{"name": "Bench", "jurisdiction": "FI"}})
municipality, _ = Municipality.objects.get_or_create(consortium=consortium, name="Bench")
Library.objects.get_or_create(koha_library_id="BENCH", defaults={{"municipality": municipality, "name": "Bench"}})
connection = KohaConnection(consortium=consortium, base_url="{url}", client_id="{client_id}")
connection.secret_set("{secret}")
connection.save()
"""


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter and manage.py, arguments from this script
        [sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True
    )


def timed_sync(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.monotonic()
    result = manage(env, "koha_sync", SLUG, "--verbosity", "0", *args)
    return time.monotonic() - started, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patrons", type=int, default=100_000)
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument("--per-page", default="200")
    arguments = parser.parse_args()

    fake = FakeKoha()
    progress(f"seeding the fake Koha with {arguments.patrons} patrons")
    fake.now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)  # Koha's data is older
    fake.seed(arguments.patrons, library_id="BENCH")
    fake.now = None
    fake.start()
    with tempfile.TemporaryDirectory() as directory:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "privacy_service.settings",
            "DEBUG": "false",
            "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{directory}/bench.sqlite3"),
            "SOTU_DATABASE_URL": os.environ.get("SOTU_DATABASE_URL", f"sqlite:///{directory}/sotu.sqlite3"),
        }
        database = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
        progress(f"migrating a fresh {database} database")
        manage(env, "migrate", "--verbosity", "0")
        manage(env, "migrate", "--database", "sotu", "--verbosity", "0")
        setup = SETUP.format(slug=SLUG, url=fake.base_url, client_id=fake.client_id, secret=fake.client_secret)
        manage(env, "shell", "-c", setup)

        progress("koha_sync --full")
        full_seconds, full_out = timed_sync(env, "--full", "--per-page", arguments.per_page)
        full_memory_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        progress(f"full: {full_seconds:.1f} s")

        for patron_id in fake.store.patron_ids()[: arguments.changed]:
            fake.update_patron(patron_id, email=f"changed{patron_id}@example.fi")
        fake.requests.clear()
        progress(f"koha_sync after {arguments.changed} changes")
        incremental_seconds, incremental_out = timed_sync(env, "--per-page", arguments.per_page)
        fetched = sum(1 for request in fake.requests if request.path == "/api/v1/patrons")
    fake.down()

    rows = [
        (
            "full",
            arguments.patrons,
            fmt(full_seconds, 1),
            fmt(arguments.patrons / full_seconds, 0),
            fmt(full_memory_mb, 0),
            "",
        ),
        (
            "incremental",
            arguments.changed,
            fmt(incremental_seconds, 1),
            fmt(arguments.changed / incremental_seconds, 0),
            "",
            str(fetched),
        ),
    ]
    table = markdown_table(
        ("run", "patrons", "seconds", "patrons/s", "peak RSS of the sync process, MB", "patron pages fetched"), rows
    )
    body = (
        f"{database}, `--per-page {arguments.per_page}`, fake Koha in the bench process.\n\n"
        f"{table}\n\nFull run's summary:\n\n```\n{full_out}```\n\nIncremental run's summary:\n\n"
        f"```\n{incremental_out}```\n"
    )
    print(body)
    write_section("koha_sync", "koha_sync: 100,000 patrons from Koha", body)


if __name__ == "__main__":
    main()
