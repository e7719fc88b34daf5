"""`archive_bans`: ended bans get archived with their retention date; nothing else is touched."""

import datetime
from io import StringIO

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.utils import timezone

from bans.models import Ban, BanStatus
from staff.models import Library

pytestmark = pytest.mark.django_db


def make_ban(patron, *, starts_ago: int, days: int, status=BanStatus.NOTIFIED, number="A-1") -> Ban:
    today = timezone.localdate()
    starts_on = today - datetime.timedelta(days=starts_ago)
    return Ban.objects.create(
        patron=patron,
        library=Library.objects.get(koha_library_id="ROV"),
        grounds=["repeated_substantial_disturbance"],
        starts_on=starts_on,
        ends_on=starts_on + datetime.timedelta(days=days - 1),
        status=status,
        decision_number=number,
        decided_on=starts_on,
        proposed_at=timezone.now(),
        proposed_by="rovaniemi.staff",
    )


def test_only_ended_bans_are_archived_with_their_retention(lapland_patron, settings):
    settings.BAN_DECISION_RETENTION_YEARS = 2
    ended = make_ban(lapland_patron, starts_ago=40, days=10, number="A-1")
    running = make_ban(lapland_patron, starts_ago=2, days=10, number="A-2")
    cancelled = make_ban(lapland_patron, starts_ago=-5, days=10, status=BanStatus.CANCELLED, number="A-3")

    out = StringIO()
    call_command("archive_bans", "--dry-run", stdout=out)
    assert "Would archive 2 bans" in out.getvalue()
    assert not Ban.objects.filter(archived_at__isnull=False).exists()

    call_command("archive_bans", stdout=StringIO())
    ended.refresh_from_db()
    running.refresh_from_db()
    cancelled.refresh_from_db()
    assert ended.archived_at is not None
    assert ended.retain_until == ended.ends_on + relativedelta(years=2)
    assert cancelled.archived_at is not None
    assert running.archived_at is None

    out = StringIO()
    call_command("archive_bans", stdout=out)
    assert "Archived 0 bans" in out.getvalue()
