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


class ErasedPatron(models.Model):
    """The silo's copy of the erasure ledger (dpo.models.ErasureTombstone): that patron N was erased, and when.

    The silo database is owned and backed up apart from the main one, so a restore of either database
    alone leaves one ledger to repair the other from (`manage.py reapply_erasures`). No personal data:
    opaque ids and a time.
    """

    patron_id = models.BigIntegerField(_("patron id"), unique=True)
    consortium_id = models.BigIntegerField(_("consortium id"))
    erased_at = models.DateTimeField(_("erased"))

    class Meta:
        verbose_name = _("erased patron")
        verbose_name_plural = _("erased patrons")
        default_permissions = []

    def __str__(self) -> str:
        return f"{_('erased patron')} #{self.pk}"
