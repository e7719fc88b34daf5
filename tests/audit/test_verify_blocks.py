"""The verifier's fast way on PostgreSQL (audit/verify.py, `_fast_block`): a block of COPY lines checked at
once, and any block the fast way does not vouch for walked by the engine line by line, finds exactly what
the engine finds. Every tampering, checkpoint and prune test of the access log again with blocks of three
events (so each tampered event lies in a block with whole ones, at its start, middle or end), in one
process; then an attack on each check of the fast way, its findings compared with the engine's alone,
and events the fast way cannot read (an IPv6 address, escaped characters, a time before 2000) that must
still verify intact.
"""

import dataclasses
import datetime
import ipaddress

import pytest
from django.db import connection
from django.db.models import F

from audit import verify
from audit.keys import chain_keys
from audit.models import AccessEvent, AccessEventPatron, Action
from audit.services import access_event_record
from tests.audit import test_access_log, test_checkpoints, test_prune, test_tampering
from tests.audit.test_access_log import Tampering
from tests.audit.test_tampering import checkpoint, empty_log, kinds, record, record_at

KEY_ID, KEY = next(iter(chain_keys().items()))

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY lines are PostgreSQL's"),
]

directory = test_checkpoints.directory
old_and_new = test_prune.old_and_new
for _module in (test_tampering, test_checkpoints, test_prune):
    globals().update({name: test for name, test in vars(_module).items() if name.startswith("test_")})
globals().update({name: test for name, test in vars(test_access_log).items() if name.endswith("_is_detected")})


@pytest.fixture(autouse=True)
def blocks_of_three(monkeypatch):
    monkeypatch.setattr(verify, "BLOCK_LINES", 3)
    monkeypatch.setattr(verify, "WORKERS", 1)


@pytest.fixture
def fast_blocks(monkeypatch):
    """How many blocks the fast way vouched for, and how many it left to the engine."""
    tally = {True: 0, False: 0}
    fast_block = verify._fast_block

    def spy(*args):
        passed = fast_block(*args)
        tally[passed] += 1
        return passed

    monkeypatch.setattr(verify, "_fast_block", spy)
    return tally


def engine_only(monkeypatch):
    """The findings of the walk with every block left to the engine (what the fast way must agree with)."""
    with monkeypatch.context() as patch:
        patch.setattr(verify, "_fast_block", lambda *args: False)
        return verify.verify_access_log(use_checkpoints=False)


def fast_and_engine(monkeypatch):
    """The findings of the walk as it runs, which must be the engine's alone (each time of verification aside)."""
    fast = verify.verify_access_log(use_checkpoints=False)
    assert kinds(fast) == kinds(engine_only(monkeypatch))
    return fast


def test_an_intact_log_goes_the_fast_way(fast_blocks):
    record(12)
    report = verify.verify_access_log(use_checkpoints=False)
    assert report.intact and report.events >= 12
    assert fast_blocks[True] >= 3, fast_blocks


def test_a_checkpointed_head_within_a_block_ends_the_block_and_is_checked(directory, fast_blocks):
    record(4)
    head = checkpoint()
    record(4)
    report = verify.verify_access_log()
    assert report.intact and report.newest_checkpoint is not None
    assert report.newest_checkpoint.last_id == head.last_id
    assert fast_blocks[True] >= 2


def test_a_head_rewritten_by_the_key_holder_within_a_block_is_named_by_the_checkpoint(directory, monkeypatch):
    """The fast way's check at a checkpointed head: the event there, relinked with the chain key (the
    links all whole), is not the one the checkpoint signed."""
    events = record(5)
    checkpoint()
    record(3)
    with Tampering():
        AccessEvent.objects.filter(pk=events[-1].pk).update(detail="rewritten")
        test_tampering.relink(events[-1].pk, key_id=KEY_ID, key=KEY)
    report = verify.verify_access_log()
    assert kinds(report) == [("checkpoint_mismatch", events[-1].pk)]


def middle_event() -> AccessEvent:
    """The middle one of nine fresh events: in a block of three with whole events around it."""
    events = record(9)
    return AccessEvent.objects.get(pk=events[4].pk)


def test_a_changed_patron_index_row_in_a_block_is_named(monkeypatch):
    victim = middle_event()
    with Tampering():
        AccessEventPatron.objects.filter(event_id=victim.pk).update(patron_id=999_999)
    report = fast_and_engine(monkeypatch)
    assert kinds(report) == [("index", victim.pk)]


def test_a_removed_patron_index_row_in_a_block_is_named(monkeypatch):
    victim = middle_event()
    with Tampering():
        AccessEventPatron.objects.filter(event_id=victim.pk).delete()
    assert kinds(fast_and_engine(monkeypatch)) == [("index", victim.pk)]


def test_a_changed_field_in_a_block_is_named(monkeypatch):
    victim = middle_event()
    with Tampering():
        AccessEvent.objects.filter(pk=victim.pk).update(resource="elsewhere")
    assert kinds(fast_and_engine(monkeypatch)) == [("changed", victim.pk)]


def test_a_changed_time_in_a_block_is_named(monkeypatch):
    victim = middle_event()
    with Tampering():
        AccessEvent.objects.filter(pk=victim.pk).update(at=victim.at + datetime.timedelta(microseconds=1))
    # Its index rows keep the old time, so the patron's report no longer finds it (as on SQLite: `p.at = e.at`).
    assert kinds(fast_and_engine(monkeypatch)) == [("changed", victim.pk), ("index", victim.pk)]


def test_a_patron_index_row_moved_to_another_time_in_a_block_is_named(monkeypatch):
    """The readers find an event's index rows by its time (AccessEvent.objects.about_patron): a row moved by a
    microsecond hides the event from the patron's report, its patron id unchanged."""
    victim = middle_event()
    with Tampering():
        AccessEventPatron.objects.filter(event_id=victim.pk).update(at=F("at") + datetime.timedelta(microseconds=1))
    assert kinds(fast_and_engine(monkeypatch)) == [("index", victim.pk)]


def test_patron_index_rows_of_two_times_in_a_block_are_named(monkeypatch):
    """One of an event's two index rows moved: the rows' times differ among themselves."""
    record(4)
    victim = access_event_record(
        actor=test_tampering.ACTOR, action=Action.PATRON_SEARCH, patron_ids=[401, 402], data_categories=["listing"]
    )
    record(4)
    with Tampering():
        AccessEventPatron.objects.filter(event_id=victim.pk, patron_id=402).update(
            at=F("at") + datetime.timedelta(microseconds=1)
        )
    assert kinds(fast_and_engine(monkeypatch)) == [("index", victim.pk)]


def test_a_changed_position_in_a_block_is_named(monkeypatch):
    victim = middle_event()
    assert victim.seq is not None
    with Tampering():
        AccessEvent.objects.filter(pk=victim.pk).update(seq=victim.seq + 1_000)
    found = {kind for kind, _event in kinds(fast_and_engine(monkeypatch))}
    assert {"changed", "sequence"} <= found


def test_a_changed_previous_link_in_a_block_is_named(monkeypatch):
    victim = middle_event()
    with Tampering():
        AccessEvent.objects.filter(pk=victim.pk).update(prev_hash="0" * 64)
    assert ("link", victim.pk) in kinds(fast_and_engine(monkeypatch))


def test_a_link_of_another_length_in_a_block_is_named(monkeypatch):
    victim = middle_event()
    assert victim.hash is not None
    with Tampering():
        AccessEvent.objects.filter(pk=victim.pk).update(hash=victim.hash[:63])
    found = kinds(fast_and_engine(monkeypatch))
    assert ("changed", victim.pk) in found


def test_an_unknown_key_id_in_a_block_is_named(monkeypatch):
    victim = middle_event()
    with Tampering():
        AccessEvent.objects.filter(pk=victim.pk).update(key_id="other")
    assert ("unknown_key", victim.pk) in kinds(fast_and_engine(monkeypatch))


def test_index_rows_given_to_an_event_without_patrons_renumbered_past_the_range_are_named(monkeypatch):
    """No link covers an event's id: the owner may renumber an event without patrons past the last id of its
    range (the ids its patron index is read for) and give it index rows there, which put it in that patron's
    report. An event outside the ids read has its rows looked up on its own."""
    record(4)
    victim = access_event_record(
        actor=test_tampering.ACTOR, action=Action.PATRON_SEARCH, patron_ids=[], data_categories=["listing"]
    )
    record(4)
    renumbered = AccessEvent.objects.order_by("-id").values_list("id", flat=True)[0] + 1_000
    with Tampering():
        AccessEvent.objects.filter(pk=victim.pk).update(id=renumbered)
        AccessEventPatron.objects.create(event_id=renumbered, patron_id=42, at=victim.at)
    assert kinds(fast_and_engine(monkeypatch)) == [("index", renumbered)]


# The times of a block are read as bytes when they are digits alone, all of one length and in order (then
# their order is their order as numbers): each test again at each place in a block of three (the first line
# goes through the engine, so `before` 2, 3, 4 put the event in the middle, last, first), also with times
# where that order is not the numbers' (before 1970, "-"; across 10^15 µs, 2001-09-09 01:46:40, one digit more).
IN_A_BLOCK = pytest.mark.parametrize("before", [2, 3, 4])
AROUND = pytest.mark.parametrize(
    "start",
    [
        None,
        datetime.datetime(1969, 12, 31, tzinfo=datetime.UTC),
        datetime.datetime(2001, 9, 9, 1, 46, 40, tzinfo=datetime.UTC),
    ],
    ids=["now", "before-1970", "across-10^15"],
)


@IN_A_BLOCK
@AROUND
def test_a_backdated_event_in_a_block_is_named(monkeypatch, before, start):
    """Written with the clock an hour back, linked by the sealer itself: only the time check can name it."""
    empty_log()
    start = start or datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    record_at(start, before)
    (victim,) = record_at(start - datetime.timedelta(hours=1), 1)
    record_at(start, 4)
    assert kinds(fast_and_engine(monkeypatch)) == [("backdated", victim.pk)]


@IN_A_BLOCK
def test_a_forward_dated_event_in_a_block_is_named(monkeypatch, before):
    now = datetime.datetime.now(datetime.UTC)
    record(before)
    (victim,) = record_at(now + datetime.timedelta(hours=1), 1)
    record(4)
    assert ("future", victim.pk) in kinds(fast_and_engine(monkeypatch))


def test_copy_output_in_chunks_other_than_rows_is_split_anew(monkeypatch):
    """psycopg2 hands COPY's output a row a call; were two rows one chunk, the walk splits the rows anew and
    finds what the engine finds."""
    merged = []

    class Merged(verify._Chunks):
        def __init__(self) -> None:
            super().__init__()
            self.write = self.merge

        def merge(self, row: bytes) -> None:
            if len(self.chunks) == 2 and self.chunks[1].count(b"\n") == 1:
                self.chunks[1] += row  # the second and third rows: one chunk
                merged.append(row)
            else:
                self.chunks.append(row)

    victim = middle_event()
    with Tampering():
        AccessEvent.objects.filter(pk=victim.pk).update(resource="elsewhere")
    monkeypatch.setattr(verify, "_Chunks", Merged)
    assert kinds(fast_and_engine(monkeypatch)) == [("changed", victim.pk)]
    assert merged


def test_events_the_fast_way_cannot_read_verify_intact_through_the_engine(fast_blocks):
    """An IPv6 address (a block the fast way leaves to the engine), tabs, a newline and backslashes (escaped
    by COPY: the engine's), times on both sides of 2000 (PostgreSQL's own epoch, where its count turns
    negative): one block before 2000 and the last one go the fast way."""
    empty_log()
    ipv6 = dataclasses.replace(test_tampering.ACTOR, client_ip=ipaddress.ip_address("2001:db8::1"))
    escaped = dataclasses.replace(test_tampering.ACTOR, username="tab\tand\nnewline\\")
    start = datetime.datetime(1999, 12, 31, 23, 58, 50, tzinfo=datetime.UTC)
    for k in range(11):
        actor = {2: ipv6, 9: escaped}.get(k, test_tampering.ACTOR)
        with test_tampering.time_machine.travel(start + datetime.timedelta(seconds=10 * k), tick=False):
            access_event_record(actor=actor, action=Action.PATRON_VIEW, patron_ids=[7, k], data_categories=["basic"])
    report = verify.verify_access_log(use_checkpoints=False)
    assert report.intact and report.events == 11, report.findings
    assert fast_blocks == {True: 2, False: 1}, "the blocks of 3: [1-3] IPv6, [4-6] before 2000, [7-9] escaped, [10]"


def test_a_fork_relinked_under_the_chain_key_in_a_block_is_named(monkeypatch):
    """An event relinked by the key holder to another previous link (its own link whole, the events after
    it untouched): only the check that each event links to the one before names it."""
    victim = middle_event()
    after = AccessEvent.objects.filter(seq__gt=victim.seq).order_by("seq").first()
    assert after is not None
    with Tampering():
        AccessEvent.objects.filter(pk=victim.pk).update(prev_hash="0" * 64)
        test_tampering.relink(victim.pk, key_id=KEY_ID, key=KEY, upto=victim.pk)
    assert kinds(fast_and_engine(monkeypatch)) == [("link", victim.pk), ("link", after.pk)]


def test_positions_moved_and_relinked_under_the_chain_key_in_a_block_are_named(monkeypatch):
    """The key holder moves the positions from an event on (a gap, as if events were removed there) and
    relinks the chain from it (every link whole, in order): only the check of the positions names it."""
    victim = middle_event()
    assert victim.seq is not None and len(str(victim.seq)) == len(str(victim.seq + 10)), "as many digits"
    with Tampering():  # one position on (in two steps: each position is unique at every row's update)
        AccessEvent.objects.filter(seq__gte=victim.seq).update(seq=F("seq") + 100_000)
        AccessEvent.objects.filter(seq__gte=victim.seq).update(seq=F("seq") - 99_999)
        test_tampering.relink(victim.pk, key_id=KEY_ID, key=KEY)
    assert kinds(fast_and_engine(monkeypatch)) == [("sequence", victim.pk)]
