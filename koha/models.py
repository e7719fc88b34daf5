"""What the service keeps about Koha: each consortium's connection, and the receipts of the views Koha reported.

The connection says where a consortium's Koha is and how this service logs in to it.

The secret (the OAuth2 client secret, or the Basic password) is kept encrypted (koha/crypto.py) and is
never shown back: not in the admin, a command's output, a log line, an error, `str` or `repr`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from koha import crypto
from koha.client import KohaClient
from staff.models import Consortium, MachineKey
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


class KohaViewReceipt(models.Model):
    """One view of a patron in Koha's staff interface, received once: the reason a repeat is not logged twice.

    Koha's plugin names each view with an event id of its own making and sends a batch again when it did not
    get the answer; the unique (consortium, event id) makes the second time a no-op. Per consortium rather than
    per key, so a rotated key's client resending a batch is still recognised. Written in the same transaction
    as the view's access event, which it points to.
    """

    consortium = models.ForeignKey(Consortium, on_delete=models.PROTECT, verbose_name=_("consortium"))
    event_id = models.CharField(_("Koha's event id"), max_length=64)
    key = models.ForeignKey(MachineKey, on_delete=models.PROTECT, verbose_name=_("machine client key"))
    viewed_at = models.DateTimeField(_("viewed in Koha at"))
    received_at = models.DateTimeField(_("received"))
    access_event_id = models.BigIntegerField(_("access event"))

    class Meta:
        verbose_name = _("view reported by Koha")
        verbose_name_plural = _("views reported by Koha")
        default_permissions = []
        # The named permissions a machine client key can hold (staff.models.MachineKey.permissions).
        permissions = [
            ("view_privacy_status", _("Can read a patron's privacy status (machine clients)")),
            ("record_views", _("Can report patron views made in Koha (machine clients)")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["consortium", "event_id"], name="kohaviewreceipt_unique_event"),
        ]

    def __str__(self) -> str:
        return f"{_('view reported by Koha')} #{self.pk}"
