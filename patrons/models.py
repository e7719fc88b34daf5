"""Patrons and what is recorded about them: guardians, notes, adult guardianship, registers, closures.

Tenancy (consortium, municipality, library, networks, staff profiles) is in staff.models.
A patron record here mirrors the parts of Koha's patron object that the privacy rules are
about. There is no identity-code field on a patron, ever: codes live in the separate sotu-silo.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.dates import shown_date
from core.free_text_fields import FreeTextCharField, FreeTextEmailField, FreeTextField, PhoneNumberField
from staff.models import Consortium, Library
from staff.scoping import ConsortiumScopedQuerySet


class PatronStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Card expired")
    LOCKED = "locked", _("Locked")


class LoanHistoryPreference(models.IntegerChoices):
    """Koha's `privacy` values; saving loan history is the patron's own choice.

    Koha keeps a patron's loan history for ever (0), for the library's anonymisation period (1, Koha's own
    default), or not at all (2). Both 0 and 1 keep it, so both are an opt-in (GDPR Art. 6(1)(a), seed 002:
    "Lånehistorik - Frivilligt sparande"); 2 is what a patron has until they choose otherwise.
    """

    KEEP_FOREVER = 0, _("Keep my loan history")
    DEFAULT = 1, _("Library default")
    NEVER_KEEP = 2, _("Do not keep my loan history")


# The values that keep loan history: choosing one is giving consent.
LOAN_HISTORY_KEPT = frozenset({LoanHistoryPreference.KEEP_FOREVER, LoanHistoryPreference.DEFAULT})


class LoanHistoryChooser(models.TextChoices):
    """Who made the recorded loan-history choice (patrons.services.choices says who may, at which age)."""

    PATRON = "patron", _("The patron, at the desk")
    PATRON_ONLINE = "patron_online", _("The patron, online")
    GUARDIAN = "guardian", _("A guardian, for a child under 13")


class Patron(models.Model):
    consortium_lookup = "consortium_id"

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
        _("loan history"), choices=LoanHistoryPreference.choices, default=LoanHistoryPreference.NEVER_KEEP
    )
    # The recorded choice behind `loan_history`; both empty when the value came from Koha (koha/sync.py) or
    # nobody asked the patron: then it is Koha's setting, not the patron's choice.
    loan_history_chosen_on = models.DateField(_("loan history chosen on"), null=True, blank=True)
    loan_history_chosen_by = models.CharField(
        _("loan history chosen by"), max_length=16, choices=LoanHistoryChooser.choices, blank=True
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
    held_after_erasure = models.BooleanField(
        _("kept after erasure"),
        default=False,
        help_text=_(
            "Erased, but kept reduced under a legal hold (GDPR Art. 17(3)): staff no longer find or change it; only "
            "the data protection officer reaches it."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ConsortiumScopedQuerySet.as_manager()

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
    """A staff remark on a patron. Edits keep the replaced text in NoteRevision; removal is a mark, not a delete.

    A note records where and when the incident happened (`library`, `incident_on`): a library-use ban
    concerns one library (Library Act 1492/2016 s. 15), so it may rest only on that library's behaviour
    notes, and "repeatedly" is counted in days of incidents, not in days of writing.
    """

    consortium_lookup = "patron__consortium_id"

    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="notes", verbose_name=_("patron"))
    category = models.CharField(_("category"), max_length=20, choices=NoteCategory.choices)
    text = FreeTextField(_("text"))
    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="notes", verbose_name=_("library of the incident")
    )
    incident_on = models.DateField(_("date of the incident"))
    created_at = models.DateTimeField(_("written"))
    created_by = models.CharField(_("written by"), max_length=150)
    updated_at = models.DateTimeField(_("edited"), null=True, blank=True)
    updated_by = models.CharField(_("edited by"), max_length=150, blank=True)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    removed_by = models.CharField(_("removed by"), max_length=150, blank=True)
    removal_reason = FreeTextCharField(_("reason for removal"), max_length=300, blank=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at", "-id"]
        default_permissions = []
        indexes = [models.Index(fields=["patron", "-created_at"], name="note_patron_idx")]

    def __str__(self) -> str:
        return f"{_('note')} #{self.pk}"

    def save(self, *args, **kwargs) -> None:
        """A note written without a place or date of incident (the demo, a test, an import) is taken to be about
        the patron's home library on the day it was written, as migration 0012 did for the older notes."""
        if self.library_id is None and self.patron_id is not None:
            self.library_id = self.patron.home_library_id
        if self.incident_on is None and self.created_at is not None:
            self.incident_on = timezone.localdate(self.created_at)
        super().save(*args, **kwargs)

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


# --- Adults under guardianship (edunvalvonta) --------------------------------------------------------


class Trusteeship(models.Model):
    """An adult patron under guardianship (edunvalvonta): a sensitive mark with the guardian's contact.

    The record shows the mark; the contact opens only on a deliberate, logged request.
    """

    consortium_lookup = "patron__consortium_id"

    patron = models.OneToOneField(
        Patron, on_delete=models.CASCADE, related_name="trusteeship", verbose_name=_("patron")
    )
    guardian_name = FreeTextCharField(_("guardian's name"), max_length=200)
    guardian_phone = PhoneNumberField(_("guardian's phone"), max_length=40, blank=True)
    guardian_email = FreeTextEmailField(_("guardian's email"), blank=True)
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.CharField(_("recorded by"), max_length=150)

    objects = ConsortiumScopedQuerySet.as_manager()

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

    consortium_lookup = "consortium_id"

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

    objects = ConsortiumScopedQuerySet.as_manager()

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
        return f"{self.consortium} {shown_date(self.starts_on)} - {shown_date(self.ends_on)}"


# --- Restriction of processing (GDPR Art. 18) -----------------------------------------------------------


class RestrictionGround(models.TextChoices):
    """Why processing is restricted: the four cases of GDPR Art. 18(1), one chosen for each restriction."""

    ACCURACY_CONTESTED = (
        "art18_1_a",
        _("Art. 18(1)(a): the patron contests the accuracy of the data, until it is verified"),
    )
    ERASURE_OPPOSED = "art18_1_b", _("Art. 18(1)(b): the processing is unlawful and the patron opposes erasure")
    LEGAL_CLAIMS = (
        "art18_1_c",
        _("Art. 18(1)(c): the library no longer needs the data, but the patron needs it for legal claims"),
    )
    OBJECTION_PENDING = (
        "art18_1_d",
        _("Art. 18(1)(d): the patron objected, until it is verified whether the library's grounds override theirs"),
    )


class ProcessingRestrictionQuerySet(ConsortiumScopedQuerySet):
    def in_force(self) -> "ProcessingRestrictionQuerySet":
        return self.filter(lifted_at__isnull=True)


class ProcessingRestriction(models.Model):
    """A restriction of processing (käsittelyn rajoittaminen, begränsning av behandling), GDPR Art. 18.

    While it is in force the patron's data is only stored (Art. 18(2)): staff see the patron with a banner and
    every read is logged, nothing of the patron is changed, billed or synced over from Koha, and no note or ban
    is added (patrons.processing). The data protection officer restricts on a data-subject request and lifts it
    after telling the patron (Art. 18(3): `patron_informed_on`). Lifted rows stay as the record of the
    restriction; at most one is in force per patron.
    """

    consortium_lookup = "patron__consortium_id"

    patron = models.ForeignKey(
        Patron, on_delete=models.CASCADE, related_name="processing_restrictions", verbose_name=_("patron")
    )
    ground = models.CharField(_("ground"), max_length=12, choices=RestrictionGround.choices)
    # The data-subject request it answers (dpo.SubjectRequest), by its opaque id: patrons stands below dpo.
    subject_request_id = models.BigIntegerField(_("data-subject request"), null=True, blank=True)
    restricted_at = models.DateTimeField(_("restricted"))
    restricted_by = models.CharField(_("restricted by"), max_length=150)
    patron_informed_on = models.DateField(_("patron told of the lifting on"), null=True, blank=True)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.CharField(_("lifted by"), max_length=150, blank=True)

    objects = ProcessingRestrictionQuerySet.as_manager()

    class Meta:
        verbose_name = _("restriction of processing")
        verbose_name_plural = _("restrictions of processing")
        ordering = ["-restricted_at", "-id"]
        default_permissions = []
        constraints = [
            models.UniqueConstraint(
                fields=["patron"], condition=Q(lifted_at__isnull=True), name="processingrestriction_one_in_force"
            ),
        ]

    def __str__(self) -> str:
        return f"{_('restriction of processing')} #{self.pk}"
