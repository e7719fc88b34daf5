"""The sotu-silo: Finnish and Swedish personal identity codes, apart from everything else.

Lives in the "sotu" database (see privacy_service/db_router.py) and links to a
patron by id only. The code itself is only ever stored encrypted; the blind
index allows exact lookup within a consortium.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentityCode(models.Model):
    patron_id = models.BigIntegerField(_("patron id"), unique=True)
    consortium_id = models.BigIntegerField(_("consortium id"))
    country = models.CharField(_("country"), max_length=2)
    key_id = models.CharField(_("key id"), max_length=32)
    nonce = models.BinaryField(max_length=12)
    ciphertext = models.BinaryField()
    blind_index = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("stored"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("identity code")
        verbose_name_plural = _("identity codes")
        default_permissions = []
        permissions = [
            ("store_identity_code", _("Can store a patron's identity code (write only)")),
            ("reveal_identity_code", _("Can look up and reveal identity codes, with a reason")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["consortium_id", "blind_index"], name="identitycode_unique_per_consortium")
        ]

    def __str__(self) -> str:
        return f"{_('identity code')} #{self.pk}"
