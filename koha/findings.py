"""Billing's list of the identity codes koha_import_identity_codes found in Koha and could not store.

An invalid code, or one that differs from the code stored here (koha.models.IdentityCodeImportFinding):
Koha no longer holds it (the import put the patron's key in its place), and the list never holds it either,
only which patron and what was wrong. A billing clerk asks the patron for the code (stored at the desk as
any code) or checks the stored one, then marks the finding checked. Listing and checking are access events
(Action.KOHA_CODE_FINDING) naming the patrons shown.
"""

from dataclasses import dataclass

from django.db import transaction

from audit.actor import Actor
from audit.models import Action, DataCategory
from audit.services import access_event_record
from core.errors import NotFound
from koha.models import IdentityCodeImportFinding

FINDINGS_LISTED = 100  # the oldest first: a list billing works through
CATEGORIES = [DataCategory.BASIC, DataCategory.IDENTITY_CODE]


@dataclass(frozen=True, slots=True)
class FindingPage:
    findings: list[IdentityCodeImportFinding]
    total: int


def koha_code_findings_list(*, actor: Actor) -> FindingPage:
    """The actor's consortium's findings with their patrons, oldest first; the listing is logged."""
    pending = IdentityCodeImportFinding.objects.visible_to(actor)
    with transaction.atomic():
        findings = list(pending.select_related("patron").order_by("found_at", "id")[:FINDINGS_LISTED])
        access_event_record(
            actor=actor,
            action=Action.KOHA_CODE_FINDING,
            patron_ids=[finding.patron_id for finding in findings],
            data_categories=CATEGORIES,
            detail="listed",
        )
    total = pending.count() if len(findings) == FINDINGS_LISTED else len(findings)
    return FindingPage(findings=findings, total=total)


def koha_code_finding_count(*, actor: Actor) -> int:
    return IdentityCodeImportFinding.objects.visible_to(actor).count()


def koha_code_finding_check(*, actor: Actor, finding_id: int) -> None:
    """A billing clerk has dealt with the finding: it leaves the list, and who did it is logged."""
    with transaction.atomic():
        finding = IdentityCodeImportFinding.objects.visible_to(actor).select_for_update().filter(pk=finding_id).first()
        if finding is None:
            raise NotFound
        access_event_record(
            actor=actor,
            action=Action.KOHA_CODE_FINDING,
            patron_ids=[finding.patron_id],
            data_categories=[DataCategory.IDENTITY_CODE],
            detail=f"checked_{finding.kind}",
        )
        finding.delete()
