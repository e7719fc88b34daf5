"""The daily summary of staff patron reads (dpo/read_summary.py): the access review's usual volume from it is
the one the scan of the access log gives, at the window's edges and when the clocks turn, and a day still
open is never summarised. A reviewed day that is summarised is read from the summary, and its review is the
one its events give (staff, usual volumes and every finding), at the local day's edges, with late events, and
without another consortium's staff."""

import datetime
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import F

from core.dates import start_of_day
from dpo.models import ReadSummaryDay, StaffReadDay
from dpo.read_summary import read_summaries_make, read_summary_make
from dpo.review import HISTORY_DAYS, FindingKind, access_review_build
from patrons.models import Patron
from staff.models import StaffProfile
from tests.dpo.test_access_review import DAY, at, plain_patrons, read, staff_actor

pytestmark = pytest.mark.django_db


def built(day: datetime.date):
    cache.clear()  # a finished day's review is cached
    return access_review_build(actor=staff_actor("dpo"), day=day)


def window(day: datetime.date) -> list[datetime.date]:
    return [day - datetime.timedelta(days=n) for n in range(HISTORY_DAYS + 1, 0, -1)]


def assert_summary_gives_the_scan(day: datetime.date) -> None:
    """The review from the events, from the summary of the 29 days before, and from that and the day's own."""
    scanned = built(day)
    assert read_summaries_make(days=window(day)) == HISTORY_DAYS + 1
    summarised = built(day)
    assert summarised == scanned
    assert ReadSummaryDay.objects.count() == HISTORY_DAYS + 1
    assert read_summary_make(day=day) is True
    assert built(day) == scanned
    assert_read_from_the_summary(day)


def assert_read_from_the_summary(day: datetime.date) -> None:
    """The review of a summarised day takes its staff's reads from the summary, not from the events: a count
    changed in the summary (never done but here) shows in the review."""
    before = {member.username: member.reads for member in built(day).staff}
    assert before, "staff read on the day"
    StaffReadDay.objects.filter(day=day).update(reads=F("reads") + 1000)  # one row a reader: one municipality
    assert {member.username: member.reads for member in built(day).staff} == {
        username: reads + 1000 for username, reads in before.items()
    }
    StaffReadDay.objects.filter(day=day).update(reads=F("reads") - 1000)


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


def test_a_summarised_day_gives_the_review_of_its_events_at_its_edges_late_events_and_all(settings):
    """The reviewed day summarised: staff, usual volumes and every kind of finding as from its events."""
    settings.ACCESS_LOG_SEAL_ALARM_SECONDS = 60
    patron = plain_patrons(count=1)
    protected = Patron.objects.filter(consortium__slug="lapin-kirjastot", needs_protection=True).order_by("pk")[0]
    own_record = StaffProfile.objects.get(user__username="kemi.staff").patron
    kallio = Patron.objects.filter(
        consortium__slug="lapin-kirjastot", last_name="Kallio", needs_protection=False, staff_profile__isnull=True
    ).first()
    last_instant = datetime.timedelta(seconds=59, microseconds=999_999)
    day_before, next_day = DAY - datetime.timedelta(days=1), DAY + datetime.timedelta(days=1)
    read("rovaniemi.staff", patron, at(DAY - datetime.timedelta(days=4)), times=2)  # the usual volume: 2
    read("rovaniemi.staff", patron, at(day_before, 23, 59) + last_instant, times=7)  # the day before's last instant
    read("rovaniemi.staff", patron, at(DAY, 0, 0), times=4)  # the day's first instant
    read("rovaniemi.staff", [kallio.pk], at(DAY, 11))  # his surname
    read("rovaniemi.billing", [own_record.pk], at(DAY, 9), times=2)  # a colleague's record
    read("kemi.staff", [own_record.pk], at(DAY, 12))  # her own
    read("rovaniemi.director", [protected.pk], at(DAY, 23, 59) + last_instant, times=3)  # the day's last instant
    read("rovaniemi.staff", patron, at(next_day, 0, 0), times=5)  # the next day's first instant
    mikkeli = plain_patrons("mikkelin-seutukirjasto", count=1)
    Patron.objects.filter(pk=mikkeli[0]).update(needs_protection=True)
    read("mikkeli.staff", mikkeli, at(DAY, 10), times=40)  # another consortium's staff: in neither
    get_user_model().objects.filter(username="rovaniemi.staff").update(last_name="Kallio")

    midnight = start_of_day(next_day)
    with time_machine.travel(midnight + datetime.timedelta(minutes=30), tick=False):
        assert read_summaries_make(days=[*window(DAY), DAY]) == HISTORY_DAYS + 1, "the day is still open"
        open_day = built(DAY)
    # A late event: dated in the day, recorded after its end (within the hour the database accepts).
    read("rovaniemi.staff", patron, at(DAY, 23, 59) + last_instant, times=3)
    with time_machine.travel(midnight + datetime.timedelta(hours=1, seconds=1), tick=False):
        scanned = built(DAY)
        assert read_summary_make(day=DAY) is True
        summarised = built(DAY)
    assert summarised == scanned
    staff = {member.username: (member.reads, member.usual, member.above_usual) for member in summarised.staff}
    assert staff == {
        "kemi.staff": (1, 0.0, False),
        "rovaniemi.billing": (2, 0.0, False),
        "rovaniemi.director": (3, 0.0, False),
        "rovaniemi.staff": (4 + 1 + 3, 4.5, False),
    }
    assert open_day.staff != scanned.staff, "the late event counts once it came"
    assert {(f.username, f.kind, f.patron_id, f.event_count) for f in summarised.findings} == {
        ("rovaniemi.staff", FindingKind.SAME_SURNAME, kallio.pk, 1),
        ("rovaniemi.billing", FindingKind.COLLEAGUE, own_record.pk, 2),
        ("kemi.staff", FindingKind.OWN_RECORD, own_record.pk, 1),
        ("rovaniemi.director", FindingKind.PROTECTED, protected.pk, 3),
    }
    assert_read_from_the_summary(DAY)
