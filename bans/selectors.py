"""Reads of bans and access prohibitions: what a ban is today, which ones staff see, one ban, the archive.

Each read of a patron's ban data records its AccessEvent in the same transaction.
"""

import datetime

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import QuerySet

from audit.actor import Actor
from audit.models import Action, DataCategory
from audit.services import access_event_record
from core.dates import today
from patrons.models import AccessProhibition, AppealOutcome, Ban, BanState, BanStatus
from patrons.selectors import _logs_not_found, _NotFound

# Steps of a ban that staff still see, as long as its last day has not passed.
STAFF_VISIBLE_BAN_STEPS = (
    BanStatus.PROPOSED,
    BanStatus.HEARD,
    BanStatus.HEARING_WAIVED,
    BanStatus.DECIDED,
    BanStatus.NOTIFIED,
)


def ban_is_final(ban: Ban, day: datetime.date) -> bool:
    """Final: no rectification request can come any more, or the one that came did not overturn it."""
    if ban.appeal_outcome in (AppealOutcome.UPHELD, AppealOutcome.DISMISSED):
        return True
    deadline_passed = ban.appeal_deadline is not None and ban.appeal_deadline < day
    if ban.appeal_outcome == AppealOutcome.PENDING:
        # Only a request made in time holds the decision back; a late one can only be dismissed.
        return deadline_passed and ban.appeal_lodged_on > ban.appeal_deadline
    return deadline_passed


def ban_state(ban: Ban, day: datetime.date | None = None) -> str:
    """What the ban is on `day` (today): computed from its dates, so an ended ban needs no job to end it."""
    day = day or today()
    if ban.status in (BanStatus.CANCELLED, BanStatus.OVERTURNED):
        return ban.status
    if ban.status != BanStatus.NOTIFIED:
        return BanState.LAPSED if ban.ends_on < day else ban.status
    if ban.ends_on < day:
        return BanState.ENDED
    if not (ban.enforced_before_final or ban_is_final(ban, day)):
        return BanState.NOTIFIED
    return BanState.SCHEDULED if ban.starts_on > day else BanState.ACTIVE


def bans_visible_to_staff(day: datetime.date | None = None) -> QuerySet[Ban]:
    """Bans in procedure or in force: an ended, cancelled or overturned ban is gone from every staff view."""
    return Ban.objects.filter(status__in=STAFF_VISIBLE_BAN_STEPS, ends_on__gte=day or today())


def prohibitions_visible_to_staff(day: datetime.date | None = None) -> QuerySet[AccessProhibition]:
    return AccessProhibition.objects.filter(revoked_on__isnull=True, ends_on__gte=day or today())


@_logs_not_found
def ban_get(*, actor: Actor, ban_id: int, archive: bool = False) -> Ban:
    """One ban with its procedure. Staff see it while it is in procedure or in force; with `archive`
    (ban deciders and the DPO), any ban, ended ones included. Logged as a read of the patron's ban data.
    """
    with transaction.atomic():
        bans = Ban.objects if archive else bans_visible_to_staff()
        ban = (
            bans.filter(pk=ban_id, patron__consortium_id=actor.consortium_id)
            .select_related("patron__home_library", "library__municipality__consortium")
            .prefetch_related("notes")
            .first()
        )
        action = Action.BAN_ARCHIVE_VIEW if archive else Action.PATRON_VIEW
        if ban is None:
            raise _NotFound(action)
        ban.state = ban_state(ban)
        access_event_record(
            actor=actor,
            action=action,
            patron_ids=[ban.patron_id],
            data_categories=[DataCategory.BASIC, DataCategory.CONTACT, DataCategory.BANS, DataCategory.BAN_DECISION],
            detail=f"ban:{ban.pk}",
        )
    return ban


def ban_archive_page(*, actor: Actor, page_number: int | str = 1, page_size: int = 50) -> Page:
    """The decision archive: every decided ban of the consortium, ended ones included; listed patrons logged."""
    bans = (
        Ban.objects.filter(patron__consortium_id=actor.consortium_id, decided_on__isnull=False)
        .select_related("patron", "library")
        .order_by("-decided_on", "-id")
    )
    with transaction.atomic():
        page = Paginator(bans, page_size).get_page(page_number)
        page.object_list = list(page.object_list)
        for ban in page.object_list:
            ban.state = ban_state(ban)
        access_event_record(
            actor=actor,
            action=Action.BAN_ARCHIVE_VIEW,
            patron_ids=[ban.patron_id for ban in page.object_list],
            data_categories=[DataCategory.LISTING, DataCategory.BAN_DECISION],
        )
    return page
