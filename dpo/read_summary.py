"""The daily summary of staff patron reads, which the daily access review (dpo/review.py) takes its history
from instead of scanning the access log's 28 days before the reviewed one.

A *patron read* is defined here (`patron_reads`), once for both: an access event that concerns at least one
patron and whose data was shown, the access review itself left out (dpo/review.py says why). A local day
(settings.TIME_ZONE, 23 or 25 hours when the clocks turn) is summarised once it is complete: it ended more
than an hour ago (audit.sealing.LATE_INSERT_SECONDS, or ACCESS_LOG_SEAL_ALARM_SECONDS if longer). An event is
dated when its request records it and commits with the request, later; the database refuses the runtime role
an event dated more than that hour back (migration audit 0016), so no event of the day can arrive after it. A
past day's events never change after that, so the review reads a summarised reviewed day's per-staff reads
from the summary too (only its patron findings, bursts and role changes from its events). One
aggregate query a day, counting each staff member's reads under each municipality (StaffReadDay), and a marker
(ReadSummaryDay) so that a day without reads is told from a day not summarised. `manage.py
summarize_access_reads` makes them (idempotent) and removes those older than the access log's retention; the
review scans the events of any day not summarised, so a missing summary costs time, never a finding.

The summary holds actor ids, municipality ids, counts and the username the log gave the reads (the review of a
summarised day lists its staff from it): nothing about any patron.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import AccessEvent, AccessEventPatron, Action, Outcome
from audit.sealing import LATE_INSERT_SECONDS
from core.dates import start_of_day, today
from dpo.models import ReadSummaryDay, StaffReadDay

READ_OUTCOMES = (Outcome.ALLOWED, Outcome.REPORTED)
# What `summarize_access_reads` makes by default: the days the reviews of today and yesterday look back on.
SUMMARY_DAYS = 30


def patron_reads(events: QuerySet[AccessEvent]) -> QuerySet[AccessEvent]:
    """The patron reads among `events` (see the module docstring); also the admin's "patron reads" filter.

    The patron index row is looked up by its event and its time (the event's own): on PostgreSQL both tables
    are partitioned by the time, and with it each event is looked up in its own month's partition instead of
    in every one (1.7x faster for a day at 10M events a year).
    """
    concerns_patrons = Exists(AccessEventPatron.objects.filter(event=OuterRef("pk"), at=OuterRef("at")))
    return events.filter(concerns_patrons, outcome__in=READ_OUTCOMES).exclude(action=Action.ACCESS_REVIEW)


def patron_read_subjects(
    *, start: datetime.datetime, end: datetime.datetime, municipalities: Iterable[int]
) -> QuerySet[AccessEventPatron]:
    """The patron index rows of the patron reads (`patron_reads`) from `start` to `end` by the staff of
    `municipalities` (ids): a row a patron an event concerns.

    The row's own time is bounded as well as its event's, and the two joined on it: for given patrons the
    rows are then found on the patron index, (patron, time), only those of the range, and each row's event
    looked up by its id and time (its own month's partition on PostgreSQL). Bounded on the event's time
    alone, PostgreSQL read each patron's rows of every month, or looked up every event of the day in every
    month's patron rows (160-220 ms for a day at 10M events a year); as a subquery of event ids it hashed
    the whole patron index (1.2 s).
    """
    return (
        AccessEventPatron.objects.alias(municipality=Coalesce("event__actor_municipality_id", 0))
        .filter(
            at__gte=start,
            at__lt=end,
            event__at=F("at"),
            event__at__gte=start,
            event__at__lt=end,
            event__actor_id__isnull=False,
            municipality__in=list(municipalities),
            event__outcome__in=READ_OUTCOMES,
        )
        .exclude(event__action=Action.ACCESS_REVIEW)
    )


def day_complete(day: datetime.date, *, now: datetime.datetime | None = None) -> bool:
    """Whether the local day ended long enough ago that no event of it can come later (the module's docstring)."""
    settle = datetime.timedelta(seconds=max(LATE_INSERT_SECONDS, settings.ACCESS_LOG_SEAL_ALARM_SECONDS))
    return start_of_day(day + datetime.timedelta(days=1)) + settle < (now or timezone.now())


def read_summary_make(*, day: datetime.date) -> bool:
    """Summarise the staff reads of a completed day; False when the day is not complete or was summarised.

    Concurrent callers of the same day: the marker's unique day lets one through, the other finds it made.
    """
    if not day_complete(day):
        return False
    reads = (  # actor_id__isnull=False: every row has an actor id
        patron_reads(
            AccessEvent.objects.filter(
                actor_id__isnull=False, at__gte=start_of_day(day), at__lt=start_of_day(day + datetime.timedelta(days=1))
            )
        )
        .annotate(municipality=Coalesce("actor_municipality_id", 0))
        .values("municipality", "actor_id")
        .annotate(reads=Count("pk"), username=Max("actor_username"))
        .order_by()
    )
    try:
        with transaction.atomic():
            ReadSummaryDay.objects.create(day=day, made_at=timezone.now())
            StaffReadDay.objects.bulk_create(
                StaffReadDay(
                    day=day,
                    municipality_id=row["municipality"],
                    actor_id=cast(int, row["actor_id"]),
                    username=row["username"],
                    reads=row["reads"],
                )
                for row in reads
            )
    except IntegrityError:  # made meanwhile by another process
        return False
    return True


def read_summaries_make(*, days: Iterable[datetime.date]) -> int:
    """Summarise those of `days` that are complete and not summarised yet; how many were made."""
    wanted = sorted(set(days))
    made = set(ReadSummaryDay.objects.filter(day__in=wanted).values_list("day", flat=True))
    return sum(read_summary_make(day=day) for day in wanted if day not in made)


def read_summary_prune(*, before: datetime.date) -> int:
    """Remove the summaries of days before `before` (the log's retention); the days removed."""
    with transaction.atomic():
        StaffReadDay.objects.filter(day__lt=before).delete()
        removed, _by_model = ReadSummaryDay.objects.filter(day__lt=before).delete()
    return removed


def retention_start_day() -> datetime.date:
    """The first day the access log keeps (ACCESS_LOG_RETENTION_MONTHS): its summaries go no further back."""
    return today() - relativedelta(months=settings.ACCESS_LOG_RETENTION_MONTHS)


@dataclass(frozen=True, slots=True)
class SummarisedReads:
    """The summarised days of a range, and each staff member's reads on them by actor id and day, and the
    username the log gave their reads on each day (by actor id and day too)."""

    days: set[datetime.date]
    reads: dict[int, dict[datetime.date, int]]
    usernames: dict[int, dict[datetime.date, str]]


def summarised_reads(
    *, municipalities: Iterable[int], first_day: datetime.date, last_day: datetime.date
) -> SummarisedReads:
    """The summarised days from `first_day` to `last_day` and the reads on them under `municipalities` (ids).

    Summed over the municipalities in the database, and the username its greatest, as the scan of the events
    groups them (Max in the database's collation, not Python's order).
    """
    days = set(ReadSummaryDay.objects.filter(day__gte=first_day, day__lte=last_day).values_list("day", flat=True))
    reads: dict[int, dict[datetime.date, int]] = {}
    usernames: dict[int, dict[datetime.date, str]] = {}
    rows = (
        StaffReadDay.objects.filter(day__in=days, municipality_id__in=list(municipalities))
        .values("actor_id", "day")
        .annotate(count=Sum("reads"), name=Max("username"))
        .order_by()
    )
    for row in rows:
        reads.setdefault(row["actor_id"], {})[row["day"]] = row["count"]
        usernames.setdefault(row["actor_id"], {})[row["day"]] = row["name"]
    return SummarisedReads(days=days, reads=reads, usernames=usernames)
