"""The patron's own choices (loan history, newsletter, home service, interlibrary loans) and the mark of an
adult under guardianship (edunvalvonta).

Loan history is kept only on the patron's own opt-in (GDPR Art. 6(1)(a) and 7; seed 002, "Lånehistorik -
Frivilligt sparande"): the choice is recorded with its day and who made it. Keeping it is consent to an
information society service, which a child gives themselves from 13 (GDPR Art. 8(1); Finnish Data
Protection Act 1050/2018 s. 5; Swedish dataskyddslag 2018:218 2 kap. 4 §); for a child under 13 only a
guardian may opt in. Saying no, or withdrawing, is open to the child at any age (Art. 7(3): withdrawing is
as easy as giving). A choice recorded before the 15th or the 18th birthday is confirmed by the patron
then (`loan_history_confirmation_due`, patrons.selectors.loan_history_confirmations_due).
"""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import Action, DataCategory
from core.dates import ADULT_AGE, age_on
from core.errors import RuleBroken
from patrons.models import (
    LOAN_HISTORY_KEPT,
    LoanHistoryChooser,
    LoanHistoryPreference,
    Patron,
    RegisterKind,
    RegisterMembership,
    Trusteeship,
)
from patrons.services._common import consortium_patron_ids, patron_for_write, record_write, today, write_transaction
from staff.typed_text import free_text_check

# GDPR Art. 8(1) with the Finnish Data Protection Act 1050/2018 s. 5 (and dataskyddslag 2018:218 2 kap. 4 §):
# from this age a child consents to an information society service themselves.
OWN_CONSENT_AGE = 13
# The birthdays at which an earlier choice is confirmed by the patron: 15, from when the patron gives their
# own data (Mikkeli notice) and is heard beside the guardian (Administrative Procedure Act 434/2003 s. 14),
# and 18, of age (Guardianship Services Act 442/1999 s. 2; föräldrabalken 9 kap. 1 §).
CONFIRMATION_AGES = (15, ADULT_AGE)
LOAN_HISTORY_FIELDS = ["loan_history", "loan_history_chosen_on", "loan_history_chosen_by", "updated_at"]


def loan_history_chooser_check(*, born: datetime.date | None, day: datetime.date, value: int, chosen_by: str) -> None:
    """Who may make this loan-history choice for a patron born on `born`, on `day`; RuleBroken if not them.

    Under 13 only a guardian opts in (GDPR Art. 8(1), Data Protection Act 1050/2018 s. 5); from 13 the choice
    is the patron's own, so a guardian's is refused. A patron with no date of birth is taken at their word:
    their age cannot be shown, and no guardian's choice is taken for them.
    """
    if value not in LoanHistoryPreference.values:
        raise RuleBroken("loan_history_unknown", _("Loan history is 0 (keep), 1 (library default) or 2 (do not keep)."))
    if chosen_by not in LoanHistoryChooser.values:
        raise RuleBroken(
            "loan_history_chooser_required",
            _("Say who chose: the patron at the desk, the patron online, or a guardian for a child under 13."),
        )
    under_13 = born is not None and age_on(born, day) < OWN_CONSENT_AGE
    if chosen_by == LoanHistoryChooser.GUARDIAN and not under_13:
        raise RuleBroken(
            "loan_history_own_choice",
            _(
                "From the age of 13 saving loan history is the patron's own choice; a guardian cannot make it "
                "(GDPR Art. 8, Data Protection Act 1050/2018 s. 5)."
            ),
        )
    if chosen_by != LoanHistoryChooser.GUARDIAN and under_13 and value in LOAN_HISTORY_KEPT:
        raise RuleBroken(
            "loan_history_guardian_consent",
            _(
                "A child under 13 cannot opt in to saving loan history alone: a guardian gives the consent "
                "(GDPR Art. 8, Data Protection Act 1050/2018 s. 5)."
            ),
        )


def loan_history_confirmation_due(patron: Patron, day: datetime.date) -> int | None:
    """The birthday (15 or 18) since which the patron's recorded loan-history choice awaits their confirmation,
    or None: a choice recorded before that birthday was made by a younger patron or their guardian.

    A birthday counts from its own date, as core.dates.age_on counts (29 February: 1 March)."""
    born, chosen_on = patron.date_of_birth, patron.loan_history_chosen_on
    if born is None or chosen_on is None:
        return None
    age_now, age_then = age_on(born, day), age_on(born, chosen_on)
    due = [age for age in CONFIRMATION_AGES if age_then < age <= age_now]
    return max(due) if due else None


def patron_choices_update(
    *,
    actor: Actor,
    patron_id: int,
    loan_history: int | None = None,
    loan_history_chosen_by: str = "",
    newsletter: bool | None = None,
    home_service: bool | None = None,
    interlibrary_loans: bool | None = None,
) -> Patron:
    """Record the patron's choices; None leaves a choice as it is. Joining the newsletter records the consent
    date and needs an email address (the newsletter register holds email addresses only).

    A new loan-history value is a choice: it needs who made it (`loan_history_chosen_by`, checked by
    `loan_history_chooser_check`) and records them and today. The same value with who chose it is recorded
    as a choice too (Koha's value becomes the patron's stated one); without, it changes nothing. Every rule
    is checked before any write.
    """
    with write_transaction():
        patron = patron_for_write(actor=actor, patron_id=patron_id, lock=True)
        changed = []
        chosen = loan_history if loan_history != patron.loan_history or loan_history_chosen_by else None
        if chosen is not None:
            loan_history_chooser_check(
                born=patron.date_of_birth, day=today(), value=chosen, chosen_by=loan_history_chosen_by
            )
        if newsletter and not patron.email:
            raise RuleBroken(
                "newsletter_needs_email", _("The newsletter is sent by email only: record an email address first.")
            )
        if chosen is not None:
            patron.loan_history = chosen
            patron.loan_history_chosen_on = today()
            patron.loan_history_chosen_by = loan_history_chosen_by
            patron.save(update_fields=LOAN_HISTORY_FIELDS)
            changed.append(DataCategory.PREFERENCES)
        wanted = {
            RegisterKind.NEWSLETTER: newsletter,
            RegisterKind.HOME_SERVICE: home_service,
            RegisterKind.INTERLIBRARY_LOANS: interlibrary_loans,
        }
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


def loan_history_choice_confirm(*, actor: Actor, patron_id: int, chosen_by: str = LoanHistoryChooser.PATRON) -> Patron:
    """The patron confirms, at 15 or 18, the loan-history choice recorded when they were younger: the choice is
    now theirs, recorded today. Only the patron confirms (a guardian's choice ends being enough at 13);
    RuleBroken when no confirmation is due."""
    if chosen_by == LoanHistoryChooser.GUARDIAN or chosen_by not in LoanHistoryChooser.values:
        raise RuleBroken("loan_history_confirmed_by_patron", _("Only the patron confirms their loan-history choice."))
    with write_transaction():
        patron = patron_for_write(actor=actor, patron_id=patron_id, lock=True)
        if loan_history_confirmation_due(patron, today()) is None:
            raise RuleBroken(
                "loan_history_nothing_to_confirm",
                _("This patron has no loan-history choice awaiting confirmation."),
            )
        patron.loan_history_chosen_on = today()
        patron.loan_history_chosen_by = chosen_by
        patron.save(update_fields=LOAN_HISTORY_FIELDS)
        record_write(
            actor=actor, patron_ids=[patron.pk], categories=[DataCategory.PREFERENCES], detail="loan_history_confirmed"
        )
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
    with write_transaction():
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
    with write_transaction():
        patron = patron_for_write(actor=actor, patron_id=patron_id, lock=True)
        deleted, _rows = Trusteeship.objects.filter(patron=patron).delete()
        if not deleted:
            raise RuleBroken("no_trusteeship", _("This patron is not marked as under guardianship."))
        record_write(
            actor=actor, patron_ids=[patron.pk], categories=[DataCategory.TRUSTEESHIP], detail="trusteeship_ended"
        )
