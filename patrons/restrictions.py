"""A patron's restrictions, as the apps that impose them provide them: how patrons reads what stands above it.

patrons stands below the apps that restrict a patron (bans/: library-use bans and access prohibitions), so it
never imports them. Each such app registers, in its AppConfig.ready, a provider of its part of a patron's
record, a guard for the notes it rests on, and what of the removed notes it keeps; the patron's record,
page and JSON, note removal and the retention of removed notes (patrons/privacy.py) ask them.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import QuerySet

from patrons.models import Note, Patron


@dataclass(frozen=True)
class RestrictionInForce:
    """One restriction in force on a patron, as the patron JSON lists it (`active_bans`)."""

    id: int
    kind: str
    library: str  # the Koha library_id (branchcode)
    starts_on: datetime.date
    ends_on: datetime.date


class RestrictionSection(Protocol):
    """One provider's part of a patron's record: its templates on the patron's page and what is in force.

    The page includes `marks_template` at the top (what is in force) and `template` among the sections,
    each with the section as `section`.
    """

    marks_template: str
    template: str

    @property
    def in_force(self) -> list[RestrictionInForce]: ...


# Called inside the patron record's logged transaction with the patron and the day the record is read for.
RestrictionProvider = Callable[[Patron, datetime.date], RestrictionSection]
# Raises core.errors.RuleBroken when its app still rests on the note (on `day`).
NoteRemovalGuard = Callable[[Note, datetime.date], None]
# The notes its app still keeps on the day (a decision's grounds), though their retention is due (a removal
# record's, or a behaviour note's).
RemovedNoteKeeper = Callable[[datetime.date], QuerySet[Note]]

# Called with the day: an expression over the patron's OuterRef("pk") that is true when its app may have anything
# in force or in procedure for that patron. The patron record asks it in the patron's own query, so a provider
# skips its own query for the many patrons with nothing (restriction_present).
RestrictionPresence = Callable[[datetime.date], Any]

_providers: list[RestrictionProvider] = []
_presences: dict[str, RestrictionPresence] = {}
_note_removal_guards: list[NoteRemovalGuard] = []
_removed_note_keepers: list[RemovedNoteKeeper] = []


def restriction_provider_register(provider: RestrictionProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def restriction_presence_register(name: str, presence: RestrictionPresence) -> None:
    """`name` becomes an annotation of the patron record's patron (a valid identifier, unique per app)."""
    _presences[name] = presence


def restriction_presences(day: datetime.date) -> dict[str, Any]:
    """The annotations that tell each provider whether it has anything for the patron (restriction_present)."""
    return {name: presence(day) for name, presence in _presences.items()}


def restriction_present(patron: Patron, name: str) -> bool:
    """Whether a provider must read its rows for `patron`: False only when the patron came with the annotation
    `name` (restriction_presences) and it said there is nothing; a patron read any other way is asked."""
    return bool(getattr(patron, name, True))


def note_removal_guard_register(guard: NoteRemovalGuard) -> None:
    if guard not in _note_removal_guards:
        _note_removal_guards.append(guard)


def removed_note_keeper_register(keeper: RemovedNoteKeeper) -> None:
    if keeper not in _removed_note_keepers:
        _removed_note_keepers.append(keeper)


def restrictions_of(patron: Patron, day: datetime.date) -> list[RestrictionSection]:
    """Every provider's section of the patron's record, in the order the apps registered them."""
    return [provider(patron, day) for provider in _providers]


def note_removal_check(note: Note, day: datetime.date) -> None:
    """Refuse to remove a note another app still rests on (each guard raises the rule it would break)."""
    for guard in _note_removal_guards:
        guard(note, day)


def notes_kept(day: datetime.date) -> list[QuerySet[Note]]:
    """Every keeper's notes kept on `day`, as querysets the retention of notes (patrons.privacy) excludes."""
    return [keeper(day) for keeper in _removed_note_keepers]
