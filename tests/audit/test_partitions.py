"""The access log in monthly partitions on PostgreSQL: months made ahead, a stray row an alarm, whole months
dropped at the prune with the record kept, and nothing of it open to the runtime role.

The patron index rows carry their event's time on both databases, and the readers find a patron's events
by it (AccessEvent.objects.about_patron).
"""

import datetime
from io import StringIO

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation

from audit.models import AccessEvent, AccessEventPatron, AccessLogPrune
from audit.partitions import (
    EVENTS,
    PARTITION_MONTHS_AHEAD,
    PATRONS,
    create_partition,
    default_partition_rows,
    month_start,
    partition_name,
    partitions,
)
from audit.prune import access_log_prune
from audit.verify import verify_chain
from core.dates import start_of_day
from tests.audit.test_tampering import empty_log, record, record_at

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")

# Two old months (well past the 24-month retention): the first goes whole, the second is cut in its middle.
FIRST_MONTH = month_start(timezone.now() - relativedelta(months=32))
SECOND_MONTH = FIRST_MONTH + relativedelta(months=1)
CUTOFF = start_of_day(timezone.localtime(SECOND_MONTH + datetime.timedelta(days=10)).date())


def month_partitions(*months: datetime.datetime) -> None:
    """As the owner: the partitions of these months, of both tables (the test's transaction takes them back)."""
    with connection.cursor() as cursor:
        for start in months:
            end = start + relativedelta(months=1)
            bounds = f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            for table in (EVENTS, PATRONS):
                create_partition(cursor, table, partition_name(table, start), bounds)


def names(table: str = EVENTS) -> set[str]:
    return {partition.name for partition in partitions(table)}


def test_a_patrons_events_are_found_by_the_index_rows_carrying_their_time():
    first, second = record(2)
    rows = AccessEventPatron.objects.filter(event_id__in=[first.pk, second.pk])
    assert {(row.event_id, row.at) for row in rows} == {(first.pk, first.at), (second.pk, second.at)}
    assert AccessEvent.objects.about_patron(301).filter(pk__in=[first.pk, second.pk]).get() == second


@postgres_only
def test_the_log_is_partitioned_by_month_with_months_ahead_and_a_default():
    now = timezone.now()
    for table in (EVENTS, PATRONS):
        made = names(table)
        assert f"{table}_default" in made
        for ahead in range(PARTITION_MONTHS_AHEAD + 1):
            assert partition_name(table, month_start(now) + relativedelta(months=ahead)) in made
    (event,) = record(1)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {EVENTS} WHERE id = %s", [event.pk])
        assert cursor.fetchone()[0] == partition_name(EVENTS, month_start(now))


@postgres_only
def test_the_prune_drops_a_whole_month_deletes_the_rest_and_the_chain_verifies_from_the_anchor():
    empty_log()
    month_partitions(FIRST_MONTH, SECOND_MONTH)
    first_month = record_at(FIRST_MONTH + datetime.timedelta(days=5), 3)
    cut = record_at(SECOND_MONTH + datetime.timedelta(days=2), 2)
    kept = record_at(SECOND_MONTH + datetime.timedelta(days=15), 2)
    (recent,) = record_at(timezone.now() - relativedelta(months=12), 1)

    prune = access_log_prune(before=CUTOFF)

    assert prune is not None and prune.removed_events == len(first_month) + len(cut)
    assert prune.first_kept_event_id == kept[0].pk and prune.anchor_hash == cut[-1].hash
    # The first month is gone, partition and all, from both tables; the second keeps what is not due.
    assert partition_name(EVENTS, FIRST_MONTH) not in names(EVENTS)
    assert partition_name(PATRONS, FIRST_MONTH) not in names(PATRONS)
    assert partition_name(EVENTS, SECOND_MONTH) in names(EVENTS)
    assert set(AccessEvent.objects.values_list("id", flat=True)) == {kept[0].pk, kept[1].pk, recent.pk}
    assert not AccessEventPatron.objects.filter(event_id__lt=kept[0].pk).exists()
    assert AccessLogPrune.objects.get() == prune
    assert verify_chain() is None
    call_command("verify_access_log", verbosity=0)


@postgres_only
def test_a_month_with_an_event_that_stays_is_not_dropped():
    """A clock set back: an event after the first kept one sits in the old month, so that month's old rows go
    one by one and the late event stays."""
    empty_log()
    month_partitions(FIRST_MONTH)
    old = record_at(FIRST_MONTH + datetime.timedelta(days=5), 2)
    kept = record_at(SECOND_MONTH + datetime.timedelta(days=15), 1)  # DEFAULT: that month has no partition
    (late_but_old,) = record_at(FIRST_MONTH + datetime.timedelta(days=6), 1)

    prune = access_log_prune(before=CUTOFF)

    assert prune is not None and prune.removed_events == len(old)
    assert partition_name(EVENTS, FIRST_MONTH) in names(EVENTS)
    assert set(AccessEvent.objects.values_list("id", flat=True)) == {kept[0].pk, late_but_old.pk}


def denied(statement: str, role: str) -> str:
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
        cursor.execute(statement)
    return str(refused.value)


@postgres_only
def test_the_runtime_role_cannot_detach_drop_or_touch_a_partition(settings):
    """The attack: as the runtime role (SQL injection in the service), remove a month of the log without a
    prune record, or change it in its partition past the partitioned table's grants."""
    role = settings.DATABASE_APP_ROLE
    assert role, "the PostgreSQL run must name the runtime role (DATABASE_APP_ROLE)"
    (event,) = record(1)
    month = partition_name(EVENTS, month_start(event.at))
    assert "must be owner" in denied(f"ALTER TABLE {EVENTS} DETACH PARTITION {month}", role)
    assert "must be owner" in denied(f"DROP TABLE {month}", role)
    assert "must be owner" in denied(f"ALTER TABLE {EVENTS} DETACH PARTITION {EVENTS}_default", role)
    for statement in (
        f"DELETE FROM {month}",
        f"UPDATE {month} SET reason = 'x'",
        f"TRUNCATE {month}",
        f"INSERT INTO {month} SELECT * FROM {month}",
        f"SELECT * FROM {month}",
    ):
        assert "permission denied" in denied(statement, role), statement
    assert AccessEvent.objects.filter(pk=event.pk, reason="").exists()


@postgres_only
def test_the_owner_cannot_change_an_event_in_its_partition_either():
    """The row triggers are on every partition, so a statement on a partition meets them too, and each
    partition has its own TRUNCATE trigger (statement triggers are not cloned)."""
    (event,) = record(1)
    month = partition_name(EVENTS, month_start(event.at))
    for statement in (f"DELETE FROM {month}", f"UPDATE {month} SET reason = 'x'", f"TRUNCATE {month}"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)


@postgres_only
def test_the_partition_command_makes_months_ahead_and_alarms_at_rows_in_default():
    out = StringIO()
    call_command("partition_access_log", "--months-ahead", str(PARTITION_MONTHS_AHEAD + 1), stdout=out)
    further = month_start(timezone.now()) + relativedelta(months=PARTITION_MONTHS_AHEAD + 1)
    assert partition_name(EVENTS, further) in names(EVENTS)
    assert partition_name(PATRONS, further) in names(PATRONS)
    assert partition_name(EVENTS, further) in out.getvalue()
    assert default_partition_rows() == 0

    record_at(further + relativedelta(months=2), 1)  # a clock far ahead: no partition for that month

    assert default_partition_rows() == 1
    with pytest.raises(CommandError, match="DEFAULT partition") as alarm, translation.override("en"):
        call_command("partition_access_log", stdout=StringIO())
    assert alarm.value.returncode == 1


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite keeps the plain tables")
def test_on_sqlite_the_partition_command_does_nothing():
    out = StringIO()
    with translation.override("en"):
        call_command("partition_access_log", stdout=out)
    assert "not partitioned" in out.getvalue()


def copy_of(event_id: int, *, shift: str) -> str:
    """As the owner (who alone may insert a sealed row): a copy of an event, seal and MAC included, under a
    new id and its time moved by `shift`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND column_name NOT IN ('id', 'at') ORDER BY ordinal_position",
            [EVENTS],
        )
        columns = ", ".join(name for (name,) in cursor.fetchall())
    return (
        f"INSERT INTO {EVENTS} ({columns}, at) SELECT {columns}, at + interval '{shift}' "
        f"FROM {EVENTS} WHERE id = {int(event_id)}"
    )


@postgres_only
def test_hash_position_and_mac_are_unique_per_month_and_a_copy_in_another_month_is_named():
    """What per-partition uniqueness loses, and what catches it: a replay keeps its time (the MAC covers it),
    so it lands in its original's month and is refused there; a copy moved to another month is taken by the
    database, and the verifier names it (a second row with one position, a link that does not check)."""
    _first, second = record(2)
    replay = copy_of(second.pk, shift="0 seconds")
    with pytest.raises(DatabaseError, match=r"_uniq"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(replay)
    assert verify_chain() is None
    with connection.cursor() as cursor:
        cursor.execute(copy_of(second.pk, shift="-40 days"))
    assert verify_chain() is not None
