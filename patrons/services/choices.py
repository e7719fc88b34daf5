"""The patron's own choices (loan history, newsletter, home service, interlibrary loans) and the mark of an
adult under guardianship (edunvalvonta)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import Action, DataCategory
from core.dates import ADULT_AGE, age_on
from core.errors import RuleBroken
from patrons.models import LoanHistoryPreference, Patron, RegisterKind, RegisterMembership, Trusteeship
from patrons.services._common import consortium_patron_ids, patron_for_write, record_write, today
from staff.typed_text import free_text_check


def patron_choices_update(
    *,
    actor: Actor,
    patron_id: int,
    loan_history: int | None = None,
    newsletter: bool | None = None,
    home_service: bool | None = None,
    interlibrary_loans: bool | None = None,
) -> Patron:
    """Record the patron's choices; None leaves a choice as it is. Joining the newsletter records the consent
    date and needs an email address (the newsletter register holds email addresses only)."""
    with transaction.atomic():
        patron = patron_for_write(actor=actor, patron_id=patron_id, lock=True)
        changed = []
        if loan_history is not None:
            if loan_history not in LoanHistoryPreference.values:
                raise RuleBroken(
                    "loan_history_unknown",
                    _("Loan history is 0 (keep), 1 (library default) or 2 (do not keep)."),
                )
            if patron.loan_history != loan_history:
                patron.loan_history = loan_history
                patron.save(update_fields=["loan_history", "updated_at"])
                changed.append(DataCategory.PREFERENCES)
        wanted = {
            RegisterKind.NEWSLETTER: newsletter,
            RegisterKind.HOME_SERVICE: home_service,
            RegisterKind.INTERLIBRARY_LOANS: interlibrary_loans,
        }
        if newsletter and not patron.email:
            raise RuleBroken(
                "newsletter_needs_email", _("The newsletter is sent by email only: record an email address first.")
            )
        current = {m.register: m for m in RegisterMembership.objects.filter(patron=patron)}
        for register, join in wanted.items():
            if join is None or bool(join) == (register in current):
                continue
            if join:
                RegisterMembership.objects.create(
                    patron=patron,
                    register=register,
                    joined_on=today(),
                    consent_on=today() if register == RegisterKind.NEWSLETTER else None,
                )
            else:
                current[register].delete()
            changed.append(DataCategory.REGISTERS)
        if changed:
            record_write(actor=actor, patron_ids=[patron.pk], categories=changed, detail="choices")
    return patron


def trusteeship_record(
    *, actor: Actor, patron_id: int, guardian_name: str, guardian_phone: str = "", guardian_email: str = ""
) -> Trusteeship:
    """Mark an adult patron as under guardianship (edunvalvonta), with the guardian's contact.

    No identity code in the guardian's name, phone number or email address (a denied patron_update event).
    """
    free_text_check(
        actor=actor,
        model=Trusteeship,
        texts={"guardian_name": guardian_name, "guardian_phone": guardian_phone, "guardian_email": guardian_email},
        action=Action.PATRON_UPDATE,
        patron_ids=consortium_patron_ids(actor=actor, patron_id=patron_id),
        data_categories=[DataCategory.TRUSTEESHIP],
    )
    guardian_name = (guardian_name or "").strip()
    if not guardian_name:
        raise RuleBroken("guardian_name_required", _("Give the guardian's name."))
    if not (guardian_phone or "").strip() and not (guardian_email or "").strip():
        raise RuleBroken("guardian_contact_required", _("Give the guardian's phone number or email address."))
    with transaction.atomic():
        patron = patron_for_write(actor=actor, patron_id=patron_id, lock=True)
        born = patron.date_of_birth
        if born is None or age_on(born, today()) < ADULT_AGE:
            raise RuleBroken(
                "trusteeship_adults_only",
                _("Guardianship of an adult concerns patrons aged 18 or over; a minor's guardians are linked instead."),
            )
        trusteeship, _created = Trusteeship.objects.update_or_create(
            patron=patron,
            defaults={
                "guardian_name": guardian_name,
                "guardian_phone": (guardian_phone or "").strip(),
                "guardian_email": (guardian_email or "").strip(),
                "recorded_at": timezone.now(),
                "recorded_by": actor.username,
            },
        )
        record_write(actor=actor, patron_ids=[patron.pk], categories=[DataCategory.TRUSTEESHIP], detail="trusteeship")
    return trusteeship


def trusteeship_end(*, actor: Actor, patron_id: int) -> None:
    """The guardianship has ended: the mark and the guardian's contact are deleted."""
    with transaction.atomic():
        patron = patron_for_write(actor=actor, patron_id=patron_id, lock=True)
        deleted, _rows = Trusteeship.objects.filter(patron=patron).delete()
        if not deleted:
            raise RuleBroken("no_trusteeship", _("This patron is not marked as under guardianship."))
        record_write(
            actor=actor, patron_ids=[patron.pk], categories=[DataCategory.TRUSTEESHIP], detail="trusteeship_ended"
        )
