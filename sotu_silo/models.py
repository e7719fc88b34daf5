"""The sotu-silo: Finnish and Swedish personal identity codes, apart from everything else.

Lives in the "sotu" database (see privacy_service/db_router.py) and links to a
patron by id only. The code itself is only ever stored encrypted; the blind
index allows exact lookup within a consortium.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.free_text_fields import FreeTextCharField
from staff.scoping import ConsortiumScopedQuerySet


class IdentityCode(models.Model):
    consortium_lookup = "consortium_id"

    patron_id = models.BigIntegerField(_("patron id"), unique=True)
    consortium_id = models.BigIntegerField(_("consortium id"))
    country = models.CharField(_("country"), max_length=2)
    key_id = models.CharField(_("key id"), max_length=32)
    nonce = models.BinaryField(max_length=12)
    ciphertext = models.BinaryField()
    blind_index = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("stored"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    objects = ConsortiumScopedQuerySet.as_manager()

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


class ConflictResolution(models.TextChoices):
    MOVE = "move", _("The code belongs to the patron it was entered for: move it; the other patron loses it")
    KEEP = "keep", _("The code stays with the patron who has it: discard the entry")


class IdentityCodeConflict(models.Model):
    """A code entered for a patron while another patron of the consortium holds it (the blind index matched).

    The desk is answered exactly as for any stored code, so that storing cannot tell whether a code
    belongs to someone (no oracle); billing clerks resolve the conflict (sotu_silo.conflicts). The
    entered code is encrypted like a stored one, its associated data binding it to this row (`entry`),
    and is wiped once the conflict is resolved. Patrons by id only, no foreign keys out of the silo.
    """

    consortium_lookup = "consortium_id"

    entry = models.UUIDField(_("entry"), unique=True, editable=False)
    patron_id = models.BigIntegerField(_("entered for patron id"), db_index=True)
    holder_patron_id = models.BigIntegerField(_("held by patron id"), db_index=True)
    consortium_id = models.BigIntegerField(_("consortium id"))
    country = models.CharField(_("country"), max_length=2)
    key_id = models.CharField(_("key id"), max_length=32, blank=True)
    nonce = models.BinaryField(max_length=12)
    ciphertext = models.BinaryField()
    blind_index = models.CharField(max_length=64, blank=True)
    entered_at = models.DateTimeField(_("entered"))
    entered_by = models.CharField(_("entered by"), max_length=150)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.CharField(_("resolved by"), max_length=150, blank=True)
    resolution = models.CharField(_("resolution"), max_length=10, choices=ConflictResolution.choices, blank=True)
    reason = FreeTextCharField(_("reason for the resolution"), max_length=300, blank=True)

    objects = ConsortiumScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("identity code conflict")
        verbose_name_plural = _("identity code conflicts")
        default_permissions = []
        indexes = [models.Index(fields=["consortium_id", "resolved_at"], name="conflict_consortium_idx")]

    def __str__(self) -> str:
        return f"{_('identity code conflict')} #{self.pk}"
