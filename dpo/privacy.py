"""What the data protection officer's own registers hold of a patron (core.privacy_contract).

The patron's data-subject requests are in their access report, and stay after an erasure as the record
of how each request was answered (GDPR Art. 5(2)), for as long as the erasure ledger (`subject_requests_due`);
their free-text reasons go, since they may tell about the person. The breaches that concerned the
patron are in the report too (Art. 34). CCTV recordings are no app's: the retention report names them here,
with the register descriptions that are the DPO's.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.models import DataCategory
from core.dates import today
from core.privacy_contract import (
    ErasureContext,
    ErasureDone,
    ErasureLine,
    ErasurePart,
    NotAppliedHere,
    PrivacyContract,
    ReportContext,
    ReportPart,
    RetentionRule,
    Section,
    model_record,
    privacy_contracts,
)
from core.registers import Register
from dpo.models import Breach, ErasureTombstone, LegalHold, SubjectRequest


def subject_requests_due(day: datetime.date) -> QuerySet[SubjectRequest]:
    """Requests answered more than the retention years before `day`.

    Not one an erasure tombstone points to: the tombstone must outlive every backup that still holds
    the patron, and its request is the record of why the patron was erased (GDPR Art. 5(2)). Setting
    the link to null would leave an erasure without its reason, and the request holds no more
    personal data than the tombstone's opaque patron id, so it stays as long as the tombstone.
    """
    cutoff = day - relativedelta(years=settings.SUBJECT_REQUEST_RETENTION_YEARS)
    tombstones = ErasureTombstone.objects.filter(subject_request=OuterRef("pk"))
    return SubjectRequest.objects.filter(completed_on__lt=cutoff).exclude(Exists(tombstones))


SUBJECT_REQUESTS = RetentionRule(
    name="subject_requests",
    order=50,
    register=Register.LIBRARY_SYSTEM,
    description=_(
        "Answered data-subject requests, SUBJECT_REQUEST_RETENTION_YEARS after the answer; a request "
        "behind an erasure stays as long as the erasure's tombstone."
    ),
    due=subject_requests_due,
    patron_fields=("patron_id",),
)


def legal_holds_due(day: datetime.date) -> QuerySet[LegalHold]:
    """Legal holds whose time ended before `day` (a hold keeps its data on `held_until` itself)."""
    return LegalHold.objects.filter(lifted_on__isnull=True, held_until__lt=day)


def legal_holds_lift(holds: QuerySet[LegalHold]) -> int:
    """Erase what each ended hold kept, through the privacy contract of the app holding it, and mark the hold
    lifted: the partial erasure is then complete (GDPR Art. 17(1)). The patron record a hold kept goes last,
    after what hung on it. Answers how many holds were lifted."""
    lifted = 0
    rows = sorted(holds.select_for_update(), key=lambda hold: (hold.key == "patron", hold.pk))
    for hold in rows:
        for contract in privacy_contracts("erasure"):
            contract.release_hold(hold.patron_id, hold.key, tuple(hold.ids))
        hold.lifted_on = today()
        hold.save(update_fields=["lifted_on"])
        lifted += 1
    return lifted


LEGAL_HOLDS = RetentionRule(
    name="legal_holds",
    order=90,
    register=Register.LIBRARY_SYSTEM,
    description=_(
        "What an erasure kept under a legal hold (a ban decision in its archive period, an identity code for an "
        "open claim), the day after the hold ends: the erasure is then completed."
    ),
    due=legal_holds_due,
    patron_fields=("patron_id",),
    data_categories=(DataCategory.BANS, DataCategory.BAN_DECISION, DataCategory.IDENTITY_CODE),
    apply=legal_holds_lift,
)
CCTV_RECORDINGS = NotAppliedHere(
    name="cctv_recordings",
    order=30,
    register=Register.CCTV,
    description=_(
        "CCTV recordings are not held in this service: the recorder deletes them after the retention set in "
        "the CCTV register description."
    ),
    lists_retention=True,
)


class SubjectRequestContract(PrivacyContract):
    """The patron's data-subject requests: in the report, and kept by an erasure without their free text."""

    report_order = 50
    erasure_order = 80

    def retention_rules(self) -> tuple[RetentionRule, ...]:
        return (SUBJECT_REQUESTS, LEGAL_HOLDS)

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

    def open_matters(self, patron_ids: list[int], *, day: datetime.date) -> dict[int, tuple[str, ...]]:
        """A data-subject request not yet answered."""
        unanswered = SubjectRequest.objects.filter(patron_id__in=patron_ids, completed_on__isnull=True)
        return dict.fromkeys(unanswered.values_list("patron_id", flat=True), ("subject_request",))


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


class CctvContract(PrivacyContract):
    """CCTV recordings: held by the recorder, not here, so only the retention report names them."""

    def retention_not_applied_here(self) -> tuple[NotAppliedHere, ...]:
        return (CCTV_RECORDINGS,)


CONTRACTS = (SubjectRequestContract(), BreachContract(), CctvContract())
