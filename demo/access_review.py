"""Demo data for the daily access review, called by `seed_demo`: something for the review to find.

A staff member who is also a patron (their own record, so a colleague's read of it is a finding) and a
few patrons flagged as needing protection. The demo staff already share surnames with some patrons
(demo.patron_data.STAFF_USERS). No access events are made up: the review finds what is really read.
Idempotent: a second run finds the link and the flags in place and changes nothing.
"""

from dateutil.relativedelta import relativedelta
from django.db.models import QuerySet

from core.dates import ADULT_AGE, today
from patrons.models import Patron
from staff.models import Consortium, StaffProfile

CONSORTIUM = "lapin-kirjastot"
STAFF_WHO_IS_A_PATRON = "kemi.staff"
PROTECTED_PATRONS = 3


def seed_access_review_demo() -> None:
    consortium = Consortium.objects.filter(slug=CONSORTIUM).first()
    profile = StaffProfile.objects.select_related("user").filter(user__username=STAFF_WHO_IS_A_PATRON).first()
    if consortium is None or profile is None:
        return
    if profile.patron_id is None:
        own = _plain_adults(consortium).filter(last_name=profile.user.last_name).first()
        if own is not None:
            StaffProfile.objects.filter(pk=profile.pk).update(patron=own)
    missing = PROTECTED_PATRONS - Patron.objects.filter(consortium=consortium, needs_protection=True).count()
    if missing > 0:
        chosen = _plain_adults(consortium).filter(needs_protection=False).values_list("pk", flat=True)[:missing]
        Patron.objects.filter(pk__in=list(chosen)).update(needs_protection=True)


def _plain_adults(consortium: Consortium) -> QuerySet[Patron]:
    """Adults without guardians, wards, notes, bans or staff link, last Koha ids first: out of the other demos' way."""
    return (
        Patron.objects.filter(
            consortium=consortium,
            guardianships__isnull=True,
            wards__isnull=True,
            notes__isnull=True,
            bans__isnull=True,
            staff_profile__isnull=True,
        )
        .exclude(date_of_birth__gt=today() - relativedelta(years=ADULT_AGE))
        .order_by("-koha_patron_id")
    )
