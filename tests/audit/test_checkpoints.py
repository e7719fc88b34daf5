"""Signed checkpoints of the access log's head: when they are written, what the writer refuses, the commands."""

import datetime
import json
import logging
from io import StringIO

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from audit import checkpoints
from audit.checkpoint_files import checkpoint_files, read_checkpoints
from audit.checkpoints import CheckpointRefused, access_log_checkpoint_write, checkpoints_every
from audit.keys import parse_public_keys
from audit.models import AccessEvent
from audit.prune import access_log_cutoff, access_log_prune
from audit.services import access_event_record
from audit.verify import verify_access_log
from core.dates import today
from tests.audit.test_access_log import Tampering
from tests.audit.test_tampering import (
    ACTOR,
    Action,
    checkpoint_at,
    delete_events,
    empty_log,
    fake_prune,
    record,
    record_at,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory(settings):
    checkpoints._next_look.clear()
    return settings.AUDIT_CHECKPOINT_DIR


def written(directory) -> list:
    return list(read_checkpoints(directory))


def test_the_writer_checkpoints_after_the_commit_at_most_once_an_interval(
    directory, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.INFO, logger="audit.checkpoints")
    with django_capture_on_commit_callbacks(execute=True):
        (first,) = record(1)
    (checkpoint,) = written(directory)
    assert (checkpoint.last_id, checkpoint.last_hash, checkpoint.count) == (first.pk, first.hash, first.seq)
    assert checkpoint.previous is None
    # The same line in the log, for a copy outside this machine.
    assert any(checkpoint.line() in r.getMessage() for r in caplog.records if r.name == "audit.checkpoints")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record(2)
    assert not callbacks, "within the interval a write costs no more than a comparison"
    assert len(written(directory)) == 1

    checkpoints._next_look.clear()  # another process, or this one a minute later
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        (later,) = record(1)
    newest = written(directory)[-1]
    assert (newest.last_id, newest.count) == (later.pk, later.seq)
    assert newest.previous == checkpoint.digest
    assert verify_access_log().intact


def test_a_checkpoint_is_not_due_while_the_newest_is_younger_than_the_interval(directory, settings):
    record(1)
    access_log_checkpoint_write(force=True)
    record(1)
    outcome = access_log_checkpoint_write(force=False)
    assert outcome.checkpoint is None and 0 < outcome.due_in <= settings.AUDIT_CHECKPOINT_INTERVAL_SECONDS
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
        assert access_log_checkpoint_write(force=False).checkpoint is not None
        # ...and none without new events, however old the last one is.
        with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
            assert access_log_checkpoint_write(force=False).checkpoint is None


def test_a_refusal_after_the_commit_alarms_and_never_reaches_the_request(
    directory, django_capture_on_commit_callbacks, caplog
):
    record(2)
    signed = access_log_checkpoint_write(force=True).checkpoint
    with Tampering():
        delete_events([signed.last_id])
    checkpoints._next_look.clear()  # the writes above were due to look, but their transaction never committed
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        access_event_record(actor=ACTOR, action=Action.PATRON_VIEW, data_categories=["basic"])
    alarms = [r.getMessage() for r in caplog.records if r.levelname == "CRITICAL"]
    assert alarms and f"event {signed.last_id}" in alarms[0] and "deleted" in alarms[0]
    assert len(written(directory)) == 1


def test_the_writer_refuses_a_rewritten_head_and_a_broken_chain_after_it(directory):
    events = record(3)
    signed = access_log_checkpoint_write(force=True).checkpoint
    with Tampering():
        AccessEvent.objects.filter(pk=signed.last_id).update(hash="e" * 64)
    with pytest.raises(CheckpointRefused, match="rewritten"):
        access_log_checkpoint_write(force=True)
    with Tampering():
        AccessEvent.objects.filter(pk=signed.last_id).update(hash=events[-1].hash)
    after = record(2)
    with Tampering():
        AccessEvent.objects.filter(pk=after[1].pk).update(prev_hash="f" * 64)
    with pytest.raises(CheckpointRefused, match=f"breaks at event {after[1].pk}"):
        access_log_checkpoint_write(force=True)


def test_the_writer_refuses_an_unreadable_or_unsigned_newest_checkpoint(directory):
    record(1)
    access_log_checkpoint_write(force=True)
    (path,) = checkpoint_files(directory)
    path.write_text(path.read_text() + "not a checkpoint\n")
    with pytest.raises(CheckpointRefused, match="cannot be read"):
        access_log_checkpoint_write(force=True)
    line = json.loads(path.read_text().splitlines()[0])
    line["count"] += 1
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(CheckpointRefused, match="no valid signature"):
        access_log_checkpoint_write(force=True)


def test_a_head_removed_by_a_prune_of_old_events_is_no_reason_to_refuse(directory, settings):
    settings.ACCESS_LOG_RETENTION_MONTHS = 24
    three_years_ago = timezone.now() - relativedelta(years=3)
    empty_log()
    record_at(three_years_ago, 2)
    signed = checkpoint_at(three_years_ago)
    (newest,) = record(1)
    access_log_prune(before=access_log_cutoff(day=today()))  # keeps only the newest event
    assert not AccessEvent.objects.filter(pk=signed.last_id).exists()
    assert access_log_checkpoint_write(force=True).checkpoint.last_id == newest.pk
    report = verify_access_log()
    assert report.intact and report.checkpoints_pruned == 1
    out = StringIO()
    with translation.override("en"):
        call_command("verify_access_log", stdout=out, verbosity=0)
    assert "the prune records account for 2 older events" in out.getvalue()
    assert "1 checkpoints pinned pruned events; each head was older than the retention of 24 months" in (out.getvalue())


def test_after_a_fake_prune_of_recent_events_the_writer_refuses_and_alarms(directory, caplog):
    record(2)
    signed = access_log_checkpoint_write(force=True).checkpoint
    kept, _newest = record(2)
    with Tampering():
        fake_prune(kept)
    with pytest.raises(CheckpointRefused, match="within the retention"):
        access_log_checkpoint_write(force=True)
    alarms = [r.getMessage() for r in caplog.records if r.levelname == "CRITICAL"]
    assert alarms and f"event {signed.last_id}, the head of the checkpoint of {signed.at}" in alarms[0]
    assert len(written(directory)) == 1, "nothing was signed"


def test_a_checkpoint_directory_the_service_cannot_write_to_fails_the_checks(settings, tmp_path):
    from django.core.checks import run_checks

    assert not [e for e in run_checks() if e.id == "audit.E001"]
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.AUDIT_CHECKPOINT_DIR = blocker / "checkpoints"
    assert [e.id for e in run_checks() if e.id.startswith("audit.")] == ["audit.E001"]


def test_the_command_writes_one_on_demand_and_exits_1_when_refused(directory):
    record(1)
    out = StringIO()
    with translation.override("en"):
        call_command("access_log_checkpoint", stdout=out)
        call_command("access_log_checkpoint", stdout=out)  # on demand even without new events
    assert out.getvalue().count("Checkpoint written to") == 2
    head = written(directory)[-1]
    with Tampering():
        delete_events([head.last_id])
    with (
        pytest.raises(CommandError, match="Checkpoint refused, nothing was signed") as refused,
        translation.override("en"),
    ):
        call_command("access_log_checkpoint", stdout=StringIO())
    assert refused.value.returncode == 1


def test_every_period_the_service_writes_one_when_there_are_new_events(directory):
    record(1)
    assert checkpoints_every(seconds=0.01, rounds=3) == 1
    record(1)
    out = StringIO()
    with translation.override("en"):
        call_command("access_log_checkpoint", "--every", "0.01", "--rounds", "2", stdout=out)
    assert "1 checkpoint written." in out.getvalue()


def test_an_auditor_verifies_with_the_exported_public_key_alone(directory, tmp_path, settings):
    record(2)
    access_log_checkpoint_write(force=True)
    out = StringIO()
    call_command("access_log_checkpoint", "--public-key", stdout=out)
    keys = tmp_path / "public-keys.txt"
    keys.write_text(out.getvalue())
    assert list(parse_public_keys(",".join(out.getvalue().split()))) == ["dev1"]
    copy = tmp_path / "copy-of-checkpoints"
    copy.mkdir()
    for path in checkpoint_files(directory):
        (copy / path.name).write_text(path.read_text())
    settings.AUDIT_CHECKPOINT_SIGNING_KEY = "other:" + "Z" * 43 + "="  # the auditor holds no signing key
    report = StringIO()
    with translation.override("en"):
        call_command(
            "verify_access_log", "--checkpoints", str(copy), "--public-keys", str(keys), stdout=report, verbosity=0
        )
    assert "Access log intact" in report.getvalue() and "Checked against 1 checkpoint;" in report.getvalue()
    keys.write_text("dev1:not-base64\n")
    with pytest.raises(CommandError) as cannot:
        call_command("verify_access_log", "--checkpoints", str(copy), "--public-keys", str(keys), verbosity=0)
    assert cannot.value.returncode == 2


def test_the_report_says_what_no_checkpoint_protects(directory):
    record(1)
    out = StringIO()
    with translation.override("en"):
        call_command("verify_access_log", stdout=out, verbosity=0)
    assert "No checkpoints in" in out.getvalue()
    access_log_checkpoint_write(force=True)
    record(2)
    out = StringIO()
    with translation.override("en"):
        call_command("verify_access_log", stdout=out, verbosity=0)
    assert "2 newer events are not in a checkpoint yet." in out.getvalue()


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("en", "1 newer event is not in a checkpoint yet.", "2 newer events are not in a checkpoint yet."),
        ("fi", "1 uudempi tapahtuma ei ole", "2 uudempaa tapahtumaa ei ole"),
        ("sv", "1 nyare loggpost finns", "2 nyare loggposter finns"),
    ],
)
def test_the_report_counts_in_the_singular_and_the_plural(directory, language, one, two):
    """One event is not "1 events" in any language: the counted lines take their form from the count."""
    access_log_checkpoint_write(force=True)
    outputs = []
    for _ in range(2):
        record(1)
        out = StringIO()
        with translation.override(language):
            call_command("verify_access_log", stdout=out, verbosity=0)
        outputs.append(out.getvalue())
    assert one in outputs[0] and two not in outputs[0]
    assert two in outputs[1]


@pytest.mark.parametrize(("language", "intact"), [("fi", "Käyttöloki on eheä"), ("sv", "Åtkomstloggen är intakt")])
def test_the_report_is_in_the_operators_language(directory, language, intact):
    record(1)
    out = StringIO()
    with translation.override(language):
        call_command("verify_access_log", stdout=out, verbosity=0)
    assert intact in out.getvalue()
