"""Storing, revealing and looking up identity codes. Each call, allowed or refused, is an access event.

The event of a reveal or a lookup is written (and committed, outside any
request transaction) before the code or the patron is handed back: no event,
no reveal. Events carry the stated reason and never the code. Codes are
handled in `sensitive_variables` frames so error reports cannot show them.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from audit.actor import Actor
from audit.models import Action, DataCategory, Outcome
from audit.services import access_event_record
from patrons.models import Patron
from patrons.tenancy import jurisdiction_of
from sotu_silo import crypto
from sotu_silo.models import IdentityCode
from sotu_silo.validation import IdentityCodeError, contains_identity_code, identity_code_validate

SILO = "sotu"
MAX_REASON_LENGTH = 300


class ReasonRequired(ValidationError):
    def __init__(self):
        super().__init__(_("State the reason: an invoice number or “identity check”."), code="reason_required")


class ReasonHoldsCode(ValidationError):
    def __init__(self):
        super().__init__(
            _("Do not write an identity code in the reason; write the invoice number or “identity check”."),
            code="reason_holds_code",
        )


class IdentityCodeTaken(ValidationError):
    def __init__(self):
        super().__init__(
            _("This identity code is already stored for another patron of the consortium."), code="code_taken"
        )


def _refused(actor: Actor, action: str, detail: str, patron_ids=(), reason: str = "") -> None:
    access_event_record(
        actor=actor,
        action=action,
        outcome=Outcome.DENIED,
        detail=detail,
        patron_ids=patron_ids,
        data_categories=[DataCategory.IDENTITY_CODE],
        reason=reason,
    )


def _allowed(actor: Actor, action: str, patron_id: int, reason: str = "") -> None:
    access_event_record(
        actor=actor,
        action=action,
        patron_ids=[patron_id],
        data_categories=[DataCategory.IDENTITY_CODE],
        reason=reason,
    )


def _clean_reason(actor: Actor, action: str, reason: str, patron_ids=()) -> str:
    reason = (reason or "").strip()
    if not reason:
        _refused(actor, action, "reason_required", patron_ids)
        raise ReasonRequired
    if contains_identity_code(
        reason, country=jurisdiction_of(actor.consortium_id)
    ):  # the reason goes into the append-only log: no codes there
        _refused(actor, action, "reason_holds_code", patron_ids)
        raise ReasonHoldsCode
    return reason[:MAX_REASON_LENGTH]


def _consortium_patron(actor: Actor, action: str, patron_id: int) -> Patron:
    patron = Patron.objects.select_related("consortium").filter(pk=patron_id, consortium_id=actor.consortium_id).first()
    if patron is None:
        _refused(actor, action, "not_found")
        raise Http404
    return patron


@sensitive_variables("code", "valid", "ciphertext")
def identity_code_store(*, actor: Actor, patron_id: int, code: str, allow_temporary: bool | None = None) -> None:
    """Store or replace a patron's code. Desk staff may write; nothing here ever returns it.

    `allow_temporary` overrides SOTU_ALLOW_TEMPORARY_CODES for seed_demo, whose codes are temporary
    ones so that they are nobody's.
    """
    action = Action.IDENTITY_CODE_STORE
    patron = _consortium_patron(actor, action, patron_id)
    if allow_temporary is None:
        allow_temporary = _allow_temporary()
    try:
        valid = identity_code_validate(
            code=code or "", country=patron.consortium.jurisdiction, allow_temporary=allow_temporary
        )
    except IdentityCodeError as error:
        _refused(actor, action, error.code or "invalid", [patron.pk])
        raise
    index = crypto.blind_index(valid.normalized, country=valid.country)
    taken = IdentityCode.objects.filter(consortium_id=patron.consortium_id, blind_index=index).exclude(
        patron_id=patron.pk
    )
    if taken.exists():
        _refused(actor, action, "code_taken", [patron.pk])
        raise IdentityCodeTaken
    try:
        _write(actor, action, patron, valid, index)
    except IntegrityError:  # the same code stored for another patron at this very moment
        _refused(actor, action, "code_taken", [patron.pk])
        raise IdentityCodeTaken from None


@sensitive_variables("valid", "ciphertext")
def _write(actor: Actor, action: str, patron: Patron, valid, index: str) -> None:
    key_id, nonce, ciphertext = crypto.encrypt(
        valid.normalized,
        patron_id=patron.pk,
        consortium_id=patron.consortium_id,
        country=valid.country,
        blind_index=index,
    )
    with transaction.atomic(using=SILO):
        IdentityCode.objects.update_or_create(
            patron_id=patron.pk,
            defaults={
                "consortium_id": patron.consortium_id,
                "country": valid.country,
                "key_id": key_id,
                "nonce": nonce,
                "ciphertext": ciphertext,
                "blind_index": index,
            },
        )
        _allowed(actor, action, patron.pk)


@sensitive_variables("row", "code")
def identity_code_reveal(*, actor: Actor, patron_id: int, reason: str) -> str:
    """The patron's code in clear, for billing, after the reveal and its reason are logged."""
    action = Action.IDENTITY_CODE_REVEAL
    reason = _clean_reason(actor, action, reason, [patron_id])
    patron = _consortium_patron(actor, action, patron_id)
    row = IdentityCode.objects.filter(patron_id=patron.pk, consortium_id=patron.consortium_id).first()
    if row is None:
        _refused(actor, action, "not_stored", [patron.pk], reason)
        raise Http404
    code = _decrypt(actor, action, row, reason)
    # Logged (and committed: no request-wide transaction wraps this) before the code leaves.
    _allowed(actor, action, patron.pk, reason)
    return code


@sensitive_variables("code", "valid")
def identity_code_lookup(*, actor: Actor, code: str, reason: str) -> Patron:
    """The actor's consortium's patron with this code, for billing, after the lookup is logged."""
    action = Action.IDENTITY_CODE_LOOKUP
    reason = _clean_reason(actor, action, reason)
    country = jurisdiction_of(actor.consortium_id)
    try:
        valid = identity_code_validate(code=code or "", country=country, allow_temporary=_allow_temporary())
    except IdentityCodeError as error:
        _refused(actor, action, error.code or "invalid", reason=reason)
        raise
    index = crypto.blind_index(valid.normalized, country=valid.country)
    patron_id = (
        IdentityCode.objects.filter(consortium_id=actor.consortium_id, blind_index=index)
        .values_list("patron_id", flat=True)
        .first()
    )
    patron = Patron.objects.filter(pk=patron_id, consortium_id=actor.consortium_id).first() if patron_id else None
    if patron is None:
        _refused(actor, action, "not_found", reason=reason)
        raise Http404
    _allowed(actor, action, patron.pk, reason)
    return patron


def identity_code_exists(*, patron_id: int) -> bool:
    """Whether a code is stored: what staff and the admin may know, never the code."""
    return IdentityCode.objects.filter(patron_id=patron_id).exists()


def identity_code_stored_at(*, patron_ids: list[int]) -> dict[int, datetime.datetime]:
    """When the codes of these patrons were first stored (for re-applying erasures); never the codes."""
    return dict(IdentityCode.objects.filter(patron_id__in=patron_ids).values_list("patron_id", "created_at"))


def identity_code_erase(*, patron_id: int) -> bool:
    """Delete the patron's code when their data is erased (GDPR Art. 17); True when one was stored.

    The code is never read. The caller records the erasure in the access log (dpo.services.erasure).
    """
    with transaction.atomic(using=SILO):
        deleted, _per_model = IdentityCode.objects.filter(patron_id=patron_id).delete()
    return deleted > 0


def identity_code_patron_ids(*, patron_ids: list[int]) -> set[int]:
    """Which of these patrons have a code stored (for the billing list)."""
    return set(IdentityCode.objects.filter(patron_id__in=patron_ids).values_list("patron_id", flat=True))


class IdentityCodeUnreadable(Exception):
    """The stored code failed its integrity check; it is not shown."""

    message = _("The stored identity code failed its integrity check and is not shown; tell the administrator.")


@sensitive_variables("row")
def _decrypt(actor: Actor, action: str, row: IdentityCode, reason: str) -> str:
    try:
        return crypto.decrypt_row(row)
    except crypto.IdentityCodeUnreadable as error:
        _refused(actor, action, "unreadable", [row.patron_id], reason)
        raise IdentityCodeUnreadable from error


def _allow_temporary() -> bool:
    return settings.SOTU_ALLOW_TEMPORARY_CODES
