"""Today and ages, the one way the patron rules compute them."""

import datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone

# Of age: a minor's guardian gets the notices until then, and is one.
ADULT_AGE = 18


def today() -> datetime.date:
    """The local date (settings.TIME_ZONE): the day the rules' dates are compared with."""
    return timezone.localdate()


def age_on(born: datetime.date, day: datetime.date) -> int:
    """Whole years from `born` to `day`; a birthday on 29 February comes on 1 March in other years."""
    return relativedelta(day, born).years


def start_of_day(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day` in local time (settings.TIME_ZONE), as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
