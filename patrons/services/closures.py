"""Exceptional circumstances (Lapland 2020): a PIN given by phone, and expired cards extended to a set date.

While the libraries are closed a PIN may be given by phone, "trying to verify the caller's identity",
and the giving of the PIN is recorded in the patron's messages: here a note of category
`pin_by_phone`, the category a Koha sync pushes to Koha's patron messages. Expired cards are
extended to a date the consortium sets (30.9.2020 in spring 2020), so patrons keep using e-services:
the meeting's words are "the expired card" (vanhentuneen kirjastokortin), not only one that expires
while the libraries are closed, so a card that expired shortly before the closure counts too.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import Action, DataCategory
from audit.services import access_event_record
from core.dates import shown_date
from core.errors import RuleBroken
from patrons.closures import PIN_BY_PHONE_NOT_ALLOWED_MESSAGE, closures_for_card_extension, pin_by_phone_closure
from patrons.models import ClosurePeriod, Note, NoteCategory, Patron, PatronStatus, ProcessingRestriction
from patrons.services._common import patron_for_write, today, write_transaction
from patrons.services.notes import note_create, note_text_check
from staff.models import Consortium, Jurisdiction

PIN_DETAILS_MAX_LENGTH = 500
# The note is read by every library's staff of the consortium (and pushed to Koha): in its language.
NOTE_LANGUAGE: dict[str, str] = {Jurisdiction.FINLAND: "fi", Jurisdiction.SWEDEN: "sv"}
CARD_EXTENSION_BATCH = 1000
CARD_EXTENSION_ACTOR = "extend_expired_cards"


class PinVerification(models.TextChoices):
    """How staff verified the identity of a caller who asked for a PIN."""

    CARD_AND_BIRTH_DATE = "card_and_birth_date", _("The caller gave the card number and date of birth")
    CALLBACK = "callback", _("Called back to the phone number on record")
    KNOWN_CALLER = "known_caller", _("Staff recognised the caller")
    SECURITY_QUESTION = "security_question", _("The caller answered the security question")


def _verification(verification: str) -> str:
    verification = (verification or "").strip()
    if not verification:
        raise RuleBroken(
            "verification_required",
            _("Say how the caller's identity was verified before a PIN is given by phone."),
        )
    if verification not in PinVerification.values:
        raise RuleBroken(
            "verification_unknown",
            _("Unknown way of verifying the caller. Use one of: %(verifications)s."),
            verifications=", ".join(PinVerification.values),
        )
    return verification


def pin_by_phone_note_text(*, jurisdiction: str, verification: str, details: str = "") -> str:
    """The note's text, in the consortium's language."""
    with translation.override(NOTE_LANGUAGE.get(jurisdiction, "fi")):
        text = gettext("PIN given by phone. Identity verified by: %(verification)s.") % {
            "verification": str(PinVerification(verification).label)
        }
    return f"{text} {details}" if details else text


def pin_by_phone_record(*, actor: Actor, patron_id: int, verification: str, details: str = "") -> Note:
    """Record that a PIN was given to the patron by phone, and how the caller's identity was verified.

    Allowed only while a closure period of the actor's consortium that allows it is in force.
    """
    details = " ".join((details or "").split())
    note_text_check(actor=actor, patron_id=patron_id, text=details, category=NoteCategory.PIN_BY_PHONE)
    with write_transaction():
        patron = patron_for_write(actor=actor, patron_id=patron_id)  # another consortium's patron: 404 first
        if pin_by_phone_closure(consortium_id=actor.consortium_id, day=today()) is None:
            raise RuleBroken("pin_by_phone_not_allowed", PIN_BY_PHONE_NOT_ALLOWED_MESSAGE)
        verification = _verification(verification)
        if len(details) > PIN_DETAILS_MAX_LENGTH:
            raise RuleBroken(
                "details_too_long",
                _("The details can be at most %(max)d characters long."),
                max=PIN_DETAILS_MAX_LENGTH,
            )
        text = pin_by_phone_note_text(
            jurisdiction=patron.consortium.jurisdiction, verification=verification, details=details
        )
        return note_create(actor=actor, patron_id=patron.pk, category=NoteCategory.PIN_BY_PHONE, text=text)


# --- Extending the cards that expired before or during a closure -----------------------------------------


@dataclass
class CardExtension:
    """What `cards_extend` did (or, in a dry run, would do)."""

    consortium: Consortium
    until: datetime.date
    closures: list[ClosurePeriod]
    count: int = 0
    patron_ids: list[int] = field(default_factory=list)
    dry_run: bool = False


def _check_until(until: datetime.date, closures: list[ClosurePeriod], day: datetime.date) -> None:
    if until <= day:
        raise RuleBroken(
            "until_not_in_future",
            _("The new expiry date %(until)s must be after today (%(today)s)."),
            until=shown_date(until),
            today=shown_date(day),
        )
    latest_start = max(closure.starts_on for closure in closures)
    if until <= latest_start:
        raise RuleBroken(
            "until_before_closure",
            _("The new expiry date %(until)s must be after the closure started (%(starts_on)s)."),
            until=shown_date(until),
            starts_on=shown_date(latest_start),
        )


def expired_since(closure: ClosurePeriod) -> datetime.date:
    """The first expiry day a closure's extension revives: CARD_EXTENSION_EXPIRED_SINCE_DAYS before it began.

    Seed 000 (Lapland, 19.3.2020) extends "the expired card" to the set date while the libraries are closed, so
    that patrons keep using e-services: a card that ran out shortly before the doors closed could not be renewed
    at the desk either. A card that expired long before (a year, by default) belongs to a patron who had stopped
    using the library; reviving it would open the e-services of a dormant card nobody asked for."""
    return closure.starts_on - datetime.timedelta(days=settings.CARD_EXTENSION_EXPIRED_SINCE_DAYS)


def cards_to_extend(*, consortium: Consortium, closures: list[ClosurePeriod], until: datetime.date):
    """The consortium's patrons whose card expired before one of `closures` (from `expired_since`) or expires
    within it, and before `until`. A card still valid on `until` is untouched.

    A card extended once expires on `until` and is not picked again: a second run extends nothing.
    """
    during = reduce(or_, (Q(card_expires_on__range=(expired_since(c), c.ends_on)) for c in closures))
    patrons = Patron.objects.filter(consortium=consortium, card_expires_on__lt=until).filter(during)
    # Not changed: a patron whose processing is restricted (GDPR Art. 18(2)), a record kept after erasure.
    in_force = ProcessingRestriction.objects.in_force().values("patron_id")
    return patrons.filter(held_after_erasure=False).exclude(pk__in=in_force)


def cards_extend(
    *,
    consortium: Consortium,
    until: datetime.date,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int | None = None,
) -> CardExtension:
    """Extend the cards of the consortium that expired before (`expired_since`) or during its closure to `until`
    ("expired" becomes "active"), in batches, and record one summary access event, all in one transaction.

    The closure is the one in force today, or the one that ended last (patrons.closures). A dry run
    counts and writes nothing.
    """
    day = today()
    closures = closures_for_card_extension(consortium_id=consortium.pk, day=day)
    if not closures:
        if ClosurePeriod.objects.filter(consortium=consortium).exists():
            raise RuleBroken(
                "no_closure_started",
                _("No closure period of %(consortium)s has started yet."),
                consortium=consortium.name,
            )
        raise RuleBroken(
            "no_closure",
            _("%(consortium)s has no closure period; add one in the admin first."),
            consortium=consortium.name,
        )
    _check_until(until, closures, day)
    result = CardExtension(consortium=consortium, until=until, closures=closures, dry_run=dry_run)
    patrons = cards_to_extend(consortium=consortium, closures=closures, until=until)
    if dry_run:
        result.count = patrons.count()
        return result
    batch_size = batch_size or CARD_EXTENSION_BATCH
    with transaction.atomic():
        ids = list(patrons.select_for_update().order_by("pk").values_list("pk", flat=True))
        now = timezone.now()
        for start in range(0, len(ids), batch_size):
            batch = ids[start : start + batch_size]
            Patron.objects.filter(pk__in=batch).update(
                card_expires_on=until,
                status=Case(When(status=PatronStatus.EXPIRED, then=Value(PatronStatus.ACTIVE)), default=F("status")),
                updated_at=now,
            )
            if progress is not None:
                progress(start + len(batch), len(ids))
        ClosurePeriod.objects.filter(pk__in=[c.pk for c in closures]).update(cards_extended_until=until)
        if ids:
            access_event_record(
                actor=Actor(
                    user_id=None,
                    username=CARD_EXTENSION_ACTOR,
                    municipality_id=None,
                    consortium_id=consortium.pk,
                    client_ip=None,
                    resource=CARD_EXTENSION_ACTOR,
                ),
                action=Action.CARDS_EXTENDED,
                patron_ids=ids,
                data_categories=[DataCategory.BASIC],
                detail=f"until={until.isoformat()}",
            )
    result.count, result.patron_ids = len(ids), ids
    return result
