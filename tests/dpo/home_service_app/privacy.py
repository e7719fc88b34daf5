"""The stand-in app's privacy contract: deliveries held in memory, so the test sees what the DPO did with them.

Its retention rule removes rows of an existing table (home-service memberships), since a stand-in app has
no tables of its own.
"""

import datetime

from django.db.models import QuerySet

from core.privacy_contract import (
    ErasureContext,
    ErasureDone,
    ErasureLine,
    ErasurePart,
    NotAppliedHere,
    PrivacyContract,
    Record,
    ReportContext,
    ReportPart,
    RetentionRule,
    Section,
    report_item,
)
from core.registers import Register
from patrons.models import RegisterKind, RegisterMembership

# patron id -> the ids of the deliveries held of them
DELIVERIES: dict[int, list[int]] = {}
KEPT_RECEIPTS = 2
# the ids of patrons whose home service has ended
ENDED: set[int] = set()


def ended_home_service_due(day: datetime.date) -> QuerySet[RegisterMembership]:
    return RegisterMembership.objects.filter(register=RegisterKind.HOME_SERVICE, patron_id__in=ENDED)


ENDED_HOME_SERVICE = RetentionRule(
    name="home_service_ended",
    order=55,  # after the data-subject requests, before the newsletter
    register=Register.HOME_SERVICE,
    description="Home-service memberships whose deliveries have ended.",
    due=ended_home_service_due,
    patron_fields=("patron_id",),
    data_categories=("home_service",),
)
DELIVERY_RECEIPTS = NotAppliedHere(
    name="delivery_receipts",
    order=25,  # after the home service, before the CCTV recordings
    register=Register.HOME_SERVICE,
    description="Delivery receipts are kept by the bookkeeping system.",
)


class HomeDeliveryContract(PrivacyContract):
    report_order = 45  # after the registers, before the data-subject requests
    erasure_order = 35  # after the register memberships, before the bans

    def report_sections(self, patron_id: int, context: ReportContext) -> ReportPart:
        records = tuple(
            Record(items=(report_item("delivery", "delivery", pk, f"#{pk}"),)) for pk in DELIVERIES.get(patron_id, [])
        )
        section = Section(
            key="home_deliveries", title="Home deliveries", description="Books brought home.", records=records
        )
        return ReportPart(
            sections=(section,),
            record_items={"patron": (report_item("home_service", "home service client", bool(records)),)},
            data_categories=("home_service",),
        )

    def erasure_plan(self, patron_id: int, context: ErasureContext) -> ErasurePart:
        ids = tuple(DELIVERIES.get(patron_id, []))
        return ErasurePart(
            removes=(ErasureLine("home_deliveries", "Home deliveries", len(ids), ids),),
            keeps=(ErasureLine("delivery_receipts", "Delivery receipts: kept by the bookkeeping act", KEPT_RECEIPTS),),
        )

    def erase(self, patron_id: int, context: ErasureContext) -> ErasureDone:
        return ErasureDone(removed={"home_deliveries": len(DELIVERIES.pop(patron_id, []))})

    def retention_rules(self) -> tuple[RetentionRule, ...]:
        return (ENDED_HOME_SERVICE,)

    def retention_not_applied_here(self) -> tuple[NotAppliedHere, ...]:
        return (DELIVERY_RECEIPTS,)


CONTRACTS = (HomeDeliveryContract(),)
