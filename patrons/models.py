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
    description = models.CharField(_("description"), max_length=200, blank=True)

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
    koha_patron_id = models.PositiveBigIntegerField(_("Koha patron id"))
    cardnumber = models.CharField(_("card number"), max_length=32)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
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
