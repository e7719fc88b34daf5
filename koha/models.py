"""The Koha connection of each consortium: where its Koha is, and how this service logs in to it.

The secret (the OAuth2 client secret, or the Basic password) is kept encrypted (koha/crypto.py) and is
never shown back: not in the admin, a command's output, a log line, an error, `str` or `repr`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from koha import crypto
from koha.client import KohaClient
from staff.models import Consortium
from staff.scoping import ConsortiumScopedQuerySet


class AuthMethod(models.TextChoices):
    OAUTH2 = "oauth2", _("OAuth2 client credentials (an API key of a Koha patron)")
    BASIC = "basic", _("Basic (user name and password; Koha's RESTBasicAuth)")


class KohaConnection(models.Model):
    consortium_lookup = "consortium_id"

    consortium = models.OneToOneField(
        Consortium, on_delete=models.PROTECT, related_name="koha_connection", verbose_name=_("consortium")
    )
    base_url = models.URLField(
        _("Koha's address"), max_length=200, help_text=_("Without /api/v1, e.g. https://koha.example.fi")
    )
    auth = models.CharField(_("authentication"), max_length=10, choices=AuthMethod.choices, default=AuthMethod.OAUTH2)
    client_id = models.CharField(
        _("client id or user name"),
        max_length=200,
        help_text=_("The OAuth2 client id of the API key, or the Basic user name."),
    )
    secret_key_id = models.CharField(max_length=32, editable=False)
    secret_nonce = models.BinaryField(editable=False)
    secret_ciphertext = models.BinaryField(editable=False)
    secret_changed_at = models.DateTimeField(_("secret changed at"), null=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("Koha connection")
        verbose_name_plural = _("Koha connections")

    def __str__(self) -> str:
        return str(self.base_url)

    @sensitive_variables("secret")
    def secret_set(self, secret: str) -> None:
        """Encrypt `secret` into the row (not saved here)."""
        self.secret_key_id, self.secret_nonce, self.secret_ciphertext = crypto.secret_encrypt(
            secret, consortium_id=self.consortium_id
        )

    def secret(self) -> str:
        return crypto.secret_decrypt(
            key_id=self.secret_key_id,
            nonce=self.secret_nonce,
            ciphertext=self.secret_ciphertext,
            consortium_id=self.consortium_id,
        )

    @sensitive_variables("secret")
    def client(self) -> KohaClient:
        """A client of this Koha, logged in with the stored secret."""
        return KohaClient(base_url=self.base_url, auth=self.auth, client_id=self.client_id, secret=self.secret())


class ImportFindingKind(models.TextChoices):
    INVALID = "invalid", _("Koha held an invalid identity code; it was removed from Koha and not stored")
    DIFFERS = "differs", _("Koha held another identity code than the one stored here; the stored one was kept")


class IdentityCodeImportFinding(models.Model):
    """A code in Koha's identity-code attribute that koha_import_identity_codes could not store: billing's list.

    Never the code: which patron, what was wrong, when. Koha's value was replaced by the patron's key all
    the same (koha.identity_import), so no code stays in Koha; billing asks the patron for the code and
    stores it, and the row leaves the list once a code is stored. Deleted with the patron (erasure).
    """

    consortium_lookup = "consortium_id"

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, related_name="+", verbose_name=_("consortium"))
    patron = models.OneToOneField(
        "patrons.Patron", on_delete=models.CASCADE, related_name="+", verbose_name=_("patron")
    )
    kind = models.CharField(_("finding"), max_length=10, choices=ImportFindingKind.choices)
    found_at = models.DateTimeField(_("found"), auto_now=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("identity code found in Koha")
        verbose_name_plural = _("identity codes found in Koha")
        default_permissions = []

    def __str__(self) -> str:
        return f"{_('identity code found in Koha')} #{self.pk}"
