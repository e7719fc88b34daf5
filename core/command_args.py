"""Arguments of management commands: one way to read a date typed on the command line."""

import datetime

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


def parse_date(value: str) -> datetime.date:
    for date_format_string in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value.strip(), date_format_string).date()
        except ValueError:
            continue
    raise CommandError(_("“%(value)s” is not a date; write it as 2020-09-30 or 30.9.2020.") % {"value": value})
