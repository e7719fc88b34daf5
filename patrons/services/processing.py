"""Restricting a patron's processing and lifting the restriction (GDPR Art. 18), for the data protection officer.

The DPO's procedure (on which request, who may) is dpo.services.subject_requests; this module keeps the state
that patrons and the apps above it read (patrons.processing) and logs each change in the patron's access log.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from core.dates import shown_date
from core.errors import RuleBroken
from patrons.models import ProcessingRestriction, RestrictionGround
from patrons.processing import restriction_in_force
from patrons.services._common import patron_for_write, record_write, today


def processing_restrict(
    *, actor: Actor, patron_id: int, ground: str, subject_request_id: int | None = None
) -> ProcessingRestriction:
    """Restrict the patron's processing on one of the grounds of GDPR Art. 18(1)(a)-(d), recording who and when.

    One restriction in force at a time (`already_restricted`): a second ground changes nothing the first does not.
    """
    if ground not in RestrictionGround.values:
        raise RuleBroken(
            "restriction_ground_unknown",
            _("Choose the ground of GDPR Art. 18(1): %(allowed)s."),
            allowed=", ".join(RestrictionGround.values),
        )
    with transaction.atomic():
        patron = patron_for_write(actor=actor, patron_id=patron_id, lock=True, dpo_work=True)
        if restriction_in_force(patron.pk) is not None:
            raise RuleBroken("already_restricted", _("Processing of this patron's data is already restricted."))
        restriction = ProcessingRestriction.objects.create(
            patron=patron,
            ground=ground,
            subject_request_id=subject_request_id,
            restricted_at=timezone.now(),
            restricted_by=actor.username,
        )
        record_write(actor=actor, patron_ids=[patron.pk], categories=[], detail="processing_restricted")
    return restriction


def processing_restriction_lift(
    *, actor: Actor, patron_id: int, informed_on: datetime.date | None
) -> ProcessingRestriction:
    """Lift the restriction in force, once the patron has been told (GDPR Art. 18(3): "shall be informed ... before
    the restriction of processing is lifted"): the day they were told is recorded, not before the restriction
    began and not in the future (today counts: told, then lifted)."""
    with transaction.atomic():
        patron = patron_for_write(actor=actor, patron_id=patron_id, lock=True, dpo_work=True)
        restriction = restriction_in_force(patron.pk)
        if restriction is None:
            raise RuleBroken("not_restricted", _("Processing of this patron's data is not restricted."))
        if informed_on is None:
            raise RuleBroken(
                "patron_not_informed", _("Tell the patron before the restriction is lifted, and record the day.")
            )
        if informed_on > today():
            raise RuleBroken(
                "informed_in_future",
                _("The patron must be told before the restriction is lifted: the day cannot be in the future."),
            )
        began = timezone.localdate(restriction.restricted_at)
        if informed_on < began:
            raise RuleBroken(
                "informed_before_restriction",
                _("The patron is told of the lifting after the restriction began (%(date)s)."),
                date=shown_date(began),
            )
        restriction.patron_informed_on = informed_on
        restriction.lifted_at, restriction.lifted_by = timezone.now(), actor.username
        restriction.save(update_fields=["patron_informed_on", "lifted_at", "lifted_by"])
        record_write(actor=actor, patron_ids=[patron.pk], categories=[], detail="processing_restriction_lifted")
    return restriction
