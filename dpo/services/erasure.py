"""Erasure (GDPR Art. 17, oikeus tietojen poistamiseen): the dry run, the erasure, and its re-application.

A dry run lists exactly what would go, as counts and opaque ids, with warnings the DPO should weigh
(a child left without a guardian; a ban decision still kept under the archive rule, which may be a
ground to refuse under Art. 17(3)(b)). Refusing is done on the request (dpo.services.subject_requests).

Carried out, the patron row goes with everything that hangs on it (notes and their revisions, guardian
links both ways, adult guardianship, register memberships, bans and access prohibitions), and so does
the identity code in the silo. What stays: the access events about the patron, which hold only the
opaque id and go when the log's own retention ends, and the patron's subject requests, which show how
each request was answered (Art. 5(2)); their free-text reasons are blanked, since they may tell about
the person. Two ledgers with no personal data record that the patron was erased and when: an
ErasureTombstone in the main database and an ErasedPatron in the silo database. Each database is backed
up apart, so after a restore of either one `manage.py reapply_erasures` writes the lost ledger rows back
from the other and erases the patron again. A restore of both from before the erasure loses it.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.actor import Actor
from audit.models import AccessEventPatron, Action, DataCategory
from audit.services import access_event_record
from core.dates import age_on, today
from core.errors import NotFound, RuleBroken
from dpo.models import ErasureTombstone, RequestKind, SubjectRequest
from patrons.models import (
    SENSITIVE_NOTE_CATEGORIES,
    AccessProhibition,
    Ban,
    BanState,
    Guardianship,
    Note,
    NoteRevision,
    Patron,
    RegisterMembership,
    StaffProfile,
    Trusteeship,
)
from patrons.selectors import ban_state
from patrons.services._common import record_write
from patrons.services.registration import GUARDIAN_REQUIRED_UNDER_AGE
from sotu_silo.models import ErasedPatron
from sotu_silo.services import SILO, identity_code_erase, identity_code_exists, identity_code_stored_at

# What an erasure processes: the events about it name these kinds of data, never the data.
ERASED_CATEGORIES = [
    DataCategory.BASIC,
    DataCategory.CONTACT,
    DataCategory.PREFERENCES,
    DataCategory.NOTES,
    DataCategory.SENSITIVE_NOTE,
    DataCategory.GUARDIANS,
    DataCategory.TRUSTEESHIP,
    DataCategory.BANS,
    DataCategory.BAN_DECISION,
    DataCategory.REGISTERS,
    DataCategory.IDENTITY_CODE,
]
REAPPLY_ACTOR = "reapply_erasures"
REAPPLY_BATCH = 500
# Django's deletion counts per model, under the names the plan uses.
REMOVED_MODELS = {
    Patron: "patron",
    Note: "notes",
    NoteRevision: "note_revisions",
    Guardianship: "guardian_links",
    Trusteeship: "trusteeship",
    RegisterMembership: "register_memberships",
    Ban: "bans",
    AccessProhibition: "access_prohibitions",
}


class ProhibitionState(models.TextChoices):
    """What an access prohibition is on a given day, from its dates."""

    SCHEDULED = "scheduled", _("Starts later")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


@dataclass(frozen=True)
class DecisionLine:
    """A ban or access prohibition that would go: what it is today and how long the archive keeps it."""

    id: int
    state: str  # a BanState for a ban, a ProhibitionState for an access prohibition
    archived: bool
    retain_until: datetime.date | None
    state_label: str | Promise


@dataclass(frozen=True)
class PlanWarning:
    """Something the DPO should weigh before erasing; `ids` are opaque patron, ban or prohibition ids."""

    code: str
    message: str
    ids: list[int]


@dataclass
class ErasurePlan:
    """Exactly what an erasure of one patron removes and keeps: counts and opaque ids, no personal data."""

    patron_id: int
    note_ids: list[int]
    sensitive_note_ids: list[int]
    note_revisions: int
    guardian_ids: list[int]  # this patron's guardians: the links go, the guardians stay
    ward_ids: list[int]  # the patrons this one is a guardian of: the links go, the wards stay
    trusteeship: bool
    register_membership_ids: list[int]
    bans: list[DecisionLine]
    access_prohibitions: list[DecisionLine]
    identity_code: bool
    staff_profile: bool  # a staff member's own patron record: the link is cleared, the staff member stays
    access_events_kept: int
    subject_request_ids: list[int]
    warnings: list[PlanWarning] = field(default_factory=list)

    @property
    def removes(self) -> dict[str, int]:
        return {
            "patron": 1,
            "notes": len(self.note_ids),
            "sensitive_notes": len(self.sensitive_note_ids),
            "note_revisions": self.note_revisions,
            "guardian_links": len(self.guardian_ids) + len(self.ward_ids),
            "trusteeship": int(self.trusteeship),
            "register_memberships": len(self.register_membership_ids),
            "bans": len(self.bans),
            "access_prohibitions": len(self.access_prohibitions),
            "identity_code": int(self.identity_code),
            "staff_profile_links": int(self.staff_profile),
        }

    @property
    def keeps(self) -> dict[str, int]:
        return {"access_events": self.access_events_kept, "subject_requests": len(self.subject_request_ids)}


@dataclass(frozen=True)
class LedgerEntry:
    """One erased patron, as either ledger records them."""

    patron_id: int
    consortium_id: int
    erased_at: datetime.datetime


@dataclass
class ReapplyResult:
    """What `erasures_reapply` did (in a dry run: would do)."""

    erased_again: int
    tombstones_written_back: int  # to the main database's ledger, from the silo's
    silo_entries_written_back: int  # to the silo's ledger, from the main database's


@dataclass
class ErasureResult:
    """What `subject_request_erase` did: in a dry run only the plan, otherwise also what was removed."""

    request_id: int
    patron_id: int
    dry_run: bool
    plan: ErasurePlan
    removed: dict[str, int] = field(default_factory=dict)
    erased_at: datetime.datetime | None = None


# --- The plan ---------------------------------------------------------------------------------------------


def _prohibition_state(prohibition: AccessProhibition, day: datetime.date) -> ProhibitionState:
    if prohibition.ends_on < day:
        return ProhibitionState.ENDED
    return ProhibitionState.SCHEDULED if prohibition.starts_on > day else ProhibitionState.ACTIVE


def _ban_line(ban: Ban, day: datetime.date) -> DecisionLine:
    state = BanState(ban_state(ban, day))
    return DecisionLine(ban.pk, state.value, ban.archived_at is not None, ban.retain_until, state.label)


def _prohibition_line(prohibition: AccessProhibition, day: datetime.date) -> DecisionLine:
    state = _prohibition_state(prohibition, day)
    return DecisionLine(
        prohibition.pk, state.value, prohibition.archived_at is not None, prohibition.retain_until, state.label
    )


def _kept_by_archive(decision: Ban | AccessProhibition, day: datetime.date) -> bool:
    """A decision not yet archived, or archived and still within its retention, is an official document kept."""
    return decision.archived_at is None or decision.retain_until is None or decision.retain_until >= day


def _orphaned_children(patron: Patron, ward_ids: list[int], day: datetime.date) -> list[int]:
    """Wards under 15 whose only guardian is this patron: nobody would give their data or get their notices."""
    other_guardians = Guardianship.objects.filter(ward_id__in=ward_ids).exclude(guardian=patron)
    guarded = set(other_guardians.values_list("ward_id", flat=True))
    born = Patron.objects.filter(pk__in=ward_ids, date_of_birth__isnull=False).values_list("pk", "date_of_birth")
    return sorted(
        pk for pk, born_on in born if pk not in guarded and age_on(born_on, day) < GUARDIAN_REQUIRED_UNDER_AGE
    )


def _warnings(plan: ErasurePlan, patron: Patron, bans: list[Ban], prohibitions, day: datetime.date) -> list:
    warnings = []
    if orphans := _orphaned_children(patron, plan.ward_ids, day):
        warnings.append(
            PlanWarning(
                code="minor_left_without_guardian",
                message=ngettext(
                    "The patron is the only guardian of a child under %(age)d (patron %(ids)s); after the erasure "
                    "the child's record has no guardian. Record another guardian first.",
                    "The patron is the only guardian of children under %(age)d (patrons %(ids)s); after the erasure "
                    "their records have no guardian. Record another guardian first.",
                    len(orphans),
                )
                % {"age": GUARDIAN_REQUIRED_UNDER_AGE, "ids": ", ".join(map(str, orphans))},
                ids=orphans,
            )
        )
    kept_bans = [ban.pk for ban in bans if ban.decided_on is not None and _kept_by_archive(ban, day)]
    if kept_bans:
        warnings.append(
            PlanWarning(
                code="ban_decision_kept",
                message=ngettext(
                    "The decision of ban %(ids)s is an official document kept under the archive rule until its "
                    "retention ends; the erasure would remove it. You may refuse the erasure under GDPR Art. 17(3)(b).",
                    "The decisions of bans %(ids)s are official documents kept under the archive rule until their "
                    "retention ends; the erasure would remove them. You may refuse the erasure under GDPR "
                    "Art. 17(3)(b).",
                    len(kept_bans),
                )
                % {"ids": ", ".join(map(str, kept_bans))},
                ids=kept_bans,
            )
        )
    kept_prohibitions = [prohibition.pk for prohibition in prohibitions if _kept_by_archive(prohibition, day)]
    if kept_prohibitions:
        warnings.append(
            PlanWarning(
                code="prohibition_decision_kept",
                message=ngettext(
                    "Access prohibition %(ids)s is an official document kept under the archive rule until its "
                    "retention ends; the erasure would remove it. You may refuse the erasure under GDPR "
                    "Art. 17(3)(b).",
                    "Access prohibitions %(ids)s are official documents kept under the archive rule until their "
                    "retention ends; the erasure would remove them. You may refuse the erasure under GDPR "
                    "Art. 17(3)(b).",
                    len(kept_prohibitions),
                )
                % {"ids": ", ".join(map(str, kept_prohibitions))},
                ids=kept_prohibitions,
            )
        )
    return warnings


def erasure_plan(*, patron: Patron) -> ErasurePlan:
    """Exactly what erasing `patron` would remove and keep, with warnings; reads counts and ids only."""
    day = today()
    notes = list(Note.objects.filter(patron=patron).order_by("pk").values_list("pk", "category"))
    bans = list(Ban.objects.filter(patron=patron).order_by("pk"))
    prohibitions = list(AccessProhibition.objects.filter(patron=patron).order_by("pk"))
    plan = ErasurePlan(
        patron_id=patron.pk,
        note_ids=[pk for pk, _category in notes],
        sensitive_note_ids=[pk for pk, category in notes if category in SENSITIVE_NOTE_CATEGORIES],
        note_revisions=NoteRevision.objects.filter(note__patron=patron).count(),
        guardian_ids=sorted(Guardianship.objects.filter(ward=patron).values_list("guardian_id", flat=True)),
        ward_ids=sorted(Guardianship.objects.filter(guardian=patron).values_list("ward_id", flat=True)),
        trusteeship=Trusteeship.objects.filter(patron=patron).exists(),
        register_membership_ids=sorted(RegisterMembership.objects.filter(patron=patron).values_list("pk", flat=True)),
        bans=[_ban_line(ban, day) for ban in bans],
        access_prohibitions=[_prohibition_line(prohibition, day) for prohibition in prohibitions],
        identity_code=identity_code_exists(patron_id=patron.pk),
        staff_profile=StaffProfile.objects.filter(patron=patron).exists(),
        access_events_kept=AccessEventPatron.objects.filter(patron_id=patron.pk).count(),
        subject_request_ids=sorted(
            SubjectRequest.objects.filter(consortium_id=patron.consortium_id, patron_id=patron.pk).values_list(
                "pk", flat=True
            )
        ),
    )
    plan.warnings = _warnings(plan, patron, bans, prohibitions, day)
    return plan


# --- Carrying it out ----------------------------------------------------------------------------------------


def _erasure_request(*, actor: Actor, request_id: int, lock: bool) -> tuple[SubjectRequest, Patron]:
    """The actor's consortium's erasure request (NotFound otherwise) and its patron, once every rule holds."""
    requests = SubjectRequest.objects.filter(consortium_id=actor.consortium_id)
    if lock:
        requests = requests.select_for_update()
    subject_request = requests.filter(pk=request_id).first()
    if subject_request is None:
        raise NotFound
    if subject_request.kind != RequestKind.ERASURE:
        raise RuleBroken("not_an_erasure_request", _("This is not an erasure request; nothing is erased for it."))
    if subject_request.refusal_ground:
        raise RuleBroken(
            "request_refused",
            _("This erasure request was refused (%(ground)s); it cannot be carried out any more."),
            ground=subject_request.get_refusal_ground_display(),
        )
    # Either ledger will do: after a restore of one database the other still knows.
    ledgers = (ErasureTombstone, ErasedPatron)
    entries = [ledger.objects.filter(patron_id=subject_request.patron_id).first() for ledger in ledgers]
    erased_ats = [subject_request.erased_at, *(entry.erased_at for entry in entries if entry is not None)]
    if any(erased_ats):
        erased_at = min(at for at in erased_ats if at is not None)
        raise RuleBroken(
            "already_erased",
            _(
                "This patron's data was erased on %(date)s. If the record is back after a backup was restored, "
                "run `manage.py reapply_erasures`."
            ),
            date=f"{timezone.localtime(erased_at):%d.%m.%Y}",
        )
    patrons = Patron.objects.filter(consortium_id=actor.consortium_id)
    if lock:
        patrons = patrons.select_for_update(of=("self",))
    patron = patrons.filter(pk=subject_request.patron_id).first()
    if patron is None:
        raise RuleBroken("patron_not_found", _("The patron of this request is not in the patron register."))
    return subject_request, patron


def _erase_patron_data(*, patron_id: int, patron_row: bool = True) -> tuple[dict[str, int], list[int]]:
    """Delete the patron with everything that cascades (unless not `patron_row`), and their silo entry.

    The patron's subject requests stay as the record of how each was answered, for as long as the
    ledger does (dpo.retention), but their free-text reasons go: they may tell about the person.
    Answers the counts removed and the ids of the patrons whose guardian links went with it. Runs inside
    the caller's transactions on both databases.
    """
    removed = dict.fromkeys([*REMOVED_MODELS.values(), "identity_code", "staff_profile_links"], 0)
    linked: list[int] = []
    patron = Patron.objects.select_for_update(of=("self",)).filter(pk=patron_id).first() if patron_row else None
    if patron is not None:
        links = Guardianship.objects.filter(Q(ward=patron) | Q(guardian=patron)).values_list("ward_id", "guardian_id")
        linked = sorted({pid for pair in links for pid in pair} - {patron_id})
        removed["staff_profile_links"] = StaffProfile.objects.filter(patron=patron).count()
        _total, per_model = patron.delete()  # StaffProfile.patron is SET_NULL: the staff member stays
        for model, key in REMOVED_MODELS.items():
            removed[key] = per_model.get(model._meta.label, 0)
    removed["identity_code"] = int(identity_code_erase(patron_id=patron_id))
    SubjectRequest.objects.filter(patron_id=patron_id).update(extension_reason="", fee_reason="", refusal_details="")
    return removed, linked


def _record_linked(actor: Actor, linked: list[int]) -> None:
    """A guardian's or ward's link to the erased patron went: that is a change to their data too."""
    if linked:
        record_write(actor=actor, patron_ids=linked, categories=[DataCategory.GUARDIANS], detail="guardian_erased")


def subject_request_erase(*, actor: Actor, request_id: int, dry_run: bool) -> ErasureResult:
    """Carry out an erasure request, or (dry run) list exactly what it would remove.

    Rules: the request is the actor's consortium's (else NotFound), of kind erasure, not refused, not
    carried out already, and its patron is in the register. A dry run writes nothing but its access event.

    Two databases, one erasure: the silo transaction is opened first and the main one inside it, so the
    main database commits first. If the main commit fails, the silo rolls back and nothing changed. If
    the silo commit fails after it, the patron is gone and the tombstone records the erasure while the
    identity code is still stored and the silo's ledger lacks the entry: `manage.py reapply_erasures`
    writes the entry back from the tombstone and finishes the job. The other order could leave the code
    deleted and the patron, with no tombstone, still there, which nothing would notice.
    """
    if dry_run:
        with transaction.atomic():
            subject_request, patron = _erasure_request(actor=actor, request_id=request_id, lock=False)
            plan = erasure_plan(patron=patron)
            access_event_record(
                actor=actor,
                action=Action.PATRON_ERASE,
                patron_ids=[patron.pk],
                data_categories=ERASED_CATEGORIES,
                detail="dry_run",
            )
        return ErasureResult(request_id=subject_request.pk, patron_id=patron.pk, dry_run=True, plan=plan)
    with transaction.atomic(using=SILO), transaction.atomic(using="default"):
        subject_request, patron = _erasure_request(actor=actor, request_id=request_id, lock=True)
        plan = erasure_plan(patron=patron)
        patron_id, consortium_id = patron.pk, patron.consortium_id
        removed, linked = _erase_patron_data(patron_id=patron_id)
        now = timezone.now()
        ErasureTombstone.objects.create(
            patron_id=patron_id, consortium_id=consortium_id, erased_at=now, subject_request=subject_request
        )
        ErasedPatron.objects.create(patron_id=patron_id, consortium_id=consortium_id, erased_at=now)
        subject_request.erased_at, subject_request.completed_on = now, today()
        subject_request.save(update_fields=["erased_at", "completed_on"])
        access_event_record(
            actor=actor,
            action=Action.PATRON_ERASE,
            patron_ids=[patron_id],
            data_categories=ERASED_CATEGORIES,
            detail="erased",
        )
        _record_linked(actor, linked)
    return ErasureResult(
        request_id=subject_request.pk, patron_id=patron_id, dry_run=False, plan=plan, removed=removed, erased_at=now
    )


# --- After a backup restore ---------------------------------------------------------------------------------


def _ledger(model) -> dict[int, LedgerEntry]:
    rows = model.objects.values_list("patron_id", "consortium_id", "erased_at")
    return {patron_id: LedgerEntry(patron_id, consortium_id, erased_at) for patron_id, consortium_id, erased_at in rows}


def _ledgers_merged() -> tuple[dict[int, LedgerEntry], list[LedgerEntry], list[LedgerEntry]]:
    """Both ledgers as one, with the entries each one lacks (lost in a restore of its database).

    Should the two disagree on the time, the earlier one counts: fewer rows then pass as older than the
    erasure, so nobody created after it can be taken for the erased patron.
    """
    main, silo = _ledger(ErasureTombstone), _ledger(ErasedPatron)
    union = {
        patron_id: min(
            (entry for entry in (main.get(patron_id), silo.get(patron_id)) if entry is not None),
            key=lambda entry: entry.erased_at,
        )
        for patron_id in sorted(main.keys() | silo.keys())
    }
    missing_in_main = [union[patron_id] for patron_id in sorted(silo.keys() - main.keys())]
    missing_in_silo = [union[patron_id] for patron_id in sorted(main.keys() - silo.keys())]
    return union, missing_in_main, missing_in_silo


def _ledgers_write_back(missing_in_main: list[LedgerEntry], missing_in_silo: list[LedgerEntry]) -> None:
    """Restore the ledger rows a database restore lost, from the other ledger.

    A tombstone written back has no request: the restored request, if any, does not show the erasure.
    """
    ErasureTombstone.objects.bulk_create(
        [
            ErasureTombstone(patron_id=entry.patron_id, consortium_id=entry.consortium_id, erased_at=entry.erased_at)
            for entry in missing_in_main
        ],
        batch_size=REAPPLY_BATCH,
    )
    ErasedPatron.objects.bulk_create(
        [
            ErasedPatron(patron_id=entry.patron_id, consortium_id=entry.consortium_id, erased_at=entry.erased_at)
            for entry in missing_in_silo
        ],
        batch_size=REAPPLY_BATCH,
    )


def _returned(entries: list[LedgerEntry]) -> list[tuple[int, bool]]:
    """The erased patrons whose record or silo entry is back as it was before the erasure, each with
    whether the record is back (else only the identity code is).

    Only rows created before the erasure count: a restored row keeps its creation time. After a restore
    from before the patron was even created, the id sequence may hand the same id to a new patron, and
    that patron must not be erased. A code stored before the erasure is the erased patron's.
    """
    by_patron = {entry.patron_id: entry for entry in entries}

    def before_erasure(rows) -> set[int]:
        return {pk for pk, created_at in rows if created_at <= by_patron[pk].erased_at}

    patrons = before_erasure(Patron.objects.filter(pk__in=by_patron).values_list("pk", "created_at"))
    codes = before_erasure(identity_code_stored_at(patron_ids=list(by_patron)).items())
    return [(pk, pk in patrons) for pk in sorted(patrons | codes)]


def erasures_reapply(*, dry_run: bool = False, progress: Callable[[int, int], None] | None = None) -> ReapplyResult:
    """Repair either erasure ledger from the other, then erase again every erased patron whose record or
    identity code is back (after a backup restore).

    A second run finds nothing to do. One ERASURE_REAPPLIED access event lists the ids of the patrons
    erased again. The transactions nest as in `subject_request_erase`.
    """
    union, missing_in_main, missing_in_silo = _ledgers_merged()
    entries = list(union.values())
    total = len(entries)
    back: list[tuple[int, bool]] = []
    for start in range(0, total, REAPPLY_BATCH):
        batch = entries[start : start + REAPPLY_BATCH]
        back += _returned(batch)
        if progress is not None:
            progress(start + len(batch), total)
    result = ReapplyResult(
        erased_again=len(back),
        tombstones_written_back=len(missing_in_main),
        silo_entries_written_back=len(missing_in_silo),
    )
    if dry_run or not (back or missing_in_main or missing_in_silo):
        return result
    actor = Actor(
        user_id=None,
        username=REAPPLY_ACTOR,
        municipality_id=None,
        consortium_id=None,
        client_ip=None,
        resource=REAPPLY_ACTOR,
    )
    with transaction.atomic(using=SILO), transaction.atomic(using="default"):
        _ledgers_write_back(missing_in_main, missing_in_silo)
        if not back:
            return result
        linked: set[int] = set()
        for patron_id, patron_row in back:
            _removed, links = _erase_patron_data(patron_id=patron_id, patron_row=patron_row)
            linked.update(links)
        erased_ids = [patron_id for patron_id, _row in back]
        ErasureTombstone.objects.filter(patron_id__in=erased_ids).update(reapplied_at=timezone.now())
        access_event_record(
            actor=actor,
            action=Action.ERASURE_REAPPLIED,
            patron_ids=erased_ids,
            data_categories=ERASED_CATEGORIES,
            detail="restored_after_backup",
        )
        _record_linked(actor, sorted(linked - set(erased_ids)))
    return result
