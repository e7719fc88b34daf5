"""Writing signed checkpoints of the access log's head (the format is in audit/checkpoint_files.py).

A deleted tail leaves a valid chain; a checkpoint pins the head outside the database, in
AUDIT_CHECKPOINT_DIR and in the log (logger "audit.checkpoints"), signed with a key the database
never holds. Before signing, the writer checks that the previous checkpoint's head is still in the
chain with the same link (or was pruned, and was older than the retention) and that the chain runs
unbroken from it to the new head, and that the new head is not dated later than now (give or take
AUDIT_MAX_CLOCK_STEP_BACK_SECONDS): otherwise it refuses and alarms (a CRITICAL log line) instead of
vouching for a truncated, rewritten or too early pruned log, or for a forward-dated event.

When: `access_log_checkpoint_write` is called

- by the access-log writer after the commit of an event, at most once per
  AUDIT_CHECKPOINT_INTERVAL_SECONDS in each process (`checkpoint_soon`: a comparison per event; the
  lock and the file are touched only when due), so `make run` and every worker keep checkpoints
  without a process of their own;
- by `manage.py access_log_checkpoint` on demand, and with `--every 60` as a service that also
  covers the last events before a quiet spell (docs/deployment.md, "Keys").
"""

import datetime
import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from audit import checkpoint_files
from audit.checkpoint_files import Checkpoint, UnreadableCheckpoint
from audit.keys import chain_link_bases, signing_key, verify_keys
from audit.sealing import sealed_by_the_sealer
from audit.verifier import RETENTION_MARGIN, retention_start
from audit.verify import EVENT_COLUMNS, PARAMETER

logger = logging.getLogger("audit.checkpoints")

# Per checkpoint directory: the monotonic time before which this process need not look again.
_next_look: dict[str, float] = {}


class CheckpointRefused(Exception):
    """The chain no longer holds what the previous checkpoint signed; nothing was signed."""


@dataclass(frozen=True)
class CheckpointOutcome:
    checkpoint: Checkpoint | None
    # When the next one is due (seconds from now), for the writer's timer.
    due_in: float


def checkpoint_soon() -> None:
    """After this transaction commits, write a checkpoint if one is due; the check costs nothing until then."""
    interval = settings.AUDIT_CHECKPOINT_INTERVAL_SECONDS
    if interval <= 0:
        return
    directory = str(settings.AUDIT_CHECKPOINT_DIR)
    now = time.monotonic()
    if now < _next_look.get(directory, 0.0):
        return
    _next_look[directory] = now + interval
    transaction.on_commit(_checkpoint_if_due)


def _checkpoint_if_due() -> None:
    """The after-commit hook: never lets a failure reach the request that wrote the event."""
    directory = str(settings.AUDIT_CHECKPOINT_DIR)
    try:
        outcome = access_log_checkpoint_write(force=False)
    except CheckpointRefused:
        return  # already alarmed; look again after the interval
    except Exception:
        logger.exception("access log checkpoint failed")
        return
    _next_look[directory] = time.monotonic() + outcome.due_in


def access_log_checkpoint_write(*, force: bool, interval: float | None = None) -> CheckpointOutcome:
    """Sign a checkpoint of the head if one is due (or `force`), after checking what the last one signed.

    Due: the newest checkpoint is older than AUDIT_CHECKPOINT_INTERVAL_SECONDS and there are events
    after its head (`interval` overrides the setting). `force` writes one now even without new events
    (on demand: "the head is still X").
    Raises CheckpointRefused, after logging a CRITICAL alarm, when the previous head is gone, changed
    or pruned too early, or the head is dated in the future.
    """

    directory = Path(settings.AUDIT_CHECKPOINT_DIR)
    if interval is None:
        interval = max(settings.AUDIT_CHECKPOINT_INTERVAL_SECONDS, 1)
    with checkpoint_files.locked(directory):
        previous = _previous_checkpoint(directory)
        now = timezone.now()
        if previous is not None and not force:
            age = (now - previous.moment).total_seconds()
            if age < interval:
                return CheckpointOutcome(None, interval - age)
        head = _head()
        if head is None:
            return CheckpointOutcome(None, interval)
        last_id, last_hash, seq, head_at = head
        if previous is not None and not force and (last_id, last_hash) == (previous.last_id, previous.last_hash):
            return CheckpointOutcome(None, interval)
        _check_not_forward_dated(last_id, head_at, now)
        if previous is not None:
            _check_descends(previous, last_id, seq, now)
            if seq is not None:
                _check_sealed_since(previous.count, seq)
        key_id, key = signing_key()
        checkpoint = checkpoint_files.signed(
            at=now,
            head_at=head_at,
            last_id=last_id,
            last_hash=last_hash,
            count=seq if seq is not None else _position_of_unkeyed_head(last_id),
            previous=previous.digest if previous is not None else None,
            key_id=key_id,
            key=key,
        )
        checkpoint_files.append(directory, checkpoint)
    logger.info("access log checkpoint %s", checkpoint.line())
    return CheckpointOutcome(checkpoint, interval)


def _alarm(message: str, *args) -> CheckpointRefused:
    logger.critical("access log checkpoint REFUSED: " + message, *args)
    return CheckpointRefused(message % args)


def _previous_checkpoint(directory: Path) -> Checkpoint | None:
    try:
        previous = checkpoint_files.newest_checkpoint(directory)
    except UnreadableCheckpoint as error:
        raise _alarm("the newest checkpoint in %s cannot be read (%s)", directory, error) from error
    if previous is not None and not previous.signature_valid(verify_keys()):
        raise _alarm("the newest checkpoint (%s) has no valid signature", previous.source)
    return previous


def _check_not_forward_dated(head_id: int, head_at: datetime.datetime, now: datetime.datetime) -> None:
    """A signed head dates its events (audit/verifier.py): never one from the future. A clock that
    stepped back a little (up to AUDIT_MAX_CLOCK_STEP_BACK_SECONDS) is no reason to refuse."""
    allowed = datetime.timedelta(seconds=settings.AUDIT_MAX_CLOCK_STEP_BACK_SECONDS)
    if head_at > now + allowed:
        raise _alarm(
            "event %s, the head, is dated %s, later than now (%s): a forward-dated event, or this host's clock "
            "is behind",
            head_id,
            head_at.isoformat(),
            now.isoformat(),
        )


def _head() -> tuple[int, str, int | None, datetime.datetime] | None:
    """The sealed event with the highest position, else (no event has one) the newest from before the key."""
    from audit.models import AccessEvent

    columns = ("id", "hash", "seq", "at")
    return (
        AccessEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list(*columns).first()
        or AccessEvent.objects.filter(hash__isnull=False).order_by("-id").values_list(*columns).first()
    )


def _chain_from(
    event_id: int, seq: int | None, *, head_id: int, head_seq: int | None, inclusive: bool
) -> Iterator[tuple[int, str, str]]:
    """(id, prev_hash, hash) of the sealed events after (or from) an event up to the head, in the chain's
    order: those from before the chain key by id, then the positioned ones by position."""
    from audit.models import AccessEvent

    columns = ("id", "prev_hash", "hash")
    positioned = AccessEvent.objects.filter(seq__lte=head_seq).order_by("seq")
    if seq is not None:
        after = positioned.filter(seq__gte=seq) if inclusive else positioned.filter(seq__gt=seq)
        return after.values_list(*columns).iterator(chunk_size=5000)
    old = AccessEvent.objects.filter(seq__isnull=True, hash__isnull=False).order_by("id")
    old = old.filter(id__gte=event_id) if inclusive else old.filter(id__gt=event_id)
    if head_seq is None:  # no event has a position yet
        return old.filter(id__lte=head_id).values_list(*columns).iterator(chunk_size=5000)
    first_positioned = AccessEvent.objects.filter(seq__isnull=False).order_by("seq").values_list("id", flat=True)
    return itertools.chain(
        old.filter(id__lt=first_positioned[:1]).values_list(*columns).iterator(chunk_size=5000),
        positioned.values_list(*columns).iterator(chunk_size=5000),
    )


def _check_descends(previous: Checkpoint, head_id: int, head_seq: int | None, now: datetime.datetime) -> None:
    """The previous head is still there, unchanged (or pruned by a record, when it was older than the
    retention), and the chain runs on from it."""
    from audit.models import AccessEvent, AccessLogPrune

    row = AccessEvent.objects.filter(id=previous.last_id).values_list("hash", "seq").first()
    if row is None:
        prune = AccessLogPrune.objects.order_by("-id").values_list("first_kept_event_id", "anchor_hash").first()
        if prune is None or prune[0] <= previous.last_id:
            raise _alarm(
                "event %s, the head of the checkpoint of %s, is missing: the newest events were deleted",
                previous.last_id,
                previous.at,
            )
        # As the verifier judges it: a checkpoint without its head's time by its own.
        written = previous.head_moment or previous.moment
        months = settings.ACCESS_LOG_RETENTION_MONTHS
        if written >= retention_start(verified_at=now, retention_months=months) + RETENTION_MARGIN:
            raise _alarm(
                "event %s, the head of the checkpoint of %s, written at %s, was pruned although it was within "
                "the retention of %s months: events were deleted too early",
                previous.last_id,
                previous.at,
                written.isoformat(),
                months,
            )
        start_id, link = prune[0], prune[1]
        start_seq = AccessEvent.objects.filter(id=start_id).values_list("seq", flat=True).first()
        events = _chain_from(start_id, start_seq, head_id=head_id, head_seq=head_seq, inclusive=True)
    else:
        head_link, seq = row
        if head_link is None or head_link != previous.last_hash or (seq is not None and seq != previous.count):
            raise _alarm(
                "event %s is not the head the checkpoint of %s signed: the log was rewritten",
                previous.last_id,
                previous.at,
            )
        link = head_link
        events = _chain_from(previous.last_id, seq, head_id=head_id, head_seq=head_seq, inclusive=False)
    for event_id, prev_hash, event_link in events:
        if prev_hash != link:
            raise _alarm("the chain breaks at event %s, after the head of the checkpoint of %s", event_id, previous.at)
        link = event_link


# The sealed events after a position up to the head, by position, as the sealer reads them (audit/verify.py).
_SEALED_SINCE = (
    "SELECT {columns}, e.content_mac FROM audit_accessevent AS e "
    "WHERE e.seq > {after} AND e.seq <= {head} ORDER BY e.seq LIMIT {limit}"
)
SEALED_SINCE_SQL = {
    vendor: _SEALED_SINCE.format(
        columns=columns,
        after=PARAMETER[vendor].format("after"),
        head=PARAMETER[vendor].format("head"),
        limit=PARAMETER[vendor].format("limit"),
    )
    for vendor, columns in EVENT_COLUMNS.items()
}
SEALED_SINCE_BATCH = 5000
# At most this many refused events are named in the alarm (ids only).
REFUSED_IDS_NAMED = 20


def _check_sealed_since(after: int, head_seq: int) -> None:
    """Every event sealed since the previous checkpoint (position `after`) has the sealer's link under its key,
    no older key than the one before it, and the writer's content MAC: the runtime role may set seals (it runs
    the sealer), so a chain that joins up may still hold garbage links, links under a retired key, or rows the
    writer never wrote. A checkpoint never signs them."""
    from audit.models import AccessEvent

    bases = chain_link_bases()
    # The chain's keys only ever get newer along it (newest first in AUDIT_CHAIN_KEY): a seal under a key older
    # than one already used is a retired key in use, which a leak would let the runtime role do (it may seal).
    ranks = {key_id: rank for rank, key_id in enumerate(bases)}
    newest = ranks.get(AccessEvent.objects.filter(seq=after).values_list("key_id", flat=True).first() or "")
    refused: list[int] = []
    connection.ensure_connection()
    while True:
        cursor = connection.connection.cursor()  # the driver's own: the SQLite time expression holds a '%'
        try:
            cursor.execute(
                SEALED_SINCE_SQL[connection.vendor], {"after": after, "head": head_seq, "limit": SEALED_SINCE_BATCH}
            )
            rows = cursor.fetchall()
        finally:
            cursor.close()
        for row in rows:
            rank = ranks.get(row[16])
            if not sealed_by_the_sealer(bases, row) or (rank is not None and newest is not None and rank > newest):
                refused.append(row[0])
            elif rank is not None:
                newest = rank
        if len(rows) < SEALED_SINCE_BATCH:
            break
        after = rows[-1][1]
    if refused:
        raise _alarm(
            "%d events sealed since the previous checkpoint do not have the sealer's link or the writer's content "
            "MAC (ids %s)",
            len(refused),
            ", ".join(str(event_id) for event_id in refused[:REFUSED_IDS_NAMED]),
        )


def _position_of_unkeyed_head(head_id: int) -> int:
    """The head's position when it predates the chain key (no `seq`): once, right after an upgrade."""
    from audit.models import AccessEvent, AccessLogPrune

    removed = AccessLogPrune.objects.aggregate(total=Sum("removed_events"))["total"] or 0
    return AccessEvent.objects.filter(id__lte=head_id, hash__isnull=False).count() + removed


def checkpoints_every(*, seconds: float, rounds: int | None = None) -> int:
    """Write a checkpoint when one is due, every `seconds` (the service of `access_log_checkpoint --every`).

    Returns the number of checkpoints written; runs until stopped unless `rounds` is given.
    A refusal is alarmed each round and does not stop the loop.
    """
    written = 0
    done = 0
    while rounds is None or done < rounds:
        if not connection.in_atomic_block:  # never under a caller's transaction
            close_old_connections()  # a long-running service: no connection outlives its CONN_MAX_AGE or a restart
        try:
            # A little under the period, so a round that comes a moment early still writes.
            if access_log_checkpoint_write(force=False, interval=seconds * 0.9).checkpoint is not None:
                written += 1
        except CheckpointRefused:
            pass
        done += 1
        if rounds is None or done < rounds:
            time.sleep(seconds)
    return written
