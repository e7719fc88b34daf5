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

# An event's columns as the link covers them (the time as integer microseconds, JSON and addresses as
# text): what the verifier checks and what the sealer (audit/sealing.py) links, so the two agree by
# construction. Django keeps a datetime on SQLite as "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC; any other
# text (only a tampered row holds one) gives no time, which no link matches.
_COLUMNS = (
    "e.id, e.seq, {at_us}, e.actor_id, e.actor_username, e.actor_municipality_id, {client_ip}, e.action, "
    "e.resource, {patron_ids}, {data_categories}, e.reason, e.outcome, e.detail, e.prev_hash, e.hash, e.key_id"
)
_SQLITE_SECONDS = "CAST(strftime('%s', substr(e.at, 1, 19)) AS INTEGER) * 1000000"
_SQLITE_DATE = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
EVENT_COLUMNS = {
    "postgresql": _COLUMNS.format(
        at_us="(extract(epoch FROM e.at) * 1000000)::bigint",
        # The address as PostgreSQL prints an inet (its output function), not text(), which adds "/32".
        client_ip="CASE WHEN e.client_ip IS NULL THEN NULL ELSE concat(e.client_ip) END",
        patron_ids="concat(e.patron_ids)",
        data_categories="concat(e.data_categories)",
    ),
    "sqlite": _COLUMNS.format(
        at_us=(
            f"CASE WHEN e.at GLOB '{_SQLITE_DATE}' THEN {_SQLITE_SECONDS} "
            f"WHEN e.at GLOB '{_SQLITE_DATE}.[0-9][0-9][0-9][0-9][0-9][0-9]' "
            f"THEN {_SQLITE_SECONDS} + CAST(substr(e.at, 21) AS INTEGER) END"
        ),
        client_ip="e.client_ip",
        patron_ids="e.patron_ids",
        data_categories="e.data_categories",
    ),
}
# Named parameters as each driver spells them (the queries run on the driver's own cursor).
PARAMETER = {"postgresql": "%({})s", "sqlite": ":{}"}
# The patron ids of an event's index rows as text in the form of `patron_ids` ("[1, 2]"). In the index's
# (event, patron) order as a rule; the engine compares the ids themselves before it calls a difference a
# finding (audit/verifier.py). Those with the event's time only, as the readers find them
# (AccessEvent.objects.about_patron), which on PostgreSQL also looks in the event's own month alone.
INDEX_IDS = {
    "postgresql": "string_agg(p.patron_id::text, ', ')",
    "sqlite": "group_concat(p.patron_id, ', ')",
}
# The chain in its order, in three parts (`WALK`): the events from before the chain key (no position, in
# id order, which was the chain's order then), the sealed events by position, and then any event shaped
# like an old one but with an id after the first positioned event (only a forged row is: the verifier
# names it). Unsealed events are in none: they are not in the chain yet.
_BATCH = (
    "SELECT {columns}, coalesce((SELECT '[' || {index_ids} || ']' FROM audit_accesseventpatron AS p "
    "WHERE p.event_id = e.id AND p.at = e.at), '[]') FROM audit_accessevent AS e "
    "WHERE {where} AND e.{key} > {after} ORDER BY e.{key} LIMIT {limit}"
)
WALK = (
    ("id", "e.seq IS NULL AND e.hash IS NOT NULL AND e.id < {bound}"),
    ("seq", "e.seq IS NOT NULL"),
    ("id", "e.seq IS NULL AND e.hash IS NOT NULL AND e.id >= {bound}"),
)
# The column of each part's keyset (the row's first column is the id, its second the position).
KEY_COLUMN = {"id": 0, "seq": 1}


def batch_sql(vendor: str, key: str, where: str) -> str:
    parameter = PARAMETER[vendor]
    return _BATCH.format(
        columns=EVENT_COLUMNS[vendor],
        index_ids=INDEX_IDS[vendor],
        where=where.format(bound=parameter.format("bound")),
        key=key,
        after=parameter.format("after"),
        limit=parameter.format("limit"),
    )


def first_positioned_id() -> int | None:
    """The id of the first event with a position: the events before it without one are the old part."""
    from audit.models import AccessEvent

    return AccessEvent.objects.filter(seq__isnull=False).order_by("seq").values_list("id", flat=True).first()


@dataclass(frozen=True)
class ChainBreak:
    event_id: int | None
    problem: str


def event_rows(*, batch_size: int = BATCH_SIZE, progress: Callable[[int], None] | None = None) -> Iterator[list]:
    """All sealed events in the chain's order (`WALK`), a batch a query, as the engine's rows
    (audit.verifier.ROW_COLUMNS).

    The next batch is read by a helper thread while the caller checks this one: the database works
    (and the driver waits, without the GIL) in parallel with the links being recomputed. The thread
    uses this connection's driver connection, and only while the caller does not.
    """
    connection.ensure_connection()
    raw = connection.connection
    vendor = connection.vendor
    batches: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    bound = first_positioned_id()
    parts = WALK if bound is not None else WALK[:1]
    queries = [(batch_sql(vendor, key, where), KEY_COLUMN[key]) for key, where in parts]

    def read() -> None:
        try:
            cursor = raw.cursor()
            for sql, key_column in queries:
                after = 0
                while not stop.is_set():
                    # Without a positioned event every event with a link is from before the chain key.
                    cursor.execute(
                        sql, {"after": after, "limit": batch_size, "bound": bound if bound is not None else 2**62}
                    )
                    batch = cursor.fetchall()
                    if not batch:
                        break
                    batches.put(batch)
                    after = batch[-1][key_column]
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
    """Where the walk (`WALK`) begins: the oldest event from before the chain key, else the first positioned."""
    from audit.models import AccessEvent

    bound = first_positioned_id()
    old = AccessEvent.objects.filter(seq__isnull=True, hash__isnull=False)
    if bound is not None:
        old = old.filter(id__lt=bound)
    first_id = old.order_by("id").values_list("id", flat=True).first() or bound
    return chain_start(first_id=first_id, prunes=prune_records())


# The sealed events the walk should have reached: every one from before the chain key, and the positioned
# ones up to the last position it walked (so events sealed meanwhile raise no alarm). More than it walked
# means rows it cannot reach (a position or id below 1: inserted by hand, which the runtime role cannot).
SEALED_UP_TO_SQL = "SELECT count(*) FROM audit_accessevent WHERE hash IS NOT NULL AND (seq IS NULL OR seq <= %s)"


def _last_position(rows: Iterator[list], last: list[int]) -> Iterator[list]:
    """The batches as they come, noting in `last[0]` the highest position among them."""
    for batch in rows:
        last[0] = max([last[0], *(row[1] for row in batch if row[1] is not None)])
        yield batch


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
    last = [0]
    report = verify_rows(
        _last_position(event_rows(batch_size=batch_size, progress=progress), last),
        chain_keys=configured_chain_keys() if chain_keys is None else chain_keys,
        max_step_back_seconds=settings.AUDIT_MAX_CLOCK_STEP_BACK_SECONDS,
        start=start_of_chain(),
        checkpoints=checkpoints,
        verified_at=timezone.now(),
        retention_months=settings.ACCESS_LOG_RETENTION_MONTHS,
        checkpoint_findings=checkpoint_findings,
    )
    with connection.cursor() as cursor:
        cursor.execute(SEALED_UP_TO_SQL, [last[0]])
        sealed = cursor.fetchone()[0]
    if sealed > report.events:
        report.findings.append(Finding("outside_walk", {"count": sealed - report.events}))
    return report


def verify_chain(*, batch_size: int = BATCH_SIZE) -> ChainBreak | None:
    """The first place where the chain itself breaks (checkpoints aside), or None when it is whole."""
    report = verify_access_log(use_checkpoints=False, batch_size=batch_size)
    if report.intact:
        return None
    finding = report.findings[0]
    return ChainBreak(finding.event_id, finding.message)
