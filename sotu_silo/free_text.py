"""Identity codes in text stored before the check existed: the inventory of typed-text fields and their scan
(`manage.py find_identity_codes_in_text`). The check itself, made before anything is stored or searched,
is staff.typed_text's.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.db.models import F, OuterRef, Subquery

from core.identity_code_text import contains_identity_code
from staff.models import Municipality

# --- Existing data -----------------------------------------------------------------------------------

# Free text copied from a free-text field rather than written: checked where it was written, scanned here.
COPIED_FREE_TEXT = {"patrons.NoteRevision": ("text",)}
# How to find the consortium's jurisdiction of a row, for the rule on bare digit runs: a lookup (or a
# field of the row that holds it), or an expression. Models not listed are read with the Finnish rule.
JURISDICTION_OF_ROW: dict[str, str | Callable[[], Subquery]] = {
    # An event keeps its actor's municipality by id only.
    "audit.AccessEvent": lambda: Subquery(
        Municipality.objects.filter(pk=OuterRef("actor_municipality_id")).values("consortium__jurisdiction")[:1]
    ),
    "patrons.Patron": "consortium__jurisdiction",
    "patrons.Trusteeship": "patron__consortium__jurisdiction",
    "patrons.Note": "patron__consortium__jurisdiction",
    "patrons.NoteRevision": "note__patron__consortium__jurisdiction",
    "bans.Ban": "patron__consortium__jurisdiction",
    "bans.AccessProhibition": "patron__consortium__jurisdiction",
    "staff.AllowedNetwork": "municipality__consortium__jurisdiction",
    "patrons.ClosurePeriod": "consortium__jurisdiction",
    "dpo.SubjectRequest": "consortium__jurisdiction",
    "dpo.Breach": "consortium__jurisdiction",
    "dpo.AuthorityNotification": "breach__consortium__jurisdiction",
    "dpo.RegisterDescriptionText": "description__consortium__jurisdiction",
    "sotu_silo.IdentityCodeConflict": "country",
}


@dataclass(frozen=True, slots=True)
class TextFields:
    model: type[models.Model]
    fields: tuple[str, ...]


def free_text_fields() -> list[TextFields]:
    """Every model with typed text: its fields of core.free_text_fields and copies of them."""
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.get_fields() if getattr(f, "free_text", False)]
        names += COPIED_FREE_TEXT.get(model._meta.label, ())
        if names:
            found.append(TextFields(model, tuple(names)))
    return sorted(found, key=lambda entry: entry.model._meta.label)


@dataclass(frozen=True, slots=True)
class CodeInText:
    model: str  # app_label.Model
    field: str
    pk: object


def rows_with_text(entry: TextFields) -> models.QuerySet:
    """The rows of `entry.model` with text in any of `entry.fields`."""
    non_empty = models.Q()
    for name in entry.fields:
        non_empty |= ~models.Q(**{name: ""})
    return entry.model._default_manager.filter(non_empty)


def codes_in_text(entry: TextFields, *, batch_size: int = 2000) -> Iterator[CodeInText | int]:
    """Scan every non-empty text of `entry`: yields a CodeInText for each hit, and after each batch the
    number of rows read (for progress). The texts are only read here, never returned.
    """
    label = entry.model._meta.label
    jurisdiction = JURISDICTION_OF_ROW.get(label)
    rows = rows_with_text(entry).order_by("pk")
    if jurisdiction is not None:
        rows = rows.annotate(row_jurisdiction=jurisdiction() if callable(jurisdiction) else F(jurisdiction))
    columns = ["pk", *entry.fields, *(["row_jurisdiction"] if jurisdiction is not None else [])]
    phone_numbers = {name for name in entry.fields if getattr(entry.model._meta.get_field(name), "phone_number", False)}
    last = None
    while True:
        batch = list((rows.filter(pk__gt=last) if last is not None else rows).values_list(*columns)[:batch_size])
        if not batch:
            return
        for row in batch:
            country = row[-1] if jurisdiction is not None else None
            for name, text in zip(entry.fields, row[1 : 1 + len(entry.fields)], strict=True):
                if text and contains_identity_code(text, country=country, phone_number=name in phone_numbers):
                    yield CodeInText(model=label, field=name, pk=row[0])
        last = batch[-1][0]
        yield len(batch)
