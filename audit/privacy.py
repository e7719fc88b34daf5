"""What the access log holds of a patron, for the data protection officer (core.privacy_contract).

An erasure keeps the access events about the patron: they hold only the opaque patron id, and the log
must show who processed the data (the controller's accountability, GDPR Art. 5(2)); they go when the
log's own retention ends (`prune_access_log`). The report's section of the log describes each event by
the staff member who did it, so it is declared where the staff profiles are.
"""

from django.utils.translation import gettext_lazy as _

from audit.models import AccessEventPatron
from core.privacy_contract import ErasureContext, ErasureLine, ErasurePart, PrivacyContract


class AccessLogContract(PrivacyContract):
    """The access events about the patron: kept by an erasure."""

    erasure_order = 70

    def erasure_plan(self, patron_id: int, context: ErasureContext) -> ErasurePart:
        label = _(
            "Access events about the patron: only the patron's id stays, until the access log's own retention ends"
        )
        return ErasurePart(
            keeps=(ErasureLine("access_events", label, AccessEventPatron.objects.filter(patron_id=patron_id).count()),)
        )


CONTRACTS = (AccessLogContract(),)
