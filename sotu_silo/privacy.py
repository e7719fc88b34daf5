"""What the silo holds of a patron, for the data protection officer (core.privacy_contract).

The access report says whether an identity code is stored, never the code. An erasure deletes the
code and the conflict entries naming the patron, and writes the silo's own ledger of erasures: the
silo database is backed up apart from the main one, so after a restore of either, the other's ledger
still knows who was erased (`manage.py reapply_erasures`).
"""

import datetime

from django.utils.translation import gettext_lazy as _

from audit.models import DataCategory
from core.privacy_contract import (
    ErasureContext,
    ErasureDone,
    ErasureLedger,
    ErasureLine,
    ErasurePart,
    LedgerEntry,
    PrivacyContract,
    ReportContext,
    ReportPart,
    report_item,
)
from sotu_silo.models import ErasedPatron
from sotu_silo.services import SILO, identity_code_erase, identity_code_exists, identity_code_stored_at

LEDGER_BATCH = 500
CODE_HELD = _("Identity code in the silo, kept for an open claim")


class ErasedPatronLedger(ErasureLedger):
    def entry(self, patron_id: int) -> LedgerEntry | None:
        row = ErasedPatron.objects.filter(patron_id=patron_id).first()
        return LedgerEntry(row.patron_id, row.consortium_id, row.erased_at) if row is not None else None

    def entries(self) -> dict[int, LedgerEntry]:
        rows = ErasedPatron.objects.values_list("patron_id", "consortium_id", "erased_at")
        return {patron_id: LedgerEntry(patron_id, consortium_id, at) for patron_id, consortium_id, at in rows}

    def write(self, entries: list[LedgerEntry]) -> None:
        ErasedPatron.objects.bulk_create(
            [
                ErasedPatron(patron_id=entry.patron_id, consortium_id=entry.consortium_id, erased_at=entry.erased_at)
                for entry in entries
            ],
            batch_size=LEDGER_BATCH,
        )


class IdentityCodeContract(PrivacyContract):
    """Whether a code is stored (on the patron record of the report), its erasure, and the silo's ledger."""

    report_order = 15
    erasure_order = 50
    erased_categories = (DataCategory.IDENTITY_CODE,)
    databases = (SILO,)
    ledger = ErasedPatronLedger()

    def report_sections(self, patron_id: int, context: ReportContext) -> ReportPart:
        stored = identity_code_exists(patron_id=patron_id)
        item = report_item("identity_code_stored", _("personal identity code stored"), stored)
        return ReportPart(record_items={"patron": (item,)}, facts={"identity_code_stored": stored})

    def erasure_plan(self, patron_id: int, context: ErasureContext) -> ErasurePart:
        stored = identity_code_exists(patron_id=patron_id)
        if context.held_ids("identity_code") is not None:
            return ErasurePart(keeps=(ErasureLine("identity_code", CODE_HELD, int(stored)),) if stored else ())
        return ErasurePart(removes=(ErasureLine("identity_code", _("Identity code in the silo"), int(stored)),))

    def erase(self, patron_id: int, context: ErasureContext) -> ErasureDone:
        """The code goes, unless a legal hold keeps it for an open claim (GDPR Art. 17(3)(e)): another app knows
        of the claim and declares the hold; the silo only keeps the code, readable by billing as before."""
        if context.held_ids("identity_code") is not None:
            return ErasureDone(removed={"identity_code": 0})
        return ErasureDone(removed={"identity_code": int(identity_code_erase(patron_id=patron_id))})

    def release_hold(self, patron_id: int, key: str, ids: tuple[int, ...]) -> int:
        return int(identity_code_erase(patron_id=patron_id)) if key == "identity_code" else 0

    def held_since(self, patron_ids: list[int]) -> dict[int, datetime.datetime]:
        return identity_code_stored_at(patron_ids=patron_ids)


CONTRACTS = (IdentityCodeContract(),)
