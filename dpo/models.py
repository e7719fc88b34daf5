"""What the data protection officer keeps: data-subject requests, erasures, breaches, register descriptions.

Patrons are referred to by their opaque id without a foreign key, as in the access log: a request and
the record of its handling outlive the patron's erasure (GDPR Art. 5(2), the controller shows how it
answered), while holding no personal data beyond that id.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.free_text_fields import FreeTextCharField, FreeTextField
from core.registers import Register
from staff.models import Consortium
from staff.scoping import ConsortiumScopedQuerySet


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access (Art. 15)")
    RECTIFICATION = "rectification", _("Rectification (Art. 16)")
    ERASURE = "erasure", _("Erasure (Art. 17)")
    RESTRICTION = "restriction", _("Restriction of processing (Art. 18)")
    OBJECTION = "objection", _("Objection (Art. 21)")


class IdentityDocument(models.TextChoices):
    """How the requester's identity was checked (Mikkeli notice: ID card, passport or driving licence)."""

    ID_CARD = "id_card", _("Identity card")
    PASSPORT = "passport", _("Passport")
    DRIVING_LICENCE = "driving_licence", _("Driving licence")


class RequesterRole(models.TextChoices):
    """Who made the request: the patron, or a representative for them (GDPR Art. 12(2), 12(6)).

    A guardian acts for a minor by custody (Child Custody and Right of Access Act 361/1983 s. 4,
    föräldrabalken 6:11) and only until the child is 18 (Guardianship Services Act 442/1999 s. 2,
    föräldrabalken 9:1); an adult is represented only by someone they or a court have authorised.
    """

    PATRON = "patron", _("The patron themself")
    GUARDIAN = "guardian", _("A guardian of a minor patron")
    AUTHORISED = (
        "authorised_representative",
        _("An authorised representative (a power of attorney, or a guardian appointed by a court)"),
    )
    OTHER = "other", _("Another representative, explained in the note")


class AuthorityCheck(models.TextChoices):
    """How a representative's authority to act for the patron was checked (their identity: IdentityDocument)."""

    POPULATION_REGISTER = "population_register", _("Custody or guardianship checked in the population register")
    PATRON_RECORD = "patron_record", _("Named as the patron's guardian in the library's record")
    POWER_OF_ATTORNEY = "power_of_attorney", _("A written power of attorney from the patron")
    COURT_ORDER = "court_order", _("A court's or the guardianship authority's order")
    OTHER = "other", _("Another way, explained in the note")


class DeliveryMethod(models.TextChoices):
    ELECTRONIC = "electronic", _("Electronically")
    PAPER_PICKUP = "paper_pickup", _("On paper, picked up at the library")


class FeeDecision(models.TextChoices):
    """The DPO's finding that lets an access request cost a fee or be refused (GDPR Art. 12(5), 15(3)).

    Every copy is free unless one of these is recorded with its reasoning: the first copy always is
    (Art. 15(3)), and a repeat too unless it is manifestly unfounded or excessive (Art. 12(5)) or asks for
    a further copy (Art. 15(3), a reasonable fee). No finding recorded means free. The rule "one free
    report a year" was the repealed Personal Data Act 523/1999 s. 26 and is not applied. `charged` is
    kept only for the fees recorded under that repealed rule before this change (migration 0005): it
    names no finding and cannot be recorded any more.
    """

    UNFOUNDED_FEE = "unfounded_fee", _("Manifestly unfounded or excessive: a reasonable fee (Art. 12(5)(a))")
    REFUSED = "refused", _("Manifestly unfounded or excessive: refused (Art. 12(5)(b))")
    FURTHER_COPY = "further_copy", _("A further copy: a reasonable fee (Art. 15(3))")
    REPEALED_RULE_CHARGED = (
        "charged",
        _("Charged under the repealed one-free-report-a-year rule (recorded before the change; no Art. 12(5) finding)"),
    )


class RefusalGround(models.TextChoices):
    """Why a request is refused: the exceptions of GDPR Art. 17(3), and Art. 12(5) for repeated requests."""

    FREEDOM_OF_EXPRESSION = "art17_3_a", _("Art. 17(3)(a): freedom of expression and information")
    LEGAL_OBLIGATION = "art17_3_b", _("Art. 17(3)(b): legal obligation or task in the public interest")
    PUBLIC_HEALTH = "art17_3_c", _("Art. 17(3)(c): public health")
    ARCHIVING = "art17_3_d", _("Art. 17(3)(d): archiving, research or statistics")
    LEGAL_CLAIMS = "art17_3_e", _("Art. 17(3)(e): legal claims")
    MANIFESTLY_UNFOUNDED = "art12_5", _("Art. 12(5): manifestly unfounded or excessive")


class KeepingGround(models.TextChoices):
    """Why data a system outside this service still holds after an erasure may stay there (Art. 17(1), 17(3))."""

    LEGAL_CLAIMS = "legal_claims", _("Outstanding debt: kept for a legal claim (Art. 17(3)(e))")
    LOANS = "loans", _("Loans not returned: kept until they are returned or settled (Art. 17(3)(e))")
    GUARANTOR = "guarantor", _("Guarantor of a minor: kept while the guarantee lasts (Art. 17(3)(b))")
    PROTECTED = "protected", _("A protected record: kept by the library's decision (Art. 17(3)(b))")
    REMOVED_BY_HAND = "removed_by_hand", _("Removed there by hand since")
    OTHER = "other", _("Another ground, given in the details")


class AnswererRole(models.TextChoices):
    """In which capacity the user who answered a request did so (seed 001: the register's contact person answers
    written access requests; the DPO supervises, GDPR Art. 38-39, and may answer too)."""

    CONTACT_PERSON = "contact_person", _("The register's contact person")
    DPO = "dpo", _("The data protection officer")


class SubjectRequest(models.Model):
    """A data-subject request (rekisteröidyn pyyntö) and its handling, from receipt to answer."""

    consortium_lookup = "consortium_id"

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="subject_requests", verbose_name=_("consortium")
    )
    patron_id = models.BigIntegerField(_("patron id"), db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    received_on = models.DateField(_("received on"))
    # Who asked: the patron, or a representative (then their name and how their authority was checked); the
    # identity check below is of whoever asked, and the report goes to them.
    requester_role = models.CharField(
        _("requested by"), max_length=30, choices=RequesterRole.choices, default=RequesterRole.PATRON
    )
    requester_name = FreeTextCharField(_("representative's name"), max_length=200, blank=True)
    requester_authority_check = models.CharField(
        _("authority checked by"), max_length=30, choices=AuthorityCheck.choices, blank=True
    )
    requester_authority_note = FreeTextField(_("note on the authority check"), blank=True)
    identity_document = models.CharField(_("identity checked with"), max_length=20, choices=IdentityDocument.choices)
    identity_verified_by = models.CharField(_("identity checked by"), max_length=150)
    identity_verified_on = models.DateField(_("identity checked on"))
    due_on = models.DateField(_("answer due on"))
    extended_due_on = models.DateField(_("extended due date"), null=True, blank=True)
    extension_reason = FreeTextField(_("reason for the extension"), blank=True)
    extension_notified_on = models.DateField(_("patron told of the extension on"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.CharField(_("recorded by"), max_length=150)
    # The access report (Art. 15).
    report_made_at = models.DateTimeField(_("report made"), null=True, blank=True)
    report_language = models.CharField(_("report language"), max_length=5, choices=settings.LANGUAGES, blank=True)
    report_incomplete = models.BooleanField(
        _("latest report incomplete"),
        default=False,
        help_text=_("A part of the latest report could not be read (a system out of reach); make it again."),
    )
    previous_report = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("earlier report of the patron"),
    )
    fee_decision = models.CharField(
        _("finding for a fee or refusal"),
        max_length=15,
        choices=FeeDecision.choices,
        blank=True,
        help_text=_("Empty: the copy is free."),
    )
    fee_reason = FreeTextField(_("reasoning of the finding"), blank=True)
    delivery_method = models.CharField(_("delivered"), max_length=20, choices=DeliveryMethod.choices, blank=True)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    request_form_destroyed_on = models.DateField(_("request form copy destroyed on"), null=True, blank=True)
    # The answer.
    completed_on = models.DateField(_("answered on"), null=True, blank=True)
    answered_by = models.CharField(_("answered by"), max_length=150, blank=True)
    answered_as = models.CharField(_("answered as"), max_length=20, choices=AnswererRole.choices, blank=True)
    refusal_ground = models.CharField(_("refused under"), max_length=20, choices=RefusalGround.choices, blank=True)
    refusal_details = FreeTextField(_("reasons for refusing"), blank=True)
    erased_at = models.DateTimeField(_("erasure carried out"), null=True, blank=True)
    # What systems outside this service still hold after the erasure: [{"key", "reason"}], codes only.
    held_elsewhere = models.JSONField(_("still held elsewhere"), default=list, blank=True)
    keeping_ground = models.CharField(
        _("kept elsewhere because"), max_length=20, choices=KeepingGround.choices, blank=True
    )
    keeping_details = FreeTextField(_("details of the ground"), blank=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        ordering = ["due_on", "id"]
        default_permissions = []
        permissions = [("manage_subject_requests", _("Can handle data-subject requests"))]
        indexes = [models.Index(fields=["consortium", "completed_on", "due_on"], name="subjectrequest_due_idx")]

    def __str__(self) -> str:
        return f"{_('data-subject request')} #{self.pk}"

    @property
    def deadline(self):
        """The date the answer is due: the extended date once an extension is recorded."""
        return self.extended_due_on or self.due_on


class ErasureTombstone(models.Model):
    """That patron N was erased, and when: enough to erase them again after a backup is restored.

    No personal data: the opaque patron id and times only (`manage.py reapply_erasures`).
    """

    patron_id = models.BigIntegerField(_("patron id"), unique=True)
    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="erasure_tombstones", verbose_name=_("consortium")
    )
    erased_at = models.DateTimeField(_("erased"))
    subject_request = models.ForeignKey(
        SubjectRequest, on_delete=models.PROTECT, related_name="+", verbose_name=_("request"), null=True, blank=True
    )
    reapplied_at = models.DateTimeField(_("last re-applied"), null=True, blank=True)

    class Meta:
        verbose_name = _("erasure tombstone")
        verbose_name_plural = _("erasure tombstones")
        ordering = ["erased_at", "id"]
        default_permissions = []

    def __str__(self) -> str:
        return f"{_('erasure tombstone')} #{self.pk}"


class ClaimSettled(models.TextChoices):
    """How an open claim behind a legal hold ended before it was time-barred."""

    PAID = "paid", _("The claim was paid")
    WRITTEN_OFF = "written_off", _("The claim was written off or cancelled")


class LegalHold(models.Model):
    """What an erasure kept, why and until when: a partial erasure under GDPR Art. 17(3)(b) or (e).

    The app that holds the data keeps it (core.privacy_contract.LegalHold); this row records the hold with
    the request it belongs to. The day after `held_until` the retention run (`legal_holds`, dpo/privacy.py)
    erases what was kept and records `lifted_on`; the row stays, with no personal data (a key, opaque ids,
    dates), to show how the erasure request was answered.
    """

    consortium_lookup = "consortium_id"

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="legal_holds", verbose_name=_("consortium")
    )
    subject_request = models.ForeignKey(
        SubjectRequest, on_delete=models.PROTECT, related_name="legal_holds", verbose_name=_("request")
    )
    patron_id = models.BigIntegerField(_("patron id"), db_index=True)
    key = models.CharField(_("what is kept"), max_length=40)
    ids = models.JSONField(_("ids kept"), default=list, blank=True)
    ground = models.CharField(_("ground"), max_length=20, choices=RefusalGround.choices)
    reason = models.CharField(_("reason"), max_length=40)
    held_until = models.DateField(_("kept until"))
    lifted_on = models.DateField(_("lifted on"), null=True, blank=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["held_until", "id"]
        default_permissions = []

    def __str__(self) -> str:
        return f"{_('legal hold')} #{self.pk}"


class RiskLevel(models.TextChoices):
    UNLIKELY = "unlikely", _("Unlikely to result in a risk")
    RISK = "risk", _("A risk to people's rights and freedoms")
    HIGH = "high", _("A high risk")


class Art34Exemption(models.TextChoices):
    """Why the people concerned need not be told of a high-risk breach (GDPR Art. 34(3))."""

    UNINTELLIGIBLE = "art34_3_a", _("Art. 34(3)(a): the data was unintelligible to others (e.g. encrypted)")
    RISK_REMOVED = "art34_3_b", _("Art. 34(3)(b): later measures removed the high risk")
    PUBLIC_NOTICE = "art34_3_c", _("Art. 34(3)(c): disproportionate effort; a public notice instead")


class Breach(models.Model):
    """A personal-data breach (tietoturvaloukkaus), recorded whether or not it is notified (Art. 33(5))."""

    consortium_lookup = "consortium_id"

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="breaches", verbose_name=_("consortium")
    )
    aware_at = models.DateTimeField(_("became aware at"))
    occurred_at = models.DateTimeField(_("happened at"), null=True, blank=True)
    description = FreeTextField(_("nature of the breach"))
    data_categories = models.JSONField(_("categories of data"), default=list, blank=True)
    people_affected = models.PositiveIntegerField(_("people concerned (approx.)"), null=True, blank=True)
    records_affected = models.PositiveIntegerField(_("records concerned (approx.)"), null=True, blank=True)
    consequences = FreeTextField(_("likely consequences"), blank=True)
    measures = FreeTextField(_("measures taken or proposed"), blank=True)
    risk = models.CharField(_("risk"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.RISK)
    authority_deadline = models.DateTimeField(_("authority to be notified by"))
    affected_patron_ids = models.JSONField(_("patrons concerned"), default=list, blank=True)
    people_notified_on = models.DateField(_("people concerned told on"), null=True, blank=True)
    art34_exemption = models.CharField(_("not told because"), max_length=20, choices=Art34Exemption.choices, blank=True)
    art34_exemption_details = FreeTextField(_("details of the exemption"), blank=True)
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.CharField(_("recorded by"), max_length=150)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal-data breach")
        verbose_name_plural = _("breach register")
        ordering = ["-aware_at", "-id"]
        default_permissions = []
        permissions = [("manage_breaches", _("Can keep the breach register"))]

    def __str__(self) -> str:
        return f"{_('personal-data breach')} #{self.pk}"


class NotificationPhase(models.TextChoices):
    """Art. 33(4): what is not known at first may be given in phases."""

    INITIAL = "initial", _("Initial notification")
    SUPPLEMENTARY = "supplementary", _("Supplementary information")
    FINAL = "final", _("Final report")


class AuthorityNotification(models.Model):
    """One notification to the supervisory authority (Tietosuojavaltuutettu, IMY) about a breach."""

    breach = models.ForeignKey(
        Breach, on_delete=models.CASCADE, related_name="authority_notifications", verbose_name=_("breach")
    )
    phase = models.CharField(_("phase"), max_length=20, choices=NotificationPhase.choices)
    notified_at = models.DateTimeField(_("notified at"))
    late_reason = FreeTextField(_("reason for the delay"), blank=True)
    reference = FreeTextCharField(_("authority's reference"), max_length=100, blank=True)
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.CharField(_("recorded by"), max_length=150)

    class Meta:
        verbose_name = _("authority notification")
        verbose_name_plural = _("authority notifications")
        ordering = ["notified_at", "id"]
        default_permissions = []

    def __str__(self) -> str:
        return f"{_('authority notification')} #{self.pk}"


class RegisterDescription(models.Model):
    """The record of processing activities for one register (seloste käsittelytoimista, Art. 30).

    The texts are kept per language (RegisterDescriptionText); the public privacy notice is built from them.
    """

    consortium_lookup = "consortium_id"

    consortium = models.ForeignKey(
        Consortium, on_delete=models.CASCADE, related_name="register_descriptions", verbose_name=_("consortium")
    )
    register = models.CharField(_("register"), max_length=30, choices=Register.choices)
    contact_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact person's user account"),
        help_text=_(
            "The register's contact person, who answers written access requests (the DPO may too); named in the "
            "texts below for the public."
        ),
    )
    retention_days = models.PositiveIntegerField(
        _("retention in days"),
        null=True,
        blank=True,
        help_text=_("For data kept for a fixed time after it is recorded; empty when the text explains the rule."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("register description")
        verbose_name_plural = _("register descriptions")
        ordering = ["consortium", "register"]
        constraints = [
            models.UniqueConstraint(fields=["consortium", "register"], name="registerdescription_unique_register")
        ]

    def __str__(self) -> str:
        return f"{self.get_register_display()} ({self.consortium})"


class RegisterDescriptionText(models.Model):
    """The description's fields in one language."""

    # The Art. 30 fields, in the order the admin, the API and the notice show them.
    TEXT_FIELDS = (
        "controller",
        "contact_person",
        "dpo_contact",
        "purpose",
        "legal_basis",
        "data_categories",
        "people_categories",
        "recipients",
        "transfers",
        "retention",
        "security_measures",
    )

    description = models.ForeignKey(
        RegisterDescription, on_delete=models.CASCADE, related_name="texts", verbose_name=_("register description")
    )
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES)
    controller = FreeTextField(_("controller"))
    contact_person = FreeTextField(_("contact person"))
    dpo_contact = FreeTextField(_("data protection officer"))
    purpose = FreeTextField(_("purposes of the processing"))
    legal_basis = FreeTextField(_("legal basis"))
    data_categories = FreeTextField(_("categories of personal data"))
    people_categories = FreeTextField(_("categories of people"))
    recipients = FreeTextField(_("recipients"))
    transfers = FreeTextField(_("transfers outside the EU/EEA"))
    retention = FreeTextField(_("retention"))
    security_measures = FreeTextField(_("security measures"))

    class Meta:
        verbose_name = _("description text")
        verbose_name_plural = _("description texts")
        constraints = [
            models.UniqueConstraint(fields=["description", "language"], name="registerdescriptiontext_unique_language")
        ]

    def __str__(self) -> str:
        return f"{self.description} [{self.language}]"


class StaffReadDay(models.Model):
    """One staff member's patron reads on one completed local day, under one municipality: the daily
    access review's history (dpo/review.py) without rescanning the access log's 28 days.

    Actor ids, the username the log gave the reads, and counts, as the access log names them: nothing about
    any patron. The username lets the review of a summarised day list its staff without reading the day's
    events again (dpo/review.py). Kept as long as the access log keeps the events it counts
    (ACCESS_LOG_RETENTION_MONTHS, `summarize_access_reads`).
    """

    day = models.DateField(_("day"))
    # The event's actor_municipality_id; 0 when it had none (then no consortium's review counts it).
    municipality_id = models.BigIntegerField(_("municipality id"))
    actor_id = models.BigIntegerField(_("user id"))
    # The greatest actor_username of the counted events (one, unless the account was renamed that day).
    username = models.CharField(_("user"), max_length=150)
    reads = models.PositiveIntegerField(_("patron reads"))

    class Meta:
        verbose_name = _("staff reads of a day")
        verbose_name_plural = _("staff reads of a day")
        default_permissions = []
        constraints = [
            models.UniqueConstraint(fields=["day", "municipality_id", "actor_id"], name="staffreadday_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.day} #{self.actor_id}: {self.reads}"


class ReadSummaryDay(models.Model):
    """That the staff reads of a local day are summarised (StaffReadDay): a day without reads has no rows."""

    day = models.DateField(_("day"), unique=True)
    made_at = models.DateTimeField(_("summarised"))

    class Meta:
        verbose_name = _("summarised day")
        verbose_name_plural = _("summarised days")
        default_permissions = []

    def __str__(self) -> str:
        return str(self.day)
