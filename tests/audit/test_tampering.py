"""Each attack on the access log, performed: the database refuses it, or verification names it.

On PostgreSQL the attacks run as the tables' owner (who may disable triggers) and as the runtime role
(privacy_app: may only read and append); on SQLite against the file directly. Before the keyed chain
and the checkpoints, every one of these went through unnoticed (the issue's report).
"""

import base64
import dataclasses
import datetime
import ipaddress
import json
from io import StringIO
from typing import cast

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation

from audit.actor import Actor
from audit.chain import (
    address_text,
    from_microseconds,
    hmac_base,
    json_list_text,
    keyed_link,
    legacy_content,
    legacy_link,
    link_message,
    microseconds,
)
from audit.checkpoint_files import checkpoint_files, read_checkpoints
from audit.checkpoints import CheckpointRefused, access_log_checkpoint_write
from audit.keys import chain_keys
from audit.models import AccessEvent, AccessEventPatron, AccessLogPrune, Action
from audit.services import access_event_record
from audit.verify import event_rows, verify_access_log
from tests.audit.test_access_log import Tampering

pytestmark = pytest.mark.django_db

ACTOR = Actor(user_id=1, username="tester", municipality_id=1, consortium_id=1, client_ip=None)
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="roles are PostgreSQL's")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="INSERT OR REPLACE is SQLite's")


def record(n: int) -> list[AccessEvent]:
    return [
        access_event_record(actor=ACTOR, action=Action.PATRON_VIEW, patron_ids=[300 + i], data_categories=["basic"])
        for i in range(n)
    ]


def record_at(moment: datetime.datetime, n: int) -> list[AccessEvent]:
    """`n` events written with the clock at `moment`."""
    with time_machine.travel(moment, tick=False):
        return record(n)


def empty_log() -> None:
    """As the owner, for a test that needs events dated in the past: the demo world's events, written when
    the test run began, are gone (the test's transaction brings them back)."""
    with Tampering():
        AccessEventPatron.objects.all().delete()
        AccessEvent.objects.all().delete()
    if connection.vendor == "postgresql":  # as the test's transaction was: Tampering made them immediate
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def checkpoint():
    return access_log_checkpoint_write(force=True).checkpoint


def checkpoint_at(moment: datetime.datetime):
    with time_machine.travel(moment, tick=False):
        return checkpoint()


def kinds(report) -> list[tuple[str, int | None]]:
    return [(finding.kind, finding.event_id) for finding in report.findings]


def rows_between(first_id: int, last_id: float) -> list[tuple]:
    return [row for batch in event_rows() for row in batch if first_id <= row[0] <= last_id]


def relink(event_id: int, *, key_id: str | None, key: bytes | None = None, upto: float = float("inf")) -> None:
    """As an attacker: recompute the links from `event_id` on (to `upto`), plain SHA-256 (key_id None) or
    HMAC under `key`."""
    rows = rows_between(event_id, upto)
    link = rows[0][14]
    for row in rows:
        (
            eid,
            seq,
            at_us,
            actor_id,
            username,
            municipality,
            ip,
            action,
            resource,
            pids,
            cats,
            reason,
            outcome,
            detail,
            _prev,
            _link,
            _key,
            _index,
        ) = row
        if key_id is None:
            content = legacy_content(
                at=from_microseconds(at_us),
                actor_id=actor_id,
                actor_username=username,
                actor_municipality_id=municipality,
                client_ip=ip,
                action=action,
                resource=resource,
                patron_ids=json.loads(pids),
                data_categories=json.loads(cats),
                reason=reason,
                outcome=outcome,
                detail=detail,
            )
            new = legacy_link(content, link)
        else:
            assert key is not None, "a keyed link needs the key"
            new = keyed_link(
                hmac_base(key),
                link_message(
                    seq,
                    at_us,
                    actor_id,
                    username,
                    municipality,
                    address_text(ip),
                    action,
                    resource,
                    pids,
                    cats,
                    reason,
                    outcome,
                    detail,
                    link,
                    key_id,
                ),
            )
        AccessEvent.objects.filter(pk=eid).update(prev_hash=link, hash=new, key_id=key_id)
        link = new


def forged_event(*, at: datetime.datetime, key_id: str | None, key: bytes | None = None, seq: int | None = None):
    """An event as an intruder appends it: linked to the head, with a link they computed themselves."""
    head = AccessEvent.objects.order_by("-id").first()  # sealed at once in the suite: the highest position too
    assert head is not None and (key_id is None or head.seq is not None), "a keyed forgery follows a keyed head"
    assert head.hash is not None, "the head is sealed"
    event = AccessEvent(
        at=at,
        actor_id=99,
        actor_username="intruder",
        actor_municipality_id=1,
        client_ip="10.10.9.9",
        action=Action.PATRON_VIEW,
        resource="",
        patron_ids=[],
        data_categories=["basic"],
        reason="",
        outcome="allowed",
        detail="",
        prev_hash=head.hash,
        seq=seq if seq is not None else (head.seq + 1 if key_id and head.seq is not None else None),
        key_id=key_id,
    )
    if key_id is None:
        content = legacy_content(
            at=at,
            actor_id=99,
            actor_username="intruder",
            actor_municipality_id=1,
            client_ip="10.10.9.9",
            action=Action.PATRON_VIEW,
            resource="",
            patron_ids=[],
            data_categories=["basic"],
            reason="",
            outcome="allowed",
            detail="",
        )
        event.hash = legacy_link(content, head.hash)
    else:
        assert key is not None and event.seq is not None, "a keyed link needs the key and a position"
        event.hash = keyed_link(
            hmac_base(key),
            link_message(
                event.seq,
                microseconds(at),
                99,
                "intruder",
                1,
                address_text("10.10.9.9"),
                Action.PATRON_VIEW,
                "",
                json_list_text([]),
                json_list_text(["basic"]),
                "",
                "allowed",
                "",
                head.hash,
                key_id,
            ),
        )
    return event


def as_role(role: str | None):
    """SET LOCAL ROLE for what follows in the test's transaction (PostgreSQL); None: the connection's own."""
    if role and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")


def reset_role():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def verify_command(*args: str) -> tuple[int, str]:
    """verify_access_log's exit code and all it printed."""
    out, err = StringIO(), StringIO()
    with translation.override("en"):
        try:
            call_command("verify_access_log", *args, verbosity=0, stdout=out, stderr=err)
        except CommandError as error:
            return error.returncode, out.getvalue() + err.getvalue() + str(error)
    return 0, out.getvalue() + err.getvalue()


# --- A rewritten past ------------------------------------------------------------------------------


def test_an_event_rewritten_with_its_plain_sha256_chain_recomputed_is_named():
    _first, second, *_rest = record(5)
    with Tampering():
        AccessEvent.objects.filter(pk=second.pk).update(actor_username="innocent")
        relink(second.pk, key_id=None)  # what fooled the plain SHA-256 chain
    report = verify_access_log()
    assert ("unkeyed", second.pk) == kinds(report)[0]
    assert "link" not in {kind for kind, _ in kinds(report)}, "the recomputed chain links up"
    assert verify_command()[0] == 1


def test_an_event_rewritten_with_links_under_a_key_of_the_attackers_own_is_named():
    _first, second, *rest = record(5)
    with Tampering():
        AccessEvent.objects.filter(pk=second.pk).update(reason="an innocent reason")
        relink(second.pk, key_id=second.key_id, key=b"a key the database owner made up" * 2)
    assert kinds(verify_access_log()) == [("changed", e.pk) for e in (second, *rest)]


# A function and an operator of the table owner's own, in the tables' schema, each showing the verifier the
# event's value from before the rewrite where the readers see the rewritten one: the patron ids through a
# concat(jsonb), which PostgreSQL prefers to its own concat("any") wherever it stands in the search path; the
# address through an inet - inet, taken first when the owner puts their schema before pg_catalog in the path
# (ALTER ROLE ... SET search_path, here for the transaction).
SHADOWS = {
    "concat(jsonb)": (
        "CREATE FUNCTION concat(jsonb) RETURNS text LANGUAGE sql AS "
        "$$ SELECT CASE WHEN $1 = '[999]'::jsonb THEN '[301]' ELSE $1::text END $$",
        {"patron_ids": [999]},
    ),
    "inet - inet, the owner's schema first in the path": (
        "CREATE FUNCTION shadow_minus(inet, inet) RETURNS bigint LANGUAGE sql AS "
        "$$ SELECT pg_catalog.inetmi(CASE WHEN $1 = '10.6.6.6'::inet THEN '10.0.0.1'::inet ELSE $1 END, $2) $$; "
        "CREATE OPERATOR - (LEFTARG = inet, RIGHTARG = inet, FUNCTION = shadow_minus); "
        "SET LOCAL search_path = public, pg_catalog",
        {"client_ip": "10.6.6.6"},
    ),
}


@postgres_only
@pytest.mark.parametrize("shadow", SHADOWS, ids=["function", "operator"])
def test_the_owners_own_functions_cannot_show_the_verifier_other_values(shadow):
    """The owner rewrites an event and creates, in the schema they own, a function or an operator that the
    verifier's SQL would take, handing it the old value: the verifier calls PostgreSQL's own (pg_catalog) and
    names the event."""
    actor = dataclasses.replace(ACTOR, client_ip=ipaddress.ip_address("10.0.0.1"))
    _first, second, *_rest = [
        access_event_record(actor=actor, action=Action.PATRON_VIEW, patron_ids=[300 + i], data_categories=["basic"])
        for i in range(5)
    ]
    assert verify_access_log(use_checkpoints=False).intact
    statement, rewrite = SHADOWS[shadow]
    with Tampering():
        AccessEvent.objects.filter(pk=second.pk).update(**rewrite)
        with connection.cursor() as cursor:
            cursor.execute(statement)
    assert ("changed", second.pk) in kinds(verify_access_log(use_checkpoints=False))


@postgres_only
def test_every_statement_of_the_verifier_runs_with_pg_catalog_first():
    """The operators of the counts and of the walk's start (a bigint against an integer: `seq <= 0`, `id < n`)
    are PostgreSQL's only while pg_catalog comes first in the path: with the owner's schema first (ALTER ROLE
    ... SET search_path, the session's default, to which a RESET returns), the owner's operator of the same
    types would be taken. Every statement the verifier sends runs with pg_catalog first."""
    record(3)
    paths: list[tuple[str, str]] = []

    def path_at(execute, sql, params, many, context):
        if not sql.lstrip().upper().startswith(("SET ", "RESET ", "SELECT PG_CATALOG.SET_CONFIG")):
            with context["connection"].connection.cursor() as cursor:
                cursor.execute("SELECT pg_catalog.current_setting('search_path')")
                paths.append((sql[:60], cursor.fetchone()[0]))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(path_at):
        assert verify_access_log(use_checkpoints=False).intact
    assert any("seq <= 0" in sql or "count" in sql for sql, _ in paths), paths
    assert all(path.startswith("pg_catalog, ") for _, path in paths), [p for p in paths if not p[1].startswith("pg_")]


def test_a_rewrite_by_whoever_holds_the_chain_key_is_named_by_the_checkpoint():
    """A compromised application host has the chain key and can recompute every link; the checkpoint
    it signed earlier still pins the head that was."""
    events = record(5)
    signed = checkpoint()
    with Tampering():
        AccessEvent.objects.filter(pk=events[1].pk).update(actor_username="innocent")
        relink(events[1].pk, key_id=events[1].key_id, key=chain_keys()[events[1].key_id])
    report = verify_access_log()
    assert kinds(report) == [("checkpoint_mismatch", signed.last_id)]
    code, output = verify_command()
    assert code == 1 and "the past was rewritten" in output


# --- A deleted tail -----------------------------------------------------------------------------------


def delete_events(ids: list[int]) -> None:
    AccessEventPatron.objects.filter(event_id__in=ids).delete()
    AccessEvent.objects.filter(pk__in=ids).delete()


def test_deleting_the_newest_events_as_the_owner_is_named_by_the_checkpoint():
    record(3)
    checkpoint()
    newest = record(3)
    signed = checkpoint()
    with Tampering():  # the owner disables the triggers (PostgreSQL) or drops them (SQLite)
        delete_events([e.pk for e in newest])
    report = verify_access_log()
    assert kinds(report) == [("truncated", signed.last_id)]
    code, output = verify_command()
    assert code == 1 and f"names event {signed.last_id}" in output and "the newest events were deleted" in output


def test_after_a_deleted_tail_the_writer_refuses_to_sign_and_alarms(caplog):
    record(2)
    signed = checkpoint()
    with Tampering():
        delete_events([signed.last_id])
    files_before = [path.read_text() for path in checkpoint_files(signed_dir())]
    with pytest.raises(CheckpointRefused):
        checkpoint()
    assert [r for r in caplog.records if r.levelname == "CRITICAL" and "REFUSED" in r.getMessage()]
    assert [path.read_text() for path in checkpoint_files(signed_dir())] == files_before, "nothing was signed"


def signed_dir():
    from django.conf import settings

    return settings.AUDIT_CHECKPOINT_DIR


@postgres_only
def test_the_runtime_role_cannot_delete_the_tail(settings):
    (event,) = record(1)
    as_role(settings.DATABASE_APP_ROLE)
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).delete()
    reset_role()


# --- A backdated event --------------------------------------------------------------------------------


def append_as_owner(event: AccessEvent) -> None:
    """A sealed row inserted by hand: only the owner may (since 0014 the runtime role inserts unsealed rows
    alone, tests/audit/test_sealing.py); the verifier must name it all the same."""
    event.save(force_insert=True)


def test_a_backdated_event_appended_with_a_correct_plain_sha256_is_named(settings):
    record(2)
    forged = forged_event(at=timezone.now() - datetime.timedelta(days=30), key_id=None)
    append_as_owner(forged)
    assert kinds(verify_access_log()) == [("unkeyed", forged.pk), ("backdated", forged.pk)]
    code, output = verify_command()
    assert code == 1 and "a backdated event" in output


def test_a_backdated_event_with_a_correct_link_under_the_chain_key_is_named(settings):
    """Even with the chain key (a compromised application host) time cannot be run back."""
    record(2)
    key_id, key = next(iter(chain_keys().items()))
    forged = forged_event(at=timezone.now() - datetime.timedelta(days=30), key_id=key_id, key=key)
    append_as_owner(forged)
    assert kinds(verify_access_log()) == [("backdated", forged.pk)]


def test_a_clock_a_little_behind_is_within_the_allowance(settings):
    record(2)
    key_id, key = next(iter(chain_keys().items()))
    latest = AccessEvent.objects.order_by("-id").first().at
    step = settings.AUDIT_MAX_CLOCK_STEP_BACK_SECONDS
    append_as_owner(forged_event(at=latest - datetime.timedelta(seconds=step - 1), key_id=key_id, key=key))
    assert verify_access_log().intact
    append_as_owner(forged_event(at=latest - datetime.timedelta(seconds=step + 1), key_id=key_id, key=key))
    assert [kind for kind, _ in kinds(verify_access_log())] == ["backdated"]


def test_an_appended_event_without_the_chain_key_is_named(settings):
    record(2)
    forged = forged_event(at=timezone.now(), key_id=next(iter(chain_keys())), key=b"guessed" * 6)
    append_as_owner(forged)
    assert kinds(verify_access_log()) == [("changed", forged.pk)]


def test_an_event_under_an_unknown_key_id_is_named(settings):
    record(2)
    forged = forged_event(at=timezone.now(), key_id="k-made-up", key=b"made up" * 6)
    append_as_owner(forged)
    report = verify_access_log()
    assert kinds(report) == [("unknown_key", forged.pk)]
    assert "k-made-up" in report.findings[0].message


# --- A forward-dated event ----------------------------------------------------------------------------


def test_a_forward_dated_event_is_named_itself_and_not_the_genuine_one_after_it(caplog):
    """Written with the clock a year ahead: before, a checkpoint signed it, and verification named the
    next, genuine event as backdated."""
    record(2)
    checkpoint()
    (ahead,) = record_at(timezone.now() + datetime.timedelta(days=365), 1)
    files_before = [path.read_text() for path in checkpoint_files(signed_dir())]
    with pytest.raises(CheckpointRefused, match="forward-dated"):
        checkpoint()
    assert [r for r in caplog.records if r.levelname == "CRITICAL" and f"event {ahead.pk}, the head" in r.getMessage()]
    assert [path.read_text() for path in checkpoint_files(signed_dir())] == files_before, "nothing was signed"
    assert kinds(verify_access_log()) == [("future", ahead.pk)], "no checkpoint covers it yet: now is the limit"

    (genuine,) = record(1)
    signed = checkpoint()  # the head is a genuine event again, and the checkpoint covers both
    assert signed.last_id == genuine.pk
    report = verify_access_log()
    assert kinds(report) == [("forward_dated", ahead.pk)]
    code, output = verify_command()
    assert code == 1 and f"Event {ahead.pk} is dated" in output and "a forward-dated event" in output
    assert "backdated" not in output


def test_a_forward_dated_event_with_a_correct_link_under_the_chain_key_is_named(settings):
    """A compromised application host, writing straight to the table as the runtime role."""
    record(2)
    key_id, key = next(iter(chain_keys().items()))
    forged = forged_event(at=timezone.now() + datetime.timedelta(days=30), key_id=key_id, key=key)
    append_as_owner(forged)
    record(1)
    checkpoint()
    assert kinds(verify_access_log()) == [("forward_dated", forged.pk)]


def test_a_clock_a_little_ahead_is_within_the_allowance(settings):
    record(1)
    step = settings.AUDIT_MAX_CLOCK_STEP_BACK_SECONDS
    record_at(timezone.now() + datetime.timedelta(seconds=step - 5), 1)
    record(1)  # a step back, but within the allowance
    assert checkpoint() is not None
    assert verify_access_log().intact


# --- INSERT OR REPLACE, REPLACE and UPSERT ----------------------------------------------------------------


def event_columns(event_id: int) -> tuple[list[str], list]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM audit_accessevent WHERE id = %s", [event_id])
        return [c[0] for c in cursor.description], list(cursor.fetchone())


def refused(statement: str, params=(), *, match: str) -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@sqlite_only
def test_sqlite_refuses_insert_or_replace_and_upsert_on_every_log_table():
    events = record(3)
    access_log_prune_record(events[1])
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA recursive_triggers")
        assert cursor.fetchone() == (1,), "settings turn recursive_triggers on for every connection"
    names, values = event_columns(events[1].pk)
    columns, marks = ", ".join(names), ", ".join(["%s"] * len(names))
    changed = [("innocent" if name == "actor_username" else value) for name, value in zip(names, values, strict=True)]
    for on_this_connection in ("ON", "OFF"):  # the BEFORE INSERT guards hold even without the pragma
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA recursive_triggers = {on_this_connection}")
        refused(f"INSERT OR REPLACE INTO audit_accessevent ({columns}) VALUES ({marks})", changed, match="replaced")
        refused(f"REPLACE INTO audit_accessevent ({columns}) VALUES ({marks})", changed, match="replaced")
        # Same hash under a new id: REPLACE would delete the original through the unique constraint.
        by_hash = [(None if name == "id" else value) for name, value in zip(names, changed, strict=True)]
        refused(f"INSERT OR REPLACE INTO audit_accessevent ({columns}) VALUES ({marks})", by_hash, match="replaced")
        refused(
            f"INSERT INTO audit_accessevent ({columns}) VALUES ({marks}) "
            "ON CONFLICT (id) DO UPDATE SET actor_username = 'innocent'",
            values,
            match="replaced|append-only",
        )
        refused(
            "INSERT OR REPLACE INTO audit_accesseventpatron (event_id, patron_id) VALUES (%s, %s)",
            [events[1].pk, 301],
            match="replaced",
        )
        refused(
            "INSERT OR REPLACE INTO audit_accesslogprune "
            "(id, pruned_at, cutoff, removed_events, first_kept_event_id, anchor_hash) "
            "SELECT id, pruned_at, cutoff, 999, first_kept_event_id, anchor_hash FROM audit_accesslogprune",
            match="replaced",
        )
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA recursive_triggers = ON")
    assert AccessEvent.objects.get(pk=events[1].pk).actor_username == "tester"
    assert AccessLogPrune.objects.get().removed_events == 0
    assert verify_access_log().intact


@postgres_only
def test_postgres_refuses_upsert_as_the_owner():
    (event,) = record(1)
    names, values = event_columns(event.pk)
    refused(
        f"INSERT INTO audit_accessevent ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))}) "
        # The database's key is (id, at): the time is the partition key (audit/partitions.py).
        "ON CONFLICT (id, at) DO UPDATE SET actor_username = 'innocent'",
        values,
        match="append-only",
    )


def access_log_prune_record(
    first_kept: AccessEvent, *, anchor: str | None = None, cutoff: datetime.datetime | None = None
) -> None:
    """A prune record as the owner writes one (no events removed: what the tests then try to delete), with
    a cutoff two months back unless given (the database refuses one within the last month)."""
    AccessLogPrune.objects.create(
        pruned_at=timezone.now(),
        cutoff=cutoff or timezone.now() - relativedelta(months=2),
        removed_events=0,
        first_kept_event_id=first_kept.pk,
        anchor_hash=(first_kept.prev_hash or "") if anchor is None else anchor,
    )


# --- Prunes: only a prefix, only with a record ----------------------------------------------------------


def prune_setting() -> None:
    """What the owner's prune sets on PostgreSQL (audit/triggers.py); nothing to set on SQLite."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL audit.prune = 'on'")


def test_the_database_refuses_a_prune_without_a_record():
    first, *_ = record(3)
    prune_setting()
    refused("DELETE FROM audit_accesseventpatron WHERE event_id < %s", [first.pk], match="append-only|prune")
    refused("DELETE FROM audit_accessevent WHERE id < %s", [first.pk], match="append-only|prune")


def test_the_database_refuses_to_delete_anything_but_the_recorded_prefix():
    empty_log()
    events = record_at(timezone.now() - relativedelta(years=3), 4)
    access_log_prune_record(events[2])
    prune_setting()
    # The tail, the first kept event itself, and both together with a legitimate prefix: all refused.
    for first_id in (events[3].pk, events[2].pk, events[0].pk):
        refused("DELETE FROM audit_accesseventpatron WHERE event_id >= %s", [first_id], match="append-only|prune")
    refused("DELETE FROM audit_accessevent WHERE id >= %s", [events[2].pk], match="append-only|prune")
    # The recorded prefix goes (the index rows first, as the prune does).
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_accesseventpatron WHERE event_id < %s", [events[2].pk])
        cursor.execute("DELETE FROM audit_accessevent WHERE id < %s", [events[2].pk])
    assert AccessEvent.objects.order_by("id").first().pk == events[2].pk


def test_the_database_refuses_a_prune_record_that_does_not_fit_the_chain():
    events = record(3)
    long_ago = timezone.now() - relativedelta(years=3)
    with pytest.raises(DatabaseError, match="prune record"), transaction.atomic():
        access_log_prune_record(events[1], anchor="f" * 64, cutoff=long_ago)
    with pytest.raises(DatabaseError, match="prune record"), transaction.atomic():
        AccessLogPrune.objects.create(
            pruned_at=timezone.now(),
            cutoff=long_ago,
            removed_events=0,
            first_kept_event_id=events[-1].pk + 1000,
            anchor_hash=events[-1].hash,
        )


def test_a_prune_record_that_miscounts_the_removed_events_is_named():
    from audit.prune import access_log_prune

    empty_log()
    record_at(timezone.now() - relativedelta(years=3), 3)
    access_log_prune(before=timezone.now() - relativedelta(years=2, days=1))
    assert verify_access_log().intact
    with Tampering():
        AccessLogPrune.objects.update(removed_events=1)  # hides how many events went
    assert [kind for kind, _ in kinds(verify_access_log())] == ["sequence"]


# --- A fake prune: recent events deleted under a record of the attacker's own ---------------------------


def fake_prune(kept: AccessEvent, *, removed: int | None = None, cutoff: datetime.datetime | None = None) -> None:
    """The second reader's attack: a prune record that says what the attacker likes (a cutoff long ago, and
    as many events removed as the first kept event's position needs), then every event before `kept` gone."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_accesslogprune (pruned_at, cutoff, removed_events, first_kept_event_id, anchor_hash) "
            "SELECT %s, %s, %s, id, prev_hash FROM audit_accessevent WHERE id = %s",
            [
                datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
                cutoff or datetime.datetime(2024, 12, 1, tzinfo=datetime.UTC),
                cast(int, kept.seq) - 1 if removed is None else removed,
                kept.pk,
            ],
        )
        cursor.execute("DELETE FROM audit_accesseventpatron WHERE event_id < %s", [kept.pk])
        cursor.execute("DELETE FROM audit_accessevent WHERE id < %s", [kept.pk])


def test_the_database_refuses_a_fake_prune_of_recent_events():
    """As the reader wrote it, each statement on its own (sqlite3's autocommit); on PostgreSQL as the owner,
    with the prune setting."""
    events = record(4)
    kept = events[-2]
    before = AccessEvent.objects.count()
    prune_setting()
    with transaction.atomic(), connection.cursor() as cursor:  # an old cutoff: the record itself may stay
        cursor.execute(
            "INSERT INTO audit_accesslogprune (pruned_at, cutoff, removed_events, first_kept_event_id, anchor_hash) "
            "SELECT %s, %s, %s, id, prev_hash FROM audit_accessevent WHERE id = %s",
            [datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC), datetime.datetime(2024, 12, 1, tzinfo=datetime.UTC),
             kept.seq - 1, kept.pk],
        )  # fmt: skip
    refused("DELETE FROM audit_accesseventpatron WHERE event_id < %s", [kept.pk], match="append-only|prune")
    refused("DELETE FROM audit_accessevent WHERE id < %s", [kept.pk], match="append-only|prune")
    assert AccessEvent.objects.count() == before
    assert AccessEventPatron.objects.filter(event_id__in=[e.pk for e in events]).count() == 4
    # A cutoff after the events, which the deletes would need, is refused with the record.
    for days_ago in (0, 20):
        refused(
            "INSERT INTO audit_accesslogprune (pruned_at, cutoff, removed_events, first_kept_event_id, anchor_hash) "
            "SELECT %s, %s, %s, id, prev_hash FROM audit_accessevent WHERE id = %s",
            [timezone.now(), timezone.now() + datetime.timedelta(days=1 - days_ago), kept.seq - 1, kept.pk],
            match="at least a month in the past",
        )
    assert AccessLogPrune.objects.count() == 1
    assert verify_access_log().intact, "a record that vouches for no missing prefix changes nothing"


def test_a_fake_prune_of_recent_events_is_named_by_the_checkpoints():
    """The triggers lifted (the owner, or whoever writes the SQLite file): before, "intact", exit 0."""
    record(2)
    first_signed = checkpoint()
    record(2)
    checkpoint()
    *_, kept, _newest = record(3)
    checkpoint()
    with Tampering():
        fake_prune(kept)
    report = verify_access_log()
    assert kinds(report) == [("pruned_within_retention", first_signed.last_id)]
    assert report.findings[0].params["last"] == kept.pk - 1
    for options in ((), ("--all-signatures",)):
        code, output = verify_command(*options)
        assert code == 1
        assert (
            f"Events {first_signed.last_id} to {kept.pk - 1} were deleted under a prune record although they were "
            f"within the retention of 24 months: the checkpoint of {first_signed.at} pinned event "
            f"{first_signed.last_id}, written at {first_signed.head_at}"
        ) in output
        assert "gives its cutoff as 2024-12-01" in output, "the record's claim is shown as the claim it is"


def test_a_prune_of_events_whose_retention_has_not_ended_is_named(settings):
    """By the owner's own prune path, after the retention was lengthened: judged by the signed head's time."""
    settings.ACCESS_LOG_RETENTION_MONTHS = 24
    empty_log()
    a_year_and_a_half_ago = timezone.now() - relativedelta(months=18)
    record_at(a_year_and_a_half_ago, 2)
    signed = checkpoint_at(a_year_and_a_half_ago)
    first_recent, _ = record(2)
    checkpoint()
    from audit.prune import access_log_cutoff, access_log_prune
    from core.dates import today

    settings.ACCESS_LOG_RETENTION_MONTHS = 12
    access_log_prune(before=access_log_cutoff(day=today()))
    assert AccessEvent.objects.order_by("id").first().pk == first_recent.pk
    assert verify_access_log().intact, "due under a retention of 12 months"
    settings.ACCESS_LOG_RETENTION_MONTHS = 24
    assert kinds(verify_access_log()) == [("pruned_within_retention", signed.last_id)]


def v1_checkpoint_at(moment: datetime.datetime) -> None:
    """A checkpoint as the writer signed them before they carried the head's time (format v1)."""
    from audit.checkpoint_files import Checkpoint, append, newest_checkpoint
    from audit.keys import signing_key

    head = AccessEvent.objects.order_by("-id").first()
    assert head is not None and head.seq is not None and head.hash is not None, "a checkpoint needs a keyed head"
    previous = newest_checkpoint(signed_dir())
    unsigned = Checkpoint(
        at=moment.astimezone(datetime.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        last_id=head.pk,
        last_hash=head.hash,
        count=head.seq,
        previous=previous.digest if previous else None,
        key_id=signing_key()[0],
        signature="",
    )
    signature = base64.b64encode(signing_key()[1].sign(unsigned.payload())).decode()
    append(signed_dir(), dataclasses.replace(unsigned, signature=signature))


def test_older_checkpoints_without_the_heads_time_are_judged_by_their_signing_time():
    from audit.prune import access_log_cutoff, access_log_prune
    from core.dates import today

    empty_log()
    three_years_ago = timezone.now() - relativedelta(years=3)
    record_at(three_years_ago, 2)
    v1_checkpoint_at(three_years_ago)
    (old_head,) = record_at(three_years_ago, 1)
    v1_checkpoint_at(timezone.now())  # signed today: its head may be old, but nothing proves it
    record(2)
    checkpoint()
    assert [c.head_at is None for c in read_checkpoints(signed_dir())] == [True, True, False]
    access_log_prune(before=access_log_cutoff(day=today()))
    report = verify_access_log()
    assert kinds(report) == [("pruned_after_checkpoint", old_head.pk)], "the first is fine, the second is not"
    assert report.checkpoints_pruned == 2


def test_a_prune_record_that_miscounts_is_named_by_a_pruned_checkpoints_position():
    from audit.prune import access_log_cutoff, access_log_prune
    from core.dates import today

    empty_log()
    three_years_ago = timezone.now() - relativedelta(years=3)
    record_at(three_years_ago, 3)
    signed = checkpoint_at(three_years_ago)
    record(1)
    access_log_prune(before=access_log_cutoff(day=today()))
    assert verify_access_log().intact
    with Tampering():
        AccessLogPrune.objects.update(removed_events=1)
    report = verify_access_log()
    assert kinds(report) == [("prune_miscount", signed.last_id), ("sequence", signed.last_id + 1)]
    assert "the prune records account for only 1 events" in report.findings[0].message


# --- Forged checkpoints --------------------------------------------------------------------------------


def checkpoint_lines() -> tuple:
    (path,) = checkpoint_files(signed_dir())
    return path, path.read_text().splitlines()


def test_a_changed_checkpoint_has_a_bad_signature():
    record(2)
    checkpoint()
    path, lines = checkpoint_lines()
    forged = json.loads(lines[-1])
    forged["last_id"] -= 1  # "the head was one event earlier": would hide a deleted newest event
    path.write_text(json.dumps(forged) + "\n")
    report = verify_access_log()
    assert ("bad_signature", None) in kinds(report)
    code, output = verify_command()
    assert code == 1 and "bad signature" in output


def test_a_checkpoint_signed_with_another_key_is_named():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit.checkpoint_files import append, newest_checkpoint, signed

    (event,) = record(1)
    checkpoint()
    previous = newest_checkpoint(signed_dir())
    for key_id, kind in (("dev1", "bad_signature"), ("k-elsewhere", "unknown_signing_key")):
        forged = signed(
            at=timezone.now(),
            head_at=event.at,
            last_id=event.pk,
            last_hash=event.hash,
            count=event.seq,
            previous=previous.digest,
            key_id=key_id,
            key=Ed25519PrivateKey.generate(),
        )
        append(signed_dir(), forged)
        assert kind in [k for k, _ in kinds(verify_access_log())]
        path, lines = checkpoint_lines()
        path.write_text("\n".join(lines[:-1]) + "\n")


def test_a_removed_checkpoint_breaks_their_sequence():
    record(1)
    checkpoint()
    record(1)
    checkpoint()
    record(1)
    checkpoint()
    path, lines = checkpoint_lines()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    assert [k for k, _ in kinds(verify_access_log())] == ["checkpoint_sequence"]


def test_all_signatures_checks_the_older_checkpoints_too():
    import base64

    record(1)
    checkpoint()
    record(1)
    checkpoint()
    path, lines = checkpoint_lines()
    older = json.loads(lines[0])
    older["signature"] = base64.b64encode(b"\0" * 64).decode()
    path.write_text("\n".join([json.dumps(older, sort_keys=True, separators=(",", ":")), lines[1]]) + "\n")
    assert verify_access_log().intact, "the newest signature vouches for the sequence"
    assert [k for k, _ in kinds(verify_access_log(all_signatures=True))] == ["bad_signature"]


# --- Key rotation and the unkeyed past ------------------------------------------------------------------


def test_after_rotating_the_chain_key_old_events_verify_under_their_key_id(settings):
    import base64
    import secrets

    old_id = next(iter(chain_keys()))
    before = record(2)
    new_key = "k2:" + base64.b64encode(secrets.token_bytes(32)).decode()
    settings.AUDIT_CHAIN_KEY = f"{new_key},{settings.AUDIT_CHAIN_KEY}"
    after = record(2)
    assert {e.key_id for e in before} == {old_id} and {e.key_id for e in after} == {"k2"}
    report = verify_access_log()
    assert report.intact and report.key_ids["k2"] == 2 and report.key_ids[old_id] >= 2
    # Retired too early: the old events can no longer be checked, and say so.
    settings.AUDIT_CHAIN_KEY = new_key
    assert {kind for kind, _ in kinds(verify_access_log())} == {"unknown_key"}


def retired_key_seal(settings, before_forgery=lambda: None) -> list[AccessEvent]:
    """After a rotation (the new key first, the old one still configured: its events must verify), an attacker
    holding the leaked old key and the runtime role (which may seal: it runs the sealer) appends two events
    linked under the old key. Position, link and time all check. The events (two: walked in ranges of two, one
    of them starts a range, which only the join can judge)."""
    import base64
    import secrets

    from audit.sealing import access_log_seal

    def sealed(n: int) -> list[AccessEvent]:
        events = record(n)
        access_log_seal(wait=True)  # where the writer leaves it to after the commit
        return [AccessEvent.objects.get(pk=event.pk) for event in events]

    old = settings.AUDIT_CHAIN_KEY
    old_id = next(iter(chain_keys()))
    sealed(2)
    new = f"k2:{base64.b64encode(secrets.token_bytes(32)).decode()}"
    rotated = f"{new},{old}"
    settings.AUDIT_CHAIN_KEY = rotated
    assert {e.key_id for e in sealed(2)} == {"k2"}
    before_forgery()
    # The attacker links under the old key, as leaked, to the head (whose link is in the database): our own
    # writer and sealer do that with the old key first (our sealer holds back only under a head it cannot name).
    settings.AUDIT_CHAIN_KEY = f"{old},{new}"
    forged = sealed(2)
    settings.AUDIT_CHAIN_KEY = rotated
    assert {event.key_id for event in forged} == {old_id}
    return forged


def test_a_seal_under_a_retired_key_after_the_new_keys_is_found(settings):
    forged = retired_key_seal(settings)
    assert kinds(verify_access_log()) == [("key_back", event.pk) for event in forged]


def test_events_from_before_the_chain_key_are_accepted_as_the_oldest_part_and_protected():
    """An upgraded deployment: its old events have plain SHA-256 links and no key id."""
    with Tampering():  # start a log of old-style events (what the database held before migration 0009)
        AccessEventPatron.objects.all().delete()
        AccessEvent.objects.all().delete()
        previous = "0" * 64
        # The old writer hashed the address as Python printed it; the database prints some differently.
        addresses = [("10.10.4.20", "10.10.4.20"), ("::ffff:10.0.0.1", "::ffff:a00:1"), (None, None)]
        for n, (stored, hashed) in enumerate(addresses):
            at = timezone.now() - datetime.timedelta(minutes=10 - n)
            content = legacy_content(
                at=at, actor_id=1, actor_username="tester", actor_municipality_id=1, client_ip=hashed,
                action=Action.PATRON_VIEW, resource="", patron_ids=[], data_categories=["basic"], reason="",
                outcome="allowed", detail="",
            )  # fmt: skip
            old = AccessEvent.objects.create(
                at=at, actor_id=1, actor_username="tester", actor_municipality_id=1, client_ip=stored,
                action=Action.PATRON_VIEW, data_categories=["basic"], outcome="allowed", prev_hash=previous,
                hash=legacy_link(content, previous),
            )  # fmt: skip
            previous = old.hash
    (first_keyed,) = record(1)
    assert first_keyed.seq == 4, "the first keyed event counts the old ones"
    report = verify_access_log()
    assert report.intact and report.unkeyed == 3 and report.first_keyed_id == first_keyed.pk
    code, output = verify_command()
    assert code == 0 and "3 events up to event" in output and "plain SHA-256, not keyed" in output
    # Rewriting an old event and recomputing the old events' chain breaks the first keyed event's link.
    oldest = AccessEvent.objects.order_by("id").first()
    with Tampering():
        AccessEvent.objects.filter(pk=oldest.pk).update(actor_username="innocent")
        relink(oldest.pk, key_id=None, upto=first_keyed.pk - 1)
    assert kinds(verify_access_log()) == [("link", first_keyed.pk)]


def test_the_link_is_the_documented_hmac_sha256_of_the_documented_message():
    """What an independent verifier implements (audit/chain.py's docstring): NUL-joined text, HMAC-SHA256."""
    import hashlib
    import hmac

    at = datetime.datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=datetime.UTC)
    message = link_message(
        7, microseconds(at), 3, "rovaniemi.staff", 1, address_text("10.10.4.20"), "patron_view", "patrons:detail",
        json_list_text([5, 12]), json_list_text(["basic", "contact"]), "", "allowed", "", "0" * 64, "k1",
    )  # fmt: skip
    assert message == (
        b"access-event/v1\x007\x001777636800123456\x003\x00rovaniemi.staff\x001\x004:168428564\x00patron_view"
        b'\x00patrons:detail\x00[5, 12]\x00["basic", "contact"]\x00\x00allowed\x00\x00' + b"0" * 64 + b"\x00k1"
    )
    for key in (b"k" * 32, b"a longer key than the block of SHA-256, which HMAC hashes first" * 2):
        assert keyed_link(hmac_base(key), message) == hmac.new(key, message, hashlib.sha256).hexdigest()
    with pytest.raises(ValueError, match="NUL"):
        link_message(7, 0, 3, "a\x00b", 1, "", "", "", "[]", "[]", "", "", "", "0" * 64, "k1")
