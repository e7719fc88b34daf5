"""Registering a new patron at the desk (or through the API), with a guardian for a patron under 15.

Rules, each a RuleBroken naming it: no registration while a closure period of the actor's consortium
freezes it (Lapland 2020); no identity code in the names, the address, the email address or the phone number
(a denied patron_register event; staff.typed_text); the home library is one of the consortium's; the
card number is free in the consortium; names and a past date of birth are given; a patron under 15 is
registered with a guardian who is an adult patron of the same consortium, and the record says the
guardian provided the data (Mikkeli notice). When the consortium has a Koha connection the patron is created
in Koha first (patrons/upstream.py), and Koha's refusal stops the registration. The registration and its
access event are written in one transaction.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import Action, DataCategory
from audit.services import access_event_record
from core.dates import ADULT_AGE, age_on
from core.errors import RuleBroken
from core.model_fields import model_field
from patrons.closures import REGISTRATION_FROZEN_MESSAGE, closure_end_text, registration_freeze
from patrons.models import (
    LOAN_HISTORY_KEPT,
    GuardianRelationship,
    Guardianship,
    LoanHistoryChooser,
    LoanHistoryPreference,
    Patron,
    PatronStatus,
)
from patrons.services._common import today
from patrons.services.choices import OWN_CONSENT_AGE, loan_history_chooser_check
from patrons.upstream import patron_create_upstream
from staff.models import Jurisdiction, Library
from staff.typed_text import free_text_check

# Mikkeli notice: the data of a patron under 15 comes from the guardian.
GUARDIAN_REQUIRED_UNDER_AGE = 15
# A minor's guardian (Koha's guarantor) gets the notices until 18, so is an adult (ADULT_AGE); a patron of
# 18 or over has no minor's guardian (an adult's guardianship, edunvalvonta, is a separate mark).
DEFAULT_LANGUAGE: dict[str, str] = {Jurisdiction.FINLAND: "fi", Jurisdiction.SWEDEN: "sv"}


def _required(value: str, rule: str, message) -> str:
    value = (value or "").strip()
    if not value:
        raise RuleBroken(rule, message)
    return value


def _check_not_frozen(actor: Actor) -> None:
    closure = registration_freeze(consortium_id=actor.consortium_id)
    if closure is not None:
        raise RuleBroken("registration_frozen", REGISTRATION_FROZEN_MESSAGE, until=closure_end_text(closure))


def _home_library(actor: Actor, koha_library_id: str) -> Library:
    library = (
        Library.objects.visible_to(actor)
        .filter(koha_library_id=koha_library_id)
        .select_related("municipality__consortium")
        .first()
    )
    if library is None:
        raise RuleBroken("library_unknown", _("No library of your consortium has that Koha library id."))
    return library


def _date_of_birth(value: datetime.date | None, day: datetime.date) -> datetime.date:
    if value is None:
        raise RuleBroken("date_of_birth_required", _("Give the patron's date of birth."))
    if value > day:
        raise RuleBroken("date_of_birth_in_future", _("The date of birth cannot be in the future."))
    return value


def _guardian(
    actor: Actor, *, guardian: int | None, guardian_cardnumber: str, ward_age: int, relationship: str, day
) -> tuple[Patron | None, str]:
    """The minor's guardian and the relationship, or (None, "") for a patron registered without one."""
    guardian_cardnumber = (guardian_cardnumber or "").strip()
    if guardian is None and not guardian_cardnumber:
        if ward_age < GUARDIAN_REQUIRED_UNDER_AGE:
            raise RuleBroken(
                "guardian_required",
                _("A patron under %(age)d is registered with a guardian, who provides the data."),
                age=GUARDIAN_REQUIRED_UNDER_AGE,
            )
        return None, ""
    if ward_age >= ADULT_AGE:
        raise RuleBroken(
            "guardian_for_minors_only",
            _("Only a patron under 18 is registered with a guardian; mark an adult's guardianship separately."),
        )
    relationship = relationship or GuardianRelationship.GUARDIAN
    if relationship not in GuardianRelationship.values:
        raise RuleBroken(
            "relationship_unknown",
            _("Unknown relationship. Use one of: %(relationships)s."),
            relationships=", ".join(GuardianRelationship.values),
        )
    # Another consortium's patron does not exist here, like everywhere else.
    guardians = Patron.objects.visible_to(actor)
    if guardian is not None:
        found = guardians.filter(pk=guardian).first()
        if found is not None and guardian_cardnumber and found.cardnumber != guardian_cardnumber:
            found = None  # the id and the card number given do not name the same patron
    else:
        found = guardians.filter(cardnumber=guardian_cardnumber).first()
    if found is None:
        raise RuleBroken("guardian_unknown", _("The guardian must be a patron of your consortium."))
    if found.date_of_birth is None or age_on(found.date_of_birth, day) < ADULT_AGE:
        raise RuleBroken(
            "guardian_not_adult", _("The guardian must be an adult patron (%(age)d or over)."), age=ADULT_AGE
        )
    return found, relationship


def patron_register(
    *,
    actor: Actor,
    cardnumber: str,
    first_name: str,
    last_name: str,
    date_of_birth: datetime.date | None,
    home_library: str,
    email: str = "",
    phone: str = "",
    street_address: str = "",
    postal_code: str = "",
    city: str = "",
    language: str | None = None,
    loan_history: int = LoanHistoryPreference.NEVER_KEEP,
    guardian: int | None = None,
    guardian_cardnumber: str = "",
    relationship: str = "",
    koha_patron_id: int | None = None,
) -> Patron:
    """Register a patron of the actor's consortium; `home_library` is a Koha library id (branchcode).

    The guardian is given by patron id (`guardian`) or card number (`guardian_cardnumber`, as at the desk).
    Loan history is not kept unless chosen; a choice to keep it is recorded as made today by the patron, or
    by the guardian for a child under 13 (patrons.services.choices.OWN_CONSENT_AGE, GDPR Art. 8).
    `language` defaults to the consortium's (Finnish in Finland, Swedish in Sweden). The access event
    (patron_register) names the new patron and the guardian.
    """
    _check_not_frozen(actor)
    free_text_check(
        actor=actor,
        model=Patron,
        texts={
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "phone": phone,
            "street_address": street_address,
            "postal_code": postal_code,
            "city": city,
        },
        action=Action.PATRON_REGISTER,
        data_categories=[DataCategory.BASIC, DataCategory.CONTACT],
    )
    day = today()
    first_name = _required(first_name, "first_name_required", _("Give the patron's first name."))
    last_name = _required(last_name, "last_name_required", _("Give the patron's last name."))
    cardnumber = _required(cardnumber, "cardnumber_required", _("Give the card number."))
    born = _date_of_birth(date_of_birth, day)
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            raise RuleBroken("email_invalid", _("The email address is not valid.")) from error
    chosen_by = ""
    if loan_history in LOAN_HISTORY_KEPT:
        # Registered with a guardian under 15: under 13 the guardian's consent, from 13 the patron's own.
        under_13 = age_on(born, day) < OWN_CONSENT_AGE
        chosen_by = LoanHistoryChooser.GUARDIAN if under_13 else LoanHistoryChooser.PATRON
    loan_history_chooser_check(born=born, day=day, value=loan_history, chosen_by=chosen_by or LoanHistoryChooser.PATRON)
    if language and language not in dict(settings.LANGUAGES):
        raise RuleBroken(
            "language_unknown",
            _("Unknown language. Use one of: %(languages)s."),
            languages=", ".join(code for code, _name in settings.LANGUAGES),
        )
    with transaction.atomic():
        library = _home_library(actor, (home_library or "").strip())
        consortium = library.municipality.consortium
        patrons = Patron.objects.filter(consortium=consortium)
        if patrons.filter(cardnumber=cardnumber).exists():
            raise RuleBroken("cardnumber_taken", _("Another patron of your consortium has this card number."))
        if koha_patron_id is not None and patrons.filter(koha_patron_id=koha_patron_id).exists():
            raise RuleBroken("koha_patron_id_taken", _("Another patron of your consortium has this Koha patron id."))
        guardian_patron, relationship = _guardian(
            actor,
            guardian=guardian,
            guardian_cardnumber=guardian_cardnumber,
            ward_age=age_on(born, day),
            relationship=relationship,
            day=day,
        )
        patron = Patron(
            consortium=consortium,
            koha_patron_id=koha_patron_id,
            cardnumber=cardnumber,
            first_name=first_name,
            last_name=last_name,
            date_of_birth=born,
            email=email,
            phone=(phone or "").strip(),
            street_address=(street_address or "").strip(),
            postal_code=(postal_code or "").strip(),
            city=(city or "").strip(),
            home_library=library,
            status=PatronStatus.ACTIVE,
            language=language or DEFAULT_LANGUAGE.get(consortium.jurisdiction, settings.LANGUAGE_CODE),
            loan_history=loan_history,
            loan_history_chosen_on=day if chosen_by else None,
            loan_history_chosen_by=chosen_by,
            data_provided_by_guardian=guardian_patron is not None and age_on(born, day) < GUARDIAN_REQUIRED_UNDER_AGE,
        )
        try:
            # The field limits (lengths); the constraints are checked above and by the database below.
            patron.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise RuleBroken(
                "invalid_data",
                "; ".join(
                    f"{model_field(Patron, name).verbose_name}: {' '.join(messages)}"
                    for name, messages in error.message_dict.items()
                ),
            ) from error
        if koha_patron_id is None:
            # Koha is the register: the patron is created there first, or not at all (patrons/upstream.py).
            patron.koha_patron_id = patron_create_upstream(patron)
        try:
            with transaction.atomic():
                patron.save(force_insert=True)
        except IntegrityError as error:  # a registration of the same card (or Koha id) at the same moment
            raise RuleBroken(
                "cardnumber_taken", _("Another patron of your consortium has this card number.")
            ) from error
        categories = [DataCategory.BASIC, DataCategory.CONTACT, DataCategory.PREFERENCES]
        patron_ids = [patron.pk]
        if guardian_patron is not None:
            Guardianship.objects.create(ward=patron, guardian=guardian_patron, relationship=relationship)
            categories.append(DataCategory.GUARDIANS)
            patron_ids.append(guardian_patron.pk)
        access_event_record(
            actor=actor,
            action=Action.PATRON_REGISTER,
            patron_ids=patron_ids,
            data_categories=categories,
            detail="guardian_provided_data" if patron.data_provided_by_guardian else "",
        )
    return patron
