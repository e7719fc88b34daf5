"""Verifying the access log: the chain event by event, then against the signed checkpoints.

One engine for both ways in: audit/verify.py feeds it rows from the database, audit/offline_verify.py
from an export file. A row is the event's columns as the database returns them (`ROW_COLUMNS`), so
no model objects are built; the links are recomputed with the chain keys (audit/chain.py).

Every kind of tampering is named (`Finding.kind`), and verification goes on after one, so a rewritten
past and a deleted tail are both reported:

- `link`: an event does not link to the one before it (removed or moved events);
- `changed`: an event does not match its link (rewritten, or written without the chain key);
- `unkeyed`: an event without a chain key after keyed ones (only the oldest events may be unkeyed);
- `unknown_key`: an event under a key id the verifier does not hold;
- `sequence`: an event's position is not the one due (removed events, or a prune record that miscounts);
- `backdated`: an event's time runs back further than AUDIT_MAX_CLOCK_STEP_BACK_SECONDS allows;
- `forward_dated`, `future`: an event's time is later (by more than that allowance, the clock skew)
  than the signing of the first checkpoint that covers it, or, when none does yet, than the time of
  verification. Such an event does not set the time the next ones are held to, so the genuine event
  after it is not called backdated: the checkpoints decide which side of a step back is wrong;
- `index`: the patron index rows of an event do not match its patrons;
- `truncated`: a checkpointed head is past the end of the log (the newest events were deleted);
- `head_missing`: a checkpointed head is missing from within the log (events were deleted there);
- `checkpoint_mismatch`: a checkpointed head is there but is not the event that was signed;
- `pruned_within_retention` (`pruned_after_checkpoint` for a checkpoint without its head's time): a
  checkpointed head is gone under a prune record although it was younger than the retention;
- `prune_miscount`: a checkpointed head that a prune removed was at a position after the events the
  prune records account for;
- `bad_signature`, `unknown_signing_key`, `checkpoint_sequence`, `unreadable_checkpoint`: the
  checkpoints themselves were forged, changed or removed.

A prune record is whatever its writer claims (the database owner writes it), so prunes are judged by
the checkpoints, which the database cannot forge: a checkpoint whose head was pruned is legitimate only
when that head was written before the retention's start (`retention_start`: ACCESS_LOG_RETENTION_MONTHS
before the time of verification, give or take `RETENTION_MARGIN`), and only when its position is among
the events the prune records say were removed.

This module imports nothing from Django: the offline verifier uses it.
"""

import bisect
import calendar
import dataclasses
import datetime
import ipaddress
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.chain import (
    GENESIS_HASH,
    UnlinkableEvent,
    address_text,
    from_microseconds,
    hmac_base,
    legacy_content,
    legacy_link,
    link_message,
    microseconds,
)
from audit.checkpoint_files import Checkpoint, UnreadableCheckpoint, utc_text

ROW_COLUMNS = (
    "id",
    "seq",
    "at_us",
    "actor_id",
    "actor_username",
    "actor_municipality_id",
    "client_ip",
    "action",
    "resource",
    "patron_ids",
    "data_categories",
    "reason",
    "outcome",
    "detail",
    "prev_hash",
    "hash",
    "key_id",
    "index_patron_ids",
)
MAX_FINDINGS = 100
# How much younger than the retention's start a pruned head may be before it is named: the prune's
# cutoff is the start of a local day (up to three hours off UTC), month lengths differ, and the
# clocks of the host that signed and the one that verifies may differ a little.
RETENTION_MARGIN = datetime.timedelta(days=1)
# The times a datetime can hold, as integer microseconds: an event's time outside them is a finding.
FIRST_US = microseconds(datetime.datetime.min.replace(tzinfo=datetime.UTC))
LAST_US = microseconds(datetime.datetime.max.replace(tzinfo=datetime.UTC))


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogs (makemessages); the Django command translates it."""
    return message


def ngettext_lazy(singular: str, plural: str) -> tuple[str, str]:
    """Marks a message and its plural for the catalogs: named as Django's so that makemessages takes both (this
    module stays free of Django for the offline verifier). The Django command picks the form by the count."""
    return singular, plural


def english_plural(singular: str, plural: str, count: int) -> str:
    """`ngettext` without catalogs (the offline verifier's English)."""
    return singular if count == 1 else plural


TEMPLATES = {
    "link": gettext_noop("Event %(event)s does not link to the event before it: an event was removed or moved."),
    "changed": gettext_noop(
        "Event %(event)s does not match its link: it was changed, or written by someone without the chain key."
    ),
    "unkeyed": gettext_noop("Event %(event)s has no chain key although keyed events come before it: a forged event."),
    "outside_walk": gettext_noop(
        "%(count)s sealed events lie outside the chain's order (a position or an id below 1), where the walk "
        "does not reach: forged events."
    ),
    "key_back": gettext_noop(
        "Event %(event)s is linked under the chain key %(key)s, older than the key %(newer)s of an event before it: "
        "a retired key in use, a forged event."
    ),
    "unknown_key": gettext_noop(
        "Event %(event)s is under the chain key %(key)s, which the verifier does not hold: a forged event, "
        "or a key retired from AUDIT_CHAIN_KEY too early."
    ),
    "sequence": gettext_noop(
        "Event %(event)s is number %(seq)s of the chain where number %(expected)s was due: events were removed, "
        "or a prune record miscounts."
    ),
    "backdated": gettext_noop(
        "Event %(event)s is dated %(at)s, %(seconds)s s before an event written earlier (at most %(allowed)s s "
        "allowed): a backdated event."
    ),
    "forward_dated": gettext_noop(
        "Event %(event)s is dated %(at)s, %(seconds)s s after the checkpoint of %(checkpoint)s that first "
        "signed it (at most %(allowed)s s allowed): a forward-dated event."
    ),
    "future": gettext_noop(
        "Event %(event)s is dated %(at)s, %(seconds)s s after the time of verification, %(now)s (at most "
        "%(allowed)s s allowed): a forward-dated event."
    ),
    "index": gettext_noop("Event %(event)s: its patron index rows do not match its patrons."),
    "truncated": gettext_noop(
        "The checkpoint of %(checkpoint)s names event %(head)s (number %(count)s of the chain) as the head, but "
        "the log ends at event %(last)s: the newest events were deleted."
    ),
    "head_missing": gettext_noop(
        "The checkpoint of %(checkpoint)s names event %(head)s as the head, and it is missing: events were deleted."
    ),
    "checkpoint_mismatch": gettext_noop(
        "Event %(event)s is not the event the checkpoint of %(checkpoint)s signed (its link or position "
        "differs): the past was rewritten."
    ),
    "pruned_within_retention": gettext_noop(
        "Events %(first)s to %(last)s were deleted under a prune record although they were within the "
        "retention of %(months)s months: the checkpoint of %(checkpoint)s pinned event %(first)s, written at "
        "%(head_at)s, and only events before %(start)s were due."
    ),
    "pruned_after_checkpoint": gettext_noop(
        "Events %(first)s to %(last)s were deleted under a prune record although the checkpoint of "
        "%(checkpoint)s, which pinned event %(first)s, was signed within the retention of %(months)s months "
        "(only events before %(start)s were due): events deleted too early."
    ),
    "prune_miscount": gettext_noop(
        "The checkpoint of %(checkpoint)s signed event %(head)s as number %(count)s of the chain, but the prune "
        "records account for only %(removed)s events before event %(first)s: a prune record miscounts."
    ),
    "bad_signature": gettext_noop("The checkpoint %(source)s has a bad signature: a forged checkpoint."),
    "unknown_signing_key": gettext_noop(
        "The checkpoint %(source)s is signed with the key %(key)s, and no public key with that id is known."
    ),
    "checkpoint_sequence": gettext_noop(
        "The checkpoint %(source)s does not follow the one before it: a checkpoint was changed or removed."
    ),
    "unreadable_checkpoint": gettext_noop("%(source)s is not a readable checkpoint."),
}


@dataclass(frozen=True)
class Finding:
    kind: str
    params: dict
    event_id: int | None = None

    @property
    def template(self) -> str:
        return TEMPLATES[self.kind]

    @property
    def message(self) -> str:
        return self.template % self.params


@dataclass
class Report:
    # Pruned checkpoints are judged against it: ACCESS_LOG_RETENTION_MONTHS before the verification.
    retention_start: datetime.datetime
    events: int = 0
    first_id: int | None = None
    last_id: int | None = None
    # Events before the first keyed one: plain SHA-256 links, written before the chain key existed.
    unkeyed: int = 0
    last_unkeyed_id: int | None = None
    first_keyed_id: int | None = None
    # The key of the walk's first keyed event (a part of the chain walked on its own is joined by it).
    first_key_id: str | None = None
    key_ids: Counter = field(default_factory=Counter)
    pruned: int = 0
    pruned_before: str | None = None
    checkpoints: int = 0
    # Checkpoints whose head a prune removed, each judged against the retention's start.
    checkpoints_pruned: int = 0
    retention_months: int = 0
    newest_checkpoint: Checkpoint | None = None
    # Events after the newest checkpoint's head: not yet protected against a deletion.
    uncovered: int = 0
    findings: list[Finding] = field(default_factory=list)
    findings_left_out: int = 0

    @property
    def intact(self) -> bool:
        return not self.findings and not self.findings_left_out


@dataclass(frozen=True)
class ChainState:
    """Where a walk stands (ChainVerifier.state): the link and position the next event must follow, the
    latest time so far, whether keyed events came already, the next checkpoint, and whether no event came yet."""

    prev_link: str
    position: int
    latest_us: int | None
    keyed_seen: bool
    next_checkpoint: int
    first_row: bool
    # The newest chain key used so far, as its rank in AUDIT_CHAIN_KEY (0 the newest; None: no keyed event yet).
    key_rank: int | None = None


@dataclass
class PartResult:
    """A part of the chain walked on its own (audit/verify.py): its report, the state it started from
    (None when resumed from the walk's own) and ended in, and its earliest time."""

    report: Report
    entry: ChainState | None
    exit: ChainState
    min_at_us: int | None


@dataclass(frozen=True)
class ChainStart:
    """Where the remaining chain begins: the genesis, or a prune's anchor with the events it removed."""

    link: str = GENESIS_HASH
    position: int = 0
    first_kept_event_id: int | None = None
    # The newest prune's cutoff (ISO text): a prune of recent events shows here (the owner may prune).
    cutoff: str | None = None


def chain_start(*, first_id: int | None, prunes: list[tuple[int, int, str, str]]) -> ChainStart:
    """From the prune records (id order: first kept event id, events removed, anchor, cutoff).

    The newest prune's anchor, when the first remaining event is the one it kept; the events all
    prunes removed come before it. Otherwise the genesis: any other missing prefix breaks the chain.
    """
    if prunes and first_id == prunes[-1][0]:
        return ChainStart(
            link=prunes[-1][2],
            position=sum(p[1] for p in prunes),
            first_kept_event_id=first_id,
            cutoff=prunes[-1][3],
        )
    return ChainStart()


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same time `months` calendar months earlier, the day clipped to the month's length (as
    dateutil's relativedelta, which the offline verifier does without)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    return moment.replace(year=year, month=month + 1, day=min(moment.day, calendar.monthrange(year, month + 1)[1]))


def retention_start(*, verified_at: datetime.datetime, retention_months: int) -> datetime.datetime:
    """The time before which events may have been pruned (ACCESS_LOG_RETENTION_MONTHS before `verified_at`).

    A prune removes only events older than the start of the day this many months before it ran
    (audit/prune.py), and it ran before the verification, so every pruned event is older than this.
    """
    return months_before(verified_at.astimezone(datetime.UTC), retention_months)


def hmac_bases(keys: dict[str, bytes]) -> dict:
    return {key_id: hmac_base(key) for key_id, key in keys.items()}


def checked_checkpoints(
    entries: Iterable[Checkpoint | UnreadableCheckpoint],
    public_keys: dict[str, Ed25519PublicKey],
    *,
    all_signatures: bool = False,
) -> tuple[list[Checkpoint], list[Finding]]:
    """The checkpoints in order, and what is wrong with them.

    Each must follow the one before it (its `previous` is that one's digest); the newest signature
    then vouches for all of them, so only it is verified unless `all_signatures`. The oldest may
    follow one that is gone: old checkpoint files may be removed once their events are pruned.
    """
    checkpoints: list[Checkpoint] = []
    findings: list[Finding] = []
    previous: Checkpoint | None = None
    for entry in entries:
        if isinstance(entry, UnreadableCheckpoint):
            findings.append(Finding("unreadable_checkpoint", {"source": ":".join(str(entry).split(":")[:2])}))
            continue
        if previous is not None and entry.previous != previous.digest:
            findings.append(Finding("checkpoint_sequence", {"source": entry.source}))
        checkpoints.append(entry)
        previous = entry
    for checkpoint in checkpoints if all_signatures else checkpoints[-1:]:
        valid = checkpoint.signature_valid(public_keys)
        if valid is None:
            findings.append(Finding("unknown_signing_key", {"source": checkpoint.source, "key": checkpoint.key_id}))
        elif not valid:
            findings.append(Finding("bad_signature", {"source": checkpoint.source}))
    return checkpoints, findings


class ChainVerifier:
    """Feed it the rows in the chain's order (`feed`): those from before the chain key by id, then the
    sealed ones by position (audit/verify.py, WALK); then `finish` for the report.

    `checkpoints` are those of `checked_checkpoints`, oldest first; each head is compared with the
    event at its position as the stream passes it. Positions, not ids: ids are taken when an event is
    written and sealing orders events by commit, so an id may come after a higher one in the chain.
    """

    def __init__(
        self,
        *,
        chain_keys: dict[str, bytes],
        max_step_back_seconds: int,
        start: ChainStart,
        checkpoints: list[Checkpoint],
        verified_at: datetime.datetime,
        retention_months: int,
        max_findings: int = MAX_FINDINGS,
    ) -> None:
        self.bases = hmac_bases(chain_keys)
        # Keys newest first: a chain's keys only ever get newer along it (`key_back`).
        self.key_ranks = {key_id: rank for rank, key_id in enumerate(self.bases)}
        self.key_rank: int | None = None
        self.max_step_back_us = max_step_back_seconds * 1_000_000
        self.start = start
        self.verified_at = verified_at
        self.report = Report(
            pruned=start.position,
            pruned_before=start.cutoff,
            retention_months=retention_months,
            retention_start=retention_start(verified_at=verified_at, retention_months=retention_months),
        )
        self.max_findings = max_findings
        self.prev_link = start.link
        self.position = start.position
        self.latest_us: int | None = None
        self.keyed_seen = False
        self.checkpoints = sorted(checkpoints, key=lambda c: c.count)
        # The latest time an event may carry: the signing of the first checkpoint that covers it, or
        # the verification for the events no checkpoint covers yet; each plus the allowed skew.
        self.signed_us = [microseconds(c.moment) + self.max_step_back_us for c in self.checkpoints]
        self.verified_us = microseconds(verified_at) + self.max_step_back_us
        self.report.checkpoints = len(checkpoints)
        self.report.newest_checkpoint = checkpoints[-1] if checkpoints else None
        self.next_checkpoint = 0
        self.first_row = True

    def state(self) -> ChainState:
        """Where the walk stands: what the next event is checked against (audit/verify.py hands it on)."""
        return ChainState(
            prev_link=self.prev_link,
            position=self.position,
            latest_us=self.latest_us,
            keyed_seen=self.keyed_seen,
            next_checkpoint=self.next_checkpoint,
            first_row=self.first_row,
            key_rank=self.key_rank,
        )

    def resume(self, state: ChainState) -> None:
        self.prev_link = state.prev_link
        self.position = state.position
        self.latest_us = state.latest_us
        self.keyed_seen = state.keyed_seen
        self.next_checkpoint = state.next_checkpoint
        self.first_row = state.first_row
        self.key_rank = state.key_rank

    def assume_start(self, *, prev_hash: str, seq: int) -> ChainState:
        """Walk a later part of the chain on its own (a range of positions, audit/verify.py): as if the
        event before `seq` were whole, had the link `prev_hash` and the latest time so far. Whoever joins
        the parts checks that assumption against the part before (`joins`); the assumed state is returned.
        """
        self.resume(
            ChainState(
                prev_link=prev_hash,
                position=seq - 1,
                latest_us=None,
                keyed_seen=True,
                next_checkpoint=bisect.bisect_left([c.count for c in self.checkpoints], seq),
                first_row=False,
            )
        )
        return self.state()

    def joins(self, part: "PartResult") -> bool:
        """Whether a part walked on its own from an assumed start (`assume_start`) found exactly what this
        walk would have found going on into it: its first event links to this walk's last one and has the
        next position, no earlier time than this walk's latest allows, and the checkpoints stand where
        the part assumed. Otherwise its events are walked again from here.
        """
        entry = part.entry
        return (
            not self.first_row
            and self.keyed_seen
            and entry is not None
            and entry.prev_link == self.prev_link
            and entry.position == self.position
            and entry.next_checkpoint == self.next_checkpoint
            and (
                self.key_rank is None
                or part.report.first_key_id is None
                or self.key_ranks.get(part.report.first_key_id, -1) <= self.key_rank
            )
            and (
                self.latest_us is None
                or part.min_at_us is None
                or part.min_at_us >= self.latest_us - self.max_step_back_us
            )
        )

    def merge(self, part: "PartResult") -> None:
        """Take on a part's findings, counts and end state (after `joins`, or for a part resumed from here)."""
        report, other = self.report, part.report
        for finding in other.findings:
            if len(report.findings) < self.max_findings:
                report.findings.append(finding)
            else:
                report.findings_left_out += 1
        report.findings_left_out += other.findings_left_out
        report.events += other.events
        report.unkeyed += other.unkeyed
        report.last_unkeyed_id = other.last_unkeyed_id or report.last_unkeyed_id
        report.first_keyed_id = report.first_keyed_id or other.first_keyed_id
        report.first_key_id = report.first_key_id or other.first_key_id
        report.key_ids.update(other.key_ids)
        report.first_id = report.first_id if report.first_id is not None else other.first_id
        report.last_id = other.last_id if other.last_id is not None else report.last_id
        report.checkpoints_pruned += other.checkpoints_pruned
        end = part.exit
        latest = self.latest_us if end.latest_us is None else max(end.latest_us, self.latest_us or end.latest_us)
        key_rank = self.key_rank if end.key_rank is None else end.key_rank
        self.resume(dataclasses.replace(end, latest_us=latest, key_rank=key_rank))

    def _found(self, kind: str, event_id: int | None = None, **params) -> None:
        if len(self.report.findings) >= self.max_findings:
            self.report.findings_left_out += 1
            return
        self.report.findings.append(Finding(kind, {"event": event_id, **params}, event_id))

    def _next_checkpoint_id(self) -> float:
        if self.next_checkpoint < len(self.checkpoints):
            return self.checkpoints[self.next_checkpoint].last_id
        return float("inf")

    def _next_checkpoint_position(self) -> float:
        if self.next_checkpoint < len(self.checkpoints):
            return self.checkpoints[self.next_checkpoint].count
        return float("inf")

    def _latest_allowed_us(self) -> int:
        """The latest time the events up to the next checkpoint's head may carry (microseconds)."""
        if self.next_checkpoint < len(self.checkpoints):
            return self.signed_us[self.next_checkpoint]
        return self.verified_us

    def _judge_pruned_checkpoints(self, first_id: int) -> None:
        """The checkpoints whose head a prune removed: each head must be older than the retention's start
        and among the events the prune records account for. Named: the oldest head that was not, with
        every event from it to the first one kept."""
        if self.start.first_kept_event_id is None:
            return
        start = self.report.retention_start
        too_young = miscounted = None
        while self._next_checkpoint_id() < first_id:
            checkpoint = self.checkpoints[self.next_checkpoint]
            self.next_checkpoint += 1
            self.report.checkpoints_pruned += 1
            # A checkpoint without its head's time (v1): the head was written no later than its signing.
            written = checkpoint.head_moment or checkpoint.moment
            if too_young is None and written >= start + RETENTION_MARGIN:
                too_young = checkpoint
            if checkpoint.count > self.start.position:
                miscounted = checkpoint
        if too_young is not None:
            self._found(
                "pruned_within_retention" if too_young.head_at is not None else "pruned_after_checkpoint",
                too_young.last_id,
                first=too_young.last_id,
                last=first_id - 1,
                months=self.report.retention_months,
                checkpoint=too_young.at,
                head_at=too_young.head_at,
                start=start.date().isoformat(),
            )
        if miscounted is not None:
            self._found(
                "prune_miscount",
                miscounted.last_id,
                checkpoint=miscounted.at,
                head=miscounted.last_id,
                count=miscounted.count,
                removed=self.start.position,
                first=first_id,
            )

    def _heads_missing(self, position: int) -> None:
        """The stream passed checkpointed heads' positions without them (events deleted within the log)."""
        while self._next_checkpoint_position() < position:
            checkpoint = self.checkpoints[self.next_checkpoint]
            self.next_checkpoint += 1
            self._found("head_missing", checkpoint.last_id, checkpoint=checkpoint.at, head=checkpoint.last_id)

    def _checkpoint_reached(self, event_id: int, link: str) -> None:
        """The stream reached the next checkpointed head's position (rare: once a minute of events)."""
        while self._next_checkpoint_position() == self.position:
            checkpoint = self.checkpoints[self.next_checkpoint]
            self.next_checkpoint += 1
            if checkpoint.last_hash != link or checkpoint.last_id != event_id:
                self._found("checkpoint_mismatch", event_id, checkpoint=checkpoint.at)

    def _forward_dated(self, event_id: int, at_us: int) -> None:
        """Named against the checkpoint that first covers the event, or the verification's time."""
        params = {
            "at": from_microseconds(at_us).isoformat(),
            "seconds": (at_us - self._latest_allowed_us() + self.max_step_back_us) // 1_000_000,
            "allowed": self.max_step_back_us // 1_000_000,
        }
        if self.next_checkpoint < len(self.checkpoints):
            self._found("forward_dated", event_id, checkpoint=self.checkpoints[self.next_checkpoint].at, **params)
        else:
            self._found("future", event_id, now=utc_text(self.verified_at), **params)

    def feed(self, rows: Iterable[tuple]) -> None:
        bases = self.bases
        message = link_message
        address = address_text
        prev_link = self.prev_link
        position = self.position
        latest = self.latest_us
        step_back = self.max_step_back_us
        keyed_seen = self.keyed_seen
        report = self.report
        key_ids = report.key_ids
        next_position = self._next_checkpoint_position()
        latest_allowed = self._latest_allowed_us()
        count = 0
        for row in rows:
            (
                event_id,
                seq,
                at_us,
                actor_id,
                username,
                municipality_id,
                client_ip,
                action,
                resource,
                patron_ids,
                categories,
                reason,
                outcome,
                detail,
                prev_hash,
                link,
                key_id,
                index_ids,
            ) = row
            if self.first_row:
                self.first_row = False
                report.first_id = event_id
                self._judge_pruned_checkpoints(event_id)
                next_position = self._next_checkpoint_position()
                latest_allowed = self._latest_allowed_us()
            count += 1
            position += 1
            # A time no datetime holds (BC, past year 9999): no writer wrote it (changed), and it dates nothing.
            out_of_range = at_us is not None and not FIRST_US <= at_us <= LAST_US
            if prev_hash != prev_link:
                self._found("link", event_id)
            if key_id is None:
                if keyed_seen:
                    self._found("unkeyed", event_id)
                elif not _legacy_matches(row):
                    self._found("changed", event_id)
                report.unkeyed += 1
                report.last_unkeyed_id = event_id
            else:
                if not keyed_seen:
                    keyed_seen = True
                    report.first_keyed_id = event_id
                key_ids[key_id] += 1
                base = bases.get(key_id)
                rank = self.key_ranks.get(key_id)
                if rank is not None:
                    if self.key_rank is None:
                        report.first_key_id = report.first_key_id or key_id
                        self.key_rank = rank
                    elif rank > self.key_rank:
                        newer = next(k for k, r in self.key_ranks.items() if r == self.key_rank)
                        self._found("key_back", event_id, key=key_id, newer=newer)
                    else:
                        self.key_rank = rank
                if base is None:
                    self._found("unknown_key", event_id, key=key_id)
                else:
                    mac = base.copy()
                    try:
                        mac.update(
                            message(
                                seq,
                                at_us,
                                actor_id,
                                username,
                                municipality_id,
                                address(client_ip),
                                action,
                                resource,
                                patron_ids,
                                categories,
                                reason,
                                outcome,
                                detail,
                                prev_hash,
                                key_id,
                            )
                        )
                    except UnlinkableEvent:
                        self._found("changed", event_id)
                    else:
                        if mac.finalize().hex() != link or out_of_range:
                            self._found("changed", event_id)
                if seq != position:
                    self._found("sequence", event_id, seq=seq, expected=position)
                    if isinstance(seq, int):
                        position = seq
            if position > next_position:
                self._heads_missing(position)
                next_position = self._next_checkpoint_position()
                latest_allowed = self._latest_allowed_us()
            if at_us is not None and not out_of_range:
                if at_us > latest_allowed:
                    self._forward_dated(event_id, at_us)  # and it sets no time for the next events
                elif latest is None or at_us > latest:
                    latest = at_us
                elif at_us < latest - step_back:
                    self._found(
                        "backdated",
                        event_id,
                        at=from_microseconds(at_us).isoformat(),
                        seconds=(latest - at_us) // 1_000_000,
                        allowed=step_back // 1_000_000,
                    )
            if index_ids != patron_ids and not _same_ids(index_ids, patron_ids):
                self._found("index", event_id)
            if position == next_position:
                self.position = position
                self._checkpoint_reached(event_id, link)
                next_position = self._next_checkpoint_position()
                latest_allowed = self._latest_allowed_us()
            prev_link = link
            report.last_id = event_id
        self.prev_link = prev_link
        self.position = position
        self.latest_us = latest
        self.keyed_seen = keyed_seen
        report.events += count

    def finish(self) -> Report:
        report = self.report
        for checkpoint in self.checkpoints[self.next_checkpoint :]:
            self._found(
                "truncated",
                checkpoint.last_id,
                checkpoint=checkpoint.at,
                head=checkpoint.last_id,
                count=checkpoint.count,
                last=report.last_id if report.last_id is not None else "-",
            )
        newest = report.newest_checkpoint
        if newest is not None and report.first_id is not None:
            report.uncovered = max(0, self.position - newest.count)
        elif report.first_id is not None:
            report.uncovered = report.events
        return report


def _same_ids(index_ids: str, patron_ids: str) -> bool:
    """The index rows' patron ids and the event's, as sets: the texts differ only in order (rare)."""
    try:
        return sorted(json.loads(index_ids)) == sorted(json.loads(patron_ids))
    except (TypeError, ValueError):
        return False


def _legacy_matches(row: tuple) -> bool:
    """Whether an event written before the chain key matches its plain SHA-256 link (slow path: few).

    The old writer hashed the client address as Python printed it (`str(ipaddress)`), which for an
    IPv4-mapped IPv6 address is not how the database prints it ("::ffff:a00:1" against
    "::ffff:10.0.0.1"), so each spelling of the stored address is tried.
    """
    (_id, _seq, at_us, actor_id, username, municipality_id, client_ip, action, resource, patron_ids, categories,
     reason, outcome, detail, prev_hash, link, _key_id, _index) = row  # fmt: skip
    if at_us is None:
        return False
    try:
        fields = {
            "at": from_microseconds(at_us),
            "actor_id": actor_id,
            "actor_username": username,
            "actor_municipality_id": municipality_id,
            "action": action,
            "resource": resource,
            "patron_ids": json.loads(patron_ids),
            "data_categories": json.loads(categories),
            "reason": reason,
            "outcome": outcome,
            "detail": detail,
        }
        return any(
            legacy_link(legacy_content(client_ip=address, **fields), prev_hash) == link
            for address in _address_spellings(client_ip)
        )
    except (TypeError, ValueError, OverflowError):
        return False


def _address_spellings(text: str | None) -> list[str | None]:
    if text is None:
        return [None]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return [text]
    spellings: list[str | None] = [text, str(address)]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        mapped = int(address.ipv4_mapped)
        spellings.append(f"::ffff:{mapped >> 16:x}:{mapped & 0xFFFF:x}")
    return spellings


def verify_rows(
    rows: Iterable[Iterable[tuple]],
    *,
    chain_keys: dict[str, bytes],
    max_step_back_seconds: int,
    start: ChainStart,
    checkpoints: list[Checkpoint],
    verified_at: datetime.datetime,
    retention_months: int,
    checkpoint_findings: Sequence[Finding] = (),
) -> Report:
    """Run the engine over batches of rows; the checkpoints' own findings come first.

    `verified_at` is the time of verification (the export's time for a copy), `retention_months` the
    log's retention (ACCESS_LOG_RETENTION_MONTHS): what pruned checkpoints and undated events are held to.
    """
    verifier = ChainVerifier(
        chain_keys=chain_keys,
        max_step_back_seconds=max_step_back_seconds,
        start=start,
        checkpoints=checkpoints,
        verified_at=verified_at,
        retention_months=retention_months,
    )
    verifier.report.findings.extend(checkpoint_findings)
    for batch in rows:
        verifier.feed(batch)
    return verifier.finish()


SUMMARY = {
    "intact": ngettext_lazy(
        "Access log intact: %(events)s event verified.", "Access log intact: %(events)s events verified."
    ),
    "tampered": ngettext_lazy(
        "Access log tampered with: %(count)s finding.", "Access log tampered with: %(count)s findings."
    ),
    "keys": gettext_noop("Events under each chain key: %(keys)s."),
    "unkeyed": gettext_noop(
        "%(count)s events up to event %(last)s were written before the chain key: plain SHA-256, not keyed. "
        "The link of the first keyed event, %(first_keyed)s, protects them."
    ),
    "unkeyed_only": gettext_noop(
        "All %(count)s events were written before the chain key: plain SHA-256, not keyed, and no keyed "
        "event protects them yet."
    ),
    "pruned": gettext_noop(
        "The log starts at event %(first)s: the prune records account for %(count)s older events (the newest "
        "record, which its writer alone vouches for, gives its cutoff as %(cutoff)s)."
    ),
    "pruned_checked": gettext_noop(
        "%(count)s checkpoints pinned pruned events; each head was older than the retention of %(months)s "
        "months (events before %(start)s were due)."
    ),
    "pruned_unchecked": gettext_noop(
        "No checkpoint pinned a pruned event: nothing outside the database vouches that the pruned events "
        "were older than the retention."
    ),
    "checkpoints": ngettext_lazy(
        "Checked against %(count)s checkpoint; the newest, of %(at)s, signed event %(head)s (number %(number)s).",
        "Checked against %(count)s checkpoints; the newest, of %(at)s, signed event %(head)s (number %(number)s).",
    ),
    "uncovered": ngettext_lazy(
        "%(count)s newer event is not in a checkpoint yet.", "%(count)s newer events are not in a checkpoint yet."
    ),
    "no_checkpoints": gettext_noop(
        "No checkpoints in %(directory)s: a deletion of the newest events cannot be detected."
    ),
    "left_out": ngettext_lazy("%(count)s further finding is left out.", "%(count)s further findings are left out."),
}


def report_lines(report: Report, *, directory: str, translate=gettext_noop, plural=english_plural) -> list[str]:
    """The report as lines (findings first), in English or through `translate` and `plural` (Django's gettext
    and ngettext)."""

    def counted(key: str, count: int) -> str:
        return plural(*SUMMARY[key], count)

    lines = [translate(finding.template) % finding.params for finding in report.findings]
    if report.findings_left_out:
        lines.append(counted("left_out", report.findings_left_out) % {"count": report.findings_left_out})
    if report.intact:
        lines.append(counted("intact", report.events) % {"events": report.events})
    else:
        findings = len(report.findings) + report.findings_left_out
        lines.append(counted("tampered", findings) % {"count": findings})
    if report.key_ids:
        keys = ", ".join(f"{key_id} {count}" for key_id, count in sorted(report.key_ids.items()))
        lines.append(translate(SUMMARY["keys"]) % {"keys": keys})
    if report.unkeyed and report.first_keyed_id is not None:
        lines.append(
            translate(SUMMARY["unkeyed"])
            % {"count": report.unkeyed, "last": report.last_unkeyed_id, "first_keyed": report.first_keyed_id}
        )
    elif report.unkeyed:
        lines.append(translate(SUMMARY["unkeyed_only"]) % {"count": report.unkeyed})
    if report.pruned:
        lines.append(
            translate(SUMMARY["pruned"])
            % {"first": report.first_id, "count": report.pruned, "cutoff": report.pruned_before}
        )
        if not report.checkpoints_pruned:
            lines.append(translate(SUMMARY["pruned_unchecked"]))
        elif report.intact:
            lines.append(
                translate(SUMMARY["pruned_checked"])
                % {
                    "count": report.checkpoints_pruned,
                    "months": report.retention_months,
                    "start": report.retention_start.date().isoformat(),
                }
            )
    newest = report.newest_checkpoint
    if newest is None:
        lines.append(translate(SUMMARY["no_checkpoints"]) % {"directory": directory})
    else:
        lines.append(
            counted("checkpoints", report.checkpoints)
            % {"count": report.checkpoints, "at": newest.at, "head": newest.last_id, "number": newest.count}
        )
        if report.uncovered:
            lines.append(counted("uncovered", report.uncovered) % {"count": report.uncovered})
    return lines
