"""Demo data-subject requests for `seed_demo`: in each Finnish consortium an open access request, an open
erasure request and an access request answered by delivering the report.

Created once and never re-dated, like the other demo procedures: a second run finds each by its natural
key (consortium, kind, seeded, open or answered) and leaves it, so the open ones come due, and then
overdue, like real ones. Rows are written directly: the demo's history is not processing by anyone.
"""

import datetime
import random

from django.utils import timezone

from core.dates import today
from core.time_limits import months_after
from demo.procedures import SEEDER
from dpo.models import DeliveryMethod, IdentityDocument, RequestKind, SubjectRequest
from patrons.models import Patron
from staff.models import Consortium, Jurisdiction


def _received(consortium: Consortium, patron: Patron, kind: str, days_ago: int, document: str) -> SubjectRequest:
    received_on = today() - datetime.timedelta(days=days_ago)
    return SubjectRequest(
        consortium=consortium,
        patron_id=patron.pk,
        kind=kind,
        received_on=received_on,
        identity_document=document,
        identity_verified_by=SEEDER,
        identity_verified_on=received_on,
        due_on=months_after(received_on, 1, country=consortium.jurisdiction),
        recorded_at=timezone.now() - datetime.timedelta(days=days_ago),
        recorded_by=SEEDER,
    )


# kind, received days ago, identity document, answered
DEMO_REQUESTS = [
    (RequestKind.ACCESS, 10, IdentityDocument.ID_CARD, False),
    (RequestKind.ERASURE, 3, IdentityDocument.PASSPORT, False),
    (RequestKind.ACCESS, 45, IdentityDocument.DRIVING_LICENCE, True),
]


def seed_subject_requests(consortium: Consortium) -> int:
    """The consortium's demo requests, each for a different adult; returns how many were created."""
    if consortium.jurisdiction != Jurisdiction.FINLAND:
        return 0
    born_before = today().replace(year=today().year - 25, day=1)
    adults = list(
        Patron.objects.filter(consortium=consortium, date_of_birth__lt=born_before).order_by("koha_patron_id")[:200]
    )
    if len(adults) < len(DEMO_REQUESTS):
        return 0
    patrons = random.Random(f"requests:{consortium.slug}").sample(adults, len(DEMO_REQUESTS))
    seeded = SubjectRequest.objects.filter(consortium=consortium, recorded_by=SEEDER)
    created = 0
    for (kind, days_ago, document, answered), patron in zip(DEMO_REQUESTS, patrons, strict=True):
        if seeded.filter(kind=kind, completed_on__isnull=not answered).exists():
            continue
        subject_request = _received(consortium, patron, kind, days_ago, document)
        if answered:  # the report made, picked up on paper, and the request form copy destroyed then
            delivered_on = subject_request.received_on + datetime.timedelta(days=12)
            subject_request.report_made_at = timezone.now() - datetime.timedelta(days=days_ago - 10)
            subject_request.report_language = "fi"
            subject_request.delivery_method = DeliveryMethod.PAPER_PICKUP
            subject_request.delivered_on = delivered_on
            subject_request.request_form_destroyed_on = delivered_on
            subject_request.completed_on = delivered_on
        subject_request.save()
        created += 1
    return created
