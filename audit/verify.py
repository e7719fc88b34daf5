"""Checking the access log's hash chain end to end."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from audit.chain import GENESIS_HASH, event_hash
from audit.models import AccessEvent, AccessEventPatron, AccessLogPrune


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    problem: str


def _batches(batch_size: int) -> Iterator[list[AccessEvent]]:
    last_id = 0
    while True:
        batch = list(AccessEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        yield batch
        last_id = batch[-1].id


def chain_start_hash() -> str:
    """The hash the first remaining event must link to.

    The genesis hash, unless the oldest events were pruned (audit/prune.py): then the latest prune's
    anchor, but only when the first remaining event is the one that prune kept first. Any other
    missing prefix breaks the chain.
    """
    first_id = AccessEvent.objects.order_by("id").values_list("id", flat=True).first()
    prune = AccessLogPrune.objects.order_by("-id").first()
    if prune is not None and first_id == prune.first_kept_event_id:
        return prune.anchor_hash
    return GENESIS_HASH


def verify_chain(*, batch_size: int = 5000, progress: Callable[[int], None] | None = None) -> ChainBreak | None:
    """The first event where the chain breaks, or None when it is whole.

    A changed row fails its own hash; a removed or reordered row fails the next
    row's link to it; a changed or removed patron index row disagrees with the
    event's own list of patrons. A pruned prefix is accepted only as its prune recorded it.
    """
    prev_hash = chain_start_hash()
    checked = 0
    for batch in _batches(batch_size):
        subjects: dict[int, list[int]] = {}
        for event_id, patron_id in AccessEventPatron.objects.filter(
            event_id__gte=batch[0].id, event_id__lte=batch[-1].id
        ).values_list("event_id", "patron_id"):
            subjects.setdefault(event_id, []).append(patron_id)
        for event in batch:
            if event.prev_hash != prev_hash:
                return ChainBreak(event.id, "link to the previous event does not match (an event was removed or moved)")
            if event_hash(event, prev_hash) != event.hash:
                return ChainBreak(event.id, "content does not match its hash (the event was changed)")
            if sorted(subjects.get(event.id, [])) != list(event.patron_ids):
                return ChainBreak(event.id, "patron index rows do not match the event")
            prev_hash = event.hash
        checked += len(batch)
        if progress:
            progress(checked)
    return None
