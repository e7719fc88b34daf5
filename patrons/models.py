"""Tenancy (consortium, municipality, library, networks), staff and patrons.

A patron record here mirrors the parts of Koha's patron object that the
privacy rules are about. There is no identity-code field on a patron, ever:
codes live in the separate sotu-silo.
"""

import contextlib
import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from sotu_silo.fields import FreeTextCharField, FreeTextEmailField, FreeTextField, PhoneNumberField


class Jurisdiction(models.TextChoices):
    FINLAND = "FI", _("Finland")
    SWEDEN = "SE", _("Sweden")


class Consortium(models.Model):
    """A group of libraries sharing one patron register (kimppa, e.g. "Lapin kirjastot")."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), unique=True)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=2, choices=Jurisdiction.choices)

    class Meta:
        verbose_name = _("consortium")
        verbose_name_plural = _("consortia")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EnforcementMode(models.TextChoices):
    ENFORCE = "enforce", _("Enforce: refuse requests from other networks")
    REPORT = "report", _("Report: allow, but log would-be denials (rollout)")


class Municipality(models.Model):
    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="municipalities", verbose_name=_("consortium")
    )
    name = models.CharField(_("name"), max_length=200)
    network_mode = models.CharField(
        _("network allow-list mode"),
        max_length=10,
        choices=EnforcementMode.choices,
        default=EnforcementMode.ENFORCE,
    )

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]
        default_permissions = []
        permissions = [("manage_networks", _("Can manage municipalities' allowed networks"))]
        constraints = [models.UniqueConstraint(fields=["consortium", "name"], name="municipality_unique_name")]

    def __str__(self) -> str:
        return self.name


def validate_cidr(value: str) -> None:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise ValidationError(
            _("“%(value)s” is not a valid network. Write it as an IPv4 or IPv6 CIDR, e.g. 10.10.0.0/16."),
            params={"value": value},
            code="invalid_cidr",
        ) from error


class AllowedNetwork(models.Model):
    """A CIDR from which staff may work: a municipality's own, or consortium-wide (Citrix)."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="networks",
        null=True,
        blank=True,
        verbose_name=_("municipality"),
    )
    consortium = models.ForeignKey(
        Consortium,
        on_delete=models.CASCADE,
        related_name="networks",
        null=True,
        blank=True,
        verbose_name=_("consortium (all municipalities)"),
    )
    cidr = models.CharField(_("network (CIDR)"), max_length=50, validators=[validate_cidr])
    description = FreeTextCharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("allowed network")
        verbose_name_plural = _("allowed networks")
        ordering = ["cidr"]
        default_permissions = []
        constraints = [
            models.UniqueConstraint(fields=["municipality", "cidr"], name="allowednetwork_unique_municipality"),
            models.UniqueConstraint(fields=["consortium", "cidr"], name="allowednetwork_unique_consortium"),
            models.CheckConstraint(
                condition=(Q(municipality__isnull=False) & Q(consortium__isnull=True))
                | (Q(municipality__isnull=True) & Q(consortium__isnull=False)),
                name="allowednetwork_one_owner",
                violation_error_message=_("A network belongs either to a municipality or to a consortium."),
            ),
        ]

    def __str__(self) -> str:
        return self.cidr

    def clean(self) -> None:
        if self.cidr:
            # Normalise the spelling so duplicates and caches agree (2001:DB8::/32 -> 2001:db8::/32);
            # a bad value is left for the field validator to report.
            with contextlib.suppress(ValueError):
                self.cidr = str(ipaddress.ip_network(self.cidr.strip(), strict=True))


class AllowListGeneration(models.Model):
    """One row whose number goes up, in the same transaction, with every change to who may work from where.

    Every process compares it with the number its compiled allow-list was built from (at most once a
    second, privacy_service/ip_allowlist.py), so a removed network is refused by every worker within a
    second of the change's commit; a per-process cache cannot tell one process of another's change.
    """

    ROW_ID = 1

    value = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = []

    def __str__(self) -> str:
        return str(self.value)


class Library(models.Model):
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="libraries", verbose_name=_("municipality")
    )
    name = models.CharField(_("name"), max_length=200)
    koha_library_id = models.CharField(_("Koha library id (branchcode)"), max_length=10, unique=True)

    class Meta:
        verbose_name = _("library")
        verbose_name_plural = _("libraries")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffProfile(models.Model):
    """Where a staff member works, and whether they have signed the confidentiality agreement."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile", verbose_name=_("user")
    )
    home_library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="staff", verbose_name=_("home library")
    )
    confidentiality_signed_on = models.DateField(
        _("confidentiality agreement signed on"),
        null=True,
        blank=True,
        help_text=_("No patron data is shown to a staff member before this is recorded."),
    )
    privacy_briefing_on = models.DateField(
        _("last yearly privacy briefing on"),
        null=True,
        blank=True,
        help_text=_("Confidentiality is repeated every year; a staff member is reminded when this is over a year old."),
    )
    patron = models.OneToOneField(
        "Patron",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_profile",
        verbose_name=_("own patron record"),
        help_text=_("A staff member who is also a patron: the access review flags colleagues reading it."),
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def municipality_id(self) -> int:
        return self.home_library.municipality_id

    @property
    def consortium_id(self) -> int:
        return self.home_library.municipality.consortium_id


class PatronStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Card expired")
    LOCKED = "locked", _("Locked")


class LoanHistoryPreference(models.IntegerChoices):
    """Koha's `privacy` values; saving loan history is the patron's own choice."""

    KEEP_FOREVER = 0, _("Keep my loan history")
    DEFAULT = 1, _("Library default")
    NEVER_KEEP = 2, _("Do not keep my loan history")


class Patron(models.Model):
    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="patrons", verbose_name=_("consortium")
    )
    koha_patron_id = models.PositiveBigIntegerField(
        _("Koha patron id"), null=True, blank=True, help_text=_("Empty until a patron registered here reaches Koha.")
    )
    cardnumber = models.CharField(_("card number"), max_length=32)
    first_name = FreeTextCharField(_("first name"), max_length=100)
    last_name = FreeTextCharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    email = FreeTextEmailField(_("email"), blank=True)
    phone = PhoneNumberField(_("phone"), max_length=40, blank=True)
    street_address = FreeTextCharField(_("street address"), max_length=200, blank=True)
    postal_code = FreeTextCharField(_("postal code"), max_length=10, blank=True)
    city = FreeTextCharField(_("city"), max_length=100, blank=True)
    home_library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="patrons", verbose_name=_("home library")
    )
    card_expires_on = models.DateField(_("card expires on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=PatronStatus.choices, default=PatronStatus.ACTIVE)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, default="fi")
    loan_history = models.PositiveSmallIntegerField(
        _("loan history"), choices=LoanHistoryPreference.choices, default=LoanHistoryPreference.DEFAULT
    )
    data_provided_by_guardian = models.BooleanField(
        _("data provided by guardian"),
        default=False,
        help_text=_("For a patron under 15, the guardian gives the data at registration."),
    )
    needs_protection = models.BooleanField(
        _("needs protection"),
        default=False,
        help_text=_(
            "A non-disclosure for personal safety (turvakielto, skyddade personuppgifter) or another reason "
            "to watch who reads this record; the access review lists every read of it."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("patron")
        verbose_name_plural = _("patrons")
        ordering = ["last_name", "first_name", "id"]
        default_permissions = []
        permissions = [("view_patron_data", _("Can search patrons and view their data"))]
        constraints = [
            models.UniqueConstraint(fields=["consortium", "cardnumber"], name="patron_unique_cardnumber"),
            models.UniqueConstraint(fields=["consortium", "koha_patron_id"], name="patron_unique_koha_id"),
        ]
        indexes = [
            models.Index(Upper("last_name"), Upper("first_name"), name="patron_name_upper_idx"),
        ]

    def __str__(self) -> str:
        # Deliberately not the name: object reprs end up in logs and admin history.
        return f"{_('patron')} #{self.pk}"

    def clean(self) -> None:
        # The consortium is stored for fast scoping; it must be the home library's.
        if self.home_library_id and self.consortium_id:
            library = Library.objects.select_related("municipality").get(pk=self.home_library_id)
            if library.municipality.consortium_id != self.consortium_id:
                raise ValidationError({"home_library": _("The home library must belong to the patron's consortium.")})


class GuardianRelationship(models.TextChoices):
    PARENT = "parent", _("Parent")
    GUARDIAN = "guardian", _("Legal guardian")


class Guardianship(models.Model):
    """A minor patron's guardian (Koha's guarantor), who gets notices until the patron turns 18."""

    ward = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="guardianships", verbose_name=_("patron"))
    guardian = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="wards", verbose_name=_("guardian"))
    relationship = models.CharField(_("relationship"), max_length=10, choices=GuardianRelationship.choices)

    class Meta:
        verbose_name = _("guardianship")
        verbose_name_plural = _("guardianships")
        default_permissions = []
        constraints = [
            models.UniqueConstraint(fields=["ward", "guardian"], name="guardianship_unique"),
            models.CheckConstraint(condition=~Q(ward=models.F("guardian")), name="guardianship_not_self"),
        ]

    def __str__(self) -> str:
        return f"{_('guardianship')} #{self.pk}"


# --- Notes (huomautus) -----------------------------------------------------------------------------


class NoteCategory(models.TextChoices):
    GENERAL = "general", _("General")
    BEHAVIOUR = "behaviour", _("Behaviour")
    GUARDIANSHIP = "guardianship", _("Guardianship")
    ACCESSIBILITY = "accessibility", _("Accessibility services")
    PIN_BY_PHONE = "pin_by_phone", _("PIN given by phone")
    IDENTITY_CHECK = "identity_check", _("Identity checked")


# Listed with their category; the text opens only on a deliberate, logged request.
SENSITIVE_NOTE_CATEGORIES = frozenset({NoteCategory.BEHAVIOUR, NoteCategory.GUARDIANSHIP, NoteCategory.ACCESSIBILITY})


class Note(models.Model):
    """A staff remark on a patron. Edits keep the replaced text in NoteRevision; removal is a mark, not a delete."""

    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="notes", verbose_name=_("patron"))
    category = models.CharField(_("category"), max_length=20, choices=NoteCategory.choices)
    text = FreeTextField(_("text"))
    created_at = models.DateTimeField(_("written"))
    created_by = models.CharField(_("written by"), max_length=150)
    updated_at = models.DateTimeField(_("edited"), null=True, blank=True)
    updated_by = models.CharField(_("edited by"), max_length=150, blank=True)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    removed_by = models.CharField(_("removed by"), max_length=150, blank=True)
    removal_reason = FreeTextCharField(_("reason for removal"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at", "-id"]
        default_permissions = []
        indexes = [models.Index(fields=["patron", "-created_at"], name="note_patron_idx")]

    def __str__(self) -> str:
        return f"{_('note')} #{self.pk}"

    @property
    def sensitive(self) -> bool:
        return self.category in SENSITIVE_NOTE_CATEGORIES


class NoteRevision(models.Model):
    """A note's text as it was before an edit (or its removal)."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("note"))
    category = models.CharField(_("category"), max_length=20, choices=NoteCategory.choices)
    text = models.TextField(_("text"))
    written_at = models.DateTimeField(_("written"))
    written_by = models.CharField(_("written by"), max_length=150)
    replaced_at = models.DateTimeField(_("replaced"))

    class Meta:
        verbose_name = _("note revision")
        verbose_name_plural = _("note revisions")
        ordering = ["-replaced_at", "-id"]
        default_permissions = []

    def __str__(self) -> str:
        return f"{_('note revision')} #{self.pk}"


# --- Library-use bans (Finland, Library Act 1492/2016 s. 15) -------------------------------------------


class BanGround(models.TextChoices):
    REPEATED_DISTURBANCE = "repeated_disturbance", _("Repeatedly disturbs the library")
    SUBSTANTIAL_DISTURBANCE = "substantial_disturbance", _("Substantially disturbs the library")
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


class NotificationMethod(models.TextChoices):
    LETTER = "letter", _("Letter")
    ELECTRONIC = "electronic", _("Electronic notice")
    IN_PERSON = "in_person", _("In person")


class AppealOutcome(models.TextChoices):
    PENDING = "pending", _("Pending")
    UPHELD = "upheld", _("Ban upheld")
    OVERTURNED = "overturned", _("Ban overturned")
    DISMISSED = "dismissed", _("Dismissed (late or inadmissible)")


class Ban(models.Model):
    """A library-use ban (käyttökielto) through its procedure: proposal, hearing, decision, notice, appeal.

    The patron's record shows only bans that are in procedure or active; whether a ban is active is
    computed from its dates on every read (see patrons.selectors), so the mark disappears when the
    ban ends without any scheduled job. `archive_bans` later stamps ended bans archived, and the
    decision stays in the decision archive (ban deciders and the DPO) until `retain_until`.
    """

    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="bans", verbose_name=_("patron"))
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="bans", verbose_name=_("library"))
    grounds = models.JSONField(_("grounds"), default=list)
    notes = models.ManyToManyField(Note, related_name="bans", verbose_name=_("behaviour notes cited"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(_("status"), max_length=20, choices=BanStatus.choices, default=BanStatus.PROPOSED)
    proposed_at = models.DateTimeField(_("proposed"))
    proposed_by = models.CharField(_("proposed by"), max_length=150)
    # Hearing (Administrative Procedure Act s. 34)
    heard_on = models.DateField(_("heard on"), null=True, blank=True)
    hearing_method = models.CharField(_("hearing method"), max_length=20, choices=HearingMethod.choices, blank=True)
    statement = FreeTextField(_("the patron's statement"), blank=True)
    hearing_waived_reason = FreeTextField(_("legal reason the hearing was waived"), blank=True)
    hearing_recorded_by = models.CharField(_("hearing recorded by"), max_length=150, blank=True)
    # Decision (Administrative Procedure Act s. 44)
    decision_number = FreeTextCharField(_("decision number"), max_length=50, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decided_by = models.CharField(_("decided by"), max_length=150, blank=True)
    decider_name = models.CharField(_("decider's name and title"), max_length=200, blank=True)
    reasons = FreeTextField(_("reasons"), blank=True)
    decided_text = FreeTextField(_("what is decided"), blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    contact_person = FreeTextCharField(_("contact person"), max_length=200, blank=True)
    enforced_before_final = models.BooleanField(_("enforced before it is final"), default=True)
    # Notification (Local Government Act 410/2015 ss. 134, 141)
    notification_method = models.CharField(
        _("notification method"), max_length=20, choices=NotificationMethod.choices, blank=True
    )
    notified_on = models.DateField(_("notice sent on"), null=True, blank=True)
    deemed_received_on = models.DateField(_("deemed received on"), null=True, blank=True)
    appeal_deadline = models.DateField(_("rectification request deadline"), null=True, blank=True)
    # Rectification request (oikaisuvaatimus)
    appeal_lodged_on = models.DateField(_("rectification request lodged on"), null=True, blank=True)
    appeal_outcome = models.CharField(_("outcome"), max_length=20, choices=AppealOutcome.choices, blank=True)
    appeal_decided_on = models.DateField(_("rectification decided on"), null=True, blank=True)
    ended_early_on = models.DateField(_("ended early on"), null=True, blank=True)
    cancellation_reason = FreeTextCharField(_("reason for cancelling"), max_length=300, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    retain_until = models.DateField(_("kept in the decision archive until"), null=True, blank=True)

    class Meta:
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
    def state_label(self) -> str:
        """The label of `state` (what the ban is today, set by patrons.selectors), else of the stored step."""
        return BanState(getattr(self, "state", self.status)).label


# --- Access prohibitions (Sweden: tillträdesförbud till bibliotek, since 1.7.2022) -------------------


class AccessProhibition(models.Model):
    """A prosecutor's decision on an access prohibition (tillträdesförbud), recorded by a Swedish library.

    The library applies; the prosecutor decides. The record keeps the library's application and the
    decision's reference and dates. Like a ban, it shows on the patron's record only while in force.
    """

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
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    retain_until = models.DateField(_("kept until"), null=True, blank=True)

    class Meta:
        verbose_name = _("access prohibition")
        verbose_name_plural = _("access prohibitions")
        ordering = ["-starts_on", "-id"]
        default_permissions = []

    def __str__(self) -> str:
        return f"{_('access prohibition')} #{self.pk}"


# --- Adults under guardianship (edunvalvonta) --------------------------------------------------------


class Trusteeship(models.Model):
    """An adult patron under guardianship (edunvalvonta): a sensitive mark with the guardian's contact.

    The record shows the mark; the contact opens only on a deliberate, logged request.
    """

    patron = models.OneToOneField(
        Patron, on_delete=models.CASCADE, related_name="trusteeship", verbose_name=_("patron")
    )
    guardian_name = FreeTextCharField(_("guardian's name"), max_length=200)
    guardian_phone = PhoneNumberField(_("guardian's phone"), max_length=40, blank=True)
    guardian_email = FreeTextEmailField(_("guardian's email"), blank=True)
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.CharField(_("recorded by"), max_length=150)

    class Meta:
        verbose_name = _("adult guardianship")
        verbose_name_plural = _("adult guardianships")
        default_permissions = []

    def __str__(self) -> str:
        return f"{_('adult guardianship')} #{self.pk}"


# --- The patron's own choices: registers ------------------------------------------------------------


class RegisterKind(models.TextChoices):
    """Registers a patron joins by choice (Mikkeli notice); the library system itself holds every patron."""

    NEWSLETTER = "newsletter", _("Newsletter (email address only)")
    HOME_SERVICE = "home_service", _("Home service")
    INTERLIBRARY_LOANS = "interlibrary_loans", _("Interlibrary loans")


class RegisterMembership(models.Model):
    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="registers", verbose_name=_("patron"))
    register = models.CharField(_("register"), max_length=30, choices=RegisterKind.choices)
    joined_on = models.DateField(_("joined on"))
    consent_on = models.DateField(_("consent given on"), null=True, blank=True)

    class Meta:
        verbose_name = _("register membership")
        verbose_name_plural = _("register memberships")
        default_permissions = []
        constraints = [models.UniqueConstraint(fields=["patron", "register"], name="registermembership_unique")]

    def __str__(self) -> str:
        return f"{_('register membership')} #{self.pk}"


# --- Exceptional circumstances (Lapland 2020) -------------------------------------------------------


class ClosurePeriod(models.Model):
    """Libraries closed (e.g. spring 2020): registration frozen, PIN by phone allowed, cards extended."""

    consortium = models.ForeignKey(
        Consortium, on_delete=models.CASCADE, related_name="closures", verbose_name=_("consortium")
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    registration_frozen = models.BooleanField(_("registration of new patrons frozen"), default=True)
    pin_by_phone_allowed = models.BooleanField(_("PIN may be given by phone"), default=True)
    cards_extended_until = models.DateField(
        _("expired cards extended until"),
        null=True,
        blank=True,
        help_text=_("Run `manage.py extend_expired_cards` to extend the cards that expired during the closure."),
    )
    description = FreeTextCharField(_("description"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("closure period")
        verbose_name_plural = _("closure periods")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="closureperiod_dates_in_order",
                violation_error_message=_("A closure period cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consortium} {self.starts_on:%d.%m.%Y} - {self.ends_on:%d.%m.%Y}"
