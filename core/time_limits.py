"""Computing statutory time limits: when a deadline's last day is not a working day.

Finland, Act 150/1930 on computing statutory time limits, s. 5: when the last day of a time
limit is a public holiday, Independence Day, May Day, Christmas Eve, Midsummer Eve or a
Saturday, the time limit runs until the next weekday. Sweden, lag (1930:173) om beräkning av
lagstadgad tid: a Saturday, a Sunday, a public holiday, Midsummer Eve, Christmas Eve or New
Year's Eve moves the last day to the next weekday. EU Regulation 1182/71, art. 3(4), which
GDPR's one month follows, moves a last day on a Saturday, Sunday or public holiday the same way.
The holiday calendars are the `holidays`
package's: Finland's lists Midsummer Eve and Christmas Eve among its holidays; for Sweden the
three eves are taken from its de facto holidays by name.
"""

import datetime
from collections.abc import Iterable
from functools import cache

import holidays
from dateutil.relativedelta import relativedelta

# The eves the Swedish act names; in the `holidays` package they are de facto, not public, holidays.
_SWEDISH_EVES = ("Midsommarafton", "Julafton", "Nyårsafton")


@cache
def _calendar(country: str, year: int) -> frozenset[datetime.date]:
    days: Iterable[datetime.date]
    if country == "FI":
        days = holidays.Finland(years=year)
    elif country == "SE":
        # include_sundays=False: weekends are handled below, and the calendar then lists only real holidays.
        swedish = dict(holidays.Sweden(years=year, include_sundays=False))
        every_kind = holidays.Sweden(years=year, include_sundays=False, categories=holidays.Sweden.supported_categories)
        swedish.update((day, name) for day, name in every_kind.items() if name in _SWEDISH_EVES)
        days = swedish
    else:
        raise ValueError(f"no calendar for {country!r}")
    return frozenset(days)


def is_working_day(day: datetime.date, *, country: str) -> bool:
    return day.weekday() < 5 and day not in _calendar(country, day.year)


def last_day_of_time_limit(day: datetime.date, *, country: str) -> datetime.date:
    """`day`, or the next working day when `day` is a weekend day or a holiday."""
    while not is_working_day(day, country=country):
        day += datetime.timedelta(days=1)
    return day


def months_after(day: datetime.date, months: int, *, country: str) -> datetime.date:
    """The last day of a period of `months` months from `day` (EU Regulation 1182/71, art. 3).

    The period ends on the same date `months` later, or on that month's last day when the month has
    no such date (31 January + 1 month = 28 or 29 February), and a last day that is not a working
    day moves to the next working day.
    """
    return last_day_of_time_limit(day + relativedelta(months=months), country=country)
