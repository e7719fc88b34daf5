"""The stand-in app's privacy contract: deliveries held in memory, so the test sees what the DPO did with them."""

from core.privacy_contract import (
    ErasureContext,
    ErasureDone,
    ErasureLine,
    ErasurePart,
    PrivacyContract,
    Record,
    ReportContext,
    ReportPart,
    Section,
    report_item,
)

# patron id -> the ids of the deliveries held of them
DELIVERIES: dict[int, list[int]] = {}
KEPT_RECEIPTS = 2


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


CONTRACTS = (HomeDeliveryContract(),)
