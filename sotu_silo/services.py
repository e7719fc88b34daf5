"""Storing, revealing and looking up identity codes. Each call, allowed or refused, is an access event.

The event of a reveal or a lookup is written (and committed, outside any
request transaction) before the code or the patron is handed back: no event,
no reveal. Events carry the stated reason and never the code. Codes are
handled in `sensitive_variables` frames so error reports cannot show them.
"""

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, router, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from audit.actor import Actor
from audit.models import AccessEvent, Action, DataCategory
from core.compiled_query import CompiledQuery
from core.errors import NotFound, Refused
from patrons.models import Patron
from patrons.processing import ProcessingRestricted, processing_restriction_check
from sotu_silo import crypto
from sotu_silo.conflicts import conflict_enter
from sotu_silo.events import code_event_allowed, code_event_refused
from sotu_silo.models import IdentityCode, IdentityCodeConflict
from sotu_silo.validation import IdentityCodeError, identity_code_validate
from staff.selectors import jurisdiction_of
from staff.typed_text import free_text_check

SILO = "sotu"
MAX_REASON_LENGTH = 300
STORE_WINDOW = datetime.timedelta(hours=1)


class ReasonRequired(ValidationError):
    def __init__(self):
        super().__init__(_("State the reason: an invoice number or “identity check”."), code="reason_required")


def _clean_reason(actor: Actor, action: str, reason: str, patron_ids=()) -> str:
    reason = (reason or "").strip()
    if not reason:
        code_event_refused(actor, action, "reason_required", patron_ids)
        raise ReasonRequired
    # The reason goes into the append-only access log: no codes there.
    free_text_check(
        actor=actor,
        model=AccessEvent,
        texts={"reason": reason},
        action=action,
        patron_ids=patron_ids,
        data_categories=[DataCategory.IDENTITY_CODE],
    )
    return reason[:MAX_REASON_LENGTH]


def _consortium_patron(actor: Actor, action: str, patron_id: int) -> Patron:
    patron = Patron.objects.select_related("consortium").visible_to(actor).filter(pk=patron_id).first()
    if patron is None:
        code_event_refused(actor, action, "not_found")
        raise NotFound
    return patron


def _not_restricted(actor: Actor, action: str, patron: Patron, reason: str = "") -> None:
    """No billing, and no code stored or looked up, while the patron's processing is restricted (GDPR Art. 18(2):
    the data is only stored): refused (ProcessingRestricted, a 403) and logged as denied."""
    try:
        processing_restriction_check(patron.pk)
    except ProcessingRestricted:
        code_event_refused(actor, action, ProcessingRestricted.code, [patron.pk], reason)
        raise


@sensitive_variables("code", "valid")
def identity_code_store(*, actor: Actor, patron_id: int, code: str, allow_temporary: bool | None = None) -> None:
    """Store or replace a patron's code. Desk staff may write; nothing here ever returns it.

    The answer, and the work done to give it (the same queries, one encryption, one access event), is
    the same whether or not another patron of the consortium holds the code: such a code becomes a
    conflict entry that only billing sees and resolves (sotu_silo.conflicts). Otherwise storing would
    tell the desk whose code it is: with a date of birth and a throwaway patron, a code was recovered in
    516 tries. Stores are limited per user (IDENTITY_CODE_STORE_RATE_PER_HOUR, counted in the access
    log, so across processes); a burst is a finding of the day's access review (dpo.review).

    `allow_temporary` overrides SOTU_ALLOW_TEMPORARY_CODES for seed_demo, whose codes are temporary
    ones so that they are nobody's.
    """
    action = Action.IDENTITY_CODE_STORE
    patron = _consortium_patron(actor, action, patron_id)
    _not_restricted(actor, action, patron)
    _store_rate_check(actor, patron.pk)
    if allow_temporary is None:
        allow_temporary = _allow_temporary()
    try:
        valid = identity_code_validate(
            code=code or "", country=patron.consortium.jurisdiction, allow_temporary=allow_temporary
        )
    except IdentityCodeError as error:
        code_event_refused(actor, action, error.code or "invalid", [patron.pk])
        raise
    index = crypto.blind_index(valid.normalized, country=valid.country)
    try:
        _write(actor, patron, valid, index)
    except IntegrityError:
        # The same code stored at this very moment for another patron (now this entry is a conflict), or a
        # code for this patron (now this one replaces it): the second reading sees the row that won.
        _write(actor, patron, valid, index)


class IdentityCodeStoreRateLimited(Exception):
    """The user stored IDENTITY_CODE_STORE_RATE_PER_HOUR codes in the last hour; answered with 429."""

    code = "rate_limited"

    def __init__(self, *, limit: int, retry_after: int) -> None:
        super().__init__("rate_limited")
        self.limit, self.retry_after = limit, retry_after

    @property
    def message(self) -> str:
        return gettext(
            "At most %(limit)d identity codes can be stored in an hour, and you have reached that. "
            "Try again in %(minutes)d min."
        ) % {"limit": self.limit, "minutes": max(1, math.ceil(self.retry_after / 60))}


def _store_rate_check(actor: Actor, patron_id: int) -> None:
    """Refuse a user's store once they made IDENTITY_CODE_STORE_RATE_PER_HOUR in the last hour.

    Counted from the access log (every store attempt is an event; the refusals for the rate itself do not
    count), which every process shares. One query either way. seed_demo's actor is no user and is not
    limited.
    """
    if actor.user_id is None:
        return
    limit = settings.IDENTITY_CODE_STORE_RATE_PER_HOUR
    now = timezone.now()
    recent = list(
        AccessEvent.objects.filter(actor_id=actor.user_id, action=Action.IDENTITY_CODE_STORE, at__gt=now - STORE_WINDOW)
        .exclude(detail=IdentityCodeStoreRateLimited.code)
        .order_by("at")
        .values_list("at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        code_event_refused(actor, Action.IDENTITY_CODE_STORE, IdentityCodeStoreRateLimited.code, [patron_id])
        retry_after = math.ceil((recent[0] + STORE_WINDOW - now).total_seconds())
        raise IdentityCodeStoreRateLimited(limit=limit, retry_after=max(1, retry_after))


@sensitive_variables("valid")
def _write(actor: Actor, patron: Patron, valid, index: str) -> None:
    """Store the code, or a conflict entry when another patron holds it: the same statements either way."""
    with transaction.atomic(using=SILO):
        rows = dict(
            IdentityCode.objects.filter(
                Q(patron_id=patron.pk) | Q(consortium_id=patron.consortium_id, blind_index=index)
            ).values_list("patron_id", "pk")
        )
        holder_id = next((patron_id for patron_id in rows if patron_id != patron.pk), None)
        # This entry replaces the patron's earlier ones still waiting for billing, as it replaces a stored code.
        IdentityCodeConflict.objects.filter(patron_id=patron.pk, resolved_at__isnull=True).delete()
        if holder_id is None:
            _code_write(patron, valid, index, row_id=rows.get(patron.pk))
        else:
            conflict_enter(actor=actor, patron=patron, holder_id=holder_id, valid=valid, index=index)
        code_event_allowed(actor, Action.IDENTITY_CODE_STORE, patron.pk)


@sensitive_variables("valid", "ciphertext")
def _code_write(patron: Patron, valid, index: str, *, row_id: int | None) -> None:
    """Insert the patron's code, or update their row (one statement either way, as for a conflict entry)."""
    key_id, nonce, ciphertext = crypto.encrypt(
        valid.normalized,
        patron_id=patron.pk,
        consortium_id=patron.consortium_id,
        country=valid.country,
        blind_index=index,
    )
    values = {
        "consortium_id": patron.consortium_id,
        "country": valid.country,
        "key_id": key_id,
        "nonce": nonce,
        "ciphertext": ciphertext,
        "blind_index": index,
    }
    if row_id is None:
        IdentityCode.objects.create(patron_id=patron.pk, **values)
    else:
        IdentityCode.objects.filter(pk=row_id).update(updated_at=timezone.now(), **values)


@sensitive_variables("row", "code")
def identity_code_reveal(*, actor: Actor, patron_id: int, reason: str) -> str:
    """The patron's code in clear, for billing, after the reveal and its reason are logged."""
    return _reveal(actor, patron_id, reason, [DataCategory.IDENTITY_CODE]).code


@dataclass(frozen=True)
class RevealedCode:
    """A revealed code and whose it is: the billing page names the patron beside the code."""

    code: str = field(repr=False)
    patron: Patron


@sensitive_variables("code")
def identity_code_reveal_with_holder(*, actor: Actor, patron_id: int, reason: str) -> RevealedCode:
    """The patron's code and the patron (name, card number), for the billing page, after the reveal is logged.

    The event names the listing category too: the page shows the patron's name and card number with the code.
    """
    return _reveal(actor, patron_id, reason, [DataCategory.IDENTITY_CODE, DataCategory.LISTING])


@sensitive_variables("row", "code")
def _reveal(actor: Actor, patron_id: int, reason: str, data_categories: list[str]) -> RevealedCode:
    action = Action.IDENTITY_CODE_REVEAL
    reason = _clean_reason(actor, action, reason, [patron_id])
    patron = _consortium_patron(actor, action, patron_id)
    _not_restricted(actor, action, patron, reason)
    row = IdentityCode.objects.filter(patron_id=patron.pk, consortium_id=patron.consortium_id).first()
    if row is None:
        code_event_refused(actor, action, "not_stored", [patron.pk], reason)
        raise NotFound
    code = _decrypt(actor, action, row, reason)
    # Logged (and committed: no request-wide transaction wraps this) before the code leaves.
    code_event_allowed(actor, action, patron.pk, reason, data_categories=data_categories)
    return RevealedCode(code=code, patron=patron)


@sensitive_variables("code", "valid")
def identity_code_lookup(*, actor: Actor, code: str, reason: str, patron_shown_as: Sequence[str] = ()) -> Patron:
    """The actor's consortium's patron with this code, for billing, after the lookup is logged.

    The event names what the read processed: the code (`identity_code`), and `patron_shown_as`, what the caller
    shows of the patron found (the billing page a search result's row; the API only the id, nothing more).

    Temporary codes (Finnish individual numbers 900-999) are looked up whatever SOTU_ALLOW_TEMPORARY_CODES
    says: the setting decides what may be stored, and a lookup only finds what is stored (the demo's codes,
    which are temporary so that they are nobody's, or codes stored while the setting allowed them).
    A code held in another consortium is answered exactly as one held nowhere: the silo's one query is
    scoped to the actor's consortium, so neither path reads a patron.
    """
    action = Action.IDENTITY_CODE_LOOKUP
    reason = _clean_reason(actor, action, reason)
    country = jurisdiction_of(actor.consortium_id)
    try:
        valid = identity_code_validate(code=code or "", country=country, allow_temporary=True)
    except IdentityCodeError as error:
        code_event_refused(actor, action, error.code or "invalid", reason=reason)
        raise
    index = crypto.blind_index(valid.normalized, country=valid.country)
    patron_id = (
        IdentityCode.objects.visible_to(actor).filter(blind_index=index).values_list("patron_id", flat=True).first()
    )
    patron = Patron.objects.visible_to(actor).filter(pk=patron_id).first() if patron_id else None
    if patron is None:
        code_event_refused(actor, action, "not_found", reason=reason)
        raise NotFound
    _not_restricted(actor, action, patron, reason)
    code_event_allowed(actor, action, patron.pk, reason, data_categories=[DataCategory.IDENTITY_CODE, *patron_shown_as])
    return patron


def _code_or_conflict(_key: None, *, patron_id: int) -> QuerySet:
    """The patron's stored code or open conflict entry, at most one row: both tables in one statement."""
    stored = IdentityCode.objects.filter(patron_id=patron_id).values_list("patron_id").order_by()
    entered = (
        IdentityCodeConflict.objects.filter(patron_id=patron_id, resolved_at__isnull=True)
        .values_list("patron_id")
        .order_by()
    )
    return stored.union(entered, all=True)[:1]


# Asked on every patron page: the statement compiled once per worker thread (core/compiled_query.py, issue 16);
# the tables are asked on every request.
_CODE_OR_CONFLICT = CompiledQuery(_code_or_conflict, names=("patron_id",))


def identity_code_exists(*, patron_id: int) -> bool:
    """Whether a code is stored: what staff and the admin may know, never the code.

    A conflict entry waiting for billing counts as stored, so that the desk's page shows the same after
    storing a code someone else holds as after any other; both tables are asked every time, in one statement
    (UNION ALL: the patron's page costs one query here, issue 16).
    """
    return bool(_CODE_OR_CONFLICT.objects(using=router.db_for_read(IdentityCode), patron_id=int(patron_id)))


def identity_code_stored_context(patron_id: int) -> dict[str, bool]:
    """The patron page's one fact from the silo (patrons.page): whether a code is stored, for the store form."""
    return {"identity_code_stored": identity_code_exists(patron_id=patron_id)}


def identity_code_stored_at(*, patron_ids: list[int]) -> dict[int, datetime.datetime]:
    """When a code of these patrons was first stored or entered (for re-applying erasures); never the codes.

    Conflict entries count for both patrons they name: each holds a code of one of them.
    """
    first: dict[int, datetime.datetime] = dict(
        IdentityCode.objects.filter(patron_id__in=patron_ids).values_list("patron_id", "created_at")
    )
    entries = IdentityCodeConflict.objects.filter(
        Q(patron_id__in=patron_ids) | Q(holder_patron_id__in=patron_ids), resolved_at__isnull=True
    ).values_list("patron_id", "holder_patron_id", "entered_at")
    wanted = set(patron_ids)
    for entered_for, holder, entered_at in entries:
        for patron_id in {entered_for, holder} & wanted:
            first[patron_id] = min(first.get(patron_id, entered_at), entered_at)
    return first


def identity_code_erase(*, patron_id: int) -> bool:
    """Delete the patron's code, and every conflict entry naming them, when their data is erased (GDPR
    Art. 17); True when there was one.

    An entry is deleted also when the erased patron held the code: the entered code is theirs, or in
    dispute with theirs. The code is never read. The caller records the erasure in the access log
    (dpo.services.erasure).
    """
    with transaction.atomic(using=SILO):
        deleted, _per_model = IdentityCode.objects.filter(patron_id=patron_id).delete()
        entries, _per_model = IdentityCodeConflict.objects.filter(
            Q(patron_id=patron_id) | Q(holder_patron_id=patron_id)
        ).delete()
    return deleted + entries > 0


def identity_code_patron_ids(*, patron_ids: list[int]) -> set[int]:
    """Which of these patrons have a code stored (for the billing list)."""
    return set(IdentityCode.objects.filter(patron_id__in=patron_ids).values_list("patron_id", flat=True))


class IdentityCodeUnreadable(Refused):
    """The stored code failed its integrity check; it is not shown (the API's 409 `unreadable`)."""

    code = "unreadable"
    status = 409
    message = _("The stored identity code failed its integrity check and is not shown; tell the administrator.")

    def __init__(self) -> None:
        super().__init__(self.message)


@sensitive_variables("row")
def _decrypt(actor: Actor, action: str, row: IdentityCode, reason: str) -> str:
    try:
        return crypto.decrypt_row(row)
    except crypto.IdentityCodeUnreadable as error:
        code_event_refused(actor, action, "unreadable", [row.patron_id], reason)
        raise IdentityCodeUnreadable from error


def _allow_temporary() -> bool:
    return settings.SOTU_ALLOW_TEMPORARY_CODES
