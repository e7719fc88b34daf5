"""Writing the access log. The one way an AccessEvent comes into being."""

import re
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from audit.actor import Actor
from audit.chain import (
    GENESIS_HASH,
    address_text,
    json_list_text,
    keyed_link,
    link_message,
    lock_chain_head,
    microseconds,
)
from audit.checkpoints import checkpoint_soon
from audit.keys import chain_link_bases
from audit.models import AccessEvent, AccessEventPatron, AccessLogPrune, Action, Outcome

# Data categories are identifiers (audit.models.DataCategory): their JSON text is then the same on
# every database, which the link relies on (audit/chain.py).
CATEGORY = re.compile(r"[a-z0-9_]+\Z")


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
    the read and its record commit together or not at all. The link is an HMAC under the newest
    chain key (audit/chain.py); a checkpoint of the head follows the commit when one is due.
    """
    if action not in Action.values:
        raise ValueError(f"{action!r} is not an action of the access log (audit.models.Action)")
    patron_ids = sorted({int(pid) for pid in patron_ids})
    categories = sorted(set(data_categories))
    if not all(CATEGORY.match(category) for category in categories):
        raise ValueError("data categories are identifiers (audit.models.DataCategory)")
    key_id, key_base = next(iter(chain_link_bases().items()))
    client_ip = str(actor.client_ip) if actor.client_ip is not None else None
    with transaction.atomic():
        lock_chain_head()
        last = AccessEvent.objects.order_by("-id").values_list("hash", "seq").first()
        prev_hash = last[0] if last else GENESIS_HASH
        seq = _next_seq(last)
        at = timezone.now()
        event = AccessEvent(
            at=at,
            actor_id=actor.user_id,
            actor_username=actor.username,
            actor_municipality_id=actor.municipality_id,
            client_ip=client_ip,
            action=action,
            resource=actor.resource,
            patron_ids=patron_ids,
            data_categories=categories,
            reason=reason,
            outcome=outcome,
            detail=detail,
            prev_hash=prev_hash,
            seq=seq,
            key_id=key_id,
        )
        event.hash = keyed_link(
            key_base,
            link_message(
                seq,
                microseconds(at),
                actor.user_id,
                actor.username,
                actor.municipality_id,
                address_text(client_ip),
                action,
                actor.resource,
                json_list_text(patron_ids),
                json_list_text(categories),
                reason,
                outcome,
                detail,
                prev_hash,
                key_id,
            ),
        )
        event.save(force_insert=True)
        AccessEventPatron.objects.bulk_create(AccessEventPatron(event=event, patron_id=pid) for pid in patron_ids)
        checkpoint_soon()
    return event


def _next_seq(last: tuple[str, int | None] | None) -> int:
    """The new event's position: one after the head's, pruned events included.

    Only the first keyed event after events written before the chain key (no position) counts them:
    once, the events present plus those the prunes removed.
    """
    if last is None:
        return 1
    if last[1] is not None:
        return last[1] + 1
    removed = AccessLogPrune.objects.aggregate(total=Sum("removed_events"))["total"] or 0
    return AccessEvent.objects.count() + removed + 1
