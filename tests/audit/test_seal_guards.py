"""The guards against the attacker's second review of batch sealing (audit/triggers.py 0016, the checkpoint
writer's check of every link it signs, the alarms that never crash): each attack performed, and refused."""

import datetime
import logging
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import sealing
from audit.checkpoints import CheckpointRefused, access_log_checkpoint_write
from audit.models import AccessEvent
from audit.sealing import access_log_seal, overdue_unsealed
from audit.verify import verify_access_log
from tests.audit.test_sealing import after_commit, forge, reported, sealed_row, unsealed  # noqa: F401
from tests.audit.test_tampering import as_role, kinds, postgres_only, record, reset_role, retired_key_seal
from tests.conftest import client_for

# Every test as in production on PostgreSQL (sealing after the commit), the sealer's memory of reports fresh.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("after_commit", "reported")]

MAX_BIGINT = 9223372036854775807
BC = "0044-03-15 00:00:00+00 BC"
FAR_FUTURE = "294270-01-01 00:00:00+00"
SEAL_REFUSED = "sealed at a position in range, linked to the event before it"
INSERT_REFUSED = "inserted unsealed, with a current time"


def runtime_seal(event_id: int, seq: int, prev_hash: str = "p", link: str = "h", key_id: str = "k") -> None:
    """An UPDATE of the seal's columns, as the runtime role may run it (it runs the sealer)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_accessevent SET seq = %s, prev_hash = %s, hash = %s, key_id = %s WHERE id = %s",
            [seq, prev_hash, link, key_id, event_id],
        )


def insert_at(at: str) -> int:
    """A forged row with its time given as PostgreSQL text (past the writer, without the chain key). Its id."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_accessevent (at, action, outcome, actor_username, resource, patron_ids, "
            "data_categories, reason, detail) VALUES (%s::timestamptz, 'patron_view', 'allowed', 'x', '', '[]', "
            "'[]', '', '') RETURNING id",
            [at],
        )
        return cursor.fetchone()[0]


def head() -> AccessEvent:
    return AccessEvent.objects.filter(seq__isnull=False).order_by("-seq")[0]


def refused(match: str):
    return pytest.raises(DatabaseError, match=match)


# --- H1: the runtime role's seal --------------------------------------------------------------------------


@postgres_only
@pytest.mark.parametrize("seq", [MAX_BIGINT, 2**62, 0, -1])
def test_the_runtime_role_cannot_seal_at_a_position_out_of_range(settings, seq):
    """A1: the last position (2^63-1) stopped all sealing for good (the next one overflows)."""
    as_role(settings.DATABASE_APP_ROLE)
    forged = forge(None)
    with refused(SEAL_REFUSED), transaction.atomic():
        runtime_seal(forged, seq, prev_hash=head().hash)
    (genuine,) = unsealed(1)
    assert access_log_seal(wait=True) == 1, "sealing goes on"
    reset_role()
    assert sealed_row(genuine.pk)[0] is not None


@postgres_only
def test_the_runtime_role_cannot_break_a_link(settings):
    """A2: one UPDATE with a wrong prev_hash stopped every future checkpoint."""
    record(1)
    access_log_seal(wait=True)
    assert access_log_checkpoint_write(force=True).checkpoint is not None
    top = head()
    as_role(settings.DATABASE_APP_ROLE)
    forged = forge(None)
    with refused(SEAL_REFUSED), transaction.atomic():
        runtime_seal(forged, top.seq + 1, prev_hash="not-the-heads-link")
    with refused(SEAL_REFUSED), transaction.atomic():
        runtime_seal(forged, top.seq + 5, prev_hash=top.hash)  # a gap: no event at seq - 1
    unsealed(3)
    assert access_log_seal(wait=True) == 3
    reset_role()
    assert access_log_checkpoint_write(force=True).checkpoint is not None
    assert verify_access_log(use_checkpoints=False).intact


@postgres_only
def test_the_sealer_as_the_runtime_role_passes_the_guard(settings):
    """The sealer's own batches (one UPDATE each, its rows linked to each other) get through."""
    as_role(settings.DATABASE_APP_ROLE)
    events = unsealed(5)
    assert access_log_seal(wait=True, batch_size=2) == 5
    reset_role()
    assert all(sealed_row(event.pk)[0] is not None for event in events)
    assert verify_access_log(use_checkpoints=False).intact


@postgres_only
def test_the_owner_is_not_held_by_the_seal_guard():
    """The owner (a restore, its repairs) may seal as it likes: the verifier names a wrong link."""
    forged = forge(None)
    runtime_seal(forged, head().seq + 1, prev_hash="not-the-heads-link")
    assert ("link", forged) in kinds(verify_access_log(use_checkpoints=False))


# --- H2: the time of an insert ------------------------------------------------------------------------------


@postgres_only
@pytest.mark.parametrize(
    "at",
    [FAR_FUTURE, BC, "now() + interval '1 hour'", "now() + interval '6 minutes'", "now() - interval '61 minutes'"],
)
def test_the_runtime_role_inserts_only_a_current_time(settings, at):
    """A3 (year 294270 stopped the sealer), A4 (BC crashed the alarm and /healthz), A6 (dated ahead: no alarm,
    while the patron's "who processed my data" showed it)."""
    as_role(settings.DATABASE_APP_ROLE)
    moment = at if not at.startswith("now()") else None
    with refused(INSERT_REFUSED), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_accessevent (at, action, outcome, actor_username, resource, patron_ids, "
            "data_categories, reason, detail) VALUES ("
            + ("%s::timestamptz" if moment else at)
            + ", 'patron_view', 'allowed', 'x', '', '[]', '[]', '', '')",
            [moment] if moment else [],
        )
    (genuine,) = unsealed(1)  # the writer's own time passes
    assert access_log_seal(wait=True) == 1
    reset_role()
    assert sealed_row(genuine.pk)[0] is not None


@postgres_only
@pytest.mark.parametrize("at", [BC, FAR_FUTURE])
def test_an_owners_row_out_of_pythons_range_is_an_alarm_not_a_crash(at):
    """A4: the alarm's probe and /healthz crashed (year -44 is out of range); now the row is overdue."""
    insert_at(at)
    overdue = overdue_unsealed()
    assert overdue.count == 1
    assert overdue.message
    health = client_for(None).get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "access_log": "unsealed events overdue", "unsealed": 1}


@postgres_only
def test_an_owners_row_dated_ahead_is_an_alarm():
    """A6: a row dated an hour ahead raised no alarm while readers showed it."""
    insert_at((timezone.now() + datetime.timedelta(hours=1)).isoformat())
    assert overdue_unsealed().count == 1
    assert not overdue_unsealed(now=timezone.now() + datetime.timedelta(hours=1, seconds=-30))


def test_a_row_dated_within_five_minutes_ahead_is_no_alarm():
    forge(None, at=timezone.now() + datetime.timedelta(minutes=4))
    assert not overdue_unsealed()


@postgres_only
def test_the_verifier_names_a_sealed_bc_row_and_does_not_crash():
    """A5: a sealed row dated BC made the verifier raise OverflowError; now it is named (as the owner only:
    the runtime role can neither insert it nor seal it off its link)."""
    record(1)
    access_log_seal(wait=True)
    top = head()
    forged = insert_at(BC)
    runtime_seal(forged, top.seq + 1, prev_hash=top.hash, key_id=top.key_id)
    report = verify_access_log(use_checkpoints=False)
    assert ("changed", forged) in kinds(report)
    assert not report.intact


# --- A10: the checkpoint writer checks the links it signs ----------------------------------------------------


@postgres_only
def test_a_checkpoint_does_not_sign_the_runtime_roles_own_seals(settings, caplog):
    """A10: holding the chain's lock, the runtime role sealed the genuine rows itself with garbage links that
    join up (the seal guard lets them through); the next checkpoint signed them. Now it refuses, CRITICAL."""
    import psycopg2

    from audit.chain import CHAIN_LOCK_KEY

    assert access_log_checkpoint_write(force=True).checkpoint is not None
    params = connection.get_connection_params()
    other = psycopg2.connect(**{key: value for key, value in params.items() if key != "cursor_factory"})
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [CHAIN_LOCK_KEY])
        genuine = unsealed(3)
        assert access_log_seal(wait=False) == 0
        as_role(settings.DATABASE_APP_ROLE)
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH head AS (SELECT seq, hash FROM audit_accessevent WHERE seq IS NOT NULL ORDER BY seq DESC "
                "LIMIT 1),"
                " todo AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit_accessevent WHERE hash IS NULL),"
                " chained AS (SELECT id, (SELECT seq FROM head) + n AS seq, md5(id::text) || md5(id::text) AS link,"
                "  n FROM todo)"
                " UPDATE audit_accessevent AS e SET seq = c.seq, hash = c.link, key_id = 'dev1',"
                " prev_hash = coalesce((SELECT p.link FROM chained p WHERE p.n = c.n - 1), (SELECT hash FROM head))"
                " FROM chained c WHERE e.id = c.id"
            )
        reset_role()
        with caplog.at_level(logging.CRITICAL, logger="audit.checkpoints"), pytest.raises(CheckpointRefused):
            access_log_checkpoint_write(force=True)
        (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
        assert "3 events" in line and all(str(event.pk) in line for event in genuine)
        assert "alice" not in line
    finally:
        other.close()


def test_a_checkpoint_does_not_sign_a_garbage_link():
    """The same on any database: a seal with the right predecessor but a link the key never made."""
    record(1)
    access_log_seal(wait=True)
    assert access_log_checkpoint_write(force=True).checkpoint is not None
    top = head()
    forged = forge(None)
    runtime_seal(forged, top.seq + 1, prev_hash=top.hash, link="0" * 64, key_id=top.key_id)
    with pytest.raises(CheckpointRefused, match=str(forged)):
        access_log_checkpoint_write(force=True)


def test_a_checkpoint_does_not_sign_a_row_the_writer_never_wrote(monkeypatch):
    """A row with a valid link but no writer's content MAC (as if the sealer had been fooled) is refused too."""
    record(1)
    access_log_seal(wait=True)
    assert access_log_checkpoint_write(force=True).checkpoint is not None
    forged = forge("dev1:0011223344556677:" + "0" * 64)
    monkeypatch.setattr(sealing, "written_by_the_writer", lambda *args: True)
    assert access_log_seal(wait=True) == 1
    monkeypatch.undo()
    assert sealed_row(forged)[0] is not None
    with pytest.raises(CheckpointRefused, match=str(forged)):
        access_log_checkpoint_write(force=True)


def test_a_checkpoint_does_not_sign_a_seal_under_a_retired_key(settings):
    """A leaked retired chain key and the runtime role's seal: links that check, under a key older than the
    chain's newest so far (tests/audit/test_tampering.py, `retired_key_seal`)."""
    first, _second = retired_key_seal(settings, before_forgery=lambda: access_log_checkpoint_write(force=True))
    with pytest.raises(CheckpointRefused, match=str(first.pk)):
        access_log_checkpoint_write(force=True)


def test_a_checkpoint_signs_the_sealers_events():
    assert access_log_checkpoint_write(force=True).checkpoint is not None
    unsealed(4)
    access_log_seal(wait=True)
    assert access_log_checkpoint_write(force=True).checkpoint is not None


# --- L2: the following sealer alarms while events stay unsealed -------------------------------------------


class Stop(Exception):
    """Ends the sealer's endless loop in the test."""


def test_the_following_sealer_logs_the_alarm_each_round(caplog):
    forge(None, at=timezone.now() - datetime.timedelta(minutes=10))
    rounds = []

    def sleep(seconds):
        rounds.append(seconds)
        if len(rounds) >= 2:
            raise Stop

    with (
        mock.patch("audit.management.commands.seal_access_log.time.sleep", side_effect=sleep),
        caplog.at_level(logging.CRITICAL, logger="audit.sealing"),
        pytest.raises(Stop),
    ):
        call_command("seal_access_log", "--follow", "1", verbosity=0)
    alarms = [r.getMessage() for r in caplog.records if "still unsealed" in r.getMessage()]
    assert len(alarms) == 2
    assert alarms[0].startswith("1 access events") and "alice" not in alarms[0]


# --- H3: readers never show an unsealed row the writer never wrote ------------------------------------------


def forge_about(patron_id: int, content_mac: str | None) -> int:
    """A6: "alice read the patron's data", inserted past the writer with its patron index row. Its id."""
    forged = forge(content_mac)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_accesseventpatron (event_id, patron_id, at) SELECT id, %s, at FROM audit_accessevent "
            "WHERE id = %s",
            [patron_id, forged],
        )
    return forged


def test_readers_do_not_show_a_forged_unsealed_event(lapland_patron):
    """The patron's "who processed my data", the patron's access report and the DPO's browser show unsealed
    events (committed facts), but not one whose content MAC does not check (none, or another event's)."""
    from tests.audit.test_sealing import other_content_mac
    from tests.dpo.test_access_report import make_request, records, report_of

    assert client_for("rovaniemi.staff").get(f"/api/v1/patrons/{lapland_patron.pk}/").status_code == 200
    genuine = AccessEvent.objects.filter(subjects__patron_id=lapland_patron.pk, hash__isnull=True).latest("id")
    subject_request = make_request(lapland_patron)

    def views() -> int:
        events = records(report_of(subject_request.pk), "access_log")
        return len([event for event in events if event["action"]["value"] == "patron_view"])

    shown = views()
    forged = {forge_about(lapland_patron.pk, None), forge_about(lapland_patron.pk, other_content_mac())}
    assert AccessEvent.objects.filter(pk__in=forged, hash__isnull=True).count() == 2

    listed = {
        event["id"] for event in client_for("dpo").get(f"/api/v1/patrons/{lapland_patron.pk}/access-events/").json()
    }
    assert genuine.pk in listed and not forged & listed
    assert views() == shown
    page = client_for("dpo").get(f"/admin/audit/accessevent/?patron={lapland_patron.pk}").content.decode()
    assert f"/admin/audit/accessevent/{genuine.pk}/change/" in page
    assert not [event_id for event_id in forged if f"/admin/audit/accessevent/{event_id}/change/" in page]
    assert access_log_seal(wait=True) >= 1 and sealed_row(genuine.pk)[0] is not None


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite keeps times as text")
@pytest.mark.parametrize("at", ["-0044-03-15 00:00:00", "not a time"])
def test_an_unreadable_time_on_sqlite_is_an_alarm_not_a_crash(at):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_accessevent (at, action, outcome, actor_username, resource, patron_ids, "
            "data_categories, reason, detail) VALUES (%s, 'patron_view', 'allowed', 'x', '', '[]', '[]', '', '')",
            [at],
        )
    assert overdue_unsealed().count == 1
    assert client_for(None).get("/healthz").json()["unsealed"] == 1
