"""Writing the access log. The one way an AccessEvent comes into being."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from audit.actor import Actor
from audit.chain import GENESIS_HASH, event_hash, lock_chain_head
from audit.models import AccessEvent, AccessEventPatron, Outcome


def access_event_record(
    *,
    actor: Actor,
    action: str,
    outcome: str = Outcome.ALLOWED,
    patron_ids: Iterable[int] = (),
    data_categories: Iterable[str] = (),
    reason: str = "",
    detail: str = "",
) -> AccessEvent:
    """Append one event to the chain, in the caller's transaction when there is one.

    A selector that reads patron data calls this inside its own transaction, so
    the read and its record commit together or not at all.
    """
    patron_ids = sorted(set(patron_ids))
    with transaction.atomic():
        lock_chain_head()
        last = AccessEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AccessEvent(
            at=timezone.now(),
            actor_id=actor.user_id,
            actor_username=actor.username,
            actor_municipality_id=actor.municipality_id,
            client_ip=str(actor.client_ip) if actor.client_ip is not None else None,
            action=action,
            resource=actor.resource,
            patron_ids=patron_ids,
            data_categories=sorted(set(data_categories)),
            reason=reason,
            outcome=outcome,
            detail=detail,
            prev_hash=last or GENESIS_HASH,
        )
        event.hash = event_hash(event, event.prev_hash)
        event.save(force_insert=True)
        AccessEventPatron.objects.bulk_create(AccessEventPatron(event=event, patron_id=pid) for pid in patron_ids)
    return event
