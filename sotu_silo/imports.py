"""Codes brought in from another system (Koha's `SSN` extended attribute): the silo's half of the import.

The importer (koha.identity_import) hands each code here and gets back what became of it, never the code.
A code is validated by the silo's validator and stored through `identity_code_store`, so it is encrypted,
becomes a conflict entry for billing when another patron of the consortium holds it, and is an
`identity_code_store` access event carrying the importer's actor.

Idempotent, so an import that stopped half-way can simply run again: a code already stored (or waiting as a
conflict entry) for the same patron is not stored again and writes no event; the importer then only
replaces it in Koha. A code stored here for the patron beforehand, and different from Koha's, wins: it was
entered under this service's rules; Koha's is listed for billing instead of silently replacing it.

The key that replaces the code in Koha names the patron of this service, not a row and never the code:
`silo` + the patron's id zero-padded to 10 digits. Codes are low-entropy (a date and three digits), so any
key computed from the code could be reversed by trying every code; the patron's id tells nothing about the
code, stays valid when billing resolves a conflict (the code then moves into another row), and is already
how the silo links a code to its patron. It is not Koha-Suomi's `ssn` + 10 digits form on purpose: that
form names a Hetula id, and a Koha-Suomi tool reading ours as one would fetch another person's code.
"""

import re
from enum import StrEnum

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from audit.actor import Actor
from audit.models import Action
from patrons.models import Patron
from sotu_silo import crypto
from sotu_silo.events import code_event_refused
from sotu_silo.models import IdentityCode, IdentityCodeConflict
from sotu_silo.services import identity_code_store
from sotu_silo.validation import IdentityCodeError, identity_code_validate

KEY_PREFIX = "silo"
# Ours; Koha-Suomi's keys into Hetula (`ssn` + the Hetula id, koha-migration-toolbox's uploadSSNKeys); and
# Koha-Suomi's older keys into an external `ssn` table (`sotu` + its key, BillingManager's GetSSN).
KEY_PATTERN = re.compile(r"(?:silo|ssn)\d{10}|sotu\d+")


class ImportOutcome(StrEnum):
    STORED = "stored"  # stored for the patron
    CONFLICT = "conflict"  # another patron holds it: a conflict entry for billing (/billing/conflicts/)
    ALREADY = "already"  # stored (or entered) for this patron by an earlier run
    DIFFERS = "differs"  # this patron has another code stored here, which stays
    INVALID = "invalid"  # not a valid code: not stored


def identity_code_key(*, patron_id: int) -> str:
    """The opaque key put in Koha instead of the patron's code."""
    return f"{KEY_PREFIX}{patron_id:010d}"


def identity_code_is_key(value: str) -> bool:
    """Whether a Koha attribute value is already a key (ours or Koha-Suomi's), not a code."""
    return KEY_PATTERN.fullmatch(value.strip()) is not None


@sensitive_variables("code", "valid")
def identity_code_import(*, actor: Actor, patron: Patron, code: str, dry_run: bool = False) -> ImportOutcome:
    """Store a code read from another system for `patron` (of the actor's consortium); what became of it.

    A dry run reads the silo (to tell stored, already, differs and conflict apart) and writes nothing, not
    even an access event. An invalid code is a denied `identity_code_store` event with the validator's
    reason, as at the desk.
    """
    allow_temporary = settings.SOTU_ALLOW_TEMPORARY_CODES
    try:
        valid = identity_code_validate(
            code=code or "", country=patron.consortium.jurisdiction, allow_temporary=allow_temporary
        )
    except IdentityCodeError as error:
        if not dry_run:
            code_event_refused(actor, Action.IDENTITY_CODE_STORE, error.code or "invalid", [patron.pk])
        return ImportOutcome.INVALID
    index = crypto.blind_index(valid.normalized, country=valid.country)
    stored_index = IdentityCode.objects.filter(patron_id=patron.pk).values_list("blind_index", flat=True).first()
    entered = IdentityCodeConflict.objects.filter(patron_id=patron.pk, blind_index=index, resolved_at__isnull=True)
    if stored_index == index or entered.exists():
        return ImportOutcome.ALREADY
    if stored_index is not None:
        return ImportOutcome.DIFFERS
    held = IdentityCode.objects.filter(consortium_id=patron.consortium_id, blind_index=index)
    if dry_run:
        return ImportOutcome.CONFLICT if held.exists() else ImportOutcome.STORED
    identity_code_store(actor=actor, patron_id=patron.pk, code=code, allow_temporary=allow_temporary)
    return ImportOutcome.STORED if held.filter(patron_id=patron.pk).exists() else ImportOutcome.CONFLICT
