"""Reads of data-subject requests, always within the actor's consortium.

A request holds the patron's opaque id and dates only, no name or other patron data, so reading it
is not logged; what is done with it is (dpo.services.subject_requests).
"""

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict, cast

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from core.dates import today
from core.privacy_contract import held_elsewhere_text
from core.registers import Register
from dpo.models import AnswererRole, LegalHold, RegisterDescription, RequestKind, SubjectRequest
from patrons.models import ProcessingRestriction
from staff.scoping import object_of_consortium_or_404

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# The role (Django group) of the data protection officer, who supervises and may answer any request.
DPO_ROLE = "dpo"


class RequestState(models.TextChoices):
    """Where a request stands on a given day, computed from its dates (no job has to move it on)."""

    OPEN = "open", _("Open")
    EXTENDED = "extended", _("Open, time extended")
    OVERDUE = "overdue", _("Overdue")
    ANSWERED = "answered", _("Answered")
    REFUSED = "refused", _("Refused")


def subject_request_state(subject_request: SubjectRequest, day: datetime.date | None = None) -> RequestState:
    if subject_request.refusal_ground:
        return RequestState.REFUSED
    if subject_request.completed_on is not None:
        return RequestState.ANSWERED
    if subject_request.deadline < (day or today()):
        return RequestState.OVERDUE
    return RequestState.EXTENDED if subject_request.extended_due_on else RequestState.OPEN


def days_left(subject_request: SubjectRequest, day: datetime.date | None = None) -> int | None:
    """Days until the deadline (0 on the last day, negative when overdue); None once answered."""
    if subject_request.completed_on is not None:
        return None
    return (subject_request.deadline - (day or today())).days


class _Deadline(TypedDict):
    deadline_on: datetime.date


def with_deadline(
    requests: models.QuerySet[SubjectRequest],
) -> "models.QuerySet[WithAnnotations[SubjectRequest, _Deadline]]":
    """`deadline_on` in the database: the extended due date once there is one."""
    return requests.annotate(deadline_on=Coalesce("extended_due_on", "due_on"))


def subject_request_get(*, actor: Actor, request_id: int) -> SubjectRequest:
    """The request of the actor's consortium, or NotFound (another consortium's request does not exist)."""
    return object_of_consortium_or_404(SubjectRequest.objects.all(), actor=actor, pk=request_id)


def earlier_report(subject_request: SubjectRequest) -> SubjectRequest | None:
    """The patron's latest earlier access request whose report was made: this one asks for a further copy.

    Computed from the received date, so the DPO sees a repeat before making the report. "Earlier" is the
    order of receipt (the same day: of recording), so of two requests handled together the later one is
    the repeat. Only a report actually made counts, and not one of a refused request: a refusal gave the
    patron nothing. A repeat is still free (GDPR Art. 12(5), 15(3)) unless the DPO records a finding
    (dpo.services.subject_requests.subject_request_fee_decide); there is no yearly free report any more
    (the repealed Personal Data Act 523/1999 s. 26), so the earlier report counts however old it is.
    """
    if subject_request.kind != RequestKind.ACCESS:
        return None
    earlier = Q(received_on__lt=subject_request.received_on) | Q(
        received_on=subject_request.received_on, pk__lt=subject_request.pk
    )
    return (
        SubjectRequest.objects.filter(
            earlier,
            consortium_id=subject_request.consortium_id,
            patron_id=subject_request.patron_id,
            kind=RequestKind.ACCESS,
            report_made_at__isnull=False,
            refusal_ground="",
        )
        .exclude(pk=subject_request.pk)
        .order_by("-report_made_at", "-id")
        .first()
    )


def answerer_role(*, actor: Actor, consortium_id: int) -> AnswererRole | None:
    """In which capacity the actor may answer the consortium's requests: as the contact person named on its
    library-system register description (seed 001: "Kirjallisiin tiedontarkastamispyyntöihin vastaa
    rekisterin yhteyshenkilö"), or as a data protection officer (the `dpo` role); None otherwise."""
    if actor.user_id is None:
        return None
    contact = RegisterDescription.objects.filter(
        consortium_id=consortium_id, register=Register.LIBRARY_SYSTEM, contact_user_id=actor.user_id
    )
    if contact.exists():
        return AnswererRole.CONTACT_PERSON
    if get_user_model().objects.filter(pk=actor.user_id, groups__name=DPO_ROLE).exists():
        return AnswererRole.DPO
    return None


def subject_request_list(
    *, actor: Actor, open_only: bool = False, page_number: int | str = 1, page_size: int = 25
) -> Page:
    """One page of the actor's consortium's requests, newest first."""
    requests = SubjectRequest.objects.visible_to(actor)
    if open_only:
        requests = requests.filter(completed_on__isnull=True)
    return Paginator(requests.order_by("-received_on", "-id"), page_size).get_page(page_number)


@dataclass(frozen=True)
class DueRequest:
    subject_request: SubjectRequest
    deadline: datetime.date
    days_left: int
    state: str

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


def subject_requests_due(*, consortium_id: int | None, day: datetime.date) -> list[DueRequest]:
    """The consortium's open requests, the nearest deadline first, with the days left on `day`."""
    requests = with_deadline(SubjectRequest.objects.of_consortium(consortium_id).filter(completed_on__isnull=True))
    return [
        DueRequest(
            subject_request=subject_request,
            deadline=subject_request.deadline,
            days_left=cast(int, days_left(subject_request, day)),  # None only for an answered request
            state=subject_request_state(subject_request, day),
        )
        for subject_request in requests.order_by("deadline_on", "id")
    ]


def legal_holds_of(subject_request: SubjectRequest) -> list[LegalHold]:
    """What the request's erasure kept under legal holds (Art. 17(3)(b), (e)), the soonest to end first."""
    return list(subject_request.legal_holds.order_by("held_until", "id"))


def processing_restriction_of(subject_request: SubjectRequest) -> ProcessingRestriction | None:
    """The restriction of processing (GDPR Art. 18) the request put in force, in force or lifted since."""
    return ProcessingRestriction.objects.filter(subject_request_id=subject_request.pk).first()


def held_elsewhere_texts(subject_request: SubjectRequest) -> list[str]:
    """What systems outside this service still hold after the request's erasure, in the DPO's words.

    The codes are the apps' (their privacy contracts word them); `unconfirmed` is the erasure's own: the
    process stopped while it called the outside systems, so nobody knows whether they erased the patron.
    """
    texts = []
    for part in subject_request.held_elsewhere:
        if part.get("reason") == "unconfirmed":
            texts.append(
                str(
                    _(
                        "Not confirmed: the erasure stopped while it reached the library system (Koha), so the "
                        "patron may still be there. Check it in Koha, then record the ground below."
                    )
                )
            )
            continue
        text = held_elsewhere_text(part.get("key", ""), part.get("reason", ""))
        texts.append(
            text
            or str(_("Another system (%(key)s) still holds the patron (reason: %(reason)s)."))
            % {"key": part.get("key", ""), "reason": part.get("reason", "")}
        )
    return texts
