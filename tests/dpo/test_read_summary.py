"""The daily summary of staff patron reads (dpo/read_summary.py): the access review's usual volume from it is
the one the scan of the access log gives, at the window's edges and when the clocks turn, and a day still
open is never summarised."""

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command

from core.dates import start_of_day
from dpo.models import ReadSummaryDay, StaffReadDay
from dpo.read_summary import read_summaries_make, read_summary_make
from dpo.review import HISTORY_DAYS, access_review_build
from tests.dpo.test_access_review import DAY, at, plain_patrons, read, staff_actor

pytestmark = pytest.mark.django_db


def built(day: datetime.date):
    cache.clear()  # a finished day's review is cached
    return access_review_build(actor=staff_actor("dpo"), day=day)


def window(day: datetime.date) -> list[datetime.date]:
    return [day - datetime.timedelta(days=n) for n in range(HISTORY_DAYS + 1, 0, -1)]


def assert_summary_gives_the_scan(day: datetime.date) -> None:
    scanned = built(day)
    assert read_summaries_make(days=window(day)) == HISTORY_DAYS + 1
    summarised = built(day)
    assert summarised == scanned
    assert ReadSummaryDay.objects.count() == HISTORY_DAYS + 1


def test_the_summary_gives_the_usual_volume_of_the_scan_at_the_window_edges():
    patron = plain_patrons(count=1)
    before_window = DAY - datetime.timedelta(days=HISTORY_DAYS + 1)
    first = DAY - datetime.timedelta(days=HISTORY_DAYS)
    read("rovaniemi.staff", patron, at(before_window, 23, 59), times=40)  # not in the window: not usual
    read("rovaniemi.staff", patron, at(first, 0, 0), times=4)  # day 28, the first of the window
    read("rovaniemi.staff", patron, at(first, 23, 59), times=2)
    read("rovaniemi.staff", patron, at(DAY - datetime.timedelta(days=5)), times=8)
    read("rovaniemi.staff", patron, at(DAY - datetime.timedelta(days=1), 23, 59), times=10)
    read("kemi.staff", patron, at(DAY - datetime.timedelta(days=3)), times=3)  # another consortium's staff
    read("rovaniemi.staff", patron, at(DAY, 0, 0), times=30)
    read("rovaniemi.billing", patron, at(DAY, 8), times=25)  # no earlier day: usual 0
    review = built(DAY)
    (member,) = [m for m in review.staff if m.username == "rovaniemi.staff"]
    assert member.usual == 8 and member.reads == 30 and member.above_usual
    assert {d.day: d.reads for d in member.history if d.reads} == {
        first: 6,
        DAY - datetime.timedelta(days=5): 8,
        DAY - datetime.timedelta(days=1): 10,
        DAY: 30,
    }
    assert_summary_gives_the_scan(DAY)
    # A summarised day without reads is told from one not summarised: nothing is scanned for it.
    quiet = DAY - datetime.timedelta(days=10)
    assert ReadSummaryDay.objects.filter(day=quiet).exists()
    assert not StaffReadDay.objects.filter(day=quiet).exists()


@pytest.mark.parametrize(
    "turn",
    [datetime.date(2026, 3, 29), datetime.date(2026, 10, 25)],  # Europe/Helsinki: 23 and 25 hours
)
def test_the_summary_counts_a_day_when_the_clocks_turn_as_the_scan_does(turn):
    patron = plain_patrons(count=1)
    day = turn + datetime.timedelta(days=3)
    read("rovaniemi.staff", patron, at(turn - datetime.timedelta(days=1), 23, 59), times=3)
    read("rovaniemi.staff", patron, at(turn, 0, 0), times=5)
    elapsed = start_of_day(turn).astimezone(datetime.UTC) + datetime.timedelta(hours=23, minutes=30)
    read("rovaniemi.staff", patron, elapsed, times=7)
    read("rovaniemi.staff", patron, at(turn + datetime.timedelta(days=1), 0, 0), times=11)
    read("rovaniemi.staff", patron, at(day, 10), times=40)
    (member,) = [m for m in built(day).staff if m.username == "rovaniemi.staff"]
    counts = {d.day: d.reads for d in member.history if d.reads}
    # 23.5 hours after midnight: 00:30 the next day after the 23-hour day, 22:30 on the 25-hour one.
    expected_turn = 5 + (7 if turn.month == 10 else 0)
    assert counts[turn] == expected_turn
    assert_summary_gives_the_scan(day)


def test_a_day_still_open_is_never_summarised(settings):
    settings.ACCESS_LOG_SEAL_ALARM_SECONDS = 60
    patron = plain_patrons(count=1)
    read("rovaniemi.staff", patron, at(DAY, 23, 59), times=2)
    midnight = start_of_day(DAY + datetime.timedelta(days=1))
    # An event is dated when its request records it and may commit later: the runtime role may insert one dated
    # up to an hour back (audit 0016), so the day is complete an hour after its end, not before.
    for now in (
        at(DAY, 12),
        midnight,
        midnight + datetime.timedelta(seconds=61),
        midnight + datetime.timedelta(hours=1),
    ):
        with time_machine.travel(now, tick=False):
            assert read_summary_make(day=DAY) is False
            assert read_summaries_make(days=[DAY, DAY + datetime.timedelta(days=1)]) == 0
    assert not ReadSummaryDay.objects.exists() and not StaffReadDay.objects.exists()
    with time_machine.travel(midnight + datetime.timedelta(hours=1, seconds=1), tick=False):
        assert read_summary_make(day=DAY) is True
        assert read_summary_make(day=DAY) is False, "made once"
    assert list(StaffReadDay.objects.values_list("day", "reads")) == [(DAY, 2)]


def test_the_command_is_idempotent_and_keeps_no_summary_past_the_log_retention(settings):
    settings.ACCESS_LOG_RETENTION_MONTHS = 12
    patron = plain_patrons(count=1)
    now = at(DAY + datetime.timedelta(days=1), 9)
    read("rovaniemi.staff", patron, at(DAY - datetime.timedelta(days=2)), times=3)
    old = DAY - datetime.timedelta(days=400)
    ReadSummaryDay.objects.create(day=old, made_at=now)
    StaffReadDay.objects.create(day=old, municipality_id=1, actor_id=1, reads=1)
    with time_machine.travel(now, tick=False):
        call_command("summarize_access_reads", stdout=StringIO())
        summarised = set(ReadSummaryDay.objects.values_list("day", flat=True))
        assert summarised == {DAY - datetime.timedelta(days=n) for n in range(30)}, "30 days back; today is open"
        call_command("summarize_access_reads", stdout=StringIO())
    assert set(ReadSummaryDay.objects.values_list("day", flat=True)) == summarised
    assert list(StaffReadDay.objects.values_list("day", "reads")) == [(DAY - datetime.timedelta(days=2), 3)]
