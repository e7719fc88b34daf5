"""No personal identity codes in typed text or searches: the one check every service and selector calls.

A code belongs in the sotu-silo only (Finnish Data Protection Act 1050/2018 s. 29: the identity code is
not put on documents unnecessarily). Services call `free_text_check` with the texts they are about to
store (free text, and names, addresses and phone numbers typed by hand), before they write anything;
selectors and the admin's search boxes call `search_text_check` with a search. Both use the one
detector (core.identity_code_text.contains_identity_code) with the actor's consortium's rule (and a
phone number field's rule), refuse with a message that names the field but never echoes the text, and
record the refusal as a denied access event when the text belongs to an action on patron data. The
fields themselves check again when a row is saved (core.free_text_fields).
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.db.models import F, OuterRef, Subquery
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import Outcome
from audit.services import access_event_record
from core.errors import RuleBroken
from core.free_text_fields import CODE_IN_TEXT, CODE_IN_TEXT_MESSAGE
from core.identity_code_text import contains_identity_code
from staff.models import Municipality
from staff.selectors import jurisdiction_of

CODE_IN_SEARCH = "identity_code_in_search"


class IdentityCodeInText(RuleBroken):
    """A free text held a personal identity code; the message names the field, never the text."""

    def __init__(self, field_label) -> None:
        super().__init__(CODE_IN_TEXT, CODE_IN_TEXT_MESSAGE, field=capfirst(field_label))


class IdentityCodeInSearch(RuleBroken):
    """A search held a personal identity code: it is not searched with, nor shown back."""

    def __init__(self) -> None:
        super().__init__(
            CODE_IN_SEARCH,
            _(
                "That looks like a personal identity code. Search by name or card number: identity codes are "
                "not searched for here."
            ),
        )


def free_text_check(
    *,
    actor: Actor,
    model: type[models.Model],
    texts: Mapping[str, str | None],
    action: str | None = None,
    patron_ids: Iterable[int] = (),
    data_categories: Iterable[str] = (),
) -> None:
    """Refuse (IdentityCodeInText) when a text about to be stored in `model`'s typed-text fields holds a code.

    `texts` maps field names to the texts. With `action` (the texts belong to an action on patron data),
    the refusal is first recorded as a denied access event of that action about `patron_ids` (evaluated
    only then). Call it before the service's transaction, so that the event stays when nothing is written.
    """
    country = jurisdiction_of(actor.consortium_id)
    for name, text in texts.items():
        field = model._meta.get_field(name)
        if not getattr(field, "free_text", False):
            raise TypeError(f"{model._meta.label}.{name} is not a free-text field (core.free_text_fields).")
        if text and contains_identity_code(text, country=country, phone_number=field.phone_number):
            if action is not None:
                access_event_record(
                    actor=actor,
                    action=action,
                    outcome=Outcome.DENIED,
                    detail=CODE_IN_TEXT,
                    patron_ids=patron_ids,
                    data_categories=data_categories,
                )
            raise IdentityCodeInText(field.verbose_name)


def search_text_check(*, actor: Actor, action: str, text: str) -> None:
    """Refuse (IdentityCodeInSearch) a search that holds a code, after recording the denied search.

    The event names no patron and holds no search text.
    """
    if text and contains_identity_code(text, country=jurisdiction_of(actor.consortium_id)):
        access_event_record(actor=actor, action=action, outcome=Outcome.DENIED, detail=CODE_IN_SEARCH)
        raise IdentityCodeInSearch


# --- Existing data -----------------------------------------------------------------------------------

# Free text copied from a free-text field rather than written: checked where it was written, scanned here.
COPIED_FREE_TEXT = {"patrons.NoteRevision": ("text",)}
# How to find the consortium's jurisdiction of a row, for the rule on bare digit runs: a lookup (or a
# field of the row that holds it), or an expression. Models not listed are read with the Finnish rule.
JURISDICTION_OF_ROW = {
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
