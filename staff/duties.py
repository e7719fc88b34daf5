"""Staff duties: the confidentiality agreement and the yearly privacy briefing (Swedish guidance).

Every staff member signs a confidentiality agreement once and is briefed on privacy every
year. The next briefing is due on the anniversary of the last one (a briefing on 29 February
falls due on 28 February, the last day of that month, as Finnish time-limit law counts it);
the briefing is *overdue*, and the staff member is reminded on every page, from the day after,
when it is over a year old. A staff member never briefed is due at once.
"""

from datetime import date, timedelta

from django.db.models import F, Q, QuerySet

from staff.models import StaffProfile

ONE_DAY = timedelta(days=1)


def _one_year_after(day: date) -> date:
    """The same day a year later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def _one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def briefing_due_on(profile: StaffProfile) -> date | None:
    """The day the next briefing is due (a year after the last); None when never briefed (due now)."""
    if profile.privacy_briefing_on is None:
        return None
    return _one_year_after(profile.privacy_briefing_on)


def briefing_is_due(profile: StaffProfile, today: date) -> bool:
    """Never briefed, or the last briefing is over a year old on `today`."""
    due_on = briefing_due_on(profile)
    return due_on is None or today > due_on


def last_overdue_briefing_day(today: date) -> date:
    """The latest briefing date that is over a year old on `today`: every briefing on or before it is due."""
    latest = _one_year_before(today - ONE_DAY)
    while _one_year_after(latest + ONE_DAY) < today:  # at most once: 29 February before a 1 March `today`
        latest += ONE_DAY
    return latest


def briefing_due_q(today: date) -> Q:
    """`briefing_is_due` as a database condition on StaffProfile rows."""
    return Q(privacy_briefing_on__isnull=True) | Q(privacy_briefing_on__lte=last_overdue_briefing_day(today))


def staff_due_for_briefing(consortium_id: int | None, today: date) -> QuerySet[StaffProfile]:
    """The consortium's staff whose briefing is due or whose confidentiality agreement is unsigned.

    Ordered by due date, never-briefed first, then by username; each with its user and home library.
    """
    return (
        StaffProfile.objects.select_related("user", "home_library__municipality")
        .of_consortium(consortium_id)
        .filter(briefing_due_q(today) | Q(confidentiality_signed_on__isnull=True))
        .order_by(F("privacy_briefing_on").asc(nulls_first=True), "user__username")
    )
