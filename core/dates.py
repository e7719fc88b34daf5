"""Today and ages, the one way the patron rules compute them."""

import datetime

from django.utils import formats, timezone

# Of age: a minor's guardian gets the notices until then, and is one.
ADULT_AGE = 18


def today() -> datetime.date:
    """The local date (settings.TIME_ZONE): the day the rules' dates are compared with."""
    return timezone.localdate()


def age_on(born: datetime.date, day: datetime.date) -> int:
    """Whole years from `born` to `day`: a year of age is reached on the birthday's own date.

    Someone born on 29 February reaches the next year of age on 1 March in a common year, not on
    28 February. Neither the Finnish nor the Swedish statutes this service applies (the Library Act's
    guardians, the Administrative Procedure Act 434/2003 s. 14 on a minor's hearing, the Guardianship
    Services Act 442/1999 s. 2 on age of majority, föräldrabalken 9:1) define the day for a leap-day
    birth; counting the birthday as the date itself means a minor is never treated as of age before the
    eighteenth birthday's date has come, so the guardian's hearing and notices are never cut a day short.
    (dateutil's relativedelta would answer 28 February.)
    """
    years = day.year - born.year
    if (day.month, day.day) < (born.month, born.day):
        years -= 1
    return years


def start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day` in local time (settings.TIME_ZONE), as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def shown_date(day: datetime.date | None) -> str:
    """`day` as the reader's language writes a date (SHORT_DATE_FORMAT, privacy_service/formats/): one format
    per language, so messages and pages agree (03.12.2026 in Finnish, 2026-12-03 in Sweden's Swedish). No
    date is shown as nothing, as the templates' `date` filter does."""
    return formats.date_format(day, "SHORT_DATE_FORMAT") if day is not None else ""
