"""Restriction of processing (GDPR Art. 18): whether a patron's processing is restricted, and the one check.

Every write to a patron goes through `patrons.services._common.patron_for_write`, which asks
`processing_restriction_check`; the apps above patrons that process a patron without it (the silo's billing,
the Koha sync) ask the same functions. While a restriction is in force the data is only stored (Art. 18(2)).
"""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from core.errors import Refused
from patrons.models import ProcessingRestriction


class ProcessingRestricted(Refused):
    """A write, a bill or a sync of a patron whose processing is restricted (GDPR Art. 18(2)): a 403."""

    code = "processing_restricted"

    def __init__(self) -> None:
        super().__init__(
            _(
                "Processing of this patron's data is restricted (GDPR Art. 18): the data is only stored. Nothing can "
                "be changed, added or billed until the data protection officer lifts the restriction."
            )
        )


def restriction_in_force(patron_id: int) -> ProcessingRestriction | None:
    return ProcessingRestriction.objects.in_force().filter(patron_id=patron_id).first()


def restricted_patron_ids(patron_ids: Iterable[int]) -> set[int]:
    """Which of these patrons are restricted now: one query for a page of a list or a sync."""
    in_force = ProcessingRestriction.objects.in_force().filter(patron_id__in=list(patron_ids))
    return set(in_force.values_list("patron_id", flat=True))


def restricted_subquery() -> Exists:
    """`processing_restricted` for a queryset of patrons (annotate), read with the list itself."""
    return Exists(ProcessingRestriction.objects.in_force().filter(patron_id=OuterRef("pk")))


def processing_restriction_check(patron_id: int) -> None:
    """Refuse (ProcessingRestricted) any processing but storage of a restricted patron (GDPR Art. 18(2))."""
    if ProcessingRestriction.objects.in_force().filter(patron_id=patron_id).exists():
        raise ProcessingRestricted
