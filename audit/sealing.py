"""Sealing the access log: an event is written unsealed, and given its position and link in batches.

As a Certificate Transparency log does: log now, sequence and seal moments later. A read inserts its
event in its own transaction with its content alone (seq, prev_hash, hash and key_id empty), so it
commits with the data it records or not at all, and takes no lock and reads no head. After the commit,
`access_log_seal` tries the chain's lock without waiting (PostgreSQL's pg_try_advisory_xact_lock): when
another process holds it, that one is sealing and takes this event too; otherwise it seals every
committed unsealed event, oldest id first, a batch per short transaction, until none is left or
SEAL_MAX_BATCHES is reached. `manage.py seal_access_log --follow` catches anything a writer left behind
(one that committed just after the sealing process looked and just before it let go of the lock).

Ids come from a sequence and commit out of order, so an event with a lower id than the head's may be
sealed after it: the position (`seq`) is the chain's order, given at sealing, and the verifier walks
by it (audit/verify.py). The link is computed over the columns as the database hands them back, read
with the verifier's own expressions (audit/verify.py, EVENT_COLUMNS), so the two cannot disagree.

The database lets exactly one UPDATE through per event: setting the whole seal on an unsealed event,
its content unchanged (audit/triggers.py, `install_sealing`; on PostgreSQL the runtime role may update
only the seal's columns). An event still unsealed ACCESS_LOG_SEAL_ALARM_SECONDS after its time is an
alarm (`overdue_unsealed`): verify_access_log, /healthz and the DPO's page say so.

The sealer seals only what the writer wrote: the writer stores, with each event, a content MAC
(`content_mac`, "<chain key id>:<nonce>:<HMAC-SHA256 hex>", over a random nonce and the content as
`link_message` has it, without position or link: no lock, no head). The sealer recomputes it from the
columns it reads and leaves a row whose MAC does not check unsealed (logged at CRITICAL by id, once a
process), starting its next batch past it: a row someone inserted past the writer,
without the chain key (through SQL injection as the runtime role, or as the owner), never gets a position
and a valid link, and its age raises the alarm. The MAC's uniqueness refuses a genuine row's replayed copy.

Where writers are serialised anyway (SQLite) or no commit hook runs (the test suite), the writer seals
at once in its own transaction (ACCESS_LOG_SEAL_AT_ONCE), through the same function.
"""

import contextlib
import datetime
import hmac
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.chain import (
    CHAIN_LOCK_KEY,
    GENESIS_HASH,
    UnlinkableEvent,
    address_text,
    content_message,
    json_list_text,
    keyed_link,
    link_message,
    lock_chain_head,
    microseconds,
)
from audit.keys import chain_link_bases, writer_bases
from audit.models import AccessEvent, AccessLogPrune
from audit.verify import EVENT_COLUMNS, PARAMETER

logger = logging.getLogger("audit.sealing")

SEAL_BATCH = 1000
# Per call after a commit: a writer seals at most this many batches, then leaves the rest to the next.
SEAL_MAX_BATCHES = 20
# An unsealed event dated further ahead than this is overdue at once (the runtime role's insert allows 5 minutes).
SEAL_FUTURE_SECONDS = 300
# The furthest back the runtime role may date an event it inserts (audit_check_event_insert, migration 0016):
# an hour after a moment, no event of before it can still arrive but by the tables' owner.
LATE_INSERT_SECONDS = 3600

# The next unsealed events, each with the positioned head's link and position, and last its key (read in the
# same statement, so after the lock was taken: one round trip less a batch).
_HEAD = "(SELECT h.{column} FROM audit_accessevent AS h WHERE h.seq IS NOT NULL ORDER BY h.seq DESC LIMIT 1)"
_UNSEALED = (
    "SELECT {head_link}, {head_seq}, {columns}, e.content_mac, {head_key} FROM audit_accessevent AS e "
    "WHERE e.hash IS NULL AND e.id > {after} ORDER BY e.id LIMIT {limit}"
)
UNSEALED_SQL = {
    vendor: _UNSEALED.format(
        head_link=_HEAD.format(column="hash"),
        head_seq=_HEAD.format(column="seq"),
        head_key=_HEAD.format(column="key_id"),
        columns=columns,
        after=PARAMETER[vendor].format("after"),
        limit=PARAMETER[vendor].format("limit"),
    )
    for vendor, columns in EVENT_COLUMNS.items()
}
# The guard `hash IS NULL` makes a row sealed meanwhile (which the lock rules out) count as a failure.
SEAL_SQL = (
    "UPDATE audit_accessevent SET seq = %s, prev_hash = %s, hash = %s, key_id = %s WHERE id = %s AND hash IS NULL"
)
# On PostgreSQL one statement a batch (a round trip a row would cost more than the links).
PG_SEAL_SQL = (
    "UPDATE audit_accessevent AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash, key_id = v.key_id "
    "FROM (VALUES {values}) AS v(seq, prev_hash, hash, key_id, id) WHERE e.id = v.id AND e.hash IS NULL"
)
PG_SEAL_ROW = "(%s::bigint, %s, %s, %s, %s::bigint)"
# The refused rows this process has reported already: each is named once, not on every round.
_REPORTED: set[int] = set()
_REPORTED_MAX = 10_000


def event_content_mac(event: AccessEvent) -> str:
    """The writer's content MAC of an event about to be inserted: "<newest chain key id>:<nonce>:<hex>".

    Over a random nonce and the values as the database will hand them back (the time to the microsecond,
    the address as `address_text`, the lists as their JSON text), so the sealer's recomputation from the
    columns agrees.
    """
    key_id, base = next(iter(chain_link_bases().items()))
    nonce = secrets.token_hex(8)
    message = content_message(
        nonce,
        microseconds(event.at), event.actor_id, event.actor_username, event.actor_municipality_id,
        address_text(event.client_ip), str(event.action), event.resource, json_list_text(event.patron_ids),
        json_list_text(event.data_categories), event.reason, str(event.outcome), event.detail,
    )  # fmt: skip
    return f"{key_id}:{nonce}:{keyed_link(base, message)}"


# An event's content as `link_message` has it: the time to the detail.
Content = tuple[int | None, int | None, str, int | None, str, str, str, str, str, str, str, str]


def event_content(columns: tuple) -> Content:
    """The content as `link_message` has it, from the columns of EVENT_COLUMNS from the time to the detail:
    the address as text."""
    at_us, actor_id, username, municipality_id, client_ip, action, resource, patron_ids, categories, reason, \
        outcome, detail = columns  # fmt: skip
    return (
        at_us, actor_id, username, municipality_id, address_text(client_ip), action, resource, patron_ids,
        categories, reason, outcome, detail,
    )  # fmt: skip


def written_by_the_writer(bases: dict, stored: str | None, content: tuple) -> bool:
    """Whether a row's stored content MAC is the writer's for the content read back, under one of `bases`
    (`writer_bases()` for a row yet to seal; every configured key for one sealed already)."""
    key_id, _sep, rest = (stored or "").partition(":")
    nonce, _sep, mac = rest.partition(":")
    base = bases.get(key_id)
    if base is None or not nonce or not mac:
        return False
    try:
        expected = keyed_link(base, content_message(nonce, *content))
    except UnlinkableEvent:
        return False
    return hmac.compare_digest(expected, mac)


def sealed_by_the_sealer(bases: dict, row: tuple) -> bool:
    """Whether a sealed event (a row of EVENT_COLUMNS, then its content MAC) has the link the sealer gives it
    under its key, and the writer's content MAC when it has one (events from before 0014 have none).

    For the checkpoint writer (audit/checkpoints.py): the runtime role may set seals itself, so a chain
    whose links join up is not yet one the sealer made."""
    seq, content, prev_hash, link, key_id, stored_mac = (
        row[1],
        event_content(row[2:14]),
        row[14],
        row[15],
        row[16],
        row[17],
    )
    base = bases.get(key_id)
    if base is None or seq is None:
        return False
    try:
        expected = keyed_link(base, link_message(seq, *content, prev_hash, key_id))
    except UnlinkableEvent:
        return False
    if not hmac.compare_digest(expected, link or ""):
        return False
    return stored_mac is None or written_by_the_writer(bases, stored_mac, content)


LOCK_POLL_SECONDS = 0.1


def chain_lock(*, wait: bool) -> bool:
    """The chain's lock until the end of the current transaction; without `wait`, only when it is free.

    SQLite serialises writers itself (IMMEDIATE transactions): there the lock is always had. On PostgreSQL
    `wait` polls rather than blocks: whoever holds the lock longer than ACCESS_LOG_SEAL_ALARM_SECONDS (a
    stuck sealer, or an attacker holding pg_advisory_lock to stop the sealing) is reported at CRITICAL,
    not waited for in silence.
    """
    if connection.vendor != "postgresql":
        lock_chain_head()
        return True
    started = time.monotonic()
    reported = False
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
            if cursor.fetchone()[0]:
                return True
        if not wait:
            return False
        seconds = settings.ACCESS_LOG_SEAL_ALARM_SECONDS
        if not reported and time.monotonic() - started >= seconds:
            logger.critical("the access log's chain lock has been held elsewhere for %d s: nothing is sealed", seconds)
            reported = True
        time.sleep(LOCK_POLL_SECONDS)


def chain_head() -> tuple[str, int]:
    """The sealed head's link and position: the genesis and 0 for an empty chain.

    When the head is from before the chain key (no position), its position counts the events present
    and those the prunes removed: once, for the first event sealed after an upgrade.
    """
    head = AccessEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("hash", "seq").first()
    if head is not None and head[0] is not None and head[1] is not None:  # always both (a check constraint)
        return head[0], head[1]
    old = AccessEvent.objects.filter(hash__isnull=False)
    link = old.order_by("-id").values_list("hash", flat=True).first()
    if link is None:
        return GENESIS_HASH, 0
    removed = AccessLogPrune.objects.aggregate(total=Sum("removed_events"))["total"] or 0
    return link, old.count() + removed


# Outside a transaction (autocommit), the lock is taken and let go within the one statement: a probe.
PROBE_SQL = "SELECT pg_try_advisory_xact_lock(%s) AND EXISTS (SELECT 1 FROM audit_accessevent WHERE hash IS NULL)"
# This process's next attempt after a commit, at the earliest (time.monotonic()).
_next_attempt = 0.0


def _worth_trying() -> bool:
    """Whether a sealing transaction after a commit could do anything: this process has not tried within
    ACCESS_LOG_SEAL_INTERVAL_SECONDS, the lock is free and some event unsealed.

    Sealing a request's own event after its commit cost a read 30-45 % of its throughput (a transaction, its
    fsync and the links, for one event: bench/access_log_cost.py); once a second per process it seals what
    every request of the moment wrote, in one batch, and a lone request's event still within a second. The
    probe is one round trip (in autocommit) where the transaction would take three when another process is
    sealing. Within a transaction (a caller's) always worth it.
    """
    global _next_attempt
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return True
    now = time.monotonic()
    if now < _next_attempt:
        return False
    _next_attempt = now + settings.ACCESS_LOG_SEAL_INTERVAL_SECONDS
    with connection.cursor() as cursor:
        cursor.execute(PROBE_SQL, [CHAIN_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def access_log_seal(
    *, wait: bool = False, batch_size: int = SEAL_BATCH, max_batches: int | None = SEAL_MAX_BATCHES
) -> int:
    """Seal the committed unsealed events, oldest id first, a batch per transaction; the number sealed.

    Without `wait`, returns 0 at once when another process holds the chain's lock (it is sealing).
    Within a caller's transaction (ACCESS_LOG_SEAL_AT_ONCE) the lock is held until that one ends.
    """
    if not wait and not _worth_trying():
        return 0
    sealed = batches = 0
    after: int | None = 0  # rows refused stay unsealed: the next batch starts past them, not at them again
    while after is not None and (max_batches is None or batches < max_batches):
        with transaction.atomic():
            if not chain_lock(wait=wait):
                break
            done, after = _seal_batch(batch_size, after)
        sealed += done
        batches += 1
    return sealed


def _seal_batch(batch_size: int, after: int) -> tuple[int, int | None]:
    """Under the chain's lock: link the unsealed events with an id above `after` to the head.

    (Sealed, the last id read when the batch was full, else None.)"""
    vendor = connection.vendor
    connection.ensure_connection()
    cursor = connection.connection.cursor()  # the driver's own: the SQLite time expression holds a '%'
    try:
        cursor.execute(UNSEALED_SQL[vendor], {"after": after, "limit": batch_size})
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return 0, None
    bases = chain_link_bases()
    key_id, base = next(iter(bases.items()))
    accepted = writer_bases()
    link, position = rows[0][:2]
    if rows[0][-1] is not None and rows[0][-1] not in bases:
        # The head is under a key this process does not hold: a newer one, in a rolling restart after a rotation
        # (docs/deployment.md, "Keys"). The processes that hold it seal; a seal under an older key after it
        # would be `key_back` to the verifier.
        return 0, None
    if position is None:  # no event has a position yet
        link, position = chain_head()
    seals = []
    for row in rows:
        event_id, stored_mac = row[2], row[-2]
        content = event_content(row[4:16])
        if not written_by_the_writer(accepted, stored_mac, content):
            # Inserted past the writer (or changed since, which the triggers refuse), or under a retired key past
            # its grace: it stays unsealed, and alarms. The id only: the row's content may be personal data.
            if event_id not in _REPORTED:
                if written_by_the_writer(bases, stored_mac, content):
                    logger.critical(
                        "access event %s is not sealed: its content MAC is under the retired chain key %s, "
                        "past AUDIT_CHAIN_KEY_PREVIOUS_UNTIL",
                        event_id,
                        stored_mac.partition(":")[0],
                    )
                else:
                    logger.critical("access event %s is not sealed: its content MAC does not check", event_id)
                if len(_REPORTED) < _REPORTED_MAX:
                    _REPORTED.add(event_id)
            continue
        position += 1
        new_link = keyed_link(base, link_message(position, *content, link, key_id))
        seals.append((position, link, new_link, key_id, event_id))
        link = new_link
    if seals:
        with connection.cursor() as update:
            if connection.vendor == "postgresql":
                values = ", ".join([PG_SEAL_ROW] * len(seals))
                update.execute(PG_SEAL_SQL.format(values=values), [value for seal in seals for value in seal])
            else:
                update.executemany(SEAL_SQL, seals)
            if update.rowcount != len(seals):
                raise RuntimeError(f"sealed {update.rowcount} access events of {len(seals)}: nothing sealed")
    return len(seals), (rows[-1][2] if len(rows) == batch_size else None)


def seal_soon() -> bool:
    """For the writer: seal this transaction's events at once (ACCESS_LOG_SEAL_AT_ONCE) or after its commit.

    Whether they were sealed at once."""
    if settings.ACCESS_LOG_SEAL_AT_ONCE:
        access_log_seal(wait=True, max_batches=None)
        return True
    transaction.on_commit(_seal_after_commit)
    return False


def _seal_after_commit() -> None:
    """The after-commit hook: never lets a failure reach the request whose event is already committed."""
    try:
        access_log_seal(wait=False)
    except Exception as error:
        # The error's kind only: a database error's detail may quote a row (a username, an address, patron ids).
        logger.error("sealing the access log failed (%s); seal_access_log will take the events", type(error).__name__)


# Unsealed events by id, as the sealer reads them (EVENT_COLUMNS, then the content MAC); `{ids}` a list of
# named parameters.
_UNSEALED_BY_ID = "SELECT {columns}, e.content_mac FROM audit_accessevent AS e WHERE e.hash IS NULL AND e.id IN ({ids})"
UNSEALED_CHECK_CHUNK = 500


def unsealed_without_valid_mac(ids: Iterable[int]) -> set[int]:
    """Of the events `ids`, those unsealed whose content MAC does not check: rows the writer never wrote (or
    changed since), which the sealer never seals. Sealed events and genuine unsealed ones are not in it."""
    ids = list(ids)
    if not ids:
        return set()
    bases = writer_bases()
    vendor = connection.vendor
    forged: set[int] = set()
    connection.ensure_connection()
    for start in range(0, len(ids), UNSEALED_CHECK_CHUNK):
        chunk = ids[start : start + UNSEALED_CHECK_CHUNK]
        names = [f"i{n}" for n in range(len(chunk))]
        sql = _UNSEALED_BY_ID.format(
            columns=EVENT_COLUMNS[vendor], ids=", ".join(PARAMETER[vendor].format(name) for name in names)
        )
        cursor = connection.connection.cursor()  # the driver's own: the SQLite time expression holds a '%'
        try:
            cursor.execute(sql, dict(zip(names, chunk, strict=True)))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        forged.update(row[0] for row in rows if not written_by_the_writer(bases, row[17], event_content(row[2:14])))
    return forged


def without_unsealed_forgeries(events: QuerySet[AccessEvent]) -> QuerySet[AccessEvent]:
    """`events` without the unsealed ones whose content MAC does not check, for every reader of the log ("who
    processed my data", the patron's access report, the DPO's browser): they show unsealed events (committed
    facts), but never a row someone inserted past the writer (through SQL injection, or as the owner) and the
    sealer refused. Checks only the events of `events` that are unsealed: a few, while the sealer keeps up."""
    forged = unsealed_without_valid_mac(events.filter(hash__isnull=True).values_list("pk", flat=True))
    return events.exclude(pk__in=forged) if forged else events


@dataclass(frozen=True)
class Overdue:
    """Events unsealed longer than ACCESS_LOG_SEAL_ALARM_SECONDS: an alarm (the sealer is not running)."""

    count: int
    oldest: datetime.datetime | None
    seconds: int

    def __bool__(self) -> bool:
        return self.count > 0

    @property
    def message(self) -> str:
        oldest = self.oldest.isoformat() if self.oldest is not None else "-"
        return _(
            "%(count)d access events are still unsealed more than %(seconds)d s after their time (the oldest of "
            "%(oldest)s): the sealer is not keeping up (seal_access_log), or an event cannot be sealed."
        ) % {"count": self.count, "seconds": self.seconds, "oldest": oldest}


def overdue_unsealed(*, now: datetime.datetime | None = None) -> Overdue:
    """The events still unsealed more than ACCESS_LOG_SEAL_ALARM_SECONDS after their time, and those dated
    more than SEAL_FUTURE_SECONDS ahead (no writer dates an event ahead: only a forged row is, which readers
    show while it is unsealed)."""
    seconds = settings.ACCESS_LOG_SEAL_ALARM_SECONDS
    now = now or timezone.now()
    late = AccessEvent.objects.filter(
        Q(at__lt=now - datetime.timedelta(seconds=seconds))
        | Q(at__gt=now + datetime.timedelta(seconds=SEAL_FUTURE_SECONDS)),
        hash__isnull=True,
    )
    count = late.count()
    oldest = None
    if count:
        # A time out of Python's range (BC, past year 9999: only the owner can insert one) gives no oldest date.
        with contextlib.suppress(ValueError, OverflowError):
            oldest = late.order_by("at").values_list("at", flat=True).first()
    return Overdue(count=count, oldest=oldest, seconds=seconds)
