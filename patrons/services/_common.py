"""What every write service shares: the actor's patron (or NotFound, or a refusal while processing is restricted)
and the record of the write."""

from collections.abc import Iterable

from django.db.models import QuerySet

from audit.actor import Actor
from audit.models import Action
from audit.services import access_event_record
from core.dates import today
from core.errors import NotFound
from patrons.models import Patron
from patrons.processing import processing_restriction_check
from staff.scoping import object_of_consortium_or_404

__all__ = ["consortium_patron_ids", "patron_for_write", "record_write", "today"]


def patron_for_write(*, actor: Actor, patron_id: int, lock: bool = False, dpo_work: bool = False) -> Patron:
    """The patron of the actor's consortium, or NotFound (another consortium's patron does not exist).

    The one place every write to a patron is refused while the patron's processing is restricted
    (ProcessingRestricted, a 403; GDPR Art. 18(2): the data is only stored), and where a record an erasure kept
    under a legal hold is not found (GDPR Art. 17(3): kept, not processed). `dpo_work` is the one allowance:
    the data protection officer's own work on the patron's requests (recording a request, restricting and
    lifting, the erasure), which handles the restriction and the hold themselves.
    """
    patrons = Patron.objects.select_related("consortium")
    if lock:
        patrons = patrons.select_for_update(of=("self",))
    patron = object_of_consortium_or_404(patrons, actor=actor, pk=patron_id)
    if not dpo_work:
        if patron.held_after_erasure:
            raise NotFound
        processing_restriction_check(patron.pk)
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
