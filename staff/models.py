"""Tenancy and staff: consortium, municipality, library, allowed networks and staff profiles.

These models moved here from patrons/ and keep their tables (`patrons_*`), so the database, its
triggers and grants did not change; only Django's idea of the app did (staff/migrations/0001).
A staff member's own patron row is named by a string ("patrons.Patron"): staff/ sits below patrons/.
"""

import contextlib
import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from core.free_text_fields import FreeTextCharField, FreeTextEmailField, FreeTextField
from staff.scoping import ConsortiumScopedQuerySet


class Jurisdiction(models.TextChoices):
    FINLAND = "FI", _("Finland")
    SWEDEN = "SE", _("Sweden")


class Consortium(models.Model):
    """A group of libraries sharing one patron register (kimppa, e.g. "Lapin kirjastot")."""

    consortium_lookup = "pk"

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), unique=True)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=2, choices=Jurisdiction.choices)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        db_table = "patrons_consortium"
        verbose_name = _("consortium")
        verbose_name_plural = _("consortia")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EnforcementMode(models.TextChoices):
    ENFORCE = "enforce", _("Enforce: refuse requests from other networks")
    REPORT = "report", _("Report: allow, but log would-be denials (rollout)")


class Municipality(models.Model):
    """A municipality of a consortium: its libraries, its allowed networks, and the official data its decisions
    name.

    A decision names the authority that made it and gives rectification instructions naming the body the
    request goes to and its address (Administrative Procedure Act 434/2003 ss. 44, 49 b; Local Government Act
    410/2015 ss. 133-135). The municipality's official name (e.g. "Rovaniemen kaupunki"), the rectification
    body (e.g. "Sivistyslautakunta") and its postal address are therefore required before a library of the
    municipality decides a ban (`missing_official_data`); the email and office hours are printed when given.
    The Swedish names are for the Swedish decision (the Finnish ones otherwise). The DPO and superusers keep
    them in the admin, each for their own consortium.
    """

    consortium_lookup = "consortium_id"

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
    official_name = FreeTextCharField(
        _("official name"), max_length=200, blank=True, help_text=_("As decisions name it, e.g. Rovaniemen kaupunki")
    )
    official_name_sv = FreeTextCharField(
        _("official name in Swedish"),
        max_length=200,
        blank=True,
        help_text=_("For decisions written in Swedish, e.g. Rovaniemi stad; empty: the official name"),
    )
    rectification_body = FreeTextCharField(
        _("rectification body"),
        max_length=200,
        blank=True,
        help_text=_("The body that decides rectification requests of library decisions, e.g. Sivistyslautakunta"),
    )
    rectification_body_sv = FreeTextCharField(
        _("rectification body in Swedish"),
        max_length=200,
        blank=True,
        help_text=_("E.g. Bildningsnämnden; empty: the rectification body"),
    )
    rectification_address = FreeTextField(
        _("postal address for rectification requests"),
        max_length=500,
        blank=True,
        help_text=_("E.g. the registry's postal address: PL 8216, 96101 Rovaniemi"),
    )
    rectification_email = FreeTextEmailField(_("email for rectification requests"), blank=True)
    office_hours = FreeTextCharField(
        _("registry office hours"), max_length=200, blank=True, help_text=_("Optional, e.g. Mon-Fri 9-15")
    )

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        db_table = "patrons_municipality"
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]
        default_permissions = []
        permissions = [("manage_networks", _("Can manage municipalities' allowed networks"))]
        constraints = [models.UniqueConstraint(fields=["consortium", "name"], name="municipality_unique_name")]

    def __str__(self) -> str:
        return self.name

    def missing_official_data(self) -> list[str]:
        """The labels of the official data a decision must name and this municipality lacks (see the class)."""
        required = [
            self._meta.get_field(name) for name in ("official_name", "rectification_body", "rectification_address")
        ]
        return [
            str(field.verbose_name)
            for field in required
            if isinstance(field, models.Field) and not getattr(self, field.name).strip()
        ]


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
        db_table = "patrons_allowednetwork"
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
    second, staff/ip_allowlist.py), so a removed network is refused by every worker within a
    second of the change's commit; a per-process cache cannot tell one process of another's change.
    """

    ROW_ID = 1

    value = models.BigIntegerField(default=0)

    class Meta:
        db_table = "patrons_allowlistgeneration"
        default_permissions = []

    def __str__(self) -> str:
        return str(self.value)


class Library(models.Model):
    consortium_lookup = "municipality__consortium_id"

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="libraries", verbose_name=_("municipality")
    )
    name = models.CharField(_("name"), max_length=200)
    koha_library_id = models.CharField(_("Koha library id (branchcode)"), max_length=10, unique=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        db_table = "patrons_library"
        verbose_name = _("library")
        verbose_name_plural = _("libraries")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffProfile(models.Model):
    """Where a staff member works, and whether they have signed the confidentiality agreement."""

    consortium_lookup = "home_library__municipality__consortium_id"

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
    koha_userid = models.CharField(
        _("Koha user id"),
        max_length=75,
        blank=True,
        help_text=_("The staff member's user id in Koha: their views reported by Koha are recorded as theirs."),
    )
    patron = models.OneToOneField(
        "patrons.Patron",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_profile",
        verbose_name=_("own patron record"),
        help_text=_("A staff member who is also a patron: the access review flags colleagues reading it."),
    )

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        db_table = "patrons_staffprofile"
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


def validate_cidr_list(value: str) -> None:
    for line in value.split():
        validate_cidr(line)


def machine_key_default_expiry():
    return timezone.now() + settings.MACHINE_KEY_LIFETIME


class MachineKeyManager(BaseAPIKeyManager.from_queryset(ConsortiumScopedQuerySet)):  # type: ignore[misc]
    """djangorestframework-api-key's key handling (hashing, prefix lookup) with the consortium scoping."""


class MachineKey(AbstractAPIKey):
    """An API key of a machine client (Koha and its plugin), from djangorestframework-api-key.

    Only a SHA-512 hash of the key is stored; the key itself is shown once, when the key is created. A key
    belongs to one consortium (it reads only that consortium's patrons), holds named permissions (nothing
    else), works only from its own networks that are also in the consortium's allow-list, expires, and is
    revoked rather than deleted, so that the events made with it keep naming it.
    """

    consortium_lookup = "consortium_id"

    consortium = models.ForeignKey(
        Consortium, on_delete=models.PROTECT, related_name="machine_keys", verbose_name=_("consortium")
    )
    # Typed by an administrator and written into the access log (MachineKey.actor_name): no identity code in it.
    name = FreeTextCharField(
        _("name"), max_length=50, help_text=_("Which client the key is for, e.g. the Koha plugin of the consortium.")
    )
    revoked = models.BooleanField(
        _("revoked"), default=False, blank=True, help_text=_("A revoked key no longer works; this cannot be undone.")
    )
    expiry_date = models.DateTimeField(
        _("expires"),
        default=machine_key_default_expiry,
        help_text=_("After this the key no longer works; create a new key before it and revoke this one."),
    )
    networks = models.TextField(
        _("client networks (CIDR)"),
        max_length=2000,
        validators=[validate_cidr_list],
        help_text=_(
            "One CIDR per line: the addresses the client calls from. They must also be in the consortium's allowed "
            "networks."
        ),
    )
    permissions = models.ManyToManyField(
        "auth.Permission",
        blank=True,
        verbose_name=_("permissions"),
        help_text=_("What the client may do with this key, e.g. Koha integration | read a patron's privacy status."),
    )

    # The package's stubs declare its manager and Meta names as plain str/class variables; ours are lazy
    # translations and a subclass manager, as Django allows.
    objects = MachineKeyManager()  # type: ignore[misc]

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("machine client key")  # type: ignore[assignment]
        verbose_name_plural = _("machine client keys")  # type: ignore[assignment]
        default_permissions = []

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def actor_name(self) -> str:
        """How the access log names the key: its name and public prefix, never the secret part."""
        return f"api-key:{self.prefix}:{self.name}"

    def has_permission(self, permission: str) -> bool:
        app_label, codename = permission.split(".", 1)
        return self.permissions.filter(content_type__app_label=app_label, codename=codename).exists()
