"""Reads of bans and access prohibitions: which ones staff see, one ban, the decision archive.

Each read of a patron's ban data records its AccessEvent in the same transaction.
"""

import datetime
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from audit.actor import Actor
from audit.models import Action, DataCategory
from audit.services import access_event_record
from bans.models import (
    AccessProhibition,
    AccessProhibitionQuerySet,
    AppealOutcome,
    Ban,
    BanState,
    BanStatus,
    DecisionCompetence,
)
from bans.state import STAFF_VISIBLE_BAN_STEPS, Step, ban_state, next_steps, waiting_to_become_final
from core.dates import ADULT_AGE, age_on, today
from patrons.models import Guardianship, Note, NoteCategory, Patron
from patrons.processing import restriction_in_force
from patrons.restrictions import RestrictionInForce, restriction_present
from patrons.selectors import RESTRICTED_READ, SelectorNotFound, logs_not_found, staff_patrons
from staff.scoping import ConsortiumScopedQuerySet

# How much of a cited note's text the proposal form shows beside its checkbox.
NOTE_EXCERPT_LENGTH = 80


@dataclass(frozen=True)
class CitableNote:
    """A behaviour note as the proposal form offers it: its incident's date and library, and `excerpt`."""

    pk: int
    incident_on: datetime.date
    library_name: str
    created_by: str
    excerpt: str


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= NOTE_EXCERPT_LENGTH else text[: NOTE_EXCERPT_LENGTH - 1] + "…"


@logs_not_found
def ban_citable_notes(*, actor: Actor, patron_id: int) -> list[CitableNote]:
    """The behaviour notes a ban proposal may cite (not removed), oldest incident first, each with `excerpt`: the
    start of its text, so the preparer cites the right ones. Behaviour notes are sensitive, so reading their texts
    here is a sensitive read of each, logged as opening them one by one would be (patrons.selectors.note_open);
    the caller is one who may prepare bans (staff.access.ban_preparer_actor)."""
    with transaction.atomic():
        if not staff_patrons(actor).filter(pk=patron_id).exists():
            raise SelectorNotFound(Action.SENSITIVE_READ)
        notes = [
            CitableNote(
                pk=note.pk,
                incident_on=note.incident_on,
                library_name=note.library.name,
                created_by=note.created_by,
                excerpt=_excerpt(note.text),
            )
            for note in Note.objects.filter(
                patron_id=patron_id, category=NoteCategory.BEHAVIOUR, removed_at__isnull=True
            )
            .select_related("library")
            .order_by("incident_on", "id")
        ]
        if notes:
            access_event_record(
                actor=actor,
                action=Action.SENSITIVE_READ,
                patron_ids=[patron_id],
                data_categories=[DataCategory.SENSITIVE_NOTE],
                detail="note:behaviour:ban_proposal",
            )
    return notes


def party_is_minor(patron: Patron, day: datetime.date) -> bool:
    """Under 18 on `day` (Administrative Procedure Act 434/2003 s. 14: the guardians are heard and notified
    too); from the 18th birthday itself the party alone. A patron without a recorded date of birth is taken as
    of age (Koha requires the date for a child's card)."""
    return patron.date_of_birth is not None and age_on(patron.date_of_birth, day) < ADULT_AGE


def party_guardians(patron: Patron, day: datetime.date) -> dict[int, Patron]:
    """The guardians (patrons.Guardianship) of a party under 18 on `day`, by patron id; none for an adult."""
    if not party_is_minor(patron, day):
        return {}
    links = Guardianship.objects.filter(ward=patron).select_related("guardian").order_by("guardian_id")
    return {link.guardian_id: link.guardian for link in links}


def ban_party_guardians(*, actor: Actor, ban_id: int) -> list[tuple[int, str]]:
    """(patron id, name) of the guardians of the ban's party today, for the hearing and notification forms;
    none for a ban the actor cannot see. Read within the page's logged read of the ban."""
    ban = Ban.objects.visible_to(actor).filter(pk=ban_id).select_related("patron").first()
    return guardian_choices(ban.patron) if ban is not None else []


def guardian_choices(patron: Patron) -> list[tuple[int, str]]:
    """(patron id, name) of the guardians of a party under 18 today, for the hearing and notification forms."""
    guardians = party_guardians(patron, today())
    return [(pk, f"{guardian.first_name} {guardian.last_name}".strip()) for pk, guardian in guardians.items()]


def notified_guardian_choices(ban: Ban) -> list[tuple[int, str]]:
    """(patron id, name as the decision names them) of the guardians the ban's decision was sent to."""
    return [(row.guardian_id, row.name) for row in ban.guardians.all() if row.notified_on and row.guardian_id]


def ban_notified_guardians(*, actor: Actor, ban_id: int) -> list[tuple[int, str]]:
    """`notified_guardian_choices` of a ban the actor sees (none otherwise), for the receipt form."""
    ban = Ban.objects.visible_to(actor).filter(pk=ban_id).prefetch_related("guardians").first()
    return notified_guardian_choices(ban) if ban is not None else []


def bans_visible_to_staff(day: datetime.date | None = None) -> ConsortiumScopedQuerySet:
    """Bans in procedure or in force: an ended, cancelled or overturned ban is gone from every staff view. A ban
    waiting to become final has provisional dates and stays until it is final (bans.state)."""
    not_ended = Q(ends_on__gte=day or today()) | waiting_to_become_final()
    return Ban.objects.filter(status__in=STAFF_VISIBLE_BAN_STEPS).filter(not_ended)


def prohibitions_visible_to_staff(day: datetime.date | None = None) -> AccessProhibitionQuerySet:
    """Prohibitions in force or starting later: an ended or revoked one is gone from every staff view and from
    Koha (its record stays, with its history, for the DPO and the archive)."""
    return AccessProhibition.objects.not_ended(day or today())


@dataclass
class PatronBans:
    """The patron record's bans section (a patrons.restrictions.RestrictionSection): bans in procedure or in
    force, each with its `state`, and access prohibitions in force or starting later."""

    bans: list[Ban]
    prohibitions: list[AccessProhibition]
    day: datetime.date
    marks_template: str = "bans/includes/patron_marks.html"
    template: str = "bans/includes/patron_section.html"

    @property
    def active_bans(self) -> list[Ban]:
        return [ban for ban in self.bans if ban.state == BanState.ACTIVE]

    @property
    def active_prohibitions(self) -> list[AccessProhibition]:
        return [prohibition for prohibition in self.prohibitions if prohibition.starts_on <= self.day]

    @property
    def in_force(self) -> list[RestrictionInForce]:
        bans = [_in_force(ban, "library_use_ban") for ban in self.active_bans]
        return [*bans, *(_in_force(prohibition, "access_prohibition") for prohibition in self.active_prohibitions)]


def _in_force(decision: Ban | AccessProhibition, kind: str) -> RestrictionInForce:
    return RestrictionInForce(
        id=decision.pk,
        kind=kind,
        library=decision.library.koha_library_id,
        starts_on=decision.starts_on,
        ends_on=decision.ends_on,
    )


def patron_bans(patron: Patron, day: datetime.date) -> PatronBans:
    """The provider of the patron record's bans section (registered in BansConfig.ready); it runs inside the
    record's logged transaction, whose event already names the ban data category."""
    bans: list[Ban] = []
    if restriction_present(patron, BANS_PRESENT):
        bans = list(bans_visible_to_staff(day).filter(patron=patron).select_related("library").order_by("starts_on"))
    for ban in bans:
        ban.state = ban_state(ban, day)
    prohibitions: list[AccessProhibition] = []
    if restriction_present(patron, PROHIBITIONS_PRESENT):
        prohibitions = list(prohibitions_visible_to_staff(day).filter(patron=patron).select_related("library"))
    return PatronBans(bans=bans, prohibitions=prohibitions, day=day)


# The patron record's annotations (patrons.restrictions.restriction_presences): whether the patron has a ban or a
# prohibition staff see, asked in the patron's own query, so a patron with none costs patron_bans no query.
BANS_PRESENT = "bans_present"
PROHIBITIONS_PRESENT = "prohibitions_present"


def bans_presence(day: datetime.date) -> Exists:
    return Exists(bans_visible_to_staff(day).filter(patron=OuterRef("pk")))


def prohibitions_presence(day: datetime.date) -> Exists:
    return Exists(prohibitions_visible_to_staff(day).filter(patron=OuterRef("pk")))


@logs_not_found
def ban_get(*, actor: Actor, ban_id: int, archive: bool = False) -> Ban:
    """One ban with its procedure. Staff see it while it is in procedure or in force; with `archive`
    (ban deciders and the DPO), any ban, ended ones included. Logged as a read of the patron's ban data.
    """
    with transaction.atomic():
        # A record an erasure kept under a legal hold is the archive's (GDPR Art. 17(3)(b)), never staff's.
        bans = Ban.objects if archive else bans_visible_to_staff().filter(patron__held_after_erasure=False)
        ban = (
            bans.visible_to(actor)
            .filter(pk=ban_id)
            .select_related("patron__home_library", "library__municipality__consortium")
            .prefetch_related("notes", "guardians")
            .first()
        )
        action = Action.BAN_ARCHIVE_VIEW if archive else Action.PATRON_VIEW
        if ban is None:
            raise SelectorNotFound(action)
        ban.state = ban_state(ban)
        # GDPR Art. 18: the page warns, and the DPO finds the read in the log by its detail.
        ban.processing_restriction = restriction_in_force(ban.patron_id)
        restricted = f";{RESTRICTED_READ}" if ban.processing_restriction is not None else ""
        access_event_record(
            actor=actor,
            action=action,
            patron_ids=[ban.patron_id],
            data_categories=[DataCategory.BASIC, DataCategory.CONTACT, DataCategory.BANS, DataCategory.BAN_DECISION],
            detail=f"ban:{ban.pk}{restricted}",
        )
    return ban


@logs_not_found
def access_prohibition_get(*, actor: Actor, prohibition_id: int, archive: bool = False) -> AccessProhibition:
    """One access prohibition with its history. Staff see it while it is in force or starts later; with `archive`
    (ban deciders and the DPO), ended and revoked ones too. Logged as a read of the patron's ban data."""
    with transaction.atomic():
        prohibitions = AccessProhibition.objects if archive else prohibitions_visible_to_staff()
        prohibition = (
            prohibitions.visible_to(actor).filter(pk=prohibition_id).select_related("patron", "library").first()
        )
        action = Action.BAN_ARCHIVE_VIEW if archive else Action.PATRON_VIEW
        if prohibition is None:
            raise SelectorNotFound(action)
        access_event_record(
            actor=actor,
            action=action,
            patron_ids=[prohibition.patron_id],
            data_categories=[DataCategory.BASIC, DataCategory.BANS],
            detail=f"prohibition:{prohibition.pk}",
        )
    return prohibition


def ban_archive_page(*, actor: Actor, page_number: int | str = 1, page_size: int = 50) -> Page:
    """The decision archive: every decided ban of the consortium, ended ones included; listed patrons logged."""
    bans = (
        Ban.objects.visible_to(actor)
        .filter(decided_on__isnull=False)
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


# The decider's steps the queue lists: each one waits for the decider (a rectification request or a court
# appeal only once it has arrived); cancelling is offered on every ban, so it waits for nobody.
QUEUED_STEPS = (Step.DECISION, Step.APPEAL, Step.COURT_APPEAL)
_AWAITING_DECIDER = (
    Q(status__in=(BanStatus.HEARD, BanStatus.HEARING_WAIVED))
    | Q(
        status=BanStatus.NOTIFIED,
        appeal_lodged_on__isnull=False,
        appeal_outcome=AppealOutcome.PENDING,
        rectification_notified_on__isnull=True,
    )
    | Q(status=BanStatus.NOTIFIED, court_appeal_lodged_on__isnull=False, court_outcome=AppealOutcome.PENDING)
)


@dataclass(frozen=True)
class QueuedBan:
    """A ban waiting for the decider's `step`, due on `due_on` (None: no date in law, e.g. "without delay")."""

    ban: Ban
    step: Step
    due_on: datetime.date | None


def _competent_libraries(actor: Actor, day: datetime.date) -> Q:
    """The bans of the libraries the actor's delegations (the competence table) cover on `day`."""
    delegations = DecisionCompetence.objects.filter(decider_id=actor.user_id, valid_from__lte=day).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day)
    )
    covered = Q(pk__in=[])
    for library_id, municipality_id in delegations.values_list("library_id", "municipality_id"):
        covered |= Q(library_id=library_id) if library_id else Q(library__municipality_id=municipality_id)
    return covered


def _due_on(ban: Ban, step: Step) -> datetime.date | None:
    """A decision is due before the ban's proposed first day; a rectification request is decided "without delay"
    (Local Government Act 410/2015 s. 136) and a court's outcome is recorded when it comes: no date."""
    return ban.starts_on if step == Step.DECISION else None


def ban_decider_queue(*, actor: Actor, day: datetime.date | None = None) -> list[QueuedBan]:
    """The bans of the libraries the decider is competent for whose next step is theirs (the decision, a
    rectification request's outcome, a court appeal's outcome), the most urgent first. The listed patrons
    are logged like any list."""
    day = day or today()
    bans = (
        Ban.objects.visible_to(actor)
        .filter(_AWAITING_DECIDER & _competent_libraries(actor, day))
        .select_related("patron", "library")
        .order_by("starts_on", "id")
    )
    with transaction.atomic():
        queue = []
        for ban in bans:
            ban.state = ban_state(ban, day)
            steps = next_steps(ban, may_prepare=False, may_decide=True, day=day)
            step = next((step for step in QUEUED_STEPS if step in steps), None)
            if step is not None:
                queue.append(QueuedBan(ban=ban, step=step, due_on=_due_on(ban, step)))
        queue.sort(key=lambda item: (item.due_on is None, item.due_on or day, item.ban.pk))
        access_event_record(
            actor=actor,
            action=Action.BAN_QUEUE_VIEW,
            patron_ids=[item.ban.patron_id for item in queue],
            data_categories=[DataCategory.LISTING, DataCategory.BAN_DECISION],
        )
    return queue
