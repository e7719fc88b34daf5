"""The daily access review, "watching the watchers": which staff read patron data unusually on one day.

For the DPO of a consortium, over one local day (settings.TIME_ZONE) of the reads by the staff of the
consortium's municipalities, the review finds:
- reads well above the staff member's own usual volume;
- reads of a colleague's own patron record (StaffProfile.patron of another staff member);
- reads of patrons sharing the reader's surname;
- reads of patrons flagged as needing protection (Patron.needs_protection);
- a burst of identity-code stores: settings.ACCESS_REVIEW_STORE_BURST attempts or more within some 60
  minutes of the day, refused ones included (someone testing codes against the register: see
  sotu_silo.services.identity_code_store, which also limits stores per hour);
- and, listed separately, reads of the staff member's own record;
- besides reads, every role granted, removed or refused and every second factor reset by the
  consortium's staff (accounts/services/roles.py): a superuser with a second account could grant it
  billing, or reset a clerk's second factor and enrol their own, and the DPO sees it the next morning.

A *patron read* is an access event that concerns at least one patron (it has AccessEventPatron rows)
and whose data was shown: outcome allowed, or allowed under an allow-list's report mode. The access
review itself is left out: it lists patron ids, and counting it would flag the DPO the next day for
every patron the review listed. An event counts once however many patrons it lists (a search listing
25 patrons is one read, like opening one record), so the volume measures what the staff member did,
not how long the result lists were.

The *usual volume* is the median of the staff member's daily reads over the 28 days before, counting
only the days they read any patron data: a day without reads is a day off (part-time work, shifts),
not a quiet day, and a median is not lifted by one earlier busy day. With no such day it is 0, so a
newcomer's day is flagged once it reaches the floor. A day is flagged when its reads exceed
settings.ACCESS_REVIEW_FACTOR times the usual volume and are at least settings.ACCESS_REVIEW_MIN_READS.

Surnames are compared case-insensitively in the database (on SQLite only ASCII letters fold) and then
with Python's casefold. The review holds staff usernames and patron ids, never patron names.
"""

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Lower, TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import AccessEvent, Action, DataCategory
from audit.services import access_event_record
from core.dates import start_of_day, today
from core.errors import RuleBroken
from dpo.read_summary import day_complete, patron_read_subjects, patron_reads, summarised_reads
from patrons.models import Patron
from staff.models import Municipality

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

HISTORY_DAYS = 28
STORE_BURST_WINDOW = datetime.timedelta(hours=1)
REVIEW_CACHE_SECONDS = 15 * 60


class FindingKind(models.TextChoices):
    ABOVE_USUAL = "above_usual", _("Reads well above usual")
    CODE_STORE_BURST = "code_store_burst", _("Burst of identity-code stores")
    PROTECTED = "protected", _("Patron needing protection")
    COLLEAGUE = "colleague", _("A colleague's own record")
    SAME_SURNAME = "same_surname", _("Patron with the same surname")
    OWN_RECORD = "own_record", _("Own record")
    ROLE_CHANGE = "role_change", _("Role granted, removed or refused")
    TWO_FACTOR_RESET = "two_factor_reset", _("Two-factor authentication reset")
    ACCOUNT_CHANGE = "account_change", _("Account created or password set")


KIND_ORDER = {kind: index for index, kind in enumerate(FindingKind.values)}


@dataclass(frozen=True, slots=True)
class Finding:
    actor_id: int
    username: str
    kind: str
    patron_id: int | None  # None for reads above usual and store bursts, which concern many patrons
    event_count: int
    url: str  # the admin's access-event list showing exactly the events behind the finding

    @property
    def kind_label(self) -> "StrPromise":
        return FindingKind(self.kind).label


@dataclass(frozen=True, slots=True)
class DailyReads:
    day: datetime.date
    reads: int


@dataclass(frozen=True, slots=True)
class StaffReads:
    """One staff member's reads on the reviewed day against their usual volume."""

    actor_id: int
    username: str
    reads: int
    usual: float
    above_usual: bool
    history: tuple[DailyReads, ...]  # the 28 days before and the reviewed day, oldest first


@dataclass(frozen=True, slots=True)
class AccessReview:
    day: datetime.date
    staff: tuple[StaffReads, ...]
    findings: tuple[Finding, ...]  # own-record reads included, kind OWN_RECORD

    @property
    def patron_ids(self) -> list[int]:
        return sorted({finding.patron_id for finding in self.findings if finding.patron_id is not None})

    def count_by_kind(self) -> dict[str, int]:
        counts = dict.fromkeys(FindingKind.values, 0)
        for finding in self.findings:
            counts[finding.kind] += 1
        return counts


def default_review_day() -> datetime.date:
    """Yesterday: the last whole day, the one a daily routine reviews."""
    return today() - datetime.timedelta(days=1)


def review_day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The local day's first instant and the next day's (23 or 25 hours apart when the clocks turn)."""
    return start_of_day(day), start_of_day(day + datetime.timedelta(days=1))


def review_events_url(
    *, username: str, day: datetime.date, patron_id: int | None = None, action: str | None = None
) -> str:
    """The admin's access-event list filtered to one staff member's patron reads on the day (of one patron),
    or with `action`, to their events of that action (refused ones too).
    """
    start, end = review_day_bounds(day)
    query = {"actor": username, "at__gte": start.isoformat(), "at__lt": end.isoformat()}
    query |= {"action__exact": action} if action else {"reads": "yes"}
    if patron_id is not None:
        query["patron"] = str(patron_id)
    return f"{reverse('admin:audit_accessevent_changelist')}?{urlencode(query)}"


def access_review_build(*, actor: Actor, day: datetime.date) -> AccessReview:
    """The review of `day` for the actor's consortium; a later day than today is a broken rule.

    A finished day gets no new events, so its review is kept in the cache for REVIEW_CACHE_SECONDS
    (a flag or link changed meanwhile shows after that): at ten million events a year a build takes about
    0.1 s from the daily summary and two seconds without it, and the dashboard shows yesterday's on every
    visit. Today's is always built afresh.
    """
    if day > today():
        raise RuleBroken("access_review_future_day", _("The access review covers days up to today."))
    if day == today():
        return _access_review_build(actor=actor, day=day)
    key = f"access-review:{actor.consortium_id}:{day.isoformat()}"
    review = cache.get(key)
    if review is None:
        review = _access_review_build(actor=actor, day=day)
        cache.set(key, review, REVIEW_CACHE_SECONDS)
    return review


def _access_review_build(*, actor: Actor, day: datetime.date) -> AccessReview:
    """Build the review of `day`.

    A fixed handful of queries, none per event: the reads of the 28 days before, and of the day itself once
    it is complete, from their daily summary (dpo/read_summary.py); the reads of any of those days not
    summarised grouped per staff member and local date (over the `at` index); the day's identity-code stores;
    the readers' surnames; the day's read patrons that carry a flag, and their reads (over the patron index).
    Records nothing; access_review_read does, for callers that show the patron ids.
    """
    first_day = day - datetime.timedelta(days=HISTORY_DAYS)
    day_start, day_end = review_day_bounds(day)
    # Ids, not a subquery: compared with a subquery PostgreSQL read the day's events once per municipality.
    municipalities = list(Municipality.objects.visible_to(actor).values_list("pk", flat=True))
    # A complete day's events never change (dpo/read_summary.py): its summary counts them as the scan would.
    last_summarised = day if day_complete(day) else day - datetime.timedelta(days=1)
    summary = summarised_reads(municipalities=municipalities, first_day=first_day, last_day=last_summarised)
    per_actor: dict[int, dict[datetime.date, int]] = defaultdict(dict, summary.reads)
    usernames = {actor_id: names[day] for actor_id, names in summary.usernames.items() if day in names}
    window = [first_day + datetime.timedelta(days=n) for n in range(HISTORY_DAYS + 1)]
    unsummarised = [d for d in window if d not in summary.days]
    # The municipality is compared through an expression so that no planner (SQLite keeps no statistics)
    # starts from the municipality index instead, that is from every event the consortium's staff ever made.
    staff_events = AccessEvent.objects.alias(municipality=Coalesce("actor_municipality_id", 0)).filter(
        actor_id__isnull=False,
        municipality__in=municipalities,
    )
    if unsummarised:  # the reads of the days not summarised, from the first to the last, on the `at` index
        daily = (
            patron_reads(staff_events)
            .filter(
                at__gte=start_of_day(unsummarised[0]),
                at__lt=start_of_day(unsummarised[-1] + datetime.timedelta(days=1)),
            )
            .annotate(local_day=TruncDate("at", tzinfo=timezone.get_default_timezone()))
            .values("actor_id", "local_day")
            .annotate(reads=Count("pk"), username=Max("actor_username"))
            .order_by()
        )
        for row in daily:
            actor_id = cast(int, row["actor_id"])  # staff_events: actor_id__isnull=False
            if row["local_day"] in summary.days:
                continue
            per_actor[actor_id][row["local_day"]] = row["reads"]
            if row["local_day"] == day:
                usernames[actor_id] = row["username"]
    staff = sorted(
        (_staff_reads(actor_id, username, per_actor[actor_id], day) for actor_id, username in usernames.items()),
        key=lambda member: member.username,
    )
    findings = [
        Finding(
            actor_id=member.actor_id,
            username=member.username,
            kind=FindingKind.ABOVE_USUAL,
            patron_id=None,
            event_count=member.reads,
            url=review_events_url(username=member.username, day=day),
        )
        for member in staff
        if member.above_usual
    ]
    findings += _store_burst_findings(day=day, stores=staff_events.filter(at__gte=day_start, at__lt=day_end))
    findings += _patron_findings(actor=actor, day=day, municipalities=municipalities, usernames=usernames)
    findings += _role_findings(day=day, municipalities=municipalities)
    findings.sort(key=lambda f: (KIND_ORDER[f.kind], f.username, f.patron_id or 0))
    return AccessReview(day=day, staff=tuple(staff), findings=tuple(findings))


def access_review_read(*, actor: Actor, day: datetime.date) -> AccessReview:
    """The review, with the access event that records which patrons' reads it listed (ids, no names)."""
    with transaction.atomic():
        review = access_review_build(actor=actor, day=day)
        access_event_record(
            actor=actor,
            action=Action.ACCESS_REVIEW,
            patron_ids=review.patron_ids,
            data_categories=[DataCategory.ACCESS_LOG],
            detail=day.isoformat(),
        )
    return review


def _staff_reads(actor_id: int, username: str, counts: dict[datetime.date, int], day: datetime.date) -> StaffReads:
    days = [day - datetime.timedelta(days=offset) for offset in range(HISTORY_DAYS, -1, -1)]
    active_before = [counts[d] for d in days[:-1] if counts.get(d)]
    usual = float(statistics.median(active_before)) if active_before else 0.0
    today = counts.get(day, 0)
    return StaffReads(
        actor_id=actor_id,
        username=username,
        reads=today,
        usual=usual,
        above_usual=today >= settings.ACCESS_REVIEW_MIN_READS and today > settings.ACCESS_REVIEW_FACTOR * usual,
        history=tuple(DailyReads(day=d, reads=counts.get(d, 0)) for d in days),
    )


def _store_burst_findings(*, day: datetime.date, stores: QuerySet[AccessEvent]) -> list[Finding]:
    """Staff with ACCESS_REVIEW_STORE_BURST identity-code store attempts or more within some 60 minutes.

    One query over the day's store events (few: a code is stored once per patron), then a sliding hour.
    """
    times: dict[int, list[datetime.datetime]] = defaultdict(list)
    usernames: dict[int, str] = {}
    rows = (
        stores.filter(action=Action.IDENTITY_CODE_STORE)
        .order_by("actor_id", "at")
        .values_list("actor_id", "actor_username", "at")
    )
    for event_actor_id, username, at in rows:
        actor_id = cast(int, event_actor_id)  # staff events: actor_id__isnull=False
        times[actor_id].append(at)
        usernames[actor_id] = username
    findings = []
    for actor_id, stored_at in times.items():
        first = 0
        most = 0
        for last, at in enumerate(stored_at):
            while at - stored_at[first] >= STORE_BURST_WINDOW:
                first += 1
            most = max(most, last - first + 1)
        if most >= settings.ACCESS_REVIEW_STORE_BURST:
            username = usernames[actor_id]
            url = review_events_url(username=username, day=day, action=Action.IDENTITY_CODE_STORE)
            findings.append(
                Finding(
                    actor_id=actor_id,
                    username=username,
                    kind=FindingKind.CODE_STORE_BURST,
                    patron_id=None,
                    event_count=len(stored_at),
                    url=url,
                )
            )
    return findings


def _patron_findings(
    *, actor: Actor, day: datetime.date, municipalities: list[int], usernames: dict[int, str]
) -> list[Finding]:
    """Findings about single patrons: the day's read patrons that are protected, staff or share a reader's surname."""
    surnames = {
        user_id: last_name.casefold()
        for user_id, last_name in get_user_model()
        .objects.filter(pk__in=list(usernames))
        .exclude(last_name="")
        .values_list("pk", "last_name")
    }
    reader_surname = Exists(
        get_user_model()
        .objects.filter(pk__in=list(surnames))
        .annotate(surname=Lower("last_name"))
        .filter(surname=Lower(OuterRef("last_name")))
    )
    day_start, day_end = review_day_bounds(day)
    read_subjects = patron_read_subjects(start=day_start, end=day_end, municipalities=municipalities)
    candidates = Patron.objects.visible_to(actor).filter(
        Q(needs_protection=True) | Q(staff_profile__isnull=False) | reader_surname,
        pk__in=read_subjects.values("patron_id"),
    )
    patrons = {
        patron_id: (last_name.casefold(), needs_protection, owner_id)
        for patron_id, last_name, needs_protection, owner_id in candidates.order_by().values_list(
            "pk", "last_name", "needs_protection", "staff_profile__user_id"
        )
    }
    pairs = (
        read_subjects.filter(patron_id__in=list(patrons))  # the few flagged: not the day's reads again
        .values("event__actor_id", "patron_id")
        .annotate(events=Count("event_id"))
        .order_by()
    )
    findings = []
    for pair in pairs:
        reader_id, patron_id = cast(int, pair["event__actor_id"]), pair["patron_id"]  # staff events only
        surname, needs_protection, owner_id = patrons[patron_id]
        if owner_id == reader_id:
            kinds = [FindingKind.OWN_RECORD]
        else:
            kinds = [
                kind
                for kind, applies in (
                    (FindingKind.PROTECTED, needs_protection),
                    (FindingKind.COLLEAGUE, owner_id is not None),
                    (FindingKind.SAME_SURNAME, surnames.get(reader_id) == surname),
                )
                if applies
            ]
        username = usernames[reader_id]
        url = review_events_url(username=username, day=day, patron_id=patron_id)
        findings += [
            Finding(
                actor_id=reader_id,
                username=username,
                kind=kind,
                patron_id=patron_id,
                event_count=pair["events"],
                url=url,
            )
            for kind in kinds
        ]
    return findings


ROLE_FINDING_KINDS: dict[str, FindingKind] = {
    Action.ROLE_CHANGE: FindingKind.ROLE_CHANGE,
    Action.TWO_FACTOR: FindingKind.TWO_FACTOR_RESET,
    Action.ACCOUNT_CHANGE: FindingKind.ACCOUNT_CHANGE,
}


def _role_findings(*, day: datetime.date, municipalities: list[int]) -> list[Finding]:
    """One finding per staff member and kind: their role changes (granted, removed or refused), their
    resets of someone's second factor, and the accounts they created or set a password for, on the day."""
    day_start, day_end = review_day_bounds(day)
    events = (
        AccessEvent.objects.filter(at__gte=day_start, at__lt=day_end, actor_id__isnull=False)
        .filter(actor_municipality_id__in=municipalities)
        .filter(
            Q(action__in=[Action.ROLE_CHANGE, Action.ACCOUNT_CHANGE])
            | Q(action=Action.TWO_FACTOR, detail__startswith="reset")
        )
        .values("actor_id", "action")
        .annotate(events=Count("pk"), username=Max("actor_username"))
        .order_by()
    )
    return [
        Finding(
            actor_id=cast(int, row["actor_id"]),  # actor_id__isnull=False
            username=row["username"],
            kind=ROLE_FINDING_KINDS[row["action"]],
            patron_id=None,
            event_count=row["events"],
            url=review_events_url(username=row["username"], day=day, action=row["action"]),
        )
        for row in events
    ]
