"""Verifying the access log in the database: rows in batches for the engine in audit/verifier.py.

Each batch is one query returning plain tuples (no model objects): the event's columns as the link
covers them (the time as integer microseconds, JSON and addresses as text) and, aggregated by the
database, the patron ids of its index rows. Then the chain is checked against the checkpoints in
AUDIT_CHECKPOINT_DIR.
"""

import contextlib
import ipaddress
import multiprocessing
import operator
import os
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import accumulate, repeat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from audit.chain import MESSAGE_PREFIX
from audit.checkpoint_files import Checkpoint, read_checkpoints
from audit.keys import chain_keys as configured_chain_keys
from audit.keys import verify_keys
from audit.models import AccessLogPrune
from audit.verifier import (
    FIRST_US,
    LAST_US,
    ChainStart,
    ChainState,
    ChainVerifier,
    Finding,
    PartResult,
    Report,
    chain_start,
    checked_checkpoints,
)

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
        at_us="(extract(epoch FROM e.at) * 1000000::numeric)::bigint",
        # The address as PostgreSQL prints an inet (its output function), not text(), which adds "/32".
        client_ip="CASE WHEN e.client_ip IS NULL THEN NULL ELSE pg_catalog.concat(e.client_ip) END",
        patron_ids="pg_catalog.concat(e.patron_ids)",
        data_categories="pg_catalog.concat(e.data_categories)",
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
    "postgresql": "pg_catalog.string_agg(p.patron_id::text, ', ')",
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
        where=where.format(bound=parameter.format("bound"), upper=parameter.format("upper")),
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


def event_rows(
    *,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    parts: Iterable[tuple[str, str]] | None = None,
    bound: int | None = None,
    upper: int | None = None,
    after: int = 0,
) -> Iterator[list]:
    """All sealed events in the chain's order (`WALK`), a batch a query, as the engine's rows
    (audit.verifier.ROW_COLUMNS); or only those of `parts` of the walk (with `bound` from
    `first_positioned_id`, and `after` and `upper` for a `RANGE` part's positions).

    The next batch is read by a helper thread while the caller checks this one: the database works
    (and the driver waits, without the GIL) in parallel with the links being recomputed. The thread
    uses this connection's driver connection, and only while the caller does not.
    """
    connection.ensure_connection()
    raw = connection.connection
    vendor = connection.vendor
    batches: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    if parts is None:
        bound = first_positioned_id()
        parts = WALK if bound is not None else WALK[:1]
    queries = [(batch_sql(vendor, key, where), KEY_COLUMN[key]) for key, where in parts]
    parameters = {"limit": batch_size, "bound": bound if bound is not None else 2**62, "upper": upper}

    def read() -> None:
        try:
            cursor = raw.cursor()
            for sql, key_column in queries:
                last = after
                while not stop.is_set():
                    # Without a positioned event every event with a link is from before the chain key.
                    cursor.execute(sql, {**parameters, "after": last})
                    batch = cursor.fetchall()
                    if not batch:
                        break
                    batches.put(batch)
                    last = batch[-1][key_column]
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


# --- The positioned events in ranges, walked by several processes ------------------------------------
#
# The sealed events (`WALK[1]`) are cut into ranges of RANGE_EVENTS positions. Each range is walked on its
# own (`walk_range`), by a process of a pool when the log is large (PARALLEL_MIN_EVENTS), from the state
# its first event implies: that the event before it was whole, its link the first one's `prev_hash`
# (ChainVerifier.assume_start). The parent takes the ranges in order: when the range's assumed start is
# the state the walk reached (ChainVerifier.joins: the last link of the range before is the first one's
# `prev_hash`, the positions follow, no event is earlier than the latest time allows, the checkpoints stand
# where assumed), the range's findings are exactly what one walk would have found, and are taken on
# (ChainVerifier.merge); otherwise (only where the log was tampered with, or at the very first range) the
# parent walks that range again itself from the state reached. So every finding of the single walk, in
# its order, and nothing else.

RANGE = ("seq", "e.seq IS NOT NULL AND e.seq <= {upper}")
RANGE_EVENTS = 100_000
PARALLEL_MIN_EVENTS = 1_000_000
# The processes of the pool when the caller names none (None: half the CPUs, at least 2).
WORKERS: int | None = None
# The verifier's queries are long scans with a handful of expressions: PostgreSQL's JIT would compile
# them anew for each batch (some 170 ms each) and save nothing.
NO_JIT = "SET jit = off"
# The verifier's functions and operators are PostgreSQL's own, not ones of the same name that whoever owns the
# tables' schema could create there to show the verifier other values than the readers see (a rewritten row
# verifying): every function it calls is named pg_catalog.f, every literal typed where an operator's match
# would otherwise be left to the search path, and pg_catalog comes first in it (for an operator of identical
# argument types, the first in the path is taken). SQLite has no schemas to shadow anything.
CATALOG_FIRST = (
    "SELECT pg_catalog.set_config('search_path', "
    "pg_catalog.concat('pg_catalog, ', pg_catalog.current_setting('search_path')), false) "
    "WHERE NOT pg_catalog.starts_with(pg_catalog.current_setting('search_path'), 'pg_catalog, ')"
)

# On PostgreSQL a range is read with COPY in text form (which escapes a tab, newline or backslash within a
# field, so a line splits unambiguously), each line: the event's link, its id, its patron ids, its client
# address when `address_text` cannot be computed in SQL (else empty), and then the link's message itself,
# field by field from the prefix to the key id: the time as decimal microseconds since 1970 (the 8 bytes
# PostgreSQL stores, `timestamptz_send`, read as a signed integer: exact, where extract() costs numeric
# arithmetic; "?" outside the years a datetime holds), the address as `address_text` gives it ("?" when only
# Python can: IPv6 or a network), a missing id as "None". Tabs turned into NULs, the line after its fourth
# field is the message the HMAC covers, without a copy field by field. The patron ids appear twice (the
# same expression, `concat(e.patron_ids)`): once before the message, so the index check needs no split of
# it. The patron index comes from a second COPY over the range's ids, aggregated by the index's own order
# (one subquery an event cost PostgreSQL more than the rest of the row).
# The time as the message holds it (see above), of a timestamp expression.
_TIME_TEXT = (
    "CASE WHEN {at} >= '0001-01-01 00:00:00+00' AND {at} <= '9999-12-31 23:59:59.999999+00' "
    "THEN (('x' || pg_catalog.encode(pg_catalog.timestamptz_send({at}), 'hex'))::bit(64)::bigint "
    "+ 946684800000000::bigint)::text ELSE '?' END"
)
_COPY_EVENTS = (
    "COPY (SELECT e.hash, e.id, pg_catalog.concat(e.patron_ids), "
    "CASE WHEN e.client_ip IS NULL OR (pg_catalog.family(e.client_ip) = 4 AND pg_catalog.masklen(e.client_ip) = 32) "
    "THEN '' ELSE pg_catalog.concat(e.client_ip) END, 'access-event/v1', e.seq, "
    + _TIME_TEXT.format(at="e.at")
    + ", coalesce(e.actor_id::text, 'None'), e.actor_username, coalesce(e.actor_municipality_id::text, 'None'), "
    "CASE WHEN e.client_ip IS NULL THEN '' "
    "WHEN pg_catalog.family(e.client_ip) = 4 AND pg_catalog.masklen(e.client_ip) = 32 "
    "THEN '4:' || (e.client_ip - '0.0.0.0'::inet)::text "
    "ELSE '?' END, e.action, e.resource, pg_catalog.concat(e.patron_ids), pg_catalog.concat(e.data_categories), "
    "e.reason, e.outcome, "
    "e.detail, e.prev_hash, e.key_id "
    "FROM audit_accessevent AS e WHERE e.seq >= {lo} AND e.seq <= {hi} ORDER BY e.seq) TO STDOUT"
)
# The index rows of the events with ids `lo` to `hi`, an event a line: its id, its patron ids, and the time of
# its rows in the form of the message's (NULL when they differ among themselves). The readers find an event's
# rows by the event's time (AccessEvent.objects.about_patron), so a row moved to another time hides the event
# from the patron: the walk compares the time too, as the SQLite query's `p.at = e.at` does.
_COPY_INDEX = (
    "COPY (SELECT p.event_id, '[' || pg_catalog.string_agg(p.patron_id::text, ', ') || ']', "  # noqa: S608
    "CASE WHEN pg_catalog.min(p.at) = pg_catalog.max(p.at) THEN "
    + _TIME_TEXT.format(at="pg_catalog.min(p.at)")
    + " END FROM audit_accesseventpatron AS p WHERE p.event_id >= {lo} AND p.event_id <= {hi} GROUP BY p.event_id) "
    "TO STDOUT"
)
# The fields before the message.
LEAD_FIELDS = 4
# A time "?" (outside the years a datetime holds) as the engine's row carries it: any such time gives the
# same findings (the event is `changed`, and it dates nothing), so one past the last will do.
OUT_OF_RANGE_US = LAST_US + 1
# The lines checked together on the fast way (`_fast_lines`): a block with anything the fast way does not
# vouch for goes to the engine line by line, so a finding costs at most this many events of the slow way.
BLOCK_LINES = 128


def _copy_field(text: str) -> str | None:
    """A field of COPY's text output as the value (PostgreSQL escapes only these; \\N is NULL)."""
    if text == "\\N":
        return None
    if "\\" not in text:
        return text
    out = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            out.append({"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}.get(escaped, escaped))
        else:
            out.append(char)
    return "".join(out)


def _engine_row(line: bytes, index_ids: bytes) -> tuple:
    """A COPY line (tabs turned into NULs) as the engine's row (ROW_COLUMNS): for the lines the fast way
    leaves to the engine."""
    fields = [_copy_field(field) for field in line.decode().split("\x00")]
    (link, event_id, _patrons, raw_address, _prefix, seq, at, actor_id, username, municipality_id, address,
     action, resource, patron_ids, categories, reason, outcome, detail, prev_hash, key_id) = fields  # fmt: skip

    def number(value: str | None) -> int | None:
        return None if value is None or value == "None" else int(value)

    at_us = None if at is None else OUT_OF_RANGE_US if at == "?" else int(at)
    client_ip = raw_address or None if address == "?" else _address_of(address)
    return (
        int(event_id or 0), number(seq), at_us, number(actor_id), username, number(municipality_id),
        client_ip, action, resource, patron_ids, categories, reason, outcome, detail, prev_hash, link,
        key_id, index_ids.decode(),
    )  # fmt: skip


def _address_of(text: str | None) -> str | None:
    """The address of an `address_text` computed in SQL ("4:<int>", "" for none), as the database prints it."""
    if not text:
        return None
    return str(ipaddress.IPv4Address(int(text[2:])))


class _Chunks:
    """Where psycopg2's COPY hands its output: a row a call, as a rule."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.write = self.chunks.append  # psycopg2 calls it a row: C, no Python frame


def _one_row(chunk: bytes) -> bool:
    return chunk.endswith(b"\n") and chunk.count(b"\n") == 1


def _split_rows(chunks: list[bytes]) -> list[bytes]:
    """COPY's output as its rows, each with its newline (a row a chunk as a rule, checked block by block in
    `_walk_lines`, which calls this when not)."""
    rows = b"".join(chunks).split(b"\n")
    rows.pop()  # after the last newline
    return [row + b"\n" for row in rows]


class _PatronIndex:
    """The index rows of a range's events, by event id (as COPY prints them): their patron ids (`ids`) and
    their time (`times`, the message's form; missing when they differ among themselves). Read for the ids
    from the first row's to the last row's (the ids rise with the positions, as a rule); an event outside
    them (only a moved one) is read on its own."""

    def __init__(self, cursor, rows: list[bytes]) -> None:
        first, last = (int(row.split(b"\t", 2)[1]) for row in (rows[0], rows[-1]))
        self.cursor = cursor
        self.lo, self.hi = min(first, last), max(first, last)
        self.ids, self.times = self._read(self.lo, self.hi)

    def _read(self, lo: int, hi: int) -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
        chunks = _Chunks()
        self.cursor.copy_expert(_COPY_INDEX.format(lo=lo, hi=hi), chunks)
        # Three fields a row, none escaped (an id, "[" ids "]", a time or \N): id, ids, time, id, ...
        fields = b"".join(chunks.chunks).replace(b"\n", b"\t").split(b"\t")
        fields.pop()  # after the last newline
        ids = fields[::3]
        return dict(zip(ids, fields[1::3], strict=True)), dict(zip(ids, fields[2::3], strict=True))

    def within(self, event_id: bytes) -> bool:
        """Whether the index rows of the event were read with the range's (an event without any has none)."""
        return self.lo <= int(event_id) <= self.hi

    def agrees(self, event_id: bytes, patrons: bytes) -> bool:
        """Whether the event's patron ids are those of its index rows read with the range's (none: "[]")."""
        if event_id in self.ids:
            return self.ids[event_id] == patrons
        return patrons == b"[]" and self.within(event_id)

    def of(self, event_id: bytes, at: bytes) -> bytes:
        """The patron ids of the event's index rows ("[]" for none) when they carry the event's time `at`
        (as the message holds it), else "?", which no event's patron ids equal (a finding)."""
        if self.within(event_id):
            ids, times = self.ids, self.times
        else:
            ids, times = self._read(int(event_id), int(event_id))
        if event_id not in ids:
            return b"[]"
        return ids[event_id] if times[event_id] == at else b"?"


def _mac_function(base) -> Callable[[bytes], bytes]:
    """The raw HMAC-SHA256 of a message under the key `base` holds (its key schedule done once)."""
    copy = base.copy

    def mac(message: bytes) -> bytes:
        digest = copy()
        digest.update(message)
        return digest.finalize()

    return mac


@dataclass
class _FastState:
    """What the fast way carries from block to block (the engine's state, and the range's tallies)."""

    prev_link: bytes
    position: int
    latest: int | None
    count: int = 0
    last_id: bytes | None = None
    min_at: int | None = None


def _fast_block(
    lines: list[bytes], state: _FastState, macs: dict, index: _PatronIndex, step: int, allowed: int
) -> bool:
    """Whether `lines` (consecutive events following `state`) are whole events the engine would find nothing
    in; then `state` goes on past them. Checked a block at a time, each step over all lines at once (C loops
    of `map`, not a Python loop an event): every check the engine makes of an event (ChainVerifier.feed),
    so a block passes only when the engine would pass every line of it; anything else (even a harmless
    line the fast way cannot read, such as an IPv6 address) is left to the engine, and `state` is untouched.
    """
    n = len(lines)
    parts = list(map(bytes.split, lines, repeat(b"\x00"), repeat(LEAD_FIELDS)))
    if any(map(operator.ne, map(len, parts), repeat(LEAD_FIELDS + 1))):
        return False
    links, ids, patrons, raw_addresses, messages = zip(*parts, strict=True)
    if any(raw_addresses):  # an address only Python turns into `address_text`
        return False
    # One key for the block, held by the verifier: the first message's last field. The HMAC under it (last)
    # matches only messages the sealer built with it (`link_message`: 16 fields, the prefix first, that key
    # id last), so the fields below are read where that layout puts them; a message of another layout or
    # key fails there, and the block is the engine's.
    key_id = messages[0][messages[0].rindex(b"\x00") + 1 :]
    mac = macs.get(key_id)
    if mac is None:
        return False
    key_end = b"\x00" + key_id
    # Each link 64 hex digits, each event's previous link the link before it, the position the one due.
    if any(map(operator.ne, map(len, links), repeat(64))):
        return False
    cut = len(key_end)
    previous = list(map(operator.getitem, messages, repeat(slice(-(cut + 65), -cut))))
    if previous != list(map(b"\x00".__add__, (state.prev_link, *links[: n - 1]))):
        return False
    heads = list(map(PREFIX_AND_POSITION.__mod__, range(state.position + 1, state.position + n + 1)))
    if not all(map(bytes.startswith, messages, heads)):
        return False
    try:
        ends = map(bytes.index, messages, repeat(b"\x00"), map(len, heads))
        times: list[bytes] = list(map(operator.getitem, messages, map(slice, map(len, heads), ends)))
    except ValueError:
        return False
    # The times, exact, within the years a datetime holds, none later than allowed, none further back than the
    # latest so far allows. Decimal digits alone and all of one length, their order as bytes is their order as
    # numbers: in order, no event of the block is backdated, and the first and last times are all that need
    # reading. Otherwise (a clock stepped back a little, a time "?" or malformed: ValueError, the engine's)
    # every time is read.
    if all(map(bytes.isdigit, times)) and len(set(map(len, times))) == 1 and times == sorted(times):
        earliest, last = int(times[0]), int(times[-1])
        if state.latest is not None and earliest < state.latest - step:
            return False
        latest = last if state.latest is None else max(state.latest, last)
    else:
        try:
            numbers = [int(time) for time in times]
        except ValueError:
            return False
        earliest, last = min(numbers), max(numbers)
        running = list(accumulate(numbers, max, initial=numbers[0] if state.latest is None else state.latest))
        if any(map(operator.lt, numbers, map(operator.sub, running, repeat(step)))):
            return False
        latest = running[-1]
    if earliest < FIRST_US or last > allowed or last > LAST_US:
        return False
    # The patron index rows: the patron ids as COPY prints their aggregate, and their time the event's (an
    # event without rows, none in `index`, keeps its own). An event without rows must have no patrons and an
    # id among those the index was read for (`_PatronIndex.agrees`: rare, so only when the lists differ).
    if list(map(index.ids.get, ids)) != list(patrons) and not all(map(index.agrees, ids, patrons)):
        return False
    if list(map(index.times.get, ids, times)) != times:
        return False
    # The links: the HMAC of each message, all compared at once as hex.
    if b"".join(map(mac, messages)).hex().encode() != b"".join(links):
        return False
    state.prev_link = links[-1]
    state.position += n
    state.latest = latest
    state.count += n
    state.last_id = ids[-1]
    state.min_at = earliest if state.min_at is None else min(state.min_at, earliest)
    return True


PREFIX_AND_POSITION = MESSAGE_PREFIX.encode() + b"\x00%d\x00"


def _walk_lines(
    verifier: ChainVerifier, lines: list[bytes], index: _PatronIndex, provisional: bool
) -> tuple[ChainState | None, int | None]:
    """One range's walk over its COPY rows (`_read_range`): blocks of whole events on the fast way
    (`_fast_block`), every other line through the engine (`ChainVerifier.feed`), with the state handed over
    both ways, so the engine decides every finding. (The assumed start, the earliest time.)

    A provisional walk (a range on its own) takes its first line through the engine, which assumes the
    start from it (ChainVerifier.assume_start); the fast way needs a walk that already holds keyed events.
    """
    report = verifier.report
    macs = {key_id.encode(): _mac_function(base) for key_id, base in verifier.bases.items()}
    ranks = {key_id.encode(): rank for key_id, rank in verifier.key_ranks.items()}
    step = verifier.max_step_back_us
    entry = None if provisional else verifier.state()
    state = _FastState(prev_link=verifier.prev_link.encode(), position=verifier.position, latest=verifier.latest_us)
    keys: Counter = Counter()
    done = 0
    total = len(lines)
    while done < total:
        fast = entry is not None and verifier.keyed_seen and not verifier.first_row
        # A block ends at the next checkpointed head (whose time limit differs from the events' after it).
        size = min(BLOCK_LINES, total - done) if fast else 1
        size = int(min(size, max(1, verifier._next_checkpoint_position() - state.position)))
        text = b"".join(lines[done : done + size])
        block = text.replace(b"\t", b"\x00").split(b"\n")
        if block.pop() or len(block) != size:
            # Not a row a chunk (psycopg2 hands COPY's output a row a call, as a rule): the rest split anew.
            lines[done:] = _split_rows(lines[done:])
            total = len(lines)
            continue
        if fast:
            counted = state.count
            key_id = block[0][block[0].rindex(b"\x00") + 1 :]
            if (
                b"\\" not in text
                # The walk's newest key so far (a block under another goes to the engine: `key_back`, or a newer key)
                and ranks.get(key_id) == verifier.key_rank
                and _fast_block(block, state, macs, index, step, verifier._latest_allowed_us())
            ):
                keys[key_id] += state.count - counted
                done += size
                if state.position == verifier._next_checkpoint_position():  # a checkpointed head
                    verifier.position = state.position
                    verifier._checkpoint_reached(int(state.last_id or 0), state.prev_link.decode())
                continue
        # The engine, line by line over the block, from the state the fast way reached.
        for line in block:
            fields = line.split(b"\x00", 7)
            row = _engine_row(line, index.of(fields[1], fields[6]))
            if entry is None:
                entry = verifier.assume_start(prev_hash=row[14], seq=row[1] if row[1] is not None else 1)
            else:
                verifier.prev_link, verifier.position, verifier.latest_us = (
                    state.prev_link.decode(),
                    state.position,
                    state.latest,
                )
            at = row[2]
            if at is not None and FIRST_US <= at <= LAST_US and (state.min_at is None or at < state.min_at):
                state.min_at = at
            verifier.feed([row])
            state.last_id = None  # the engine keeps the report's last id
            state.prev_link, state.position, state.latest = (
                verifier.prev_link.encode(),
                verifier.position,
                verifier.latest_us,
            )
        done += size
    verifier.prev_link, verifier.position, verifier.latest_us = state.prev_link.decode(), state.position, state.latest
    report.events += state.count
    for key_id, n in keys.items():
        report.key_ids[key_id.decode()] += n
    if state.last_id is not None:
        report.last_id = int(state.last_id)
    return entry, state.min_at


@dataclass(frozen=True)
class _Walk:
    """What every range's walk needs to build its engine (handed to the pool's processes by fork)."""

    chain_keys: dict[str, bytes]
    max_step_back_seconds: int
    start: ChainStart
    checkpoints: list[Checkpoint]
    verified_at: object
    retention_months: int

    def verifier(self) -> ChainVerifier:
        return ChainVerifier(
            chain_keys=self.chain_keys,
            max_step_back_seconds=self.max_step_back_seconds,
            start=self.start,
            checkpoints=self.checkpoints,
            verified_at=self.verified_at,  # type: ignore[arg-type]
            retention_months=self.retention_months,
        )


def _read_range(raw, lo: int, hi: int) -> tuple[list[bytes], "_PatronIndex | None"]:
    """The COPY rows of the events at positions `lo` to `hi` and their patron index (None without rows), on
    the driver connection `raw` (also from a reader thread: psycopg2 serialises a connection's use)."""
    cursor = raw.cursor()  # kept by the index, for an event it did not read
    cursor.execute(NO_JIT)
    cursor.execute(CATALOG_FIRST)
    chunks = _Chunks()
    cursor.copy_expert(_COPY_EVENTS.format(lo=int(lo), hi=int(hi)), chunks)
    rows = chunks.chunks
    # The first and last rows name the ids of the patron index read (`_PatronIndex`): whole rows, or all split.
    if rows and not (_one_row(rows[0]) and _one_row(rows[-1]) and (len(rows) == 1 or rows[-2].endswith(b"\n"))):
        rows = _split_rows(rows)
    return rows, _PatronIndex(cursor, rows) if rows else None


def _walk_read(walk: _Walk, read: tuple[list[bytes], "_PatronIndex | None"], state: ChainState | None) -> PartResult:
    """A range read by `_read_range`, walked on its own (`state` None) or going on from `state`."""
    verifier = walk.verifier()
    if state is not None:
        verifier.resume(state)
    rows, index = read
    if index is None:
        return PartResult(report=verifier.report, entry=None, exit=verifier.state(), min_at_us=None)
    entry, earliest = _walk_lines(verifier, rows, index, provisional=state is None)
    return PartResult(report=verifier.report, entry=entry, exit=verifier.state(), min_at_us=earliest)


def walk_range(walk: _Walk, lo: int, hi: int, state: ChainState | None = None) -> PartResult:
    """The events at positions `lo` to `hi`, walked on their own (from an assumed start) or, with `state`,
    going on from it; on this process's connection."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        return _walk_read(walk, _read_range(connection.connection, lo, hi), state)
    verifier = walk.verifier()
    if state is not None:
        verifier.resume(state)
    entry = None if state is None else verifier.state()
    min_at: int | None = None
    for batch in event_rows(parts=[RANGE], upper=hi, after=lo - 1):
        if entry is None:
            first = batch[0]
            entry = verifier.assume_start(prev_hash=first[14], seq=first[1])
        times = [row[2] for row in batch if row[2] is not None]
        if times:
            min_at = min([*times, *([] if min_at is None else [min_at])])
        verifier.feed(batch)
    return PartResult(report=verifier.report, entry=entry, exit=verifier.state(), min_at_us=min_at)


_POOL_WALK: _Walk | None = None


def _pool_job(job: tuple[int, int, ChainState | None]) -> PartResult:
    assert _POOL_WALK is not None
    return walk_range(_POOL_WALK, *job)


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
# On PostgreSQL the positioned events are read in ranges of positions (`_read_range`: every row from the first
# position above 0 to the last, whatever its id or its twins), so of them only a position below 1 is out of
# reach: those are counted, and the sealed events without a position (walked by id, `WALK`), which the walk
# must have reached all of. Two index scans where SEALED_UP_TO_SQL reads the whole table (0.5-1 s at 2M events).
SEALED_OUT_OF_RANGES_SQL = (
    "SELECT (SELECT pg_catalog.count(*) FROM audit_accessevent WHERE seq <= 0 AND hash IS NOT NULL), "
    "(SELECT pg_catalog.count(*) FROM audit_accessevent WHERE seq IS NULL AND hash IS NOT NULL)"
)


def verify_access_log(
    *,
    checkpoint_dir: Path | None = None,
    public_keys: dict[str, Ed25519PublicKey] | None = None,
    chain_keys: dict[str, bytes] | None = None,
    all_signatures: bool = False,
    use_checkpoints: bool = True,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
) -> Report:
    """The chain, then the chain against the checkpoints; by default with the configured keys and directory.

    Pruned checkpoints are held to ACCESS_LOG_RETENTION_MONTHS before now, and no event may be dated
    later than now (audit/verifier.py). The positioned events are walked in ranges (see `RANGE`): by
    `workers` processes (default: half the CPUs) once there are PARALLEL_MIN_EVENTS of them.
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
    # Every statement of the walk, its start and its counts with PostgreSQL's JIT off and pg_catalog first.
    with _verifier_session():
        walk = _Walk(
            chain_keys=configured_chain_keys() if chain_keys is None else chain_keys,
            max_step_back_seconds=settings.AUDIT_MAX_CLOCK_STEP_BACK_SECONDS,
            start=start_of_chain(),
            checkpoints=checkpoints,
            verified_at=timezone.now(),
            retention_months=settings.ACCESS_LOG_RETENTION_MONTHS,
        )
        verifier = walk.verifier()
        verifier.report.findings.extend(checkpoint_findings)
        bound = first_positioned_id()

        def walked() -> None:
            if progress is not None:
                progress(verifier.report.events)

        unpositioned = 0  # the events walked by id
        for batch in event_rows(parts=WALK[:1], bound=bound, batch_size=batch_size):
            verifier.feed(batch)
            unpositioned += len(batch)
            walked()
        last_position = 0
        if bound is not None:
            last_position = _walk_positions(walk, verifier, workers=workers, walked=walked, batch_size=batch_size)
            for batch in event_rows(parts=WALK[2:], bound=bound, batch_size=batch_size):
                verifier.feed(batch)
                unpositioned += len(batch)
                walked()
        report = verifier.finish()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(SEALED_OUT_OF_RANGES_SQL)
                below_one, sealed_unpositioned = cursor.fetchone()
                outside = below_one + max(0, sealed_unpositioned - unpositioned)
            else:
                cursor.execute(SEALED_UP_TO_SQL, [last_position])
                outside = max(0, cursor.fetchone()[0] - report.events)
    if outside:
        report.findings.append(Finding("outside_walk", {"count": outside}))
    return report


@contextlib.contextmanager
def _verifier_session() -> Iterator[None]:
    """The verifier's settings on the default connection (PostgreSQL): JIT off (NO_JIT) and pg_catalog first
    in the search path (CATALOG_FIRST); both back to the session's defaults afterwards."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(NO_JIT)
        cursor.execute(CATALOG_FIRST)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")
            cursor.execute("RESET search_path")


def _walk_positions(
    walk: _Walk, verifier: ChainVerifier, *, workers: int | None, walked: Callable[[], None], batch_size: int
) -> int:
    """The positioned events into `verifier`, a range at a time (`RANGE`): by a pool of processes from
    PARALLEL_MIN_EVENTS on with 2 or more workers, else here, each range going on from the walk's state (on
    SQLite, which has no COPY, in one walk of batches instead); the last position walked."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(seq), max(seq) FROM audit_accessevent WHERE seq > 0")
        first_position, last = cursor.fetchone()
    if last is None:
        return 0
    # Default: half the CPUs (each process keeps a PostgreSQL backend busy too), at least 2 (one reads while
    # the other walks).
    processes = workers if workers is not None else (WORKERS or max(2, (os.cpu_count() or 1) // 2))
    pooled = processes > 1 and last - first_position >= PARALLEL_MIN_EVENTS
    if not pooled and connection.vendor != "postgresql":
        walked_to = 0
        for batch in event_rows(parts=WALK[1:2], batch_size=batch_size):
            verifier.feed(batch)
            walked_to = batch[-1][1]
            walked()
        return walked_to
    # From the first position kept (a prune removes the oldest), so the first range is the walk's own.
    ranges = [(lo, min(lo + RANGE_EVENTS - 1, last)) for lo in range(first_position, last + 1, RANGE_EVENTS)]
    if not pooled:
        # One process: a reader thread reads the next range (PostgreSQL works, the driver waits without the
        # GIL) while this one walks the range before it.
        connection.ensure_connection()
        raw = connection.connection
        with ThreadPoolExecutor(1, thread_name_prefix="access-log-reader") as reader:
            upcoming = reader.submit(_read_range, raw, *ranges[0])
            for number in range(len(ranges)):
                read = upcoming.result()
                if number + 1 < len(ranges):
                    upcoming = reader.submit(_read_range, raw, *ranges[number + 1])
                part = _walk_read(walk, read, verifier.state())
                if part.report.events:
                    verifier.merge(part)
                    walked()
        return last
    later = ranges[1:]
    with contextlib.ExitStack() as stack:
        parts: Iterator[PartResult]
        # A pool needs the parent's connection closed (forked processes must not share it): not within a
        # transaction. It starts on the later ranges while this process walks the first.
        if later and not connection.in_atomic_block:
            parts = stack.enter_context(_pooled(walk, later, processes))
        else:
            parts = (walk_range(walk, lo, hi) for lo, hi in later)
        verifier.merge(walk_range(walk, *ranges[0], verifier.state()))
        walked()
        for (lo, hi), part in zip(later, parts, strict=True):
            if part.report.events and not verifier.joins(part):
                part = walk_range(walk, lo, hi, verifier.state())
            if part.report.events:
                verifier.merge(part)
                walked()
    return last


@contextlib.contextmanager
def _pooled(walk: _Walk, ranges: list[tuple[int, int]], processes: int) -> Iterator[Iterator[PartResult]]:
    """The ranges walked by a pool of forked processes, each on a connection of its own, in order."""
    global _POOL_WALK
    _POOL_WALK = walk
    connections.close_all()  # a forked process must not share the parent's connection
    context = multiprocessing.get_context("fork")
    try:
        with context.Pool(processes) as pool:
            yield pool.imap(_pool_job, [(lo, hi, None) for lo, hi in ranges])
    finally:
        _POOL_WALK = None


def verify_chain(*, batch_size: int = BATCH_SIZE) -> ChainBreak | None:
    """The first place where the chain itself breaks (checkpoints aside), or None when it is whole."""
    report = verify_access_log(use_checkpoints=False, batch_size=batch_size)
    if report.intact:
        return None
    finding = report.findings[0]
    return ChainBreak(finding.event_id, finding.message)
