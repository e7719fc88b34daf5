"""The access report's building blocks: labelled values in the patron's language, records and sections.

Every app that holds a patron's data describes it to the data protection officer in these terms, so the
report reads the same whichever app a section comes from. Staff are named only with
settings.ACCESS_REPORT_STAFF_NAMES (`staff_fields`).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled value: `value` for machines (codes, ISO dates), `text` as the report shows it."""

    field: str
    label: str
    value: object
    text: str


@dataclass(frozen=True, slots=True)
class Record:
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """One kind of data. A "table" section lists its records in columns (every record has every column)."""

    key: str
    title: str
    description: str
    records: tuple[Record, ...]
    layout: str = "fields"  # or "table"
    columns: tuple[str, ...] = ()


# --- Values as the report shows them ------------------------------------------------------------------


def value_text(value) -> str:
    """`value` in the active language: dates and times in its short format, yes/no, lists with commas."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, list | tuple):
        return ", ".join(value_text(part) for part in value)
    return str(value)


def report_item(field: str, label, value, text: str | None = None) -> Item:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return Item(field=field, label=capfirst(str(label)), value=value, text=value_text(value) if text is None else text)


def model_item(obj: models.Model, name: str) -> Item:
    """A model field labelled with its verbose name; a choice's value is its code, its text the label."""
    model_field = obj._meta.get_field(name)
    value = getattr(obj, name)
    if model_field.choices:
        return report_item(name, model_field.verbose_name, value, str(getattr(obj, f"get_{name}_display")()))
    if isinstance(value, models.Model):
        return report_item(name, model_field.verbose_name, str(value))
    return report_item(name, model_field.verbose_name, value)


def model_record(
    obj: models.Model, names, *, first: tuple[Item, ...] = (), extra: tuple[Item, ...] = (), keep_empty: bool = False
) -> Record:
    """The named fields of `obj` between `first` and `extra`; empty ones left out unless `keep_empty`."""
    items = (*first, *(model_item(obj, name) for name in names), *extra)
    return Record(items=tuple(item for item in items if keep_empty or item.text))


def staff_fields(*names: str) -> tuple[str, ...]:
    """Fields naming a staff member: reported only when settings.ACCESS_REPORT_STAFF_NAMES is on."""
    return names if settings.ACCESS_REPORT_STAFF_NAMES else ()
