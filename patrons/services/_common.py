"""What every write service shares: its transaction, the actor's patron (or NotFound, or a refusal while
processing is restricted) and the record of the write."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.db.models import QuerySet

from audit.actor import Actor
from audit.models import Action, Outcome
from audit.services import access_event_record
from core.dates import today
from core.errors import NotFound
from patrons.models import Patron
from patrons.processing import ProcessingRestricted, processing_restriction_check
from staff.scoping import object_of_consortium_or_404

__all__ = [
    "consortium_patron_ids",
    "patron_for_write",
    "record_write",
    "today",
    "write_refused_while_restricted",
    "write_transaction",
]

# How many write transactions (write_transaction) are open in this thread or task: only the outermost logs a
# refusal, after its rollback.
_open_writes: ContextVar[int] = ContextVar("open_write_transactions", default=0)


class RestrictedWriteRefused(ProcessingRestricted):
    """A write to a patron whose processing is restricted, refused inside the write's transaction (the same 403
    `processing_restricted`); write_transaction logs the attempt once that transaction is rolled back."""

    def __init__(self, *, actor: Actor, patron_id: int) -> None:
        super().__init__()
        self.actor = actor
        self.patron_id = patron_id


@contextmanager
def write_transaction() -> Iterator[None]:
    """The transaction of a write to a patron. A write refused because the patron's processing is restricted
    (GDPR Art. 18(2)) is an attempt the DPO must see: it is logged as a denied event after the rollback, so that
    the event stays while nothing of the write does. The event names the patron and the reason's code only."""
    depth = _open_writes.get()
    token = _open_writes.set(depth + 1)
    try:
        with transaction.atomic():
            yield
    except RestrictedWriteRefused as refused:
        if depth == 0:
            access_event_record(
                actor=refused.actor,
                action=Action.PATRON_UPDATE,
                outcome=Outcome.DENIED,
                patron_ids=[refused.patron_id],
                detail=refused.code,
            )
        raise
    finally:
        _open_writes.reset(token)


def write_refused_while_restricted(*, actor: Actor, patron_id: int) -> None:
    """THE refusal of a write (a note, a choice, a ban and each of its steps) while the patron's processing is
    restricted: the only data processing allowed then is storage (GDPR Art. 18(2)). Only inside write_transaction,
    which logs the refusal: a write outside one would be refused unlogged, so it fails at once, restricted or not.
    """
    if _open_writes.get() == 0:
        raise RuntimeError("A write to a patron runs in patrons.services._common.write_transaction.")
    try:
        processing_restriction_check(patron_id)
    except ProcessingRestricted:
        raise RestrictedWriteRefused(actor=actor, patron_id=patron_id) from None


def patron_for_write(*, actor: Actor, patron_id: int, lock: bool = False, dpo_work: bool = False) -> Patron:
    """The patron of the actor's consortium, or NotFound (another consortium's patron does not exist).

    Where every write to a patron is refused while the patron's processing is restricted
    (write_refused_while_restricted: a 403, logged; GDPR Art. 18(2): the data is only stored), and where a record
    an erasure kept under a legal hold is not found (GDPR Art. 17(3): kept, not processed). `dpo_work` is the one
    allowance: the data protection officer's own work on the patron's requests (recording a request, restricting
    and lifting, the erasure), which handles the restriction and the hold themselves.
    """
    patrons = Patron.objects.select_related("consortium")
    if lock:
        patrons = patrons.select_for_update(of=("self",))
    patron = object_of_consortium_or_404(patrons, actor=actor, pk=patron_id)
    if not dpo_work:
        if patron.held_after_erasure:
            raise NotFound
        write_refused_while_restricted(actor=actor, patron_id=patron.pk)
    return patron


def consortium_patron_ids(*, actor: Actor, patron_id: int) -> QuerySet:
    """The patron's id when the patron is of the actor's consortium: for the event of a refusal made before
    the patron is read (lazy, read only if the refusal is recorded).
    """
    return Patron.objects.visible_to(actor).filter(pk=patron_id).values_list("pk", flat=True)


def record_write(*, actor: Actor, patron_ids: Iterable[int], categories: Iterable[str], detail: str) -> None:
    """A change to a patron's data is processing too: it goes into the patron's access log."""
    access_event_record(
        actor=actor, action=Action.PATRON_UPDATE, patron_ids=patron_ids, data_categories=categories, detail=detail
    )
