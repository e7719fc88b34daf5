"""The values a request may carry: dates, times, ids and counts the service can compute with and store.

Python dates run from year 1 to 9999 and a JSON or form integer has no end, but the service adds days
and months to the dates it is given (the access review's 28 days before, a repeat access request's 12
months, deadlines), turns local times into UTC, and stores ids in 64-bit and counts in 32-bit columns.
Unbounded, `0001-01-01` or a 25-digit id overflowed those steps into server errors, some after a row was
already written. So every parser of input takes its bounds from here: the DRF fields
(core.api_fields), the form fields (core.form_fields), the admin
(staff.admin_bounds) and the `<id:...>` URL converter. A value outside them is a 400 or a form
error saying what is allowed, before anything is computed or written.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

# Wide enough for any date of birth of a living patron and any deadline the rules compute; narrow enough
# that adding years or taking away months never leaves Python's calendar.
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2099, 12, 31)
# Primary keys are 64-bit (DEFAULT_AUTO_FIELD BigAutoField; SQLite's INTEGER); plain integer columns are
# 32-bit on PostgreSQL.
ID_MAX = 2**63 - 1
COUNT_MAX = 2**31 - 1
# The most ids one request may list (the patrons a breach concerns, the notes a ban rests on): every id
# is a bound parameter of one query, and SQLite allows 32,766 of them.
ID_LIST_MAX = 10_000

DATE_OUT_OF_RANGE = _("Give a date between %(earliest)s and %(latest)s.")
ID_OUT_OF_RANGE = _("Give an id as a whole number from 1 to %(max)s.")


def date_range_message() -> str:
    """The out-of-range message with both ends as the user's language writes dates."""
    return DATE_OUT_OF_RANGE % {
        "earliest": date_format(EARLIEST_DATE, "SHORT_DATE_FORMAT"),
        "latest": date_format(LATEST_DATE, "SHORT_DATE_FORMAT"),
    }


def date_in_range(value: datetime.date) -> bool:
    """A date, or a datetime by its own calendar day (before any time-zone conversion), within the bounds."""
    day = value.date() if isinstance(value, datetime.datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


def validate_date_in_range(value: datetime.date | None) -> None:
    """Validator for date and datetime fields of forms and serializers."""
    if value is not None and not date_in_range(value):
        raise ValidationError(date_range_message(), code="date_out_of_range")


def parse_id(text: str) -> int | None:
    """An id typed into a box or a URL: ASCII digits only, 1 to ID_MAX; anything else is None."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(ID_MAX)):
        return None
    value = int(text)
    return value if 1 <= value <= ID_MAX else None


class IdConverter:
    """`<id:name>` in URL patterns: an object id from 1 to ID_MAX. Anything longer or larger matches no URL (404),
    so no view, selector or access event ever sees an id the database cannot hold."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)  # Django's "no match" signal for converters
        return number

    def to_url(self, value: int) -> str:
        return str(value)


def column_length(model, name: str) -> int:
    """A text's limit is its column's: longer was a server error on PostgreSQL (`value too long`)."""
    return model._meta.get_field(name).max_length
