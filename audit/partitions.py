"""The access log in monthly range partitions on PostgreSQL: the months ahead made, the rows in DEFAULT an alarm.

Since migration 0015 `audit_accessevent` and `audit_accesseventpatron` are partitioned by their time (`at`,
which the patron index rows carry too, the event's own) in local calendar months (settings.TIME_ZONE), one
partition of each per month, named `<table>_pYYYYMM`, the two detached and dropped together when the month's
retention is over (audit/prune.py). A table converted with rows in it keeps them in one partition,
`<table>_before`, covering everything before the first month after the migration. A DEFAULT partition
(`<table>_default`) takes an event whose month has no partition yet, so that a write never fails for
want of one; a row there is an alarm (`default_partition_rows`): the monthly partitions are made
ahead by `manage.py partition_access_log`, run daily by the tables' owner (cron), PARTITION_MONTHS_AHEAD
months ahead. A month's partition cannot be made while DEFAULT holds a row of that month (PostgreSQL
refuses), so the repair is the owner's by hand (docs: access-log.md, partitions).

Only the owner can make, detach or drop a partition (ownership of the tables); the runtime role reads and
writes through the partitioned tables alone and has no grant on any partition (audit/grants.py).

PostgreSQL wants the partition key in every unique constraint: the event's key is (id, at) in the
database, and hash, seq and content_mac are unique in each partition only (`EVENT_PARTITION_UNIQUE`).
SQLite keeps the plain tables: nothing here runs there.
"""

import datetime
import re
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.utils import timezone

EVENTS = "audit_accessevent"
PATRONS = "audit_accesseventpatron"
PARTITIONED_TABLES = (EVENTS, PATRONS)
PARTITION_MONTHS_AHEAD = 3
# Unique in each partition of the events (PostgreSQL cannot hold them across partitions without `at`):
# (suffix, column, condition).
EVENT_PARTITION_UNIQUE = (
    ("hash_uniq", "hash", ""),
    ("seq_uniq", "seq", ""),
    ("mac_uniq", "content_mac", " WHERE content_mac IS NOT NULL"),
)
_BOUND = re.compile(r"FOR VALUES FROM \((.+)\) TO \((.+)\)")
# Templates for one table's name (ours, never input): DDL and catalog reads take no identifier parameters.
COUNT_ROWS = "SELECT count(*) FROM {table}"
ANY_ROW = "SELECT EXISTS (SELECT 1 FROM {table})"
NEWEST_ID = "SELECT coalesce(max(id), 0) FROM {table}"
SEQUENCE_VALUE = "SELECT last_value FROM {table}"


@dataclass(frozen=True)
class Partition:
    """One partition: its table name and range (None for MINVALUE / MAXVALUE); DEFAULT has neither."""

    name: str
    lower: datetime.datetime | None
    upper: datetime.datetime | None
    default: bool = False


def month_start(moment: datetime.datetime) -> datetime.datetime:
    """The start of `moment`'s month in local time, aware."""
    local = timezone.localtime(moment)
    return timezone.make_aware(datetime.datetime(local.year, local.month, 1))


def partition_name(table: str, start: datetime.datetime) -> str:
    return f"{table}_p{timezone.localtime(start):%Y%m}"


def _literal(moment: datetime.datetime) -> str:
    """A timestamptz literal for DDL (which takes no parameters): made here from a datetime, never input."""
    return "'" + moment.isoformat() + "'"


def _bound(text: str) -> datetime.datetime | None:
    text = text.strip()
    if text in ("MINVALUE", "MAXVALUE"):
        return None
    return datetime.datetime.fromisoformat(text.strip("'"))


def partitions(table: str = EVENTS) -> list[Partition]:
    """The partitions of `table`, oldest first, DEFAULT last; [] where the table is not partitioned."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [table],
        )
        rows = cursor.fetchall()
    found = []
    for name, bound in rows:
        match = _BOUND.match(bound)
        if match is None:
            found.append(Partition(name, None, None, default=True))
        else:
            found.append(Partition(name, _bound(match.group(1)), _bound(match.group(2))))
    epoch = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return sorted(found, key=lambda p: (p.default, p.lower or epoch))


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass)", [EVENTS])
        return bool(cursor.fetchone()[0])


def _refuse_truncate(cursor, table: str, name: str) -> None:
    """TRUNCATE of the partition refused, for the owner too, as of the table (audit/triggers.py): statement
    triggers are not cloned to partitions as row triggers are."""
    cursor.execute(
        f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change('{table}')"
    )


def create_partition(cursor, table: str, name: str, bounds: str) -> None:
    """Make one partition of `table` (`bounds`: "DEFAULT" or "FOR VALUES ..."), with the events' per-partition
    unique indexes; the partitioned indexes and row triggers come with it from the parent."""
    cursor.execute(f"CREATE TABLE {name} PARTITION OF {table} {bounds}")
    _refuse_truncate(cursor, table, name)
    if table == EVENTS:
        for suffix, column, condition in EVENT_PARTITION_UNIQUE:
            cursor.execute(f"CREATE UNIQUE INDEX {name}_{suffix} ON {name} ({column}){condition}")


def partitions_ensure(
    *, months_ahead: int = PARTITION_MONTHS_AHEAD, start: datetime.datetime | None = None
) -> list[str]:
    """Make the monthly partitions of both tables from `start`'s month (default: this month) to `months_ahead`
    months after this one, those not covered yet; the names made. Runs as the tables' owner."""
    if not is_partitioned():
        return []
    first = month_start(start or timezone.now())
    last = month_start(timezone.now()) + relativedelta(months=months_ahead)
    made = []
    with connection.cursor() as cursor:
        for table in PARTITIONED_TABLES:
            existing = [p for p in partitions(table) if not p.default]
            month = first
            while month <= last:
                following = month + relativedelta(months=1)
                overlaps = any(
                    (p.lower is None or p.lower < following) and (p.upper is None or month < p.upper) for p in existing
                )
                if not overlaps:
                    name = partition_name(table, month)
                    create_partition(
                        cursor, table, name, f"FOR VALUES FROM ({_literal(month)}) TO ({_literal(following)})"
                    )
                    made.append(name)
                month = following
    return made


def default_partition_rows() -> int:
    """Events in the DEFAULT partition: an alarm (their month had no partition when they came)."""
    if not is_partitioned():
        return 0
    with connection.cursor() as cursor:
        cursor.execute(COUNT_ROWS.format(table=f"{EVENTS}_default"))
        return int(cursor.fetchone()[0])


# --- Migration 0015: the plain tables become partitioned ------------------------------------------------

# Per table: the database's primary key (the partition key in it) and the row time's source for the patron
# index rows, filled from their events before the conversion.
PRIMARY_KEYS = {EVENTS: "id, at", PATRONS: "event_id, patron_id, at"}
BEFORE_SUFFIX = "_before"


def _user_triggers(cursor, table: str) -> list[str]:
    cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table])
    return [name for (name,) in cursor.fetchall()]


def _indexes(cursor, table: str) -> list[tuple[str, str, bool]]:
    """(name, definition, unique or primary) of `table`'s indexes."""
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique OR i.indisprimary FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
        [table],
    )
    return cursor.fetchall()


def convert_to_partitions(schema_editor) -> None:
    """Migration 0015 on PostgreSQL: both tables partitioned by month, their rows kept where they are.

    Each old table becomes the partition `<table>_before` (MINVALUE to the start of next month; a CHECK
    constraint added first, so that the attach scans nothing more), or is dropped when empty. Its
    non-unique indexes are made again on the partitioned table by the same names (the events' time as
    BRIN, not B-tree); the old ones that match are taken over at the attach, the rest dropped. The
    events' id gets a plain sequence (PostgreSQL 15 has no identity column on a partitioned table) that
    goes on from the old one. The patron index rows lose their foreign key to the events (a foreign key
    to a partitioned table needs its partition key: docs). The triggers are made again by
    audit/triggers.py's `install_partitioned` afterwards.
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    upper = month_start(timezone.now()) + relativedelta(months=1)
    with schema_editor.connection.cursor() as cursor:
        for table in PARTITIONED_TABLES:
            for trigger in _user_triggers(cursor, table):
                cursor.execute(f"DROP TRIGGER {trigger} ON {table}")
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'", [PATRONS])
        for (constraint,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {PATRONS} DROP CONSTRAINT {constraint}")
        cursor.execute(NEWEST_ID.format(table=EVENTS))
        newest_id = cursor.fetchone()[0]
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [EVENTS])
        (sequence,) = cursor.fetchone()
        if sequence:
            cursor.execute(SEQUENCE_VALUE.format(table=sequence))
            newest_id = max(newest_id, cursor.fetchone()[0])
            cursor.execute(f"ALTER TABLE {EVENTS} ALTER COLUMN id DROP IDENTITY IF EXISTS")
        for table in PARTITIONED_TABLES:
            before = table + BEFORE_SUFFIX
            cursor.execute(ANY_ROW.format(table=table))
            has_rows = cursor.fetchone()[0]
            indexes = _indexes(cursor, table)
            cursor.execute(f"ALTER TABLE {table} RENAME TO {before}")
            for name, _definition, _unique in indexes:
                cursor.execute(f"ALTER INDEX {name} RENAME TO {name[: 63 - len(BEFORE_SUFFIX)]}{BEFORE_SUFFIX}")
            cursor.execute(
                f"CREATE TABLE {table} (LIKE {before} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (at)"
            )
            if table == EVENTS:
                cursor.execute(f"CREATE SEQUENCE {EVENTS}_id_seq AS bigint OWNED BY {EVENTS}.id")
                if newest_id:
                    cursor.execute(f"SELECT setval('{EVENTS}_id_seq', %s)", [newest_id])
                cursor.execute(f"ALTER TABLE {EVENTS} ALTER COLUMN id SET DEFAULT nextval('{EVENTS}_id_seq')")
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY ({PRIMARY_KEYS[table]})")
            for _name, definition, unique in indexes:
                if not unique:
                    cursor.execute(
                        definition.replace(f" ON public.{table} ", f" ON {table} ").replace(
                            "USING btree (at)", "USING brin (at)"
                        )
                    )
            if not has_rows:
                cursor.execute(f"DROP TABLE {before}")
                continue
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'", [before]
            )
            for (constraint,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE {before} DROP CONSTRAINT {constraint}")
            cursor.execute(f"ALTER TABLE {before} ADD CONSTRAINT {before}_bound CHECK (at < {_literal(upper)})")
            cursor.execute(
                f"ALTER TABLE {table} ATTACH PARTITION {before} FOR VALUES FROM (MINVALUE) TO ({_literal(upper)})"
            )
            cursor.execute(f"ALTER TABLE {before} DROP CONSTRAINT {before}_bound")
            _refuse_truncate(cursor, table, before)
            # The old indexes the partitioned ones did not take over (the events' B-tree on time).
            cursor.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisunique "
                "AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)",
                [before],
            )
            for (index,) in cursor.fetchall():
                cursor.execute(f"DROP INDEX {index}")
        for table in PARTITIONED_TABLES:
            create_partition(cursor, table, f"{table}_default", "DEFAULT")
    partitions_ensure()
