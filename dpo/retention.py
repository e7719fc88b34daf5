"""Retention rules: what each register keeps, for how long, and which rows are due for removal on a day.

`manage.py apply_retention` (dpo/services/retention.py) applies the rules in the order listed, each
in its own transaction. Its report also names, register by register, what is not removed here: CCTV
recordings, interlibrary loans and home-service visits are not held in this service (their own systems
apply the retention their register descriptions give, which the report lists), patrons and their
interlibrary-loan and home-service memberships are never ended by retention (Mikkeli notice: only when the
patron asks), and old access events go only through the owner's privileged `manage.py
prune_access_log` (audit/prune.py).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit.models import DataCategory
from bans.models import AccessProhibition, Ban
from core.dates import ADULT_AGE, start_of_day
from dpo.models import ErasureTombstone, Register, RegisterDescription, RegisterDescriptionText, SubjectRequest
from patrons.models import Guardianship, Note, RegisterKind, RegisterMembership
from staff.models import Consortium


def _delete_rows(rows: QuerySet) -> int:
    """Delete the rows (and what cascades from them); how many of the rule's own rows went."""
    _total, per_model = rows.delete()
    return per_model.get(rows.model._meta.label, 0)


@dataclass(frozen=True)
class RetentionRule:
    name: str
    register: str
    description: Promise
    due: Callable[[datetime.date], QuerySet]
    # The fields naming the patrons a removed row concerned: the retention event lists them.
    patron_fields: tuple[str, ...]
    data_categories: tuple[str, ...] = ()
    delete: Callable[[QuerySet], int] = _delete_rows

    @property
    def register_label(self) -> str:
        return str(Register(self.register).label)


def ban_decisions_due(day: datetime.date) -> QuerySet[Ban]:
    """Archived ban decisions whose keeping date has passed (kept on the retain_until day itself)."""
    return Ban.objects.filter(archived_at__isnull=False, retain_until__lt=day)


def access_prohibitions_due(day: datetime.date) -> QuerySet[AccessProhibition]:
    return AccessProhibition.objects.filter(archived_at__isnull=False, retain_until__lt=day)


def guardian_links_due(day: datetime.date) -> QuerySet[Guardianship]:
    """Links of wards who are 18 on `day`: the patron gets the notices from then on.

    Born on or before this day 18 years ago, as core.dates.age_on counts (a 29 February birthday
    comes on 1 March). A ward without a date of birth is never due: their age is not known.
    """
    return Guardianship.objects.filter(ward__date_of_birth__lte=day - relativedelta(years=ADULT_AGE))


def note_removal_records_due(day: datetime.date) -> QuerySet[Note]:
    """Removed notes (their text erased at removal) removed more than the retention years before `day`.

    A removed note that a kept ban decision cites stays with the decision, as part of its grounds.
    """
    cutoff = start_of_day(day - relativedelta(years=settings.NOTE_REMOVAL_RECORD_RETENTION_YEARS))
    kept_bans = Ban.objects.exclude(pk__in=ban_decisions_due(day).values("pk"))
    return Note.objects.filter(removed_at__lt=cutoff).exclude(bans__in=kept_bans)


def subject_requests_due(day: datetime.date) -> QuerySet[SubjectRequest]:
    """Requests answered more than the retention years before `day`.

    Not one an erasure tombstone points to: the tombstone must outlive every backup that still holds
    the patron, and its request is the record of why the patron was erased (GDPR Art. 5(2)). Setting
    the link to null would leave an erasure without its reason, and the request holds no more
    personal data than the tombstone's opaque patron id, so it stays as long as the tombstone.
    """
    cutoff = day - relativedelta(years=settings.SUBJECT_REQUEST_RETENTION_YEARS)
    tombstones = ErasureTombstone.objects.filter(subject_request=OuterRef("pk"))
    return SubjectRequest.objects.filter(completed_on__lt=cutoff).exclude(Exists(tombstones))


def newsletter_memberships_due(day: datetime.date) -> QuerySet[RegisterMembership]:
    """Newsletter memberships of patrons who have no email address any more (on any day).

    The newsletter register holds email addresses only and is sent by email only, so without an address
    the membership serves no purpose (GDPR Art. 5(1)(c), (e)). The patron joins again with a new address.
    """
    return RegisterMembership.objects.filter(register=RegisterKind.NEWSLETTER, patron__email="")


RETENTION_RULES: tuple[RetentionRule, ...] = (
    RetentionRule(
        name="ban_decisions",
        register=Register.LIBRARY_SYSTEM,
        description=_(
            "Decisions of library-use bans that have ended, once their time in the decision archive is over "
            "(BAN_DECISION_RETENTION_YEARS after the ban ended)."
        ),
        due=ban_decisions_due,
        patron_fields=("patron_id",),
        data_categories=(DataCategory.BANS, DataCategory.BAN_DECISION),
    ),
    RetentionRule(
        name="access_prohibitions",
        register=Register.LIBRARY_SYSTEM,
        description=_(
            "Access prohibitions that have ended, once their keeping time is over "
            "(BAN_DECISION_RETENTION_YEARS after the prohibition ended)."
        ),
        due=access_prohibitions_due,
        patron_fields=("patron_id",),
        data_categories=(DataCategory.BANS,),
    ),
    RetentionRule(
        name="guardian_links",
        register=Register.LIBRARY_SYSTEM,
        description=_(
            "Links between a minor and their guardians, once the patron has turned 18: the notices go to "
            "the patron from then on."
        ),
        due=guardian_links_due,
        patron_fields=("ward_id", "guardian_id"),
        data_categories=(DataCategory.GUARDIANS,),
    ),
    # After the ban decisions: a note cited only by decisions removed above goes in the same run.
    RetentionRule(
        name="note_removal_records",
        register=Register.LIBRARY_SYSTEM,
        description=_(
            "The record that a note was removed (who, when and why; the text was erased at removal), "
            "NOTE_REMOVAL_RECORD_RETENTION_YEARS after the removal."
        ),
        due=note_removal_records_due,
        patron_fields=("patron_id",),
        data_categories=(DataCategory.NOTES,),
    ),
    RetentionRule(
        name="subject_requests",
        register=Register.LIBRARY_SYSTEM,
        description=_(
            "Answered data-subject requests, SUBJECT_REQUEST_RETENTION_YEARS after the answer; a request "
            "behind an erasure stays as long as the erasure's tombstone."
        ),
        due=subject_requests_due,
        patron_fields=("patron_id",),
    ),
    RetentionRule(
        name="newsletter_without_email",
        register=Register.NEWSLETTER,
        description=_(
            "Newsletter memberships of patrons who no longer have an email address: the newsletter register "
            "holds email addresses only, so the membership serves no purpose."
        ),
        due=newsletter_memberships_due,
        patron_fields=("patron_id",),
        data_categories=(DataCategory.REGISTERS,),
    ),
)


@dataclass(frozen=True)
class NotAppliedHere:
    """A register's retention that this service does not apply, named in the report so nobody assumes it does."""

    name: str
    register: str
    description: Promise
    # Whether the report lists each consortium's retention for the register (its register description).
    lists_retention: bool = False

    @property
    def register_label(self) -> str:
        return str(Register(self.register).label)


INTERLIBRARY_LOANS = NotAppliedHere(
    name="interlibrary_loans",
    register=Register.INTERLIBRARY_LOANS,
    description=_(
        "Interlibrary-loan memberships end only when the patron asks, as patronage does. The loan records are "
        "not held in this service: the interlibrary-loan system keeps them and applies the retention set in "
        "the interlibrary-loans register description."
    ),
    lists_retention=True,
)
HOME_SERVICE = NotAppliedHere(
    name="home_service",
    register=Register.HOME_SERVICE,
    description=_(
        "Home-service memberships end only when the patron asks, as patronage does. The visit and delivery "
        "records are not held in this service: Koha keeps them and applies the retention set in the "
        "home-service register description."
    ),
    lists_retention=True,
)
CCTV_RECORDINGS = NotAppliedHere(
    name="cctv_recordings",
    register=Register.CCTV,
    description=_(
        "CCTV recordings are not held in this service: the recorder deletes them after the retention set in "
        "the CCTV register description."
    ),
    lists_retention=True,
)
PATRON_RECORDS = NotAppliedHere(
    name="patron_records",
    register=Register.LIBRARY_SYSTEM,
    description=_(
        "Patron records are never ended or removed by retention: patronage ends only when the patron asks "
        "(an erasure request)."
    ),
)
NOT_APPLIED_HERE: tuple[NotAppliedHere, ...] = (INTERLIBRARY_LOANS, HOME_SERVICE, CCTV_RECORDINGS, PATRON_RECORDS)


@dataclass(frozen=True)
class RegisterRetention:
    """A consortium's retention for a register as its register description gives it, for the report."""

    consortium: str
    retention_days: int | None  # None: not given as a number (or no description)
    retention_text: str  # in the current language, else Finnish, else any; "" without a description text


def register_retention(register: str) -> list[RegisterRetention]:
    """Each consortium's retention for `register`: days and text, or nothing when it has no description."""
    descriptions = {
        description.consortium_id: description
        for description in RegisterDescription.objects.filter(register=register).prefetch_related("texts")
    }
    language = translation.get_language() or settings.LANGUAGE_CODE
    result = []
    for pk, name in Consortium.objects.order_by("name").values_list("pk", "name"):
        description = descriptions.get(pk)
        texts: dict[str, RegisterDescriptionText] = (
            {text.language: text for text in description.texts.all()} if description else {}
        )
        text = texts.get(language[:2]) or texts.get(settings.LANGUAGE_CODE) or next(iter(texts.values()), None)
        result.append(
            RegisterRetention(
                consortium=name,
                retention_days=description.retention_days if description else None,
                retention_text=text.retention.strip() if text else "",
            )
        )
    return result
