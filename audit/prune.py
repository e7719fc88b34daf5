"""Removing the access log's oldest events when their retention ends: the privileged path.

The runtime role can never do this (no DELETE grant, and the triggers refuse it); the owner of the
tables runs `manage.py prune_access_log`, which calls `access_log_prune`. Only a prefix of the chain
goes: every event before the first one at or after the cutoff in the chain's order (by position,
audit/sealing.py), so what stays is contiguous. The
newest event always stays, so new events keep linking to it. An AccessLogPrune row records the
prune and the hash the first kept event links to, and verification starts from that hash
(audit/verifier.py): a removed prefix passes only when a prune vouches for it.

The record is written first, in the same transaction: the database lets a DELETE through only for
events before the first kept event of the newest record, and older than its cutoff (audit/triggers.py,
`install_guards`, `install_age_guards`), so a prune without its record, or of anything but that
prefix, is refused by the database itself; so is a record whose cutoff is within the last month.

On PostgreSQL the log is partitioned by month (audit/partitions.py): a whole month before the cutoff is
detached and dropped (`partitions_drop`) instead of deleted row by row, after the record, in the same
transaction; the partial month up to the cutoff is deleted as before, so the retention stays to the day.

No prune reaches into the retention: the cutoff is at the latest the start of the day
ACCESS_LOG_RETENTION_MONTHS ago. The record's fields are the owner's word, so verification does not
take it: a signed checkpoint whose head a prune removed must be older than the retention
(audit/verifier.py), and the checkpoint writer alarms at a younger one (audit/checkpoints.py).
"""

import datetime
from collections.abc import Callable

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.chain import lock_chain_head
from audit.models import AccessEvent, AccessEventPatron, AccessLogPrune
from audit.partitions import EVENTS, PATRONS, partitions
from audit.sealing import access_log_seal
from audit.triggers import prune_deletes_allowed
from core.dates import start_of_day, today

PRUNE_BATCH = 5000
# A partition's events and its newest id (the partition's name is the catalog's, never input).
PARTITION_EXTENT = "SELECT count(*), coalesce(max(id), 0) FROM {table}"
DETACH_LOCK_TIMEOUT = "5s"


class PruneWithinRetention(ValueError):
    """The cutoff is later than the retention's: the prune would remove events still to be kept."""

    def __init__(self, latest: datetime.datetime) -> None:
        super().__init__(f"the cutoff may be at the latest {latest.isoformat()}")
        self.latest = latest


def access_log_cutoff(*, day: datetime.date) -> datetime.datetime:
    """The start of the day ACCESS_LOG_RETENTION_MONTHS before `day` (local time): older events are due."""
    return start_of_day(day - relativedelta(months=settings.ACCESS_LOG_RETENTION_MONTHS))


def first_kept_event(*, before: datetime.datetime) -> AccessEvent | None:
    """The first event that stays: the first in the chain's order at or after `before`, or else the head.

    Moved on along the chain where ids and positions cross there (`_crossed`): the database lets a prune
    remove only ids below the first kept event's (audit/triggers.py), so those must be exactly the events
    before it in the chain. Ids cross positions only among events written within moments of each other
    (audit/sealing.py), so this moves at most a few events on. None: nothing can go.
    """
    sealed = AccessEvent.objects.filter(hash__isnull=False)
    old = sealed.filter(seq__isnull=True)
    positioned = sealed.filter(seq__isnull=False)
    kept = (
        old.filter(at__gte=before).order_by("id").first()
        or positioned.filter(at__gte=before).order_by("seq").first()
        or positioned.order_by("-seq").first()
        or old.order_by("-id").first()
    )
    while kept is not None and kept.seq is not None and _crossed(kept):
        kept = positioned.filter(seq__gt=kept.seq).order_by("seq").first()
    return kept


def _crossed(kept: AccessEvent) -> bool:
    """Whether an event before `kept` in the chain has a higher id, or one after it (or unsealed) a lower."""
    before_with_higher_id = AccessEvent.objects.filter(id__gt=kept.id, seq__lt=kept.seq)
    lower_id_not_before = (
        AccessEvent.objects.filter(id__lt=kept.id)
        .exclude(seq__lt=kept.seq)
        .exclude(seq__isnull=True, hash__isnull=False)  # from before the chain key: before every positioned one
    )
    return before_with_higher_id.exists() or lower_id_not_before.exists()


def check_cutoff(before: datetime.datetime) -> None:
    """Raise PruneWithinRetention for a cutoff later than the retention's (`access_log_cutoff` of today)."""
    latest = access_log_cutoff(day=today())
    if before > latest:
        raise PruneWithinRetention(latest)


def events_to_prune(*, before: datetime.datetime) -> QuerySet[AccessEvent]:
    """The events a prune with this cutoff removes (what a dry run counts, and apply_retention for any day)."""
    first_kept = first_kept_event(before=before)
    if first_kept is None:
        return AccessEvent.objects.none()
    return AccessEvent.objects.filter(id__lt=first_kept.id)


def partitions_drop(*, first_kept_id: int, before: datetime.datetime) -> int:
    """PostgreSQL: detach and drop the whole months of the log that the prune removes; the events dropped.

    A month goes whole when it ends by the cutoff and every event in it comes before the first kept one
    (its patron index rows go with it: the same month of the other table). Runs after the prune record,
    in its transaction, as the tables' owner (only the owner may detach or drop a partition). Not
    CONCURRENTLY: that cannot run in a transaction, nor with a DEFAULT partition; the plain detach holds
    the tables' lock for moments (the prune holds the chain's lock anyway). What remains before the first
    kept event (a partial month, the DEFAULT partition) is deleted row by row as before.
    """
    if connection.vendor != "postgresql":
        return 0
    dropped = 0
    with connection.cursor() as cursor:
        # A detach waits for every transaction on the tables, and the writers queue behind it: rather fail
        # the prune (rolled back whole, run again) than stall them behind a long-running reader.
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [DETACH_LOCK_TIMEOUT])
        for partition in partitions(EVENTS):
            if partition.default or partition.upper is None or partition.upper > before:
                continue
            cursor.execute(PARTITION_EXTENT.format(table=partition.name))
            count, newest = cursor.fetchone()
            if newest >= first_kept_id:
                continue  # an event in it stays (a clock set back): its old rows go by DELETE
            patron_partition = PATRONS + partition.name.removeprefix(EVENTS)
            for table, name in ((PATRONS, patron_partition), (EVENTS, partition.name)):
                cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {name}")
                cursor.execute(f"DROP TABLE {name}")
            dropped += count
        cursor.execute("SET LOCAL lock_timeout = DEFAULT")
    return dropped


def access_log_prune(
    *,
    before: datetime.datetime,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = PRUNE_BATCH,
) -> AccessLogPrune | None:
    """Delete the events before `before` (a prefix of the chain, in id order) and record the prune.

    Runs in one transaction, holding the chain's lock so no event is appended meanwhile. Needs the
    tables' owner on PostgreSQL: any other role gets the database's "permission denied". Returns
    None when nothing was due. Raises PruneWithinRetention for a cutoff later than the retention's.
    """
    check_cutoff(before)
    with transaction.atomic():
        lock_chain_head()
        # Every committed event in the chain first, so none is left unsealed below the first kept id.
        access_log_seal(wait=True, max_batches=None)
        first_kept = first_kept_event(before=before)
        if first_kept is None or first_kept.prev_hash is None:  # a sealed one always has its link
            return None
        due = AccessEvent.objects.filter(id__lt=first_kept.id)
        total = due.count()
        if not total:
            return None
        prune = AccessLogPrune.objects.create(
            pruned_at=timezone.now(),
            cutoff=before,
            removed_events=total,
            first_kept_event_id=first_kept.id,
            anchor_hash=first_kept.prev_hash,
        )
        removed = partitions_drop(first_kept_id=first_kept.id, before=before)
        if progress is not None and removed:
            progress(removed, total)
        last_id = 0
        with prune_deletes_allowed(connection):
            # Keyset batches: each starts after the last one, so no batch rescans the rows already deleted
            # (in one transaction their dead index entries would be walked again every time).
            while batch := list(due.filter(id__gt=last_id).order_by("id").values_list("id", flat=True)[:batch_size]):
                AccessEventPatron.objects.filter(event_id__gt=last_id, event_id__lte=batch[-1]).delete()
                AccessEvent.objects.filter(id__gt=last_id, id__lte=batch[-1]).delete()
                last_id = batch[-1]
                removed += len(batch)
                if progress is not None:
                    progress(removed, total)
        return prune
