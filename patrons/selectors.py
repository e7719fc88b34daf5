"""Reads of patron data. Each one records its AccessEvent in the same transaction."""

import datetime
import functools
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, TextField, Value, When

from audit.actor import Actor
from audit.models import Action, DataCategory, Outcome
from audit.services import access_event_record
from core.dates import ADULT_AGE, age_on, today
from core.errors import NotFound
from patrons.models import (
    SENSITIVE_NOTE_CATEGORIES,
    AccessProhibition,
    AppealOutcome,
    Ban,
    BanState,
    BanStatus,
    Note,
    Patron,
    RegisterMembership,
    Trusteeship,
)

DETAIL_CATEGORIES = (
    DataCategory.BASIC,
    DataCategory.CONTACT,
    DataCategory.GUARDIANS,
    DataCategory.PREFERENCES,
    DataCategory.NOTES,
    DataCategory.BANS,
    DataCategory.REGISTERS,
)


class _NotFound(Exception):
    """Raised inside a selector's transaction; recorded as a denied event after the rollback."""

    def __init__(self, action: str) -> None:
        self.action = action


def _logs_not_found(selector):
    """A 404 of `selector` is a denied access event, written outside the selector's own (rolled back) transaction."""

    @functools.wraps(selector)
    def wrapper(*, actor: Actor, **kwargs):
        try:
            return selector(actor=actor, **kwargs)
        except _NotFound as missing:
            access_event_record(actor=actor, action=missing.action, outcome=Outcome.DENIED, detail="not_found")
            raise NotFound from None

    return wrapper


# Age until which notices go to a patron's guardians (Swedish guidance: "reminders go to the guardian until 18").
NOTICES_TO_GUARDIAN_UNTIL_AGE = ADULT_AGE


def _consortium_patrons(actor: Actor) -> QuerySet[Patron]:
    return Patron.objects.filter(consortium_id=actor.consortium_id)


def _matching(patrons: QuerySet[Patron], query: str) -> QuerySet[Patron]:
    """Every word must match the start of a first or last name, or a card number."""
    for term in query.split():
        patrons = patrons.filter(
            Q(last_name__istartswith=term) | Q(first_name__istartswith=term) | Q(cardnumber__startswith=term)
        )
    return patrons


def patron_search(*, actor: Actor, query: str, page_number: int | str = 1, page_size: int = 25) -> Page:
    """One page of the actor's consortium's patrons matching `query`; the listed patrons are logged.

    The search text itself is not logged: it is often a name. A search holding a personal identity code,
    however written, is refused (IdentityCodeInSearch) and logged as a denied search: a code is looked up
    only in the billing view, with a reason.
    """
    from sotu_silo.free_text import search_text_check  # the silo's rules import the patron services

    search_text_check(actor=actor, action=Action.PATRON_SEARCH, text=query)
    patrons = _matching(_consortium_patrons(actor), query.strip()).select_related("home_library")
    with transaction.atomic():
        page = Paginator(patrons.order_by("last_name", "first_name", "id"), page_size).get_page(page_number)
        page.object_list = list(page.object_list)  # read once, inside the logged transaction
        access_event_record(
            actor=actor,
            action=Action.PATRON_SEARCH,
            patron_ids=[patron.pk for patron in page.object_list],
            data_categories=[DataCategory.LISTING],
        )
    return page


@dataclass(frozen=True)
class SearchBoxResult:
    query: str  # what may be shown back in the search box ("" when it held an identity code)
    page: Page | None
    code_typed: bool


def patron_search_box(*, actor: Actor, text: str, page_number: int | str = 1) -> SearchBoxResult:
    """The staff search box: a text holding an identity code is neither searched with nor shown back."""
    from sotu_silo.free_text import IdentityCodeInSearch

    query = text.strip()
    if not query:
        return SearchBoxResult(query="", page=None, code_typed=False)
    try:
        page = patron_search(actor=actor, query=query, page_number=page_number)
    except IdentityCodeInSearch:
        return SearchBoxResult(query="", page=None, code_typed=True)
    return SearchBoxResult(query=query, page=page, code_typed=False)


# --- Bans: what a ban is today ------------------------------------------------------------------------

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
    return AccessProhibition.objects.filter(ends_on__gte=day or today())


def notice_recipient_ids(patron: Patron, day: datetime.date | None = None) -> list[int]:
    """Who gets the patron's notices: the guardians until the patron turns 18, then the patron."""
    day = day or today()
    guardians = [g.guardian_id for g in patron.guardianships.all()]
    minor = patron.date_of_birth is not None and age_on(patron.date_of_birth, day) < NOTICES_TO_GUARDIAN_UNTIL_AGE
    return guardians if minor and guardians else [patron.pk]


@dataclass
class PatronRecord:
    """Everything a staff member sees on a patron's page, read (and logged) together."""

    patron: Patron
    notes: list[Note] = field(default_factory=list)
    bans: list[Ban] = field(default_factory=list)
    prohibitions: list[AccessProhibition] = field(default_factory=list)
    registers: list[RegisterMembership] = field(default_factory=list)
    under_trusteeship: bool = False
    notices_to: list[int] = field(default_factory=list)

    @property
    def active_bans(self) -> list[Ban]:
        return [ban for ban in self.bans if ban.state == BanState.ACTIVE]

    @property
    def active_prohibitions(self) -> list[AccessProhibition]:
        day = today()
        return [p for p in self.prohibitions if p.starts_on <= day]


def _listed_notes(patron_id: int) -> QuerySet[Note]:
    """A patron's notes for a list: a sensitive note's text is not even read (it opens through note_open)."""
    return (
        Note.objects.filter(patron_id=patron_id)
        .annotate(
            listed_text=Case(
                When(category__in=SENSITIVE_NOTE_CATEGORIES, then=Value("")),
                default=F("text"),
                output_field=TextField(),
            )
        )
        .defer("text")
    )


@_logs_not_found
def note_list_for_staff(*, actor: Actor, patron_id: int) -> list[Note]:
    """A patron's notes, newest first, sensitive ones by category only; the listing is logged."""
    with transaction.atomic():
        if not _consortium_patrons(actor).filter(pk=patron_id).exists():
            raise _NotFound(Action.PATRON_VIEW)
        notes = list(_listed_notes(patron_id))
        access_event_record(
            actor=actor, action=Action.PATRON_VIEW, patron_ids=[patron_id], data_categories=[DataCategory.NOTES]
        )
    return notes


@_logs_not_found
def patron_record_for_staff(*, actor: Actor, patron_id: int) -> PatronRecord:
    """A patron with notes (sensitive texts withheld), bans in procedure or force, registers; logged once."""
    with transaction.atomic():
        patron = (
            _consortium_patrons(actor)
            .select_related("home_library__municipality", "consortium")
            .prefetch_related("guardianships__guardian", "wards__ward")
            .filter(pk=patron_id)
            .first()
        )
        if patron is None:
            raise _NotFound(Action.PATRON_VIEW)
        day = today()
        notes = list(_listed_notes(patron.pk))
        bans = list(bans_visible_to_staff(day).filter(patron=patron).select_related("library").order_by("starts_on"))
        for ban in bans:
            ban.state = ban_state(ban, day)
        record = PatronRecord(
            patron=patron,
            notes=notes,
            bans=bans,
            prohibitions=list(prohibitions_visible_to_staff(day).filter(patron=patron).select_related("library")),
            registers=list(RegisterMembership.objects.filter(patron=patron).order_by("register")),
            under_trusteeship=Trusteeship.objects.filter(patron=patron).exists(),
            notices_to=notice_recipient_ids(patron, day),
        )
        related = [g.guardian_id for g in patron.guardianships.all()] + [w.ward_id for w in patron.wards.all()]
        categories = [*DETAIL_CATEGORIES, *([DataCategory.TRUSTEESHIP] if record.under_trusteeship else [])]
        access_event_record(
            actor=actor, action=Action.PATRON_VIEW, patron_ids=[patron.pk, *related], data_categories=categories
        )
    return record


@_logs_not_found
def note_open(*, actor: Actor, patron_id: int, note_id: int) -> Note:
    """One note with its text; opening a sensitive note is its own access event."""
    with transaction.atomic():
        note = (
            Note.objects.filter(pk=note_id, patron_id=patron_id, patron__consortium_id=actor.consortium_id)
            .prefetch_related("revisions")
            .first()
        )
        if note is None:
            raise _NotFound(Action.SENSITIVE_READ)
        access_event_record(
            actor=actor,
            action=Action.SENSITIVE_READ if note.sensitive else Action.PATRON_VIEW,
            patron_ids=[note.patron_id],
            data_categories=[DataCategory.SENSITIVE_NOTE if note.sensitive else DataCategory.NOTES],
            detail=f"note:{note.category}",
        )
    return note


@_logs_not_found
def trusteeship_open(*, actor: Actor, patron_id: int) -> Trusteeship:
    """The guardian's contact of an adult under guardianship; opening it is its own access event."""
    with transaction.atomic():
        trusteeship = Trusteeship.objects.filter(patron_id=patron_id, patron__consortium_id=actor.consortium_id).first()
        if trusteeship is None:
            raise _NotFound(Action.SENSITIVE_READ)
        access_event_record(
            actor=actor,
            action=Action.SENSITIVE_READ,
            patron_ids=[patron_id],
            data_categories=[DataCategory.TRUSTEESHIP],
            detail="trusteeship",
        )
    return trusteeship


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
