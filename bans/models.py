"""Library-use bans (Finland) and access prohibitions (Sweden), with the procedure's vocabularies.

The models moved here from patrons/ in Django's state only: their tables keep the names `patrons_ban`,
`patrons_ban_notes` and `patrons_accessprohibition` (bans/migrations/0001_initial.py).
"""

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.free_text_fields import FreeTextCharField, FreeTextField
from patrons.models import Note, Patron, ProcessingRestriction

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise
from staff.models import Library, Municipality
from staff.scoping import ConsortiumScopedQuerySet

# --- Library-use bans (Finland, Library Act 1492/2016 s. 15) -------------------------------------------


class BanGround(models.TextChoices):
    """The alternatives of the Library Act 1492/2016 s. 15 as the statute writes them.

    Disturbing the library's use "repeatedly and substantially" (toistuvasti ja olennaisesti) is ONE
    ground: neither a repeated mild disturbance nor a single substantial one meets it on its own.
    """

    REPEATED_SUBSTANTIAL_DISTURBANCE = (
        "repeated_substantial_disturbance",
        _("Disturbs the library's use repeatedly and substantially"),
    )
    ENDANGERING_SAFETY = "endangering_safety", _("Endangers safety")
    DAMAGING_PROPERTY = "damaging_property", _("Damages property")


class BanStatus(models.TextChoices):
    """Stored steps of the procedure. "Active", "scheduled" and "ended" follow from the dates (Ban.state)."""

    PROPOSED = "proposed", _("Proposed")
    HEARD = "heard", _("Heard")
    HEARING_WAIVED = "hearing_waived", _("Hearing waived")
    DECIDED = "decided", _("Decided")
    NOTIFIED = "notified", _("Notified")
    CANCELLED = "cancelled", _("Cancelled")
    OVERTURNED = "overturned", _("Overturned on appeal")


class BanState(models.TextChoices):
    """What a ban is today: the stored step, or for a notified ban what its dates make it."""

    PROPOSED = "proposed", _("Proposed")
    HEARD = "heard", _("Heard")
    HEARING_WAIVED = "hearing_waived", _("Hearing waived")
    DECIDED = "decided", _("Decided")
    NOTIFIED = "notified", _("Notified, waiting to become final")
    SCHEDULED = "scheduled", _("Notified, starts later")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")
    LAPSED = "lapsed", _("Lapsed (never notified)")
    CANCELLED = "cancelled", _("Cancelled")
    OVERTURNED = "overturned", _("Overturned on appeal")


class HearingMethod(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("By phone")
    LETTER = "letter", _("By letter")
    ELECTRONIC = "electronic", _("Electronically")


class HearingWaiverGround(models.TextChoices):
    """The grounds of the Administrative Procedure Act 434/2003 s. 34(2) on which a ban may be decided
    without hearing the party, as the statute writes them.

    Only the grounds that can apply to a ban are offered: the others of s. 34(2) concern a party's own
    claim or application (a claim dismissed or rejected at once, admission to employment or education, a
    benefit granted on the applicant's qualities, a claim accepted), and a ban is never either.
    """

    WOULD_ENDANGER_PURPOSE = "would_endanger_purpose", _("Hearing the party could endanger the purpose of the decision")
    DELAY_WOULD_HARM = (
        "delay_would_harm",
        _("Delaying the decision would cause considerable harm to people's health, public safety or the environment"),
    )
    MANIFESTLY_UNNECESSARY = (
        "manifestly_unnecessary",
        _("Hearing the party is manifestly unnecessary for another reason"),
    )


class NotificationMethod(models.TextChoices):
    LETTER = "letter", _("Letter")
    ELECTRONIC = "electronic", _("Electronic notice")
    IN_PERSON = "in_person", _("In person")


class ElectronicConsentManner(models.TextChoices):
    """How a party (or a minor's guardian) consented to being notified electronically (Act on Electronic Services
    and Communication in the Public Sector 13/2003 s. 19: an electronic notice only with the recipient's consent)."""

    AT_HEARING = "at_hearing", _("At the hearing")
    IN_WRITING = "in_writing", _("In writing")
    ELECTRONICALLY = "electronically", _("Electronically (e-mail or e-service)")


class ReceiptEvidence(models.TextChoices):
    """What proves that a notice was received later than the law deems it received (Act 13/2003 s. 19(2), Local
    Government Act 410/2015 s. 141: "unless shown otherwise")."""

    ACKNOWLEDGEMENT = "acknowledgement", _("A signed acknowledgement of receipt")
    DELIVERY_RECORD = "delivery_record", _("The postal service's or the e-service's delivery record")
    PARTY_ACCOUNT = "party_account", _("The recipient's credible account")
    OTHER = "other", _("Other (see the note)")


class NoticeReceipt(models.Model):
    """The electronic-notice consent and the proven receipt of one recipient of a ban decision: the party (Ban)
    or a minor's guardian (BanGuardian). Abstract: its fields are in both tables."""

    electronic_consent_on = models.DateField(_("consented to electronic notice on"), null=True, blank=True)
    electronic_consent_how = models.CharField(
        _("how the consent was given"), max_length=20, choices=ElectronicConsentManner.choices, blank=True
    )
    proven_received_on = models.DateField(_("proven received on"), null=True, blank=True)
    proven_receipt_evidence = models.CharField(
        _("what proves the receipt"), max_length=20, choices=ReceiptEvidence.choices, blank=True
    )
    proven_receipt_note = FreeTextCharField(_("note on the proof of receipt"), max_length=300, blank=True)

    class Meta:
        abstract = True

    @property
    def received_on(self) -> "datetime.date | None":
        """The receipt the rectification time runs from: a proven later date replaces the deemed one."""
        return self.proven_received_on or getattr(self, "deemed_received_on", None)


# The notice of a decision and its receipt, as kept for the party (Ban) and for each guardian (BanGuardian).
NOTICE_FIELDS = (
    "notification_method",
    "notified_on",
    "deemed_received_on",
    "electronic_consent_on",
    "electronic_consent_how",
    "proven_received_on",
    "proven_receipt_evidence",
    "proven_receipt_note",
)


class AppealOutcome(models.TextChoices):
    """The outcome of a rectification request, or of an appeal to the administrative court."""

    PENDING = "pending", _("Pending")
    UPHELD = "upheld", _("Ban upheld")
    OVERTURNED = "overturned", _("Ban overturned")
    DISMISSED = "dismissed", _("Dismissed (late or inadmissible)")


class Ban(NoticeReceipt):
    """A library-use ban (käyttökielto) through its procedure: proposal, hearing, decision, notice, rectification
    request, and the administrative-court appeal against the rectification decision.

    The patron's record shows only bans that are in procedure or active; whether a ban is active is
    computed from its dates on every read (bans.state), so the mark disappears when the
    ban ends without any scheduled job. `archive_bans` later stamps ended bans archived, and the
    decision stays in the decision archive (ban deciders and the DPO) until `retain_until`.
    """

    consortium_lookup = "patron__consortium_id"
    # What the ban is today (a BanState), set on the rows bans.selectors reads; not a column.
    state: str
    # The patron's restriction of processing in force (GDPR Art. 18), set by bans.selectors.ban_get; not a column.
    processing_restriction: "ProcessingRestriction | None"

    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="bans", verbose_name=_("patron"))
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="bans", verbose_name=_("library"))
    grounds = models.JSONField(_("grounds"), default=list)
    notes = models.ManyToManyField(
        Note, related_name="bans", verbose_name=_("behaviour notes cited"), db_table="patrons_ban_notes"
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(_("status"), max_length=20, choices=BanStatus.choices, default=BanStatus.PROPOSED)
    proposed_at = models.DateTimeField(_("proposed"))
    proposed_by = models.CharField(_("proposed by"), max_length=150)
    # Hearing (Administrative Procedure Act s. 34)
    heard_on = models.DateField(_("heard on"), null=True, blank=True)
    hearing_method = models.CharField(_("hearing method"), max_length=20, choices=HearingMethod.choices, blank=True)
    statement = FreeTextField(_("the patron's statement"), blank=True)
    answer_by = models.DateField(_("the party may answer by"), null=True, blank=True)
    material_shown = FreeTextField(_("material shown to the party"), blank=True)
    hearing_waiver_ground = models.CharField(
        _("ground for deciding without a hearing"), max_length=30, choices=HearingWaiverGround.choices, blank=True
    )
    hearing_waived_reason = FreeTextField(_("more on why the hearing was waived"), blank=True)
    hearing_recorded_by = models.CharField(_("hearing recorded by"), max_length=150, blank=True)
    # Decision (Administrative Procedure Act s. 44)
    decision_number = FreeTextCharField(_("decision number"), max_length=50, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decided_by = models.CharField(_("decided by"), max_length=150, blank=True)
    decider_name = models.CharField(_("decider's name and title"), max_length=200, blank=True)
    decider_title = models.CharField(_("decider's title"), max_length=200, blank=True)
    delegation = models.CharField(_("delegation behind the decision"), max_length=300, blank=True)
    reasons = FreeTextField(_("reasons"), blank=True)
    decided_text = FreeTextField(_("what is decided"), blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    contact_person = FreeTextCharField(_("contact person"), max_length=200, blank=True)
    enforced_before_final = models.BooleanField(_("enforced before it is final"), default=True)
    enforcement_reasons = FreeTextField(_("reasons for enforcing before it is final"), blank=True)
    # How many days the ban lasts; a ban not enforced before it is final gets its dates when it becomes final.
    length_days = models.PositiveSmallIntegerField(_("length in days"), null=True, blank=True)
    # The municipality's official data as the decision named it (bans.services.authority_of): kept as sent.
    authority = models.JSONField(_("authority and rectification body named in the decision"), default=dict, blank=True)
    # Notification (Local Government Act 410/2015 ss. 134, 141)
    notification_method = models.CharField(
        _("notification method"), max_length=20, choices=NotificationMethod.choices, blank=True
    )
    notified_on = models.DateField(_("notice sent on"), null=True, blank=True)
    deemed_received_on = models.DateField(_("deemed received on"), null=True, blank=True)
    appeal_deadline = models.DateField(_("rectification request deadline"), null=True, blank=True)
    # Rectification request (oikaisuvaatimus), decided by the municipality's body (Local Government Act ss. 134-136)
    appeal_lodged_on = models.DateField(_("rectification request lodged on"), null=True, blank=True)
    appeal_outcome = models.CharField(_("outcome"), max_length=20, choices=AppealOutcome.choices, blank=True)
    appeal_decided_on = models.DateField(_("rectification decided on"), null=True, blank=True)
    appeal_body = FreeTextCharField(_("body that decided the rectification request"), max_length=200, blank=True)
    appeal_reference = FreeTextCharField(_("reference of the rectification decision"), max_length=100, blank=True)
    appeal_recorded_by = models.CharField(_("rectification decision recorded by"), max_length=150, blank=True)
    # The rectification decision's notice to the party, from which the court appeal time runs (Act 808/2019 s. 13)
    rectification_notification_method = models.CharField(
        _("rectification decision sent by"), max_length=20, choices=NotificationMethod.choices, blank=True
    )
    rectification_notified_on = models.DateField(_("rectification decision sent on"), null=True, blank=True)
    rectification_deemed_received_on = models.DateField(
        _("rectification decision deemed received on"), null=True, blank=True
    )
    court_appeal_deadline = models.DateField(_("administrative court appeal deadline"), null=True, blank=True)
    # Appeal to the administrative court (Local Government Act 410/2015 ss. 145-146)
    court_appeal_lodged_on = models.DateField(_("court appeal lodged on"), null=True, blank=True)
    court = FreeTextCharField(_("administrative court"), max_length=200, blank=True)
    court_outcome = models.CharField(_("court's outcome"), max_length=20, choices=AppealOutcome.choices, blank=True)
    court_decided_on = models.DateField(_("court decided on"), null=True, blank=True)
    court_recorded_by = models.CharField(_("court appeal recorded by"), max_length=150, blank=True)
    ended_early_on = models.DateField(_("ended early on"), null=True, blank=True)
    cancellation_reason = FreeTextCharField(_("reason for cancelling"), max_length=300, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    retain_until = models.DateField(_("kept in the decision archive until"), null=True, blank=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        db_table = "patrons_ban"
        verbose_name = _("library-use ban")
        verbose_name_plural = _("library-use bans")
        ordering = ["-starts_on", "-id"]
        default_permissions = []
        permissions = [
            ("prepare_ban", _("Can propose a library-use ban and record its hearing and notification")),
            ("decide_ban", _("Can decide a library-use ban and its rectification request")),
            ("view_ban_archive", _("Can read the archive of ban decisions")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "decision_number"],
                condition=~Q(decision_number=""),
                name="ban_unique_decision_number",
            ),
        ]
        indexes = [models.Index(fields=["patron", "ends_on"], name="ban_patron_idx")]

    def __str__(self) -> str:
        return f"{_('library-use ban')} #{self.pk}"

    @property
    def state_label(self) -> "StrPromise":
        """The label of `state` (what the ban is today, set by bans.selectors), else of the stored step."""
        return BanState(getattr(self, "state", self.status)).label


class BanGuardian(NoticeReceipt):
    """A guardian of a minor party, heard and notified in the ban's procedure (Administrative Procedure Act
    434/2003 s. 14: a minor's guardian speaks for them; from 15, both the minor and the guardian).

    The guardian's name is copied here when they are first recorded, because the decision names them and
    is kept as it was sent; the link to the guardian's record is cleared if that record is erased. The name
    appears only in the decision document, never in an event, a log line or a URL.
    """

    ban = models.ForeignKey(Ban, on_delete=models.CASCADE, related_name="guardians", verbose_name=_("ban"))
    guardian = models.ForeignKey(
        Patron, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("guardian")
    )
    name = models.CharField(_("guardian's name"), max_length=200)
    heard_on = models.DateField(_("heard on"), null=True, blank=True)
    hearing_method = models.CharField(_("hearing method"), max_length=20, choices=HearingMethod.choices, blank=True)
    statement = FreeTextField(_("the guardian's statement"), blank=True)
    notification_method = models.CharField(
        _("notification method"), max_length=20, choices=NotificationMethod.choices, blank=True
    )
    notified_on = models.DateField(_("notice sent on"), null=True, blank=True)
    deemed_received_on = models.DateField(_("deemed received on"), null=True, blank=True)

    class Meta:
        verbose_name = _("guardian in a ban's procedure")
        verbose_name_plural = _("guardians in bans' procedures")
        ordering = ["ban", "id"]
        default_permissions = []
        constraints = [models.UniqueConstraint(fields=["ban", "guardian"], name="banguardian_unique")]

    def __str__(self) -> str:
        return f"{_('guardian in a ban')} #{self.pk}"


class DecisionCompetence(models.Model):
    """Who decides library-use bans for which libraries, and by which delegation (the competence table).

    A ban is an official's decision (viranhaltijapäätös) of the library's municipality: the council's
    administrative rules delegate the power to decide to an office (Local Government Act 410/2015 s. 91),
    so only a decider whose delegation covers the ban's library on the day decides the ban, its
    rectification request, or cancels it. A row covers one library or, without a library, every library
    of its municipality, from `valid_from` to `valid_until` (both included; open-ended without it). The
    DPO and superusers keep it in the admin, each for their own consortium.
    """

    consortium_lookup = "municipality__consortium_id"

    decider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="decision_competences",
        verbose_name=_("decider"),
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="decision_competences", verbose_name=_("municipality")
    )
    library = models.ForeignKey(
        Library,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decision_competences",
        verbose_name=_("library"),
        help_text=_("Empty: every library of the municipality."),
    )
    title = FreeTextCharField(_("decider's title"), max_length=200, help_text=_("E.g. library director"))
    delegation = FreeTextCharField(
        _("delegation"),
        max_length=300,
        help_text=_("The decision or administrative rule that delegates the power, e.g. its section and date."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("competence to decide bans")
        verbose_name_plural = _("competences to decide bans")
        ordering = ["municipality__name", "valid_from", "id"]
        default_permissions = []
        permissions = [("manage_decision_competence", _("Can keep the table of who decides bans for which library"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="decisioncompetence_dates_in_order",
                violation_error_message=_("A delegation cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{_('competence to decide bans')} #{self.pk}"

    def clean(self) -> None:
        library = self.library if self.library_id else None
        if library is not None and self.municipality_id and library.municipality_id != self.municipality_id:
            raise ValidationError({"library": _("The library must be one of the municipality's libraries.")})


# --- Access prohibitions (Sweden: tillträdesförbud till bibliotek, since 1.7.2022) -------------------


@dataclass(frozen=True)
class ProhibitionWarning:
    """Something unusual in a prosecutor's decision that the library records anyway (bans.services): the API
    answers it in the shape of its errors, `{"detail", "code"}`; the form asks for a confirmation."""

    code: str
    detail: str


class CourtOutcome(models.TextChoices):
    """What the district court (tingsrätt) decided on the person's request for review of a prohibition."""

    UPHELD = "upheld", _("Upheld")
    REVOKED = "revoked", _("Revoked")
    CHANGED = "changed", _("Changed (a new end date)")


class AccessProhibitionQuerySet(ConsortiumScopedQuerySet):
    def not_ended(self, day: datetime.date) -> "AccessProhibitionQuerySet":
        """In force on `day` or starting later: not past its last day, and not revoked on or before `day` (a
        prohibition revoked from a day is no longer in force from that day)."""
        return self.filter(ends_on__gte=day).exclude(revoked_on__lte=day)

    def ended(self, day: datetime.date) -> "AccessProhibitionQuerySet":
        """No longer in force on `day`: past its last day, or revoked on or before `day`."""
        return self.filter(Q(ends_on__lt=day) | Q(revoked_on__lte=day))


class AccessProhibition(models.Model):
    """A prosecutor's decision on an access prohibition (tillträdesförbud), recorded by a Swedish library.

    The library applies; the prosecutor decides. The record keeps the library's application and the
    decision's reference and dates. Like a ban, it shows on the patron's record only while in force.
    What came after stays with it: the prosecutor's revocation (`revoked_on`: no longer in force from that
    day), and the district court's outcome on the person's request for review (upheld, revoked, or changed
    with a new end date, the prosecutor's end date kept in `decided_ends_on`).
    """

    consortium_lookup = "patron__consortium_id"
    # What bans.services found unusual when recording it (ProhibitionWarning), set on the row it returns; not a column.
    warnings: list[ProhibitionWarning]

    patron = models.ForeignKey(
        Patron, on_delete=models.CASCADE, related_name="access_prohibitions", verbose_name=_("patron")
    )
    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="access_prohibitions", verbose_name=_("library")
    )
    applied_on = models.DateField(_("library's application date"))
    application_reference = FreeTextCharField(_("library's application reference"), max_length=100)
    prosecutor_reference = FreeTextCharField(_("prosecutor's reference"), max_length=100)
    decided_on = models.DateField(_("decided on"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.CharField(_("recorded by"), max_length=150)
    # Revocation (by the prosecutor, or by the court: court_outcome says which)
    revoked_on = models.DateField(_("revoked from"), null=True, blank=True)
    revocation_reference = FreeTextCharField(_("prosecutor's revocation reference"), max_length=100, blank=True)
    revocation_recorded_by = models.CharField(_("revocation recorded by"), max_length=150, blank=True)
    # The district court's review (tingsrätt), on the person's request
    court = FreeTextCharField(_("court"), max_length=200, blank=True)
    court_decided_on = models.DateField(_("court decided on"), null=True, blank=True)
    court_reference = FreeTextCharField(_("court's case number"), max_length=100, blank=True)
    court_outcome = models.CharField(_("court's outcome"), max_length=20, choices=CourtOutcome.choices, blank=True)
    decided_ends_on = models.DateField(_("end date the prosecutor decided"), null=True, blank=True)
    court_recorded_by = models.CharField(_("court's outcome recorded by"), max_length=150, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    retain_until = models.DateField(_("kept until"), null=True, blank=True)

    objects = AccessProhibitionQuerySet.as_manager()

    class Meta:
        db_table = "patrons_accessprohibition"
        verbose_name = _("access prohibition")
        verbose_name_plural = _("access prohibitions")
        ordering = ["-starts_on", "-id"]
        default_permissions = []

    def __str__(self) -> str:
        return f"{_('access prohibition')} #{self.pk}"

    @property
    def last_day(self) -> datetime.date:
        """The last day in force: the end date, or the day before the revocation if that comes first (before the
        start for a prohibition revoked before it began, which was never in force)."""
        if self.revoked_on is not None:
            return min(self.ends_on, self.revoked_on - datetime.timedelta(days=1))
        return self.ends_on
