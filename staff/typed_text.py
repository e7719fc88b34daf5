"""No personal identity codes in what staff type: the one check every service, selector and admin search calls.

A code belongs in the sotu-silo only (Finnish Data Protection Act 1050/2018 s. 29: the identity code is
not put on documents unnecessarily). Services call `free_text_check` with the texts they are about to
store (free text, and names, addresses and phone numbers typed by hand), before they write anything;
selectors and the admin's search boxes call `search_text_check` with a search. Both use the one
detector (core.identity_code_text.contains_identity_code) with the actor's consortium's rule (and a
phone number field's rule), refuse with a message that names the field but never echoes the text, and
record the refusal as a denied access event when the text belongs to an action on patron data. The
fields themselves check again when a row is saved (core.free_text_fields); the scan of data stored
before the check existed is sotu_silo.free_text's.
"""

from collections.abc import Iterable, Mapping

from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import Outcome
from audit.services import access_event_record
from core.errors import RuleBroken
from core.free_text_fields import CODE_IN_TEXT, CODE_IN_TEXT_MESSAGE
from core.identity_code_text import contains_identity_code
from core.model_fields import model_field
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
        field = model_field(model, name)
        if not getattr(field, "free_text", False):
            raise TypeError(f"{model._meta.label}.{name} is not a free-text field (core.free_text_fields).")
        if text and contains_identity_code(text, country=country, phone_number=getattr(field, "phone_number", False)):
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
