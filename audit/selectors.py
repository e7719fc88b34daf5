"""Reads of the access log. Reading a patron's log is itself logged."""

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from audit.actor import Actor
from audit.models import AccessEvent, Action, DataCategory
from audit.services import access_event_record


def access_events_for_patron(*, actor: Actor, patron_id: int, limit: int = 500) -> list[AccessEvent]:
    """The newest events about one patron of the actor's consortium, newest first."""
    from patrons.models import Patron

    with transaction.atomic():
        if not Patron.objects.filter(pk=patron_id, consortium_id=actor.consortium_id).exists():
            raise Http404
        events = list(AccessEvent.objects.filter(subjects__patron_id=patron_id).order_by("-id")[:limit])
        access_event_record(
            actor=actor,
            action=Action.ACCESS_LOG_VIEW,
            patron_ids=[patron_id],
            data_categories=[DataCategory.ACCESS_LOG],
        )
    return events


def access_events_visible_to(user) -> QuerySet[AccessEvent]:
    """The events a DPO may browse: those of staff in their own consortium (a superuser sees all)."""
    from audit.actor import staff_profile_of
    from patrons.models import Municipality

    events = AccessEvent.objects.all()
    if user.is_superuser:
        return events
    profile = staff_profile_of(user)
    if profile is None:
        return events.none()
    municipalities = Municipality.objects.filter(consortium_id=profile.home_library.municipality.consortium_id)
    return events.filter(actor_municipality_id__in=municipalities.values("id"))
