"""Computing statutory time limits: when a deadline's last day is not a working day.

Finland, Act 150/1930 on computing statutory time limits, s. 5: when the last day of a time
limit is a public holiday, Independence Day, May Day, Christmas Eve, Midsummer Eve or a
Saturday, the time limit runs until the next weekday. Sweden, lag (1930:173) om beräkning av
lagstadgad tid: a Saturday, a Sunday, a public holiday, Midsummer Eve, Christmas Eve or New
Year's Eve moves the last day to the next weekday. The holiday calendars are the `holidays`
package's: Finland's lists Midsummer Eve and Christmas Eve among its holidays; for Sweden the
three eves are taken from its de facto holidays by name.
"""

import datetime
from functools import cache

import holidays

# The eves the Swedish act names; in the `holidays` package they are de facto, not public, holidays.
_SWEDISH_EVES = ("Midsommarafton", "Julafton", "Nyårsafton")


@cache
def _calendar(country: str, year: int) -> frozenset[datetime.date]:
    if country == "FI":
        days = holidays.Finland(years=year)
    elif country == "SE":
        # include_sundays=False: weekends are handled below, and the calendar then lists only real holidays.
        days = dict(holidays.Sweden(years=year, include_sundays=False))
        every_kind = holidays.Sweden(years=year, include_sundays=False, categories=holidays.Sweden.supported_categories)
        days.update((day, name) for day, name in every_kind.items() if name in _SWEDISH_EVES)
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
