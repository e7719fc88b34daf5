"""Reads of the access log for the DPO's browser (dpo/admin/access_log.py)."""

from django.db.models import QuerySet

from audit.models import AccessEvent
from staff.models import Municipality
from staff.selectors import consortium_id_of


def access_event_queryset_for_user(user) -> QuerySet[AccessEvent]:
    """The events a DPO (or a superuser) may browse: those of staff in their own consortium."""
    events = AccessEvent.objects.all()
    consortium_id = consortium_id_of(user)
    if consortium_id is None:
        return events.none()
    return events.filter(actor_municipality_id__in=Municipality.objects.of_consortium(consortium_id).values("id"))
