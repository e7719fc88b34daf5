"""Reads of the breach register: the actor's consortium's breaches, their deadlines, and whom to tell.

The register itself holds no personal data beyond opaque patron ids. The contact channels of the people
concerned (Art. 34) are patron data: reading them is logged as one access event in the same transaction.
"""

import datetime
from dataclasses import dataclass, field
from typing import cast

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from audit.actor import Actor
from audit.models import Action, DataCategory
from audit.services import access_event_record
from core.errors import NotFound
from dpo.models import AuthorityNotification, Breach, NotificationPhase, RiskLevel
from patrons.models import Patron
from patrons.selectors import notice_recipient_ids


def _initial_notifications() -> QuerySet[AuthorityNotification]:
    return AuthorityNotification.objects.filter(breach=OuterRef("pk"), phase=NotificationPhase.INITIAL)


def with_authority_notified_at(breaches: QuerySet[Breach]) -> QuerySet[Breach]:
    """Each breach with `authority_notified_at`: when the initial notification was sent, or None."""
    return breaches.annotate(authority_notified_at=Subquery(_initial_notifications().values("notified_at")[:1]))


def awaiting_authority_q() -> Q:
    """Open breaches with a risk whose authority has not been notified yet: their 72 hours are running."""
    # Q & Exists is a Q; the stubs say only Combinable.
    return cast(Q, Q(closed_on__isnull=True) & ~Q(risk=RiskLevel.UNLIKELY) & ~Exists(_initial_notifications()))


def people_to_be_told_q() -> Q:
    """Open high-risk breaches whose people have not been told, with no Art. 34(3) exemption recorded."""
    return Q(closed_on__isnull=True, risk=RiskLevel.HIGH, people_notified_on__isnull=True, art34_exemption="")


def awaits_authority(breach: Breach) -> bool:
    if breach.closed_on is not None or breach.risk == RiskLevel.UNLIKELY:
        return False
    return not any(n.phase == NotificationPhase.INITIAL for n in breach.authority_notifications.all())


def people_must_be_told(breach: Breach) -> bool:
    """A high risk (Art. 34(1)) and neither the people told nor an exemption recorded."""
    return (
        breach.closed_on is None
        and breach.risk == RiskLevel.HIGH
        and breach.people_notified_on is None
        and not breach.art34_exemption
    )


def time_left(breach: Breach, now: datetime.datetime | None = None) -> datetime.timedelta:
    """Until the authority deadline; negative once it has passed."""
    return breach.authority_deadline - (now or timezone.now())


@dataclass(frozen=True)
class RunningDeadline:
    breach: Breach
    time_left: datetime.timedelta

    @property
    def overdue(self) -> bool:
        return self.time_left < datetime.timedelta(0)

    @property
    def hours_left(self) -> int:
        """Whole hours left (rounded down); negative hours overdue."""
        return int(self.time_left.total_seconds() // 3600)


def breach_deadlines_running(
    *, breaches: QuerySet[Breach], now: datetime.datetime | None = None
) -> list[RunningDeadline]:
    """Of `breaches`, those still waiting for the initial notification, nearest deadline first (overdue too)."""
    now = now or timezone.now()
    waiting = breaches.filter(awaiting_authority_q()).order_by("authority_deadline", "id")
    return [RunningDeadline(breach=breach, time_left=time_left(breach, now)) for breach in waiting]


def breaches_of(*, actor: Actor) -> QuerySet[Breach]:
    """The actor's consortium's breach register, newest first."""
    return Breach.objects.visible_to(actor).select_related("consortium").prefetch_related("authority_notifications")


def breach_get(*, actor: Actor, breach_id: int) -> Breach:
    """One breach of the actor's consortium with its notifications; another consortium's is a 404."""
    breach = breaches_of(actor=actor).filter(pk=breach_id).first()
    if breach is None:
        raise NotFound
    return breach


# --- Telling the people concerned (Art. 34) -----------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """Someone to tell, and how to reach them: the patron, or a minor patron's guardian."""

    patron_id: int
    is_guardian: bool
    first_name: str
    last_name: str
    email: str
    phone: str
    street_address: str
    postal_code: str
    city: str


@dataclass(frozen=True)
class AffectedPatron:
    patron_id: int
    first_name: str
    last_name: str
    recipients: list[Recipient]


@dataclass(frozen=True)
class AffectedContacts:
    breach: Breach
    patrons: list[AffectedPatron] = field(default_factory=list)
    # Concerned patrons who are no longer in the register (erased since): nobody left to tell.
    missing_patron_ids: list[int] = field(default_factory=list)


def _recipient(patron: Patron, *, is_guardian: bool) -> Recipient:
    return Recipient(
        patron_id=patron.pk,
        is_guardian=is_guardian,
        first_name=patron.first_name,
        last_name=patron.last_name,
        email=patron.email,
        phone=patron.phone,
        street_address=patron.street_address,
        postal_code=patron.postal_code,
        city=patron.city,
    )


def breach_affected_contacts(*, actor: Actor, breach_id: int) -> AffectedContacts:
    """The contact channels of the people concerned; for a minor, the guardians' instead (notices go to them).

    One access event names every patron whose contact details are shown, the guardians included.
    """
    breach = breach_get(actor=actor, breach_id=breach_id)
    with transaction.atomic():
        patrons = list(
            Patron.objects.visible_to(actor)
            .filter(pk__in=breach.affected_patron_ids)
            .prefetch_related("guardianships__guardian")
            .order_by("last_name", "first_name", "id")
        )
        affected, shown, guardians_used = [], set(), False
        for patron in patrons:
            to_ids = notice_recipient_ids(patron)
            if to_ids == [patron.pk]:
                recipients = [_recipient(patron, is_guardian=False)]
            else:
                guardians = {g.guardian_id: g.guardian for g in patron.guardianships.all()}
                recipients = [_recipient(guardians[gid], is_guardian=True) for gid in to_ids]
                guardians_used = True
            shown.add(patron.pk)
            shown.update(r.patron_id for r in recipients)
            affected.append(
                AffectedPatron(
                    patron_id=patron.pk, first_name=patron.first_name, last_name=patron.last_name, recipients=recipients
                )
            )
        categories = [DataCategory.CONTACT] + ([DataCategory.GUARDIANS] if guardians_used else [])
        access_event_record(
            actor=actor,
            action=Action.BREACH_CONTACTS,
            patron_ids=shown,
            data_categories=categories,
            detail=f"breach_{breach.pk}",
        )
    found = {p.patron_id for p in affected}
    missing = [pid for pid in breach.affected_patron_ids if pid not in found]
    return AffectedContacts(breach=breach, patrons=affected, missing_patron_ids=missing)
