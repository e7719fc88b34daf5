"""Pruning old access events: the owner's privileged path, a prefix only, and a chain that still verifies.

The events are dated in the past (the database's own clock judges a prune record, audit/triggers.py),
in a log emptied first: the demo world's events were written when the test run began, and a prune
removes only a prefix.
"""

import datetime
from io import StringIO

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation

from audit.models import AccessEvent, AccessEventPatron, AccessLogPrune
from audit.prune import PruneWithinRetention, access_log_cutoff, access_log_prune
from audit.triggers import prune_deletes_allowed
from audit.verify import verify_chain
from core.dates import shown_date, start_of_day, today
from tests.audit.test_access_log import Tampering, assert_broken_at
from tests.audit.test_tampering import empty_log, record_at

pytestmark = pytest.mark.django_db

CUTOFF_DAY = today() - relativedelta(months=30)
CUTOFF = start_of_day(CUTOFF_DAY)
OLD = CUTOFF - datetime.timedelta(days=180)
NEW = timezone.now() - relativedelta(months=12)


@pytest.fixture
def old_and_new() -> tuple[list[AccessEvent], list[AccessEvent]]:
    """Three events before CUTOFF, two after it (a year ago: within the retention)."""
    empty_log()
    return record_at(OLD, 3), record_at(NEW, 2)


def denied(statement: str, *, role: str | None = None, prune_setting: bool = False) -> str:
    """Run `statement` in a savepoint, as `role` and with audit.prune set if asked; the database's refusal."""
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as cursor:
        if role:
            cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
        if prune_setting:
            cursor.execute("SET LOCAL audit.prune = 'on'")
        cursor.execute(statement)
    return str(refused.value)


def test_the_owner_removes_the_old_prefix_and_the_chain_still_verifies(old_and_new):
    old, (first_new, _) = old_and_new

    prune = access_log_prune(before=CUTOFF)

    assert prune is not None
    assert list(AccessEvent.objects.order_by("id").values_list("id", flat=True)[:1]) == [first_new.pk]
    assert prune.removed_events == 3
    assert prune.first_kept_event_id == first_new.pk and prune.anchor_hash == old[-1].hash
    assert not AccessEventPatron.objects.filter(event_id__lt=first_new.pk).exists()
    assert verify_chain() is None
    call_command("verify_access_log", verbosity=0)
    # The log goes on from where it was.
    (later,) = record_at(NEW, 1)
    assert later.prev_hash == AccessEvent.objects.get(pk=later.pk - 1).hash
    assert verify_chain() is None


def test_only_a_prefix_goes_even_when_a_later_event_is_older(old_and_new):
    _old, (first_new, second_new) = old_and_new
    (late_but_old,) = record_at(OLD, 1)  # a clock set back: after first_new by id, before the cutoff by time

    access_log_prune(before=CUTOFF)

    assert set(AccessEvent.objects.values_list("id", flat=True)) == {first_new.pk, second_new.pk, late_but_old.pk}
    # The chain is whole; only the clock that ran two years back is named.
    broken = verify_chain()
    assert broken.event_id == late_but_old.pk and "backdated" in broken.problem


def test_the_newest_event_always_stays_so_the_chain_has_a_head():
    empty_log()
    *_, newest = record_at(OLD, 3)
    prune = access_log_prune(before=CUTOFF)
    assert list(AccessEvent.objects.values_list("id", flat=True)) == [newest.pk]
    assert prune.first_kept_event_id == newest.pk
    assert verify_chain() is None
    assert access_log_prune(before=CUTOFF) is None


def test_no_prune_reaches_into_the_retention(old_and_new, settings):
    """Not even an owner's --before: the events of the last ACCESS_LOG_RETENTION_MONTHS stay."""
    settings.ACCESS_LOG_RETENTION_MONTHS = 24
    before = AccessEvent.objects.count()
    latest = access_log_cutoff(day=today())
    with pytest.raises(PruneWithinRetention):
        access_log_prune(before=latest + datetime.timedelta(seconds=1))
    within = (today() - relativedelta(months=6)).isoformat()
    for dry_run in ([], ["--dry-run"]):
        with (
            pytest.raises(CommandError, match="would reach into the access log's retention") as refused,
            translation.override("en"),
        ):
            call_command("prune_access_log", "--before", within, *dry_run, stdout=StringIO())
        with translation.override("en"):
            shown = shown_date(timezone.localtime(latest))
        assert f"only events before {shown}" in str(refused.value)
    assert AccessEvent.objects.count() == before
    assert not AccessLogPrune.objects.exists()


def test_nothing_due_removes_nothing_and_records_nothing(old_and_new):
    before = AccessEvent.objects.count()
    assert access_log_prune(before=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)) is None
    assert AccessEvent.objects.count() == before
    assert not AccessLogPrune.objects.exists()


def test_a_removed_event_in_the_middle_still_breaks_the_chain_after_a_prune(old_and_new):
    _old, (_first_new, second_new) = old_and_new
    (third_new,) = record_at(NEW, 1)
    access_log_prune(before=CUTOFF)
    with Tampering():
        AccessEventPatron.objects.filter(event_id=second_new.pk).delete()
        AccessEvent.objects.filter(pk=second_new.pk).delete()
    assert_broken_at(third_new.pk, "removed or moved")


def test_a_prefix_removed_without_a_prune_record_breaks_the_chain(old_and_new):
    _old, (first_new, _) = old_and_new
    with Tampering():
        AccessEventPatron.objects.filter(event_id__lt=first_new.pk).delete()
        AccessEvent.objects.filter(pk__lt=first_new.pk).delete()
    assert_broken_at(first_new.pk, "removed or moved")


def test_a_prune_vouches_only_for_the_prefix_it_removed(old_and_new):
    _old, (first_new, second_new) = old_and_new
    access_log_prune(before=CUTOFF)
    with Tampering():  # the first kept event removed as well, behind the prune's back
        AccessEventPatron.objects.filter(event_id=first_new.pk).delete()
        AccessEvent.objects.filter(pk=first_new.pk).delete()
    assert_broken_at(second_new.pk, "removed or moved")


def test_after_a_prune_the_log_is_append_only_again(old_and_new):
    access_log_prune(before=CUTOFF)
    for statement in ("DELETE FROM audit_accessevent", "DELETE FROM audit_accesseventpatron"):
        assert "append-only" in denied(statement)
    assert "append-only" in denied("UPDATE audit_accesslogprune SET removed_events = 0")
    assert "append-only" in denied("DELETE FROM audit_accesslogprune")


def test_a_failed_prune_leaves_the_triggers_in_place(old_and_new):
    with pytest.raises(RuntimeError), transaction.atomic(), prune_deletes_allowed(connection):
        raise RuntimeError("the prune failed half-way")
    assert "append-only" in denied("DELETE FROM audit_accessevent")


def test_the_command_counts_in_a_dry_run_then_prunes_with_a_progress_bar(old_and_new):
    _old, (first_new, _) = old_and_new
    due = AccessEvent.objects.filter(id__lt=first_new.pk).count()
    day = CUTOFF_DAY.isoformat()
    with translation.override("en"):
        shown = shown_date(CUTOFF_DAY)
    out = StringIO()
    with translation.override("en"):
        call_command("prune_access_log", "--before", day, "--dry-run", stdout=out)
    assert f"Dry run: {due} access events before {shown} would be removed." in out.getvalue()
    assert AccessEvent.objects.filter(id__lt=first_new.pk).count() == due

    out, err = StringIO(), StringIO()
    with translation.override("en"):
        call_command("prune_access_log", "--before", day, stdout=out, stderr=err)
    assert f"[{'#' * 30}] {due}/{due}" in err.getvalue()
    assert f"Removed {due} access events before {shown}; the log now starts at event {first_new.pk}." in (
        out.getvalue()
    )
    call_command("verify_access_log", verbosity=0)

    out = StringIO()
    with translation.override("en"):
        call_command("prune_access_log", "--before", day, stdout=out)
    assert "nothing was removed" in out.getvalue()


def test_the_command_uses_the_retention_setting_by_default(old_and_new, settings):
    settings.ACCESS_LOG_RETENTION_MONTHS = 24
    _old, (first_new, _) = old_and_new
    call_command("prune_access_log", stdout=StringIO(), verbosity=0)
    # Two years before today: the events of two and a half years ago went, those of a year ago stayed.
    assert AccessEvent.objects.order_by("id").first().pk == first_new.pk
    assert AccessLogPrune.objects.get().cutoff == start_of_day(today() - relativedelta(months=24))


postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="roles and grants are PostgreSQL's")


@postgres_only
def test_the_runtime_role_cannot_delete_events_even_with_the_prune_setting(old_and_new, settings):
    role = settings.DATABASE_APP_ROLE
    assert role, "the PostgreSQL run must name the runtime role (DATABASE_APP_ROLE)"
    for statement in ("DELETE FROM audit_accessevent", "DELETE FROM audit_accesseventpatron"):
        assert "permission denied" in denied(statement, role=role, prune_setting=True)
    # Nor may it write a prune record to vouch for a gap.
    assert "permission denied" in denied(
        "INSERT INTO audit_accesslogprune (pruned_at, cutoff, removed_events, first_kept_event_id, anchor_hash) "
        "VALUES (now(), now(), 1, 1, 'x')",
        role=role,
    )


@postgres_only
def test_the_owner_is_refused_without_the_prune_setting_and_truncate_or_update_always(old_and_new):
    access_log_prune(before=CUTOFF)  # a prune record to try to delete (row triggers need a row)
    assert "append-only" in denied("DELETE FROM audit_accessevent")
    assert "append-only" in denied("UPDATE audit_accessevent SET reason = 'x'", prune_setting=True)
    assert "append-only" in denied("DELETE FROM audit_accesslogprune", prune_setting=True)
    assert "append-only" in denied(
        "SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE audit_accessevent CASCADE", prune_setting=True
    )


@postgres_only
def test_the_command_explains_when_run_as_the_runtime_role(old_and_new, settings):
    before = AccessEvent.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(settings.DATABASE_APP_ROLE)}")
    try:
        with pytest.raises(CommandError, match="owner") as refused, translation.override("en"):
            call_command("prune_access_log", "--before", CUTOFF_DAY.isoformat(), stdout=StringIO(), stderr=StringIO())
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert "permission denied" in str(refused.value)
    assert AccessEvent.objects.count() == before
    assert not AccessLogPrune.objects.exists()
