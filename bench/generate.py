"""Scale data for PostgreSQL: patrons, guardianships, access events and their patron index rows.

Runs `migrate` and `seed_demo` first (so the demo consortia, libraries and staff users exist), then
writes everything server-side with `INSERT ... SELECT ... FROM generate_series(...)` in batches, and
finishes with VACUUM (ANALYZE) of the bulk tables so later benchmarks see fresh statistics and a set
visibility map instead of an autovacuum running underneath them.

    scripts/with-postgres.sh .venv/bin/python bench/generate.py --patrons 1000000 --events 10000000

Patrons are spread evenly over the five demo libraries (three in "Lapin kirjastot", two in "Mikkelin
seutukirjasto"); about 16 % are minors, and a minor gets a guardian from the same library when one of
the right age is at hand. Access events are spread over the last two years in id order, by the five
demo staff users (actor id, username, municipality and an address in their municipality's network),
80 % `patron_view` of one patron of the actor's consortium and 20 % `patron_search` listing 1-4 of
them, so ~1.3 `audit_accesseventpatron` rows per event. Outcome is always `allowed`. `prev_hash` and
`hash` are unique 64-hex strings (md5(i) || md5(i + 1)) that look chained but do not verify: do not
run `verify_access_log` on this data. The access-log tables' append-only triggers allow INSERT. On the
log partitioned by month (audit/partitions.py) the months of the two years are made first, so no event
lands in the DEFAULT partition; the patron index rows carry their event's time.

Meant for an empty throwaway database (a second run appends more rows after the existing ones).
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import django_setup, fmt, markdown_table, progress, write_csv, write_section

# Koha ids and card numbers of generated patrons start here, far from the demo patrons'.
KOHA_ID_BASE = 10_000_000
CARD_PREFIX = "29"
REFERENCE_DATE = "2026-11-01"
LIBRARY_ORDER = ("ROV", "ROVMU", "KEM", "MIK", "MIKRI")  # g % 5 picks one; the first three are Lapland's
ACTORS = ("rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "kemi.staff", "mikkeli.staff")
MUNICIPALITY_PREFIX = {"Rovaniemi": "10.10", "Kemi": "10.20", "Mikkeli": "10.30"}
BULK_TABLES = ("patrons_patron", "patrons_guardianship", "audit_accessevent", "audit_accesseventpatron")


def pg_setup(cursor, *, seed: float) -> None:
    cursor.execute("SET synchronous_commit = off")
    cursor.execute("SET work_mem = '256MB'")
    cursor.execute("SET maintenance_work_mem = '1GB'")
    cursor.execute("SELECT setseed(%s)", [seed])


def create_lookup_tables(cursor) -> None:
    """Temp tables of the demo libraries and staff users the generated rows point to."""
    from django.contrib.auth import get_user_model

    from demo.patron_data import CONSORTIA
    from staff.models import Library, StaffProfile

    areas = {lib.koha_library_id: lib.area for spec in CONSORTIA for lib in spec.libraries}
    libraries = {
        lib.koha_library_id: lib
        for lib in Library.objects.select_related("municipality").filter(koha_library_id__in=LIBRARY_ORDER)
    }
    missing = set(LIBRARY_ORDER) - libraries.keys()
    if missing:
        raise SystemExit(f"demo libraries {sorted(missing)} missing: did seed_demo run?")
    cursor.execute(
        "CREATE TEMP TABLE bench_lib (idx int PRIMARY KEY, library_id bigint, consortium_id bigint,"
        " streets text[], postal_codes text[], cities text[])"
    )
    for idx, koha_id in enumerate(LIBRARY_ORDER):
        library, area = libraries[koha_id], areas[koha_id]
        cursor.execute(
            "INSERT INTO bench_lib VALUES (%s, %s, %s, %s, %s, %s)",
            [
                idx,
                library.pk,
                library.municipality.consortium_id,
                list(area.streets),
                [code for code, _city in area.postal_codes],
                [city for _code, city in area.postal_codes],
            ],
        )
    users = {u.username: u for u in get_user_model().objects.filter(username__in=ACTORS)}
    profiles = {
        p.user_id: p
        for p in StaffProfile.objects.select_related("home_library__municipality").filter(user__in=users.values())
    }
    cursor.execute(
        "CREATE TEMP TABLE bench_actor (idx int PRIMARY KEY, user_id bigint, username text,"
        " municipality_id bigint, lapland boolean, ip_prefix text)"
    )
    lapland_consortium = libraries["ROV"].municipality.consortium_id
    for idx, username in enumerate(ACTORS):
        municipality = profiles[users[username].pk].home_library.municipality
        cursor.execute(
            "INSERT INTO bench_actor VALUES (%s, %s, %s, %s, %s, %s)",
            [
                idx,
                users[username].pk,
                username,
                municipality.pk,
                municipality.consortium_id == lapland_consortium,
                MUNICIPALITY_PREFIX[municipality.name],
            ],
        )


PATRON_SQL = f"""
INSERT INTO patrons_patron (
    id, consortium_id, koha_patron_id, cardnumber, first_name, last_name, date_of_birth, email, phone,
    street_address, postal_code, city, home_library_id, card_expires_on, status, language, loan_history,
    loan_history_chosen_by, data_provided_by_guardian, needs_protection, held_after_erasure, created_at, updated_at)
SELECT
    %(id_base)s + s.g, l.consortium_id, {KOHA_ID_BASE} + s.g, '{CARD_PREFIX}' || lpad(s.g::text, 12, '0'),
    s.first_name, s.last_name, s.dob,
    CASE WHEN s.r_mail < 0.85
        THEN translate(lower(s.first_name || '.' || s.last_name), 'äöå', 'aoa') || '+' || s.g
             || CASE WHEN s.r_mail < 0.17 THEN '@example.com' ELSE '@example.fi' END
        ELSE '' END,
    CASE WHEN s.r_phone < 0.85
        THEN '+358 ' || (ARRAY['40','44','45','50'])[1 + floor(s.r_phone * 4 / 0.85)::int]
             || ' ' || (100 + floor(s.r_no * 900))::int || ' ' || (1000 + (s.g * 7919) %% 9000)
        ELSE '' END,
    l.streets[1 + floor(s.r_street * cardinality(l.streets))::int] || ' ' || (1 + floor(s.r_no * 60))::int,
    l.postal_codes[1 + floor(s.r_post * cardinality(l.postal_codes))::int],
    l.cities[1 + floor(s.r_post * cardinality(l.cities))::int],
    l.library_id,
    CASE WHEN s.r_card < 0.10 THEN DATE '{REFERENCE_DATE}' - (60 + floor(s.r_card * 8400))::int
         ELSE DATE '{REFERENCE_DATE}' + (120 + floor(s.r_card * 1480))::int END,
    CASE WHEN s.r_card < 0.10 THEN 'expired' ELSE 'active' END,
    CASE WHEN s.r_lang < 0.88 THEN 'fi' WHEN s.r_lang < 0.95 THEN 'sv' ELSE 'en' END,
    CASE WHEN s.r_loan < 0.25 THEN 0 WHEN s.r_loan < 0.80 THEN 1 ELSE 2 END,
    '',  -- no recorded choice: the value came from Koha
    s.dob > DATE '{REFERENCE_DATE}' - INTERVAL '15 years',
    s.g %% 2000 = 0,  -- about one in 2,000 has a non-disclosure for personal safety (turvakielto)
    false,
    now(), now()
FROM (
    SELECT r.*,
        DATE '{REFERENCE_DATE}' - (4 * 365 + floor(r.r_age * 88 * 365))::int AS dob,
        CASE WHEN r.r_sex < 0.55
            THEN (%(female)s::text[])[1 + floor(r.r_first * %(n_female)s)::int]
            ELSE (%(male)s::text[])[1 + floor(r.r_first * %(n_male)s)::int] END AS first_name,
        (%(surnames)s::text[])[1 + floor(r.r_last * %(n_surnames)s)::int] AS last_name
    FROM (
        SELECT g, random() AS r_sex, random() AS r_first, random() AS r_last, random() AS r_age,
               random() AS r_street, random() AS r_post, random() AS r_no, random() AS r_mail,
               random() AS r_phone, random() AS r_card, random() AS r_lang, random() AS r_loan
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
    ) AS r
) AS s
JOIN bench_lib AS l ON l.idx = s.g %% 5
"""

# A minor's guardian: the patron five ids down (same library, so same consortium) when 20-48 years older.
GUARDIAN_SQL = f"""
INSERT INTO patrons_guardianship (ward_id, guardian_id, relationship)
SELECT w.id, p.id, CASE WHEN w.id %% 12 = 0 THEN 'guardian' ELSE 'parent' END
FROM patrons_patron AS w
JOIN patrons_patron AS p ON p.id = w.id - 5
WHERE w.id BETWEEN %(lo)s AND %(hi)s
  AND w.date_of_birth > DATE '{REFERENCE_DATE}' - INTERVAL '18 years'
  AND p.date_of_birth BETWEEN w.date_of_birth - INTERVAL '48 years' AND w.date_of_birth - INTERVAL '20 years'
"""

# Patron number k (0-based, uniform) -> generated patron g of the actor's consortium: g %% 5 in {0,1,2} for
# Lapland, {3,4} for Mikkeli. A search lists n patrons g, g+5, ... (same library), shifted down at the end.
EVENT_SQL = """
WITH src AS (
    SELECT r.g, r.is_search, r.n, r.api, a.user_id, a.username, a.municipality_id,
           (a.ip_prefix || '.' || floor(r.r_ip1 * 256)::int || '.' || (1 + floor(r.r_ip2 * 254))::int)::inet AS ip,
           %(patron_id_base)s + CASE
               WHEN t.g0 + 5 * (r.n - 1) >= %(patrons)s THEN t.g0 - 5 * (r.n - 1) ELSE t.g0 END AS p0
    FROM (
        SELECT q.*, CASE WHEN q.is_search THEN q.n_raw ELSE 1 END AS n
        FROM (
            SELECT g, floor(random() * 5)::int AS actor_idx, random() < 0.2 AS is_search,
                   1 + floor(random() * 4)::int AS n_raw, random() < 0.5 AS api,
                   floor(random() * %(patrons)s)::bigint AS k, random() AS r_ip1, random() AS r_ip2
            FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
        ) AS q
    ) AS r
    JOIN bench_actor AS a ON a.idx = r.actor_idx
    CROSS JOIN LATERAL (
        SELECT CASE
            WHEN a.lapland THEN 5 * (r.k / 5) + (r.k %% 3)
            ELSE 5 * (r.k / 5) + 3 + (r.k %% 2) END AS g1
    ) AS t1
    CROSS JOIN LATERAL (SELECT CASE WHEN t1.g1 >= %(patrons)s THEN t1.g1 - 5 ELSE t1.g1 END AS g0) AS t
),
ev AS (
    INSERT INTO audit_accessevent (
        id, at, actor_id, actor_username, actor_municipality_id, client_ip, action, resource, patron_ids,
        data_categories, reason, outcome, detail, prev_hash, hash)
    SELECT
        %(event_id_base)s + s.g,
        %(start)s::timestamptz + (s.g - 1) * %(step)s::interval,
        s.user_id, s.username, s.municipality_id, s.ip,
        CASE WHEN s.is_search THEN 'patron_search' ELSE 'patron_view' END,
        CASE WHEN s.is_search THEN CASE WHEN s.api THEN 'api:patron-list' ELSE 'patrons:search' END
             ELSE CASE WHEN s.api THEN 'api:patron-detail' ELSE 'patrons:detail' END END,
        CASE s.n WHEN 1 THEN jsonb_build_array(s.p0)
                 WHEN 2 THEN jsonb_build_array(s.p0, s.p0 + 5)
                 WHEN 3 THEN jsonb_build_array(s.p0, s.p0 + 5, s.p0 + 10)
                 ELSE jsonb_build_array(s.p0, s.p0 + 5, s.p0 + 10, s.p0 + 15) END,
        CASE WHEN s.is_search THEN '["listing"]'::jsonb
             ELSE '["basic", "contact", "guardians", "preferences"]'::jsonb END,
        '', 'allowed', '',
        CASE WHEN s.g = 1 AND %(last_hash)s::text IS NOT NULL THEN %(last_hash)s::text
             ELSE md5((%(event_id_base)s + s.g - 1)::text) || md5((%(event_id_base)s + s.g)::text) END,
        md5((%(event_id_base)s + s.g)::text) || md5((%(event_id_base)s + s.g + 1)::text)
    FROM src AS s
    ORDER BY s.g
    RETURNING id, at, patron_ids
)
INSERT INTO audit_accesseventpatron (event_id, patron_id, at)
SELECT ev.id, x.value::bigint, ev.at
FROM ev CROSS JOIN LATERAL jsonb_array_elements_text(ev.patron_ids) AS x(value)
ORDER BY ev.id
"""


def patron_sql_params(*, id_base: int, lo: int, hi: int) -> dict:
    """Parameters of PATRON_SQL for the rows g = lo .. hi (inclusive), names from the demo lists."""
    from demo.patron_data import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES, SURNAMES

    return {
        "id_base": id_base,
        "lo": lo,
        "hi": hi,
        "female": FEMALE_FIRST_NAMES,
        "n_female": len(FEMALE_FIRST_NAMES),
        "male": MALE_FIRST_NAMES,
        "n_male": len(MALE_FIRST_NAMES),
        "surnames": SURNAMES,
        "n_surnames": len(SURNAMES),
    }


def batches(total: int, size: int):
    lo = 1
    while lo <= total:
        hi = min(total, lo + size - 1)
        yield lo, hi
        lo = hi + 1


def eta(done: int, total: int, started: float) -> str:
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed else 0
    left = (total - done) / rate if rate else 0
    return f"{done:,}/{total:,} ({rate:,.0f}/s, {elapsed:,.0f} s elapsed, ~{left:,.0f} s left)"


def table_sizes(cursor) -> list[tuple[str, int, str, str, str]]:
    out = []
    for table in BULK_TABLES:
        cursor.execute(
            # Summed over the partitions of a partitioned table (pg_partition_tree has nothing for a plain one).
            "SELECT sum(greatest(c.reltuples, 0))::bigint, pg_size_pretty(sum(pg_table_size(t.relid))),"
            " pg_size_pretty(sum(pg_indexes_size(t.relid))), pg_size_pretty(sum(pg_total_relation_size(t.relid)))"
            " FROM (SELECT relid FROM pg_partition_tree(%s::regclass) WHERE isleaf UNION SELECT oid FROM pg_class"
            " WHERE oid = %s::regclass AND relkind <> 'p') AS t JOIN pg_class AS c ON c.oid = t.relid",
            [table, table],
        )
        rows, heap, indexes, total = cursor.fetchone()
        out.append((table, rows, heap, indexes, total))
    return out


def index_sizes(cursor) -> list[tuple[str, str, str]]:
    # A partitioned index's size is its partitions' (pg_partition_tree has nothing for a plain index).
    size = "coalesce((SELECT sum(pg_relation_size(t.relid)) FROM pg_partition_tree(c.oid) AS t), 0)"
    cursor.execute(
        f"SELECT i.indrelid::regclass::text, c.relname, pg_size_pretty({size} + pg_relation_size(c.oid))"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        f" WHERE i.indrelid::regclass::text = ANY(%s) ORDER BY 1, {size} + pg_relation_size(c.oid) DESC",
        [list(BULK_TABLES)],
    )
    return cursor.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patrons", type=int, default=1_000_000, help="patrons to generate (default 1000000)")
    parser.add_argument("--events", type=int, default=10_000_000, help="access events to generate (default 10000000)")
    parser.add_argument("--patron-batch", type=int, default=100_000)
    parser.add_argument("--event-batch", type=int, default=250_000)
    parser.add_argument("--seed", type=float, default=0.2026, help="setseed() for random() (default 0.2026)")
    parser.add_argument("--no-vacuum", action="store_true", help="only ANALYZE at the end, no VACUUM")
    parser.add_argument(
        "--time-reseed",
        action="store_true",
        help="afterwards, time a second (idempotent) `seed_demo` on the scaled database",
    )
    args = parser.parse_args()
    if args.patrons < 20:
        parser.error("--patrons must be at least 20")

    django_setup()
    from django.core.management import call_command
    from django.db import connection

    from audit.partitions import partitions_ensure

    if connection.vendor != "postgresql":
        raise SystemExit("bench/generate.py needs PostgreSQL: run it under scripts/with-postgres.sh (DATABASE_URL).")

    timings: list[tuple[str, float, str]] = []
    overall = time.monotonic()

    progress("migrate ...")
    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    timings.append(("migrate", time.monotonic() - started, ""))

    progress("seed_demo ...")
    started = time.monotonic()
    call_command("seed_demo", verbosity=0)
    timings.append(("seed_demo", time.monotonic() - started, ""))

    with connection.cursor() as cursor:
        pg_setup(cursor, seed=args.seed)
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
        create_lookup_tables(cursor)
        cursor.execute("SELECT coalesce(max(id), 0) FROM patrons_patron")
        patron_id_base = (cursor.fetchone()[0] // 1000 + 1) * 1000  # generated patron g gets id base + g
        cursor.execute("SELECT coalesce(max(id), 0) FROM audit_accessevent")
        event_id_base = cursor.fetchone()[0]
        cursor.execute("SELECT hash FROM audit_accessevent ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
        last_hash = row[0] if row else None

        # --- patrons ---

        progress(f"patrons: {args.patrons:,} in batches of {args.patron_batch:,} (ids from {patron_id_base + 1:,})")
        started = time.monotonic()
        for lo, hi in batches(args.patrons, args.patron_batch):
            cursor.execute(
                PATRON_SQL,
                patron_sql_params(id_base=patron_id_base, lo=lo - 1, hi=hi - 1),  # g runs 0 .. patrons-1
            )
            progress(f"  patrons {eta(hi, args.patrons, started)}")
        elapsed = time.monotonic() - started
        timings.append(("patrons", elapsed, f"{args.patrons:,} rows, {args.patrons / elapsed:,.0f}/s"))
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('patrons_patron', 'id'), (SELECT max(id) FROM patrons_patron))"
        )

        progress("guardianships for generated minors ...")
        started = time.monotonic()
        cursor.execute(GUARDIAN_SQL, {"lo": patron_id_base, "hi": patron_id_base + args.patrons})
        guardianships = cursor.rowcount
        timings.append(("guardianships", time.monotonic() - started, f"{guardianships:,} rows"))
        progress(f"  {guardianships:,} guardianships")

        # --- access events ---
        cursor.execute("SELECT now() - interval '730 days', interval '730 days' / %s", [max(args.events, 1)])
        start_ts, step = cursor.fetchone()
        partitions_ensure(start=start_ts)
        progress(
            f"access events: {args.events:,} in batches of {args.event_batch:,} (ids from {event_id_base + 1:,}),"
            " with their patron index rows"
        )
        started = time.monotonic()
        index_rows = 0
        for lo, hi in batches(args.events, args.event_batch):
            cursor.execute(
                EVENT_SQL,
                {
                    "lo": lo,
                    "hi": hi,
                    "patrons": args.patrons,
                    "patron_id_base": patron_id_base,
                    "event_id_base": event_id_base,
                    "start": start_ts,
                    "step": step,
                    "last_hash": last_hash,
                },
            )
            index_rows += cursor.rowcount
            progress(f"  events {eta(hi, args.events, started)}; {index_rows:,} index rows")
        elapsed = time.monotonic() - started
        timings.append(
            (
                "access events + index rows",
                elapsed,
                f"{args.events:,} events, {index_rows:,} index rows ({index_rows / max(args.events, 1):.2f}/event),"
                f" {args.events / elapsed:,.0f} events/s",
            )
        )
        # audit_accesseventpatron has a composite primary key and no sequence.
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('audit_accessevent', 'id'), (SELECT max(id) FROM audit_accessevent))"
        )

        # --- statistics ---
        what = "ANALYZE" if args.no_vacuum else "VACUUM (ANALYZE)"
        progress(f"{what} of {', '.join(BULK_TABLES)} ...")
        started = time.monotonic()
        for table in BULK_TABLES:
            cursor.execute(f"{'ANALYZE' if args.no_vacuum else 'VACUUM (ANALYZE)'} {table}")
            progress(f"  {table} done ({time.monotonic() - started:,.0f} s)")
        timings.append((what, time.monotonic() - started, ""))
        sizes = table_sizes(cursor)
        indexes = index_sizes(cursor)
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        database_size = cursor.fetchone()[0]
        settings_rows = []
        for name in ("shared_buffers", "work_mem", "effective_cache_size", "max_wal_size", "lc_collate"):
            cursor.execute(f"SHOW {name}")
            settings_rows.append(f"{name}={cursor.fetchone()[0]}")

    total = time.monotonic() - overall
    timings.append(("**total**", total, ""))

    if args.time_reseed:
        progress("timing a second seed_demo on the scaled database ...")
        started = time.monotonic()
        call_command("seed_demo", verbosity=0)
        timings.append(("(extra) second seed_demo on scaled data", time.monotonic() - started, "not in total"))

    for label, seconds, note in timings:
        progress(f"{label}: {seconds:,.1f} s {note}")

    body = f"""
PostgreSQL {server_version} from `scripts/with-postgres.sh` (fsync off; {", ".join(settings_rows)}).
Requested: `--patrons {args.patrons} --events {args.events}`.

{markdown_table(["step", "seconds", "notes"], [(label, fmt(seconds, 1), note) for label, seconds, note in timings])}

Table sizes after {what}:

{markdown_table(["table", "rows", "heap", "indexes", "total"], [(t, f"{r:,}", h, i, tot) for t, r, h, i, tot in sizes])}

Database size: {database_size}. Indexes:

{markdown_table(["table", "index", "size"], indexes)}
"""
    write_csv("generate", ["step", "seconds", "notes"], [(label, round(s, 2), note) for label, s, note in timings])
    path = write_section("generate", "Scale data generation (`bench/generate.py`)", body)
    print(body)
    progress(f"wrote {path}")


if __name__ == "__main__":
    main()
