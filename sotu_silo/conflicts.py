"""Identity-code conflicts: a code entered at the desk for one patron while another patron holds it.

The desk is answered as for any stored code (sotu_silo.services.identity_code_store), so a store never
tells whether a code belongs to someone. Billing clerks, who may look codes up anyway, see the
conflicts of their consortium (both patrons' names, card numbers and dates of birth, who entered the
code and when, never the code) and resolve each with a reason: the code belongs to the patron it was
entered for (it moves, the holder loses it) or it stays with its holder (the entry is discarded).
Listing and resolving are access events (Action.IDENTITY_CODE_CONFLICT, both patrons' ids, the reason).
A resolved entry keeps who resolved it, how and why; its code is wiped.
"""

import uuid
from dataclasses import dataclass
from itertools import chain

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from audit.actor import Actor
from audit.models import Action, DataCategory
from audit.services import access_event_record
from core.bounds import column_length
from core.errors import NotFound, RuleBroken
from patrons.models import Patron
from sotu_silo import crypto
from sotu_silo.events import code_event_refused
from sotu_silo.models import ConflictResolution, IdentityCode, IdentityCodeConflict
from staff.typed_text import free_text_check

SILO = "sotu"
ACTION = Action.IDENTITY_CODE_CONFLICT
CONFLICTS_LISTED = 100  # the oldest first: a list billing works through
CONFLICT_CATEGORIES = [DataCategory.BASIC, DataCategory.IDENTITY_CODE]


@sensitive_variables("valid", "ciphertext")
def conflict_enter(*, actor: Actor, patron: Patron, holder_id: int, valid, index: str) -> IdentityCodeConflict:
    """Keep the entered code (encrypted, bound to this entry) for billing; called inside the store's transaction."""
    entry = uuid.uuid4()
    key_id, nonce, ciphertext = crypto.encrypt_conflict(
        valid.normalized,
        entry=str(entry),
        patron_id=patron.pk,
        consortium_id=patron.consortium_id,
        country=valid.country,
        blind_index=index,
    )
    return IdentityCodeConflict.objects.create(
        entry=entry,
        patron_id=patron.pk,
        holder_patron_id=holder_id,
        consortium_id=patron.consortium_id,
        country=valid.country,
        key_id=key_id,
        nonce=nonce,
        ciphertext=ciphertext,
        blind_index=index,
        entered_at=timezone.now(),
        entered_by=actor.username,
    )


def _pending(actor: Actor):
    return IdentityCodeConflict.objects.visible_to(actor).filter(resolved_at__isnull=True)


def identity_code_conflict_count(*, actor: Actor) -> int:
    """How many conflicts of the billing clerk's consortium wait for a resolution (no patron data)."""
    return _pending(actor).count()


@dataclass(frozen=True, slots=True)
class ConflictListing:
    """A pending conflict with both patrons as billing may see them (None: no longer in the register)."""

    conflict: IdentityCodeConflict
    patron: Patron | None  # the code was entered for this patron
    holder: Patron | None  # and this patron holds it


@dataclass(frozen=True, slots=True)
class ConflictPage:
    conflicts: list[ConflictListing]
    total: int


def identity_code_conflict_list(*, actor: Actor) -> ConflictPage:
    """The consortium's pending conflicts, oldest first (at most CONFLICTS_LISTED); the listing is logged
    with the ids of every patron shown.
    """
    pending = _pending(actor)
    conflicts = list(
        pending.order_by("entered_at", "id").defer("nonce", "ciphertext", "blind_index")[:CONFLICTS_LISTED]
    )
    patron_ids = {c.patron_id for c in conflicts} | {c.holder_patron_id for c in conflicts}
    with transaction.atomic():
        patrons = Patron.objects.visible_to(actor).filter(pk__in=patron_ids).in_bulk()
        access_event_record(
            actor=actor,
            action=ACTION,
            patron_ids=list(patrons),
            data_categories=CONFLICT_CATEGORIES,
            detail="listed",
        )
    listing = [ConflictListing(c, patrons.get(c.patron_id), patrons.get(c.holder_patron_id)) for c in conflicts]
    return ConflictPage(
        conflicts=listing, total=pending.count() if len(conflicts) == CONFLICTS_LISTED else len(listing)
    )


class ConflictUnreadable(Exception):
    """The entered code failed its integrity check; nothing was moved."""

    message = _("The entered identity code failed its integrity check and cannot be moved; tell the administrator.")


def identity_code_conflict_resolve(
    *, actor: Actor, conflict_id: int, resolution: str, reason: str
) -> IdentityCodeConflict:
    """Resolve a pending conflict of the actor's consortium, with a required reason.

    MOVE: the entered code becomes the patron's (replacing a code they had) and whoever holds it loses it;
    other entries waiting on the same code now conflict with this patron. KEEP: the entry is discarded.
    Either way the entered code is wiped from the entry, and the resolution is logged with both patrons'
    ids and the reason, in the same transaction.
    """
    reason = (reason or "").strip()
    # Both patrons of the conflict, for the event of a refusal (read only then).
    about = chain.from_iterable(
        IdentityCodeConflict.objects.visible_to(actor)
        .filter(pk=conflict_id)
        .values_list("patron_id", "holder_patron_id")
    )
    if not reason:
        code_event_refused(actor, ACTION, "reason_required", patron_ids=about)
        raise RuleBroken("reason_required", _("State the reason for the resolution."))
    free_text_check(
        actor=actor,
        model=IdentityCodeConflict,
        texts={"reason": reason},
        action=ACTION,
        patron_ids=about,
        data_categories=[DataCategory.IDENTITY_CODE],
    )
    reason = reason[: column_length(IdentityCodeConflict, "reason")]
    if resolution not in ConflictResolution.values:
        code_event_refused(actor, ACTION, "resolution_unknown", patron_ids=about, reason=reason)
        raise RuleBroken(
            "resolution_unknown",
            _("Choose the resolution: %(choices)s."),
            choices=", ".join(ConflictResolution.values),
        )
    with transaction.atomic(using=SILO):
        conflict = _pending(actor).select_for_update().filter(pk=conflict_id).first()
        if conflict is None:
            code_event_refused(actor, ACTION, "not_found", reason=reason)
            raise NotFound
        holders = list(
            IdentityCode.objects.filter(
                consortium_id=conflict.consortium_id, blind_index=conflict.blind_index
            ).values_list("patron_id", flat=True)
        )
        if resolution == ConflictResolution.MOVE:
            _move(actor, conflict, reason)
        conflict.resolved_at, conflict.resolved_by = timezone.now(), actor.username
        conflict.resolution, conflict.reason = resolution, reason
        conflict.key_id, conflict.nonce, conflict.ciphertext, conflict.blind_index = "", b"", b"", ""
        conflict.save()
        access_event_record(
            actor=actor,
            action=ACTION,
            patron_ids=[conflict.patron_id, conflict.holder_patron_id, *holders],
            data_categories=[DataCategory.IDENTITY_CODE],
            reason=reason,
            detail=f"resolved_{resolution}",
        )
    return conflict


@sensitive_variables("code", "ciphertext")
def _move(actor: Actor, conflict: IdentityCodeConflict, reason: str) -> None:
    try:
        code = crypto.decrypt_conflict_row(conflict)
    except crypto.IdentityCodeUnreadable as error:
        code_event_refused(actor, ACTION, "unreadable", patron_ids=[conflict.patron_id], reason=reason)
        raise ConflictUnreadable from error
    same_code = IdentityCode.objects.filter(consortium_id=conflict.consortium_id, blind_index=conflict.blind_index)
    same_code.delete()
    key_id, nonce, ciphertext = crypto.encrypt(
        code,
        patron_id=conflict.patron_id,
        consortium_id=conflict.consortium_id,
        country=conflict.country,
        blind_index=conflict.blind_index,
    )
    IdentityCode.objects.update_or_create(
        patron_id=conflict.patron_id,
        defaults={
            "consortium_id": conflict.consortium_id,
            "country": conflict.country,
            "key_id": key_id,
            "nonce": nonce,
            "ciphertext": ciphertext,
            "blind_index": conflict.blind_index,
        },
    )
    # Entries still waiting on the same code now dispute it with its new holder.
    IdentityCodeConflict.objects.filter(
        consortium_id=conflict.consortium_id, blind_index=conflict.blind_index, resolved_at__isnull=True
    ).exclude(pk=conflict.pk).update(holder_patron_id=conflict.patron_id)
