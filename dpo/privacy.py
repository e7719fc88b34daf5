"""What the data protection officer's own registers hold of a patron (core.privacy_contract).

The patron's data-subject requests are in their access report, and stay after an erasure as the record
of how each request was answered (GDPR Art. 5(2)), for as long as the erasure ledger (dpo.retention);
their free-text reasons go, since they may tell about the person. The breaches that concerned the
patron are in the report too (Art. 34).
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.privacy_contract import (
    ErasureContext,
    ErasureDone,
    ErasureLine,
    ErasurePart,
    PrivacyContract,
    ReportContext,
    ReportPart,
    Section,
    model_record,
)
from dpo.models import Breach, SubjectRequest


class SubjectRequestContract(PrivacyContract):
    """The patron's data-subject requests: in the report, and kept by an erasure without their free text."""

    report_order = 50
    erasure_order = 80

    def report_sections(self, patron_id: int, context: ReportContext) -> ReportPart:
        requests = SubjectRequest.objects.of_consortium(context.consortium_id).filter(patron_id=patron_id)
        fields = (
            "kind",
            "received_on",
            "identity_document",
            "identity_verified_on",
            "due_on",
            "extended_due_on",
            "report_made_at",
            "delivery_method",
            "delivered_on",
            "completed_on",
            "refusal_ground",
        )
        section = Section(
            key="subject_requests",
            title=gettext("Your requests about your data"),
            description=gettext("Requests you have made under the data protection regulation, this one included."),
            records=tuple(model_record(r, fields) for r in requests.order_by("received_on", "id")),
        )
        return ReportPart(sections=(section,))

    def erasure_plan(self, patron_id: int, context: ErasureContext) -> ErasurePart:
        requests = SubjectRequest.objects.of_consortium(context.consortium_id).filter(patron_id=patron_id)
        ids = sorted(requests.values_list("pk", flat=True))
        label = _("Data-subject requests: how the patron's requests were answered")
        return ErasurePart(
            keeps=(ErasureLine("subject_requests", label, len(ids), tuple(ids)),), details={"subject_request_ids": ids}
        )

    def erase(self, patron_id: int, context: ErasureContext) -> ErasureDone:
        SubjectRequest.objects.filter(patron_id=patron_id).update(
            extension_reason="", fee_reason="", refusal_details=""
        )
        return ErasureDone()


class BreachContract(PrivacyContract):
    """Personal-data breaches that concerned the patron (Art. 34: what happened, its likely consequences, measures).

    A consortium records a handful of breaches a year, so their lists of patron ids are read here rather
    than searched in the database (SQLite has no JSON containment lookup).
    """

    report_order = 60

    def report_sections(self, patron_id: int, context: ReportContext) -> ReportPart:
        breaches = [
            breach
            for breach in Breach.objects.filter(consortium_id=context.consortium_id).order_by("aware_at", "id")
            if patron_id in breach.affected_patron_ids
        ]
        fields = ("aware_at", "description", "consequences", "measures", "risk", "people_notified_on")
        section = Section(
            key="breaches",
            title=gettext("Personal-data breaches that concerned you"),
            description=gettext(
                "Breaches of security in which your data may have been disclosed, lost or changed, and what was done."
            ),
            records=tuple(model_record(breach, fields) for breach in breaches),
        )
        return ReportPart(sections=(section,))


CONTRACTS = (SubjectRequestContract(), BreachContract())
