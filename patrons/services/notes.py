"""Staff notes (huomautus): write, edit with history, remove with a record, and record a PIN given by phone."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import Action, DataCategory
from core.errors import NotFound, RuleBroken
from patrons.models import SENSITIVE_NOTE_CATEGORIES, Note, NoteCategory, NoteRevision, Patron
from patrons.restrictions import note_removal_check
from patrons.services._common import consortium_patron_ids, patron_for_write, record_write, today, write_transaction
from staff.models import Library
from staff.typed_text import free_text_check

NOTE_MAX_LENGTH = 4000


def note_categories(note: Note) -> list[str]:
    return [DataCategory.SENSITIVE_NOTE if note.sensitive else DataCategory.NOTES]


def note_text_check(*, actor: Actor, patron_id: int, text: str, field: str = "text", category: str = "") -> None:
    """No identity code in a note's text (or its removal reason); a refusal is a denied event of the write."""
    sensitive = category in SENSITIVE_NOTE_CATEGORIES
    free_text_check(
        actor=actor,
        model=Note,
        texts={field: text},
        action=Action.PATRON_UPDATE,
        patron_ids=consortium_patron_ids(actor=actor, patron_id=patron_id),
        data_categories=[DataCategory.SENSITIVE_NOTE if sensitive else DataCategory.NOTES],
    )


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise RuleBroken("text_required", _("Write the note's text."))
    if len(text) > NOTE_MAX_LENGTH:
        raise RuleBroken("text_too_long", _("A note can be at most %(max)d characters long."), max=NOTE_MAX_LENGTH)
    return text


def _category(category: str) -> str:
    if category not in NoteCategory.values:
        raise RuleBroken(
            "category_unknown",
            _("Unknown note category. Use one of: %(categories)s."),
            categories=", ".join(NoteCategory.values),
        )
    return category


def _incident_library(patron: Patron, library: str) -> Library:
    """The library where the incident happened: one of the patron's consortium's (default: the home library)."""
    if not library:
        return patron.home_library
    found = Library.objects.of_consortium(patron.consortium_id).filter(koha_library_id=library).first()
    if found is None:
        raise RuleBroken(
            "library_unknown", _("Unknown library: give the Koha library id of one of your consortium's libraries.")
        )
    return found


def _incident_on(incident_on: datetime.date | None) -> datetime.date:
    if incident_on is None:
        return today()
    if incident_on > today():
        raise RuleBroken("incident_in_future", _("The date of the incident cannot be in the future."))
    return incident_on


def note_create(
    *,
    actor: Actor,
    patron_id: int,
    category: str,
    text: str,
    library: str = "",
    incident_on: datetime.date | None = None,
) -> Note:
    """Write a note about an incident at `library` (a Koha library id; default the patron's home library) on
    `incident_on` (default today, never in the future): a ban rests only on its own library's notes."""
    note_text_check(actor=actor, patron_id=patron_id, text=text, category=category)
    with write_transaction():
        patron = patron_for_write(actor=actor, patron_id=patron_id)
        note = Note.objects.create(
            patron=patron,
            category=_category(category),
            text=_clean_text(text),
            library=_incident_library(patron, library),
            incident_on=_incident_on(incident_on),
            created_at=timezone.now(),
            created_by=actor.username,
        )
        record_write(actor=actor, patron_ids=[patron.pk], categories=note_categories(note), detail="note_added")
    return note


def _note_for_write(*, actor: Actor, patron_id: int, note_id: int) -> tuple[Patron, Note]:
    patron = patron_for_write(actor=actor, patron_id=patron_id)
    note = Note.objects.select_for_update().filter(patron=patron, pk=note_id).first()
    if note is None:
        raise NotFound
    if note.removed_at is not None:
        raise RuleBroken("note_removed", _("This note has been removed and can no longer be changed."))
    return patron, note


def note_update(*, actor: Actor, patron_id: int, note_id: int, text: str) -> Note:
    """Replace a note's text; the replaced text is kept as a revision."""
    note_text_check(actor=actor, patron_id=patron_id, text=text)
    with write_transaction():
        patron, note = _note_for_write(actor=actor, patron_id=patron_id, note_id=note_id)
        new_text = _clean_text(text)
        if new_text == note.text:
            return note
        now = timezone.now()
        NoteRevision.objects.create(
            note=note,
            category=note.category,
            text=note.text,
            written_at=note.updated_at or note.created_at,
            written_by=note.updated_by or note.created_by,
            replaced_at=now,
        )
        note.text, note.updated_at, note.updated_by = new_text, now, actor.username
        note.save(update_fields=["text", "updated_at", "updated_by"])
        record_write(actor=actor, patron_ids=[patron.pk], categories=note_categories(note), detail="note_edited")
    return note


def note_remove(*, actor: Actor, patron_id: int, note_id: int, reason: str) -> Note:
    """Remove a note: its text and earlier versions are erased; who removed it, when and why stays.

    A note another app rests on cannot be removed (patrons.restrictions): a behaviour note that a ban in
    procedure or in force cites is the ban's grounds.
    """
    reason = (reason or "").strip()
    if not reason:
        raise RuleBroken("reason_required", _("Say why the note is removed."))
    note_text_check(actor=actor, patron_id=patron_id, text=reason, field="removal_reason")
    with write_transaction():
        patron, note = _note_for_write(actor=actor, patron_id=patron_id, note_id=note_id)
        note_removal_check(note, today())
        note.revisions.all().delete()
        note.text = ""
        note.removed_at, note.removed_by, note.removal_reason = timezone.now(), actor.username, reason[:300]
        note.save(update_fields=["text", "removed_at", "removed_by", "removal_reason"])
        record_write(actor=actor, patron_ids=[patron.pk], categories=note_categories(note), detail="note_removed")
    return note
