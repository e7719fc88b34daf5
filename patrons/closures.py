"""Reads of closure periods (exceptional circumstances, Lapland 2020): are the libraries closed today?

A closure period is consortium-wide and holds no patron data, so reading one is not an access event.
Periods may overlap; where one answer is needed, the period that lasts longest wins (a freeze lasts
until the last freezing period ends).
"""

import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.compiled_query import CompiledQuery
from core.dates import shown_date, today
from patrons.models import ClosurePeriod

REGISTRATION_FROZEN_MESSAGE = _("Libraries are closed until %(until)s and no new patrons are registered.")
PIN_BY_PHONE_NOT_ALLOWED_MESSAGE = _("A PIN may be given by phone only during a closure period that allows it.")


def closures_in_force(*, consortium_id: int | None, day: datetime.date | None = None) -> QuerySet[ClosurePeriod]:
    """The consortium's closure periods that include `day` (today), the longest-lasting first."""
    day = day or today()
    return (
        ClosurePeriod.objects.of_consortium(consortium_id)
        .filter(starts_on__lte=day, ends_on__gte=day)
        .order_by("-ends_on", "-starts_on", "-id")
    )


def closure_in_force(
    *,
    consortium_id: int | None,
    day: datetime.date | None = None,
    registration_frozen: bool | None = None,
    pin_by_phone_allowed: bool | None = None,
) -> ClosurePeriod | None:
    """The consortium's closure period in force on `day` (today), or None.

    With `registration_frozen=True` only a period that freezes registration counts, with
    `pin_by_phone_allowed=True` only one that allows giving a PIN by phone.
    """
    closures = closures_in_force(consortium_id=consortium_id, day=day)
    if registration_frozen is not None:
        closures = closures.filter(registration_frozen=registration_frozen)
    if pin_by_phone_allowed is not None:
        closures = closures.filter(pin_by_phone_allowed=pin_by_phone_allowed)
    return closures.first()


def registration_freeze(*, consortium_id: int | None, day: datetime.date | None = None) -> ClosurePeriod | None:
    """The closure period that freezes registration of new patrons on `day` (today), or None."""
    return closure_in_force(consortium_id=consortium_id, day=day, registration_frozen=True)


def _pin_by_phone_closures(day: datetime.date, *, consortium_id: int) -> QuerySet[ClosurePeriod]:
    """What `closure_in_force(..., pin_by_phone_allowed=True)` asks, as one queryset (its `first()`)."""
    return closures_in_force(consortium_id=consortium_id, day=day).filter(pin_by_phone_allowed=True)[:1]


# Asked on every patron page (the PIN-by-phone panel): its SQL compiled once per worker thread and day
# (core/compiled_query.py, issue 16); the periods themselves are read on every request.
_PIN_BY_PHONE_CLOSURE = CompiledQuery(_pin_by_phone_closures, names=("consortium_id",))


def pin_by_phone_closure(*, consortium_id: int | None, day: datetime.date | None = None) -> ClosurePeriod | None:
    """The closure period during which a PIN may be given by phone on `day` (today), or None."""
    if consortium_id is None:
        return closure_in_force(consortium_id=consortium_id, day=day, pin_by_phone_allowed=True)
    found = _PIN_BY_PHONE_CLOSURE.objects(key=day or today(), consortium_id=consortium_id)
    return found[0] if found else None


def closures_for_card_extension(*, consortium_id: int, day: datetime.date | None = None) -> list[ClosurePeriod]:
    """The closure periods whose expired cards `extend_expired_cards` extends: those in force on `day`
    (today), or when none is, the one that ended last. Closures still to come and older ones are left out,
    so cards that expired in a closure years ago are not revived by the next one."""
    day = day or today()
    started = ClosurePeriod.objects.of_consortium(consortium_id).filter(starts_on__lte=day)
    in_force = list(started.filter(ends_on__gte=day).order_by("starts_on", "id"))
    if in_force:
        return in_force
    latest = started.order_by("-ends_on", "-starts_on", "-id").first()
    return [latest] if latest is not None else []


def closure_end_text(closure: ClosurePeriod) -> str:
    """The closure's last day as the message shows it (d.m.Y, the same in every language)."""
    return shown_date(closure.ends_on)


def registration_frozen_message(closure: ClosurePeriod) -> str:
    """What staff are told, in the UI and the API alike, while registration is frozen."""
    return str(REGISTRATION_FROZEN_MESSAGE) % {"until": closure_end_text(closure)}
