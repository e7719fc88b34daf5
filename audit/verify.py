"""Verifying the access log in the database: rows in batches for the engine in audit/verifier.py.

Each batch is one query returning plain tuples (no model objects): the event's columns as the link
covers them (the time as integer microseconds, JSON and addresses as text) and, aggregated by the
database, the patron ids of its index rows. Then the chain is checked against the checkpoints in
AUDIT_CHECKPOINT_DIR.
"""

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit.checkpoint_files import Checkpoint, read_checkpoints
from audit.keys import chain_keys as configured_chain_keys
from audit.keys import verify_keys
from audit.models import AccessLogPrune
from audit.verifier import ChainStart, Finding, Report, chain_start, checked_checkpoints, verify_rows

BATCH_SIZE = 20_000

# The id that ends a batch of `limit` events after `after` (an index-only scan).
BATCH_END_SQL = {
    "postgresql": (
        "SELECT max(id) FROM (SELECT id FROM audit_accessevent WHERE id > %(after)s ORDER BY id LIMIT %(limit)s) s"
    ),
    "sqlite": "SELECT max(id) FROM (SELECT id FROM audit_accessevent WHERE id > :after ORDER BY id LIMIT :limit)",
}
# The batch's events, and their index rows' patron ids as text in the form of `patron_ids` ("[1, 2]").
# The aggregate keeps the order of its input, the index's (event, patron) order; the engine compares
# the ids themselves before it calls a difference a finding (audit/verifier.py).
_BATCH = """
SELECT e.id, e.seq, {at_us}, e.actor_id, e.actor_username, e.actor_municipality_id, {client_ip}, e.action,
       e.resource, {patron_ids}, {data_categories}, e.reason, e.outcome, e.detail, e.prev_hash, e.hash, e.key_id,
       coalesce(p.ids, '[]')
FROM audit_accessevent AS e
LEFT JOIN (
    SELECT event_id, '[' || {aggregate} || ']' AS ids
    FROM (
        SELECT event_id, patron_id FROM audit_accesseventpatron
        WHERE event_id > {after} AND event_id <= {upto} ORDER BY event_id, patron_id
    ) AS s
    GROUP BY event_id
) AS p ON p.event_id = e.id
WHERE e.id > {after} AND e.id <= {upto}
ORDER BY e.id
"""
# Django keeps a datetime on SQLite as "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC; any other text (only a
# tampered row holds one) gives no time, which no link matches.
_SQLITE_SECONDS = "CAST(strftime('%s', substr(e.at, 1, 19)) AS INTEGER) * 1000000"
_SQLITE_DATE = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
BATCH_SQL = {
    "postgresql": _BATCH.format(
        at_us="(extract(epoch FROM e.at) * 1000000)::bigint",
        # The address as PostgreSQL prints an inet (its output function), not text(), which adds "/32".
        client_ip="CASE WHEN e.client_ip IS NULL THEN NULL ELSE concat(e.client_ip) END",
        patron_ids="concat(e.patron_ids)",
        data_categories="concat(e.data_categories)",
        aggregate="string_agg(patron_id::text, ', ')",
        after="%(after)s",
        upto="%(upto)s",
    ),
    "sqlite": _BATCH.format(
        at_us=(
            f"CASE WHEN e.at GLOB '{_SQLITE_DATE}' THEN {_SQLITE_SECONDS} "
            f"WHEN e.at GLOB '{_SQLITE_DATE}.[0-9][0-9][0-9][0-9][0-9][0-9]' "
            f"THEN {_SQLITE_SECONDS} + CAST(substr(e.at, 21) AS INTEGER) END"
        ),
        client_ip="e.client_ip",
        patron_ids="e.patron_ids",
        data_categories="e.data_categories",
        aggregate="group_concat(patron_id, ', ')",
        after=":after",
        upto=":upto",
    ),
}


@dataclass(frozen=True)
class ChainBreak:
    event_id: int | None
    problem: str


def event_rows(*, batch_size: int = BATCH_SIZE, progress: Callable[[int], None] | None = None) -> Iterator[list]:
    """All events in id order, a batch a query, as the engine's rows (audit.verifier.ROW_COLUMNS).

    The next batch is read by a helper thread while the caller checks this one: the database works
    (and the driver waits, without the GIL) in parallel with the links being recomputed. The thread
    uses this connection's driver connection, and only while the caller does not.
    """
    connection.ensure_connection()
    raw = connection.connection
    vendor = connection.vendor
    batches: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def read() -> None:
        try:
            cursor = raw.cursor()
            after = 0
            while not stop.is_set():
                cursor.execute(BATCH_END_SQL[vendor], {"after": after, "limit": batch_size})
                upto = cursor.fetchone()[0]
                if upto is None:
                    break
                cursor.execute(BATCH_SQL[vendor], {"after": after, "upto": upto})
                batches.put(cursor.fetchall())
                after = upto
            cursor.close()
            batches.put(None)
        except Exception as error:  # handed to the caller's thread, which raises it
            batches.put(error)

    reader = threading.Thread(target=read, name="access-log-reader", daemon=True)
    reader.start()
    checked = 0
    try:
        while (batch := batches.get()) is not None:
            if isinstance(batch, Exception):
                raise batch
            yield batch
            checked += len(batch)
            if progress is not None:
                progress(checked)
    finally:
        stop.set()
        while reader.is_alive():  # let a reader blocked on a full queue finish
            with contextlib.suppress(queue.Empty):
                batches.get(timeout=0.1)
        reader.join()


def prune_records() -> list[tuple[int, int, str, str]]:
    """(first kept event id, events removed, anchor, cutoff as ISO text), oldest first."""
    return [
        (first_kept, removed, anchor, cutoff.isoformat())
        for first_kept, removed, anchor, cutoff in AccessLogPrune.objects.order_by("id").values_list(
            "first_kept_event_id", "removed_events", "anchor_hash", "cutoff"
        )
    ]


def start_of_chain() -> ChainStart:
    from audit.models import AccessEvent

    first_id = AccessEvent.objects.order_by("id").values_list("id", flat=True).first()
    return chain_start(first_id=first_id, prunes=prune_records())


def verify_access_log(
    *,
    checkpoint_dir: Path | None = None,
    public_keys: dict[str, Ed25519PublicKey] | None = None,
    chain_keys: dict[str, bytes] | None = None,
    all_signatures: bool = False,
    use_checkpoints: bool = True,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> Report:
    """The chain, then the chain against the checkpoints; by default with the configured keys and directory.

    Pruned checkpoints are held to ACCESS_LOG_RETENTION_MONTHS before now, and no event may be dated
    later than now (audit/verifier.py).
    """
    checkpoints: list[Checkpoint] = []
    checkpoint_findings: list[Finding] = []
    if use_checkpoints:
        directory = Path(checkpoint_dir or settings.AUDIT_CHECKPOINT_DIR)
        checkpoints, checkpoint_findings = checked_checkpoints(
            read_checkpoints(directory),
            verify_keys() if public_keys is None else public_keys,
            all_signatures=all_signatures,
        )
    return verify_rows(
        event_rows(batch_size=batch_size, progress=progress),
        chain_keys=configured_chain_keys() if chain_keys is None else chain_keys,
        max_step_back_seconds=settings.AUDIT_MAX_CLOCK_STEP_BACK_SECONDS,
        start=start_of_chain(),
        checkpoints=checkpoints,
        verified_at=timezone.now(),
        retention_months=settings.ACCESS_LOG_RETENTION_MONTHS,
        checkpoint_findings=checkpoint_findings,
    )


def verify_chain(*, batch_size: int = BATCH_SIZE) -> ChainBreak | None:
    """The first place where the chain itself breaks (checkpoints aside), or None when it is whole."""
    report = verify_access_log(use_checkpoints=False, batch_size=batch_size)
    if report.intact:
        return None
    finding = report.findings[0]
    return ChainBreak(finding.event_id, finding.message)
