"""What the service keeps of Koha's machine calls: the receipts of the views Koha reported."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from staff.models import Consortium, MachineKey


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
