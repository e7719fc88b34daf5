"""Reads of the access log. Reading a patron's log is itself logged."""

from django.db import transaction
from django.db.models import QuerySet

from audit.actor import Actor
from audit.models import AccessEvent, Action, DataCategory, Outcome
from audit.services import access_event_record
from core.errors import NotFound


def access_event_list_for_patron(*, actor: Actor, patron_id: int, limit: int = 500) -> list[AccessEvent]:
    """The newest events about one patron of the actor's consortium, newest first; other patrons are a 404."""
    from patrons.models import Patron

    with transaction.atomic():
        if Patron.objects.filter(pk=patron_id, consortium_id=actor.consortium_id).exists():
            events = list(AccessEvent.objects.filter(subjects__patron_id=patron_id).order_by("-id")[:limit])
            access_event_record(
                actor=actor,
                action=Action.ACCESS_LOG_VIEW,
                patron_ids=[patron_id],
                data_categories=[DataCategory.ACCESS_LOG],
            )
            return events
    access_event_record(actor=actor, action=Action.ACCESS_LOG_VIEW, outcome=Outcome.DENIED, detail="not_found")
    raise NotFound


def access_event_queryset_for_user(user) -> QuerySet[AccessEvent]:
    """The events a DPO (or a superuser) may browse: those of staff in their own consortium."""
    from patrons.models import Municipality
    from patrons.tenancy import consortium_id_of

    events = AccessEvent.objects.all()
    consortium_id = consortium_id_of(user)
    if consortium_id is None:
        return events.none()
    return events.filter(
        actor_municipality_id__in=Municipality.objects.filter(consortium_id=consortium_id).values("id")
    )
