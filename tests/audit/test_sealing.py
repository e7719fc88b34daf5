"""Sealing in batches (audit/sealing.py): events written unsealed, sealed after the commit, and each attack
on the one UPDATE the database lets through, performed."""

import base64
import datetime
import ipaddress
import logging
import secrets
from io import StringIO
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from audit import sealing
from audit.actor import Actor
from audit.chain import hmac_base, keyed_link
from audit.checkpoints import access_log_checkpoint_write
from audit.models import AccessEvent, Action
from audit.sealing import access_log_seal, event_content_mac, overdue_unsealed
from audit.services import access_event_record
from audit.verify import event_rows, verify_access_log
from tests.audit.test_access_log import Tampering
from tests.audit.test_tampering import ACTOR, as_role, kinds, postgres_only, record, reset_role, verify_command
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def after_commit(settings):
    """As in production on PostgreSQL: the writer leaves sealing to after its commit."""
    settings.ACCESS_LOG_SEAL_AT_ONCE = False


def unsealed(n: int = 1) -> list[AccessEvent]:
    """Events as a read commits them, before any sealer ran (the test's transaction never commits)."""
    return record(n)


def sealed_row(event_id: int) -> tuple:
    return AccessEvent.objects.filter(pk=event_id).values_list("seq", "prev_hash", "hash", "key_id").get()


def written(event: AccessEvent) -> AccessEvent:
    """As the writer inserts an event, its id chosen by the test: with the writer's content MAC."""
    event.content_mac = event_content_mac(event)
    event.save(force_insert=True)
    return event


def refused(statement: str, params: list | None = None) -> None:
    with (
        pytest.raises(DatabaseError, match=r"append-only|inserted unsealed|CHECK|check constraint|permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params or [])


def test_a_read_commits_its_event_unsealed_and_the_sealer_links_it_after_the_commit(
    after_commit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        (event,) = record(1)
        assert sealed_row(event.pk) == (None, None, None, None), "no lock, no head: content only"
    assert callbacks, "sealing is left to after the commit"
    seq, prev_hash, link, key_id = sealed_row(event.pk)
    assert seq is not None and link is not None and key_id is not None
    head = AccessEvent.objects.exclude(pk=event.pk).filter(seq__isnull=False).order_by("-seq").first()
    assert seq == head.seq + 1 and prev_hash == head.hash
    assert verify_access_log(use_checkpoints=False).intact


def test_the_sealer_takes_everything_committed_in_batches_and_leaves_nothing(after_commit):
    events = unsealed(7)
    assert access_log_seal(wait=True, batch_size=3, max_batches=None) == 7
    assert not AccessEvent.objects.filter(hash__isnull=True).exists()
    seqs = [sealed_row(event.pk)[0] for event in events]
    assert seqs == list(range(seqs[0], seqs[0] + 7)), "oldest id first"
    assert verify_access_log(use_checkpoints=False).intact


def test_the_command_seals_what_writers_left_behind(after_commit):
    unsealed(3)
    out = StringIO()
    with translation.override("en"):
        call_command("seal_access_log", stdout=out)
    assert "3 access events sealed" in out.getvalue()
    assert not AccessEvent.objects.filter(hash__isnull=True).exists()


def test_an_id_lower_than_the_heads_is_sealed_after_it_and_the_chain_is_walked_by_position(after_commit):
    """Ids are taken at the insert, positions at the commit's sealing: a transaction that took its id
    first may commit last. The chain, its checkpoints and their checks go by position."""
    top = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    late = written(AccessEvent(id=top + 1000, at=timezone.now(), action=Action.PATRON_VIEW, outcome="allowed"))
    access_log_seal(wait=True)
    first_checkpoint = access_log_checkpoint_write(force=True).checkpoint
    early = written(AccessEvent(id=top + 500, at=timezone.now(), action=Action.PATRON_VIEW, outcome="allowed"))
    access_log_seal(wait=True)
    assert sealed_row(early.pk)[0] == sealed_row(late.pk)[0] + 1
    assert sealed_row(early.pk)[1] == sealed_row(late.pk)[2], "the lower id links to the higher"
    second_checkpoint = access_log_checkpoint_write(force=True).checkpoint  # it checks the chain from the first
    assert (first_checkpoint.last_id, second_checkpoint.last_id) == (late.pk, early.pk)
    walked = [row[0] for batch in event_rows() for row in batch]
    assert walked[-2:] == [late.pk, early.pk]
    report = verify_access_log()
    assert report.intact, kinds(report)
    # Deleting the chain's last event (the lower id) is named against the checkpoint that signed it.
    with Tampering():
        AccessEvent.objects.filter(pk=early.pk).delete()
    assert kinds(verify_access_log()) == [("truncated", early.pk)]


# --- The database's guards: one UPDATE per event, setting its seal and nothing else -------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_accessevent SET actor_username = 'someone-else' WHERE id = %s",
        "UPDATE audit_accessevent SET seq = seq + 1000000 WHERE id = %s",
        "UPDATE audit_accessevent SET hash = 'f' || substr(hash, 2), prev_hash = prev_hash WHERE id = %s",
        "UPDATE audit_accessevent SET seq = NULL, prev_hash = NULL, hash = NULL, key_id = NULL WHERE id = %s",
        "DELETE FROM audit_accessevent WHERE id = %s",
    ],
    ids=["rewrite-content", "re-position", "re-seal", "unseal", "delete"],
)
def test_a_sealed_event_cannot_be_rewritten_resealed_unsealed_or_deleted(statement):
    (event,) = record(1)
    assert event.hash is not None
    refused(statement, [event.pk])
    assert sealed_row(event.pk) == (event.seq, event.prev_hash, event.hash, event.key_id)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_accessevent SET reason = 'nothing to see' WHERE id = %s",
        "UPDATE audit_accessevent SET patron_ids = '[]' WHERE id = %s",
        "UPDATE audit_accessevent SET at = at WHERE id = %s",  # even a no-op is no sealing
        "UPDATE audit_accessevent SET seq = 1, prev_hash = 'x', hash = 'y', key_id = 'k', reason = 'z' WHERE id = %s",
        # The seal with a change of each kind of column (a list, an address, the time, an empty field filled):
        # the database compares the whole row but the seal (audit/triggers.py, 0017).
        "UPDATE audit_accessevent SET seq = 1, prev_hash = 'x', hash = 'y', key_id = 'k', patron_ids = '[2]' "
        "WHERE id = %s",
        "UPDATE audit_accessevent SET seq = 1, prev_hash = 'x', hash = 'y', key_id = 'k', client_ip = '10.9.9.9' "
        "WHERE id = %s",
        "UPDATE audit_accessevent SET seq = 1, prev_hash = 'x', hash = 'y', key_id = 'k', "
        "at = '2020-01-01 00:00:00+00:00' WHERE id = %s",
        "UPDATE audit_accessevent SET seq = 1, prev_hash = 'x', hash = 'y', key_id = 'k', actor_id = NULL "
        "WHERE id = %s",
        "UPDATE audit_accessevent SET hash = 'y' WHERE id = %s",  # half a seal
        "DELETE FROM audit_accessevent WHERE id = %s",
    ],
    ids=[
        "content",
        "patrons",
        "no-op",
        "seal-and-content",
        "seal-and-patrons",
        "seal-and-address",
        "seal-and-time",
        "seal-and-emptied-actor",
        "half-seal",
        "delete",
    ],
)
def test_an_unsealed_event_cannot_be_changed_or_deleted_before_it_is_sealed(after_commit, statement):
    (event,) = unsealed(1)
    refused(statement, [event.pk])
    assert AccessEvent.objects.filter(pk=event.pk, reason="", hash__isnull=True).exists()


@postgres_only
def test_a_seal_may_not_move_an_events_time_within_its_month(after_commit):
    """A microsecond later stays in the event's partition: only the row comparison of the seal's guard (0017)
    refuses it there (a move to another month is refused as a delete as well)."""
    (event,) = unsealed(1)
    refused(
        "UPDATE audit_accessevent SET seq = 1, prev_hash = 'x', hash = 'y', key_id = 'k', "
        "at = at + interval '1 microsecond' WHERE id = %s",
        [event.pk],
    )
    assert AccessEvent.objects.filter(pk=event.pk, at=event.at, hash__isnull=True).exists()


def test_a_seal_with_a_wrong_link_gets_past_the_database_and_is_named(after_commit):
    """The sealer's one UPDATE is allowed to whoever may seal; the link it sets is checked by the verifier."""
    (event,) = unsealed(1)
    head = AccessEvent.objects.filter(seq__isnull=False).order_by("-seq").first()
    wrong = keyed_link(hmac_base(b"k" * 32), b"not the event")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_accessevent SET seq = %s, prev_hash = %s, hash = %s, key_id = %s WHERE id = %s",
            [head.seq + 1, head.hash, wrong, head.key_id, event.pk],
        )
    assert kinds(verify_access_log(use_checkpoints=False)) == [("changed", event.pk)]
    refused("UPDATE audit_accessevent SET hash = %s WHERE id = %s", ["0" * 64, event.pk])  # nor fixed afterwards


@postgres_only
def test_the_runtime_role_may_set_a_seal_and_nothing_else(after_commit, settings):
    (event,) = unsealed(1)
    as_role(settings.DATABASE_APP_ROLE)
    refused("UPDATE audit_accessevent SET reason = 'x' WHERE id = %s", [event.pk])
    reset_role()
    as_role(settings.DATABASE_APP_ROLE)
    assert access_log_seal(wait=True) == 1, "the service seals as the runtime role"
    reset_role()
    assert verify_access_log(use_checkpoints=False).intact


# --- Rows the writer did not write: never sealed (the content MAC) -----------------------------------

# A patron id no event id of a test run can contain, so the message check below cannot pass or fail by chance.
FORGED = {"actor_username": "alice", "patron_ids": "[987654321]"}
FORGED_COLUMNS = (
    "at, actor_id, actor_username, actor_municipality_id, action, resource, patron_ids, data_categories, "
    "reason, outcome, detail, content_mac"
)


@pytest.fixture
def reported(monkeypatch):
    """The sealer's memory of the rows it reported, fresh (SQLite hands a rolled-back test's ids out again)."""
    monkeypatch.setattr(sealing, "_REPORTED", set())


def forge(content_mac: str | None, *, at: datetime.datetime | None = None) -> int:
    """As an attacker with SQL (the runtime role's injection, or the owner) but not the chain key: insert
    "alice viewed patron 987654321" unsealed, past the writer. Its id."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO audit_accessevent ({FORGED_COLUMNS}) "
            "VALUES (%s, 7, %s, 1, 'patron_view', 'patrons:detail', %s, '[\"basic\"]', '', 'allowed', '', %s)",
            [at or timezone.now(), FORGED["actor_username"], FORGED["patron_ids"], content_mac],
        )
        cursor.execute("SELECT max(id) FROM audit_accessevent WHERE actor_username = 'alice'")
        return cursor.fetchone()[0]


def other_content_mac() -> str:
    """A true MAC under the real key, but of other content (what a writer computed for another event)."""
    return event_content_mac(
        AccessEvent(at=timezone.now(), actor_id=7, actor_username="bob", action=Action.PATRON_VIEW, outcome="allowed")
    )


@pytest.mark.parametrize(
    "mac",
    [
        lambda: None,
        lambda: other_content_mac().rpartition(":")[0] + ":" + "0" * 64,
        lambda: "no-such-key:" + other_content_mac().partition(":")[2],
        other_content_mac,
        lambda: other_content_mac().partition(":")[2],  # without its key id
    ],
    ids=["none", "wrong", "unknown-key", "other-content", "no-key-id"],
)
def test_a_row_inserted_past_the_writer_is_never_sealed_and_raises_the_alarm(
    after_commit, reported, settings, caplog, mac
):
    settings.ACCESS_LOG_SEAL_ALARM_SECONDS = 60
    (before,) = unsealed(1)
    forged = forge(mac())
    (after,) = unsealed(1)
    with caplog.at_level(logging.CRITICAL, logger="audit.sealing"):
        assert access_log_seal(wait=True) == 2, "the genuine events around it are sealed"
    assert sealed_row(forged) == (None, None, None, None), "no position, no link: not in the chain"
    assert sealed_row(before.pk)[0] + 1 == sealed_row(after.pk)[0], "the chain goes past it"
    (message,) = [record.getMessage() for record in caplog.records if record.levelno == logging.CRITICAL]
    assert message == f"access event {forged} is not sealed: its content MAC does not check", "the id only"
    assert verify_access_log(use_checkpoints=False).intact
    assert not overdue_unsealed(now=timezone.now() + datetime.timedelta(seconds=59))
    late = overdue_unsealed(now=timezone.now() + datetime.timedelta(seconds=61))
    assert late.count == 1, "it stays unsealed: the alarm fires"
    with caplog.at_level(logging.CRITICAL, logger="audit.sealing"):
        caplog.clear()
        assert access_log_seal(wait=True) == 0
    assert not caplog.records, "named once a process, not on every round"
    assert sealed_row(forged) == (None, None, None, None)


def test_a_replayed_copy_of_a_genuine_event_is_refused_at_the_insert(after_commit):
    """Its content and MAC copied into a new row: the MAC is unique, so the copy never exists."""
    (event,) = unsealed(1)
    copy = AccessEvent(**{
        field.attname: getattr(event, field.attname)
        for field in AccessEvent._meta.concrete_fields
        if field.attname not in ("id", "seq", "prev_hash", "hash", "key_id")
    })  # fmt: skip
    assert copy.content_mac == event.content_mac
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save(force_insert=True)


def test_two_events_of_the_same_content_in_the_same_microsecond_both_seal(after_commit):
    """The writer's nonce: the MAC is unique without refusing a genuine repeat."""
    with time_machine.travel(timezone.now(), tick=False):
        events = unsealed(1) + unsealed(1)
    assert len({event.content_mac for event in events}) == 2
    assert access_log_seal(wait=True) == 2


def test_forged_rows_first_in_line_do_not_stop_the_genuine_ones_behind_them(after_commit, reported, caplog):
    forged = [forge(None) for _ in range(5)]
    genuine = unsealed(3)
    with caplog.at_level(logging.CRITICAL, logger="audit.sealing"):
        assert access_log_seal(wait=True, batch_size=2, max_batches=None) == 3
    assert all(sealed_row(event.pk)[2] is not None for event in genuine)
    assert all(sealed_row(event_id)[2] is None for event_id in forged)
    assert len([record for record in caplog.records if record.levelno == logging.CRITICAL]) == 5
    assert verify_access_log(use_checkpoints=False).intact


def test_a_genuine_unsealed_events_changed_content_is_refused_and_would_fail_its_mac(after_commit, reported, caplog):
    """The trigger refuses the change; and with the triggers lifted (the owner), the MAC still refuses it."""
    (event,) = unsealed(1)
    refused("UPDATE audit_accessevent SET patron_ids = '[42]' WHERE id = %s", [event.pk])
    with Tampering():
        AccessEvent.objects.filter(pk=event.pk).update(patron_ids=[42])
    with caplog.at_level(logging.CRITICAL, logger="audit.sealing"):
        access_log_seal(wait=True)
    assert sealed_row(event.pk) == (None, None, None, None)
    assert any(str(event.pk) in record.getMessage() for record in caplog.records)


def test_the_writers_mac_checks_for_every_shape_of_content(after_commit):
    """Addresses of both families, no address, several patrons and categories, text: all sealed."""
    for address in ("10.1.2.3", "2001:db8::1", "::ffff:10.0.0.1", None):
        client_ip = ipaddress.ip_address(address) if address else None
        access_event_record(
            actor=Actor(3, "tester-ä", municipality_id=2, consortium_id=1, client_ip=client_ip, resource="r:x"),
            action=Action.PATRON_VIEW, patron_ids=[9, 3, 3], data_categories=["contact", "basic"],
            reason="syy: åäö \"quoted\"", detail="d",
        )  # fmt: skip
    assert access_log_seal(wait=True) == 4
    assert verify_access_log(use_checkpoints=False).intact


@postgres_only
@pytest.mark.parametrize(
    ("columns", "values"),
    [
        ("at, action, outcome, seq, prev_hash, hash, key_id", "now(), 'patron_view', 'allowed', 1, 'p', 'h', 'k'"),
        ("at, action, outcome, hash", "now(), 'patron_view', 'allowed', 'h'"),  # half a seal, posing as old
        ("at, action, outcome, seq", "now(), 'patron_view', 'allowed', 9223372036854775807"),
        ("at, action, outcome", "'infinity', 'patron_view', 'allowed'"),
        ("at, action, outcome", "'-infinity', 'patron_view', 'allowed'"),
        ("id, at, action, outcome", "-1, now(), 'patron_view', 'allowed'"),
        ("id, at, action, outcome", "4611686018427387904, now(), 'patron_view', 'allowed'"),
    ],
    ids=["pre-sealed", "pre-linked", "last-position", "infinity", "minus-infinity", "id-minus-one", "id-2^62"],
)
def test_the_runtime_role_inserts_content_only(after_commit, settings, columns, values):
    """Values that would pose as sealed, or stop the sealer, the prune or the verifier, are refused."""
    as_role(settings.DATABASE_APP_ROLE)
    refused(f"INSERT INTO audit_accessevent ({columns}) VALUES ({values})")
    reset_role()


@postgres_only
def test_the_runtime_role_writes_and_seals_and_its_forgery_is_left_unsealed(after_commit, reported, settings):
    as_role(settings.DATABASE_APP_ROLE)
    (event,) = unsealed(1)
    forged = forge(other_content_mac())  # through SQL injection: it may insert, but not sign
    assert access_log_seal(wait=True) == 1
    reset_role()
    assert sealed_row(event.pk)[2] is not None and sealed_row(forged) == (None, None, None, None)
    assert verify_access_log(use_checkpoints=False).intact


@pytest.mark.parametrize(
    ("columns", "values"),
    [
        ("seq, prev_hash, hash, key_id", "-1, 'p', 'h', 'k'"),  # a position the walk starts after
        ("id, prev_hash, hash", "-1, 'p', 'h'"),  # shaped like an event from before the chain key, id below 1
    ],
    ids=["position-below-1", "id-below-1"],
)
def test_a_sealed_row_outside_the_walk_is_named(columns, values):
    """As the owner (the runtime role may insert neither): a row the verifier's walk would never reach,
    yet the patron's report and the DPO's browser would show. The count of sealed rows names it."""
    assert verify_access_log(use_checkpoints=False).intact
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO audit_accessevent (at, action, outcome, actor_username, resource, patron_ids, "
            f"data_categories, reason, detail, {columns}) "
            f"VALUES (%s, 'patron_view', 'allowed', 'alice', '', '[42]', '[]', '', '', {values})",
            [timezone.now()],
        )
    assert kinds(verify_access_log(use_checkpoints=False)) == [("outside_walk", None)]


@postgres_only
def test_a_twin_of_a_row_without_a_position_that_the_walk_by_id_skips_is_named():
    """As the owner, on PostgreSQL, where the primary key is (id, time): two rows shaped like events from before
    the chain key, of one id and two times. The walk by id goes on after the id it reached, so of the twins it
    reads the one a batch ends with; the count of the sealed rows without a position names the other."""
    record(2)
    twin = AccessEvent.objects.order_by("-id").values_list("id", flat=True)[0] + 1_000
    with connection.cursor() as cursor:
        for seconds in (1, 2):
            cursor.execute(
                "INSERT INTO audit_accessevent (id, at, action, outcome, actor_username, resource, patron_ids, "
                "data_categories, reason, detail, prev_hash, hash) "
                "VALUES (%s, %s, 'patron_view', 'allowed', 'alice', '', '[42]', '[]', '', '', 'p', %s)",
                [twin, timezone.now() - datetime.timedelta(seconds=seconds), f"h{seconds}"],
            )
    found = kinds(verify_access_log(use_checkpoints=False, batch_size=1))
    assert ("outside_walk", None) in found and ("unkeyed", twin) in found


# --- The alarm: an event unsealed too long ---------------------------------------------------------


@pytest.mark.parametrize(("age", "alarm"), [(59, False), (60, False), (61, True)])
def test_an_event_unsealed_longer_than_the_setting_is_an_alarm(after_commit, settings, age, alarm):
    settings.ACCESS_LOG_SEAL_ALARM_SECONDS = 60
    written = timezone.now()
    with time_machine.travel(written, tick=False):
        unsealed(1)
    later = written + datetime.timedelta(seconds=age)
    assert bool(overdue_unsealed(now=later)) is alarm
    with time_machine.travel(later, tick=False):
        code, output = verify_command()
        health = client_for(None).get("/healthz").json()
    assert code == (1 if alarm else 0), output
    assert ("still unsealed" in output) is alarm
    assert (health.get("access_log") == "unsealed events overdue") is alarm
    assert health["status"] == "ok", "serving goes on: the reads are logged"


def test_a_patrons_access_log_shows_events_not_sealed_yet(after_commit, lapland_patron):
    """They are committed facts: the patron's report must not miss the last seconds."""
    client_for("rovaniemi.staff").get(f"/patrons/{lapland_patron.pk}/")
    view = AccessEvent.objects.filter(action=Action.PATRON_VIEW, subjects__patron_id=lapland_patron.pk).first()
    assert view is not None and view.hash is None
    events = client_for("dpo").get(f"/api/v1/patrons/{lapland_patron.pk}/access-events/").json()
    assert view.pk in {event["id"] for event in events}


def test_the_writer_refuses_a_nul_it_could_not_seal():
    from audit.chain import UnlinkableEvent

    with pytest.raises(UnlinkableEvent):
        access_event_record(actor=ACTOR, action=Action.PATRON_VIEW, reason="a\x00b")


@postgres_only
def test_a_writer_skips_sealing_while_another_process_seals_and_the_events_wait_for_it(after_commit):
    """The attempt after a commit never waits for the lock: the process holding it takes the events."""
    import psycopg2

    from audit.chain import CHAIN_LOCK_KEY

    unsealed(2)
    params = connection.get_connection_params()
    other = psycopg2.connect(**{key: value for key, value in params.items() if key != "cursor_factory"})
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [CHAIN_LOCK_KEY])  # another process sealing
        assert access_log_seal(wait=False) == 0, "skipped at once, no wait"
        assert AccessEvent.objects.filter(hash__isnull=True).count() == 2
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [CHAIN_LOCK_KEY])  # at once; a close lets go later
    finally:
        other.close()
    assert access_log_seal(wait=False) == 2
    assert verify_access_log(use_checkpoints=False).intact


@postgres_only
def test_a_lock_held_past_the_alarm_seconds_is_reported_not_waited_for_in_silence(
    after_commit, settings, caplog, monkeypatch
):
    """An attacker (or a stuck process) holding the chain's lock: the waiting sealer says so at CRITICAL."""
    import psycopg2

    from audit.chain import CHAIN_LOCK_KEY

    settings.ACCESS_LOG_SEAL_ALARM_SECONDS = 0
    unsealed(1)
    params = connection.get_connection_params()
    other = psycopg2.connect(**{key: value for key, value in params.items() if key != "cursor_factory"})
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [CHAIN_LOCK_KEY])

    def let_go(_seconds: float) -> None:  # while the sealer waits
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [CHAIN_LOCK_KEY])

    monkeypatch.setattr(sealing.time, "sleep", let_go)
    try:
        with caplog.at_level(logging.CRITICAL, logger="audit.sealing"):
            assert access_log_seal(wait=True) == 1
    finally:
        other.close()
    assert any("chain lock has been held elsewhere" in record.getMessage() for record in caplog.records)


def test_a_failed_seal_after_the_commit_logs_the_error_kind_not_the_row(caplog):
    """A database error's detail may quote the row ("Failing row contains (..., alice, 10.0.0.7, [987654321])"):
    the after-commit hook logs only the kind of error, so no username, address or patron id lands in the log."""
    from django.db import IntegrityError

    from audit import sealing

    detail = "Failing row contains (7, alice, 10.0.0.7, [987654321])"
    with (
        mock.patch.object(sealing, "access_log_seal", side_effect=IntegrityError(detail)),
        caplog.at_level(logging.DEBUG, logger="audit.sealing"),
    ):
        sealing._seal_after_commit()
    logged = caplog.text
    assert "IntegrityError" in logged
    assert "alice" not in logged and "10.0.0.7" not in logged and "987654321" not in logged


@postgres_only
def test_a_process_tries_to_seal_after_its_commits_at_most_once_an_interval(after_commit, monkeypatch):
    """A seal after every read's commit cost the read a third of its throughput (a transaction and its fsync for
    one event): a process tries at most once per ACCESS_LOG_SEAL_INTERVAL_SECONDS (audit/sealing.py), found
    the lock free or not."""
    import psycopg2

    from audit.chain import CHAIN_LOCK_KEY

    monkeypatch.setattr(sealing, "_next_attempt", 0.0)
    other = psycopg2.connect(**connection.get_connection_params())
    other.autocommit = True
    connection.in_atomic_block = False  # as after a commit: the probe in autocommit
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [CHAIN_LOCK_KEY])  # another process sealing
        with CaptureQueriesContext(connection) as queries:
            assert access_log_seal(wait=False) == 0
            assert access_log_seal(wait=False) == 0
        assert len([q for q in queries if "pg_try_advisory_xact_lock" in q["sql"]]) == 1
        monkeypatch.setattr(sealing, "_next_attempt", 0.0)  # the interval has passed
        with CaptureQueriesContext(connection) as queries:
            assert access_log_seal(wait=False) == 0
        assert len([q for q in queries if "pg_try_advisory_xact_lock" in q["sql"]]) == 1
    finally:
        connection.in_atomic_block = True
        other.close()


def test_a_process_without_the_newest_key_leaves_the_sealing_to_those_with_it(after_commit, settings):
    """A rolling restart after a chain key's rotation: a process still on the old key list must not seal after
    an event under the new key (its seal would be `key_back` to the verifier); one with the new key seals."""
    old, rotated = rotated_keys(settings)
    settings.AUDIT_CHAIN_KEY = rotated
    settings.AUDIT_CHAIN_KEY_PREVIOUS_UNTIL = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    record(1)
    assert access_log_seal(wait=True) == 1
    settings.AUDIT_CHAIN_KEY = old  # a worker not yet restarted
    (event,) = record(1)
    assert access_log_seal(wait=True) == 0
    assert sealed_row(event.pk) == (None, None, None, None)
    settings.AUDIT_CHAIN_KEY = rotated
    assert access_log_seal(wait=True) == 1
    assert sealed_row(event.pk)[3] == "k2"
    assert verify_access_log(use_checkpoints=False).intact


def new_chain_key(key_id: str) -> str:
    """An AUDIT_CHAIN_KEY entry of a fresh random key."""
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def rotated_keys(settings) -> tuple[str, str]:
    """(The key list before a rotation, the list after it: a new key `k2` first.)"""
    old = settings.AUDIT_CHAIN_KEY
    return old, f"{new_chain_key('k2')},{old}"


def under_retired_key(settings, old: str, rotated: str) -> AccessEvent:
    """As an attacker holding the retired key (leaked after its rotation) and the runtime role's INSERT: an
    event of their choosing with a content MAC that checks under that key."""
    settings.AUDIT_CHAIN_KEY = old
    event = written(
        AccessEvent(
            at=timezone.now(), actor_id=7, actor_username="alice", action=Action.PATRON_VIEW,
            patron_ids=[987654321], data_categories=["basic"], outcome="allowed",
        )
    )  # fmt: skip
    settings.AUDIT_CHAIN_KEY = rotated
    return event


@pytest.mark.parametrize("grace", ["", "past"])
def test_a_leaked_retired_keys_event_is_not_sealed_past_the_grace(after_commit, reported, settings, caplog, grace):
    """The attack: rows inserted with a content MAC under a retired key. Without the grace (or after it), the
    sealer refuses them: they stay unsealed, alarm, and no reader shows them."""
    old, rotated = rotated_keys(settings)
    settings.AUDIT_CHAIN_KEY = rotated
    settings.ACCESS_LOG_SEAL_ALARM_SECONDS = 60
    settings.AUDIT_CHAIN_KEY_PREVIOUS_UNTIL = (
        (timezone.now() - datetime.timedelta(seconds=1)).isoformat() if grace else ""
    )
    (before,) = unsealed(1)
    forged = under_retired_key(settings, old, rotated)
    (after,) = unsealed(1)
    with caplog.at_level(logging.CRITICAL, logger="audit.sealing"):
        assert access_log_seal(wait=True) == 2, "the genuine events around it are sealed"
    assert sealed_row(forged.pk) == (None, None, None, None)
    assert sealed_row(before.pk)[0] + 1 == sealed_row(after.pk)[0], "the chain goes past it"
    (message,) = [record.getMessage() for record in caplog.records if record.levelno == logging.CRITICAL]
    assert message == (
        f"access event {forged.pk} is not sealed: its content MAC is under the retired chain key "
        f"{old.partition(':')[0]}, past AUDIT_CHAIN_KEY_PREVIOUS_UNTIL"
    ), "the id and the key's id only"
    assert sealing.unsealed_without_valid_mac([forged.pk, after.pk]) == {forged.pk}, "readers do not show it"
    assert overdue_unsealed(now=timezone.now() + datetime.timedelta(seconds=61)).count == 1, "the alarm"
    assert verify_access_log(use_checkpoints=False).intact


def test_the_previous_keys_events_seal_during_the_grace_and_the_chain_verifies(after_commit, settings):
    """A worker not yet restarted after the rotation wrote it: within AUDIT_CHAIN_KEY_PREVIOUS_UNTIL it seals
    under the new key, and the verifier (holding both keys) accepts it."""
    old, rotated = rotated_keys(settings)
    settings.AUDIT_CHAIN_KEY = rotated
    settings.AUDIT_CHAIN_KEY_PREVIOUS_UNTIL = (timezone.now() + datetime.timedelta(minutes=30)).isoformat()
    settings.AUDIT_CHAIN_KEY = old  # the worker's settings
    (event,) = record(1)
    settings.AUDIT_CHAIN_KEY = rotated  # the sealer's
    assert event.content_mac.startswith(old.partition(":")[0] + ":")
    assert access_log_seal(wait=True) == 1
    assert sealed_row(event.pk)[3] == "k2"
    assert verify_access_log(use_checkpoints=False).intact


def test_the_grace_ends_at_its_time_exactly(settings):
    """The previous key is accepted up to the microsecond before AUDIT_CHAIN_KEY_PREVIOUS_UNTIL, not at it; the
    newest always; a key older than the previous one never."""
    from audit.keys import writer_bases

    settings.AUDIT_CHAIN_KEY = ",".join(new_chain_key(key_id) for key_id in ("k3", "k2", "k1"))
    until = datetime.datetime(2026, 12, 5, 12, 0, tzinfo=datetime.UTC)
    settings.AUDIT_CHAIN_KEY_PREVIOUS_UNTIL = "2026-12-05T14:00:00+02:00"
    tick = datetime.timedelta(microseconds=1)
    assert list(writer_bases(now=until - datetime.timedelta(days=1))) == ["k3", "k2"]
    assert list(writer_bases(now=until - tick)) == ["k3", "k2"]
    assert list(writer_bases(now=until)) == ["k3"]
    assert list(writer_bases(now=until + datetime.timedelta(days=1))) == ["k3"]
    settings.AUDIT_CHAIN_KEY_PREVIOUS_UNTIL = ""
    assert list(writer_bases(now=until - datetime.timedelta(days=1))) == ["k3"]


@pytest.mark.parametrize(("ahead", "warned"), [(None, False), (23, False), (24, False), (25, True)])
def test_a_grace_of_more_than_a_day_is_warned_of(settings, ahead, warned):
    """A grace is the rolling restart's: one set days ahead leaves the previous key half a forgery key that long."""
    from audit.checks import chain_key_grace_check

    with time_machine.travel(datetime.datetime(2026, 12, 4, 12, 0, tzinfo=datetime.UTC), tick=False):
        now = timezone.now()
        settings.AUDIT_CHAIN_KEY_PREVIOUS_UNTIL = (
            "" if ahead is None else (now + datetime.timedelta(hours=ahead)).isoformat()
        )
        assert [check.id for check in chain_key_grace_check(None)] == (["audit.W001"] if warned else [])
