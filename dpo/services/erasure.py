"""Erasure (GDPR Art. 17, oikeus tietojen poistamiseen): the dry run, the erasure, and its re-application.

Every app's privacy contract (core.privacy_contract) says what it would remove and keep; a new app is
in the erasure once it declares one. A dry run lists exactly what would go, as counts and opaque ids,
with warnings the DPO should weigh (a child left without a guardian). Refusing is done on the request
(dpo.services.subject_requests).

Legal holds (Art. 17(3)(b), (e)) make the erasure partial: an app declares what must stay, why and until
when (`PrivacyContract.legal_holds`): a ban decision still within its archive period (bans), with the notes
it cites and the patron record it names, reduced to name and date of birth; the identity code of a patron
who owes the library money by Koha's balance (koha declares, the silo keeps). The plan lists them; the
erasure keeps what they hold, records each as a dpo.LegalHold row, and the retention rule `legal_holds`
erases what was kept the day after the hold ends.

Carried out, the patron row goes with everything that hangs on it (notes and their revisions, guardian
links both ways, adult guardianship, register memberships, bans and access prohibitions), and so does
the identity code in the silo. What stays: the access events about the patron, which hold only the
opaque id and go when the log's own retention ends, and the patron's subject requests, which show how
each request was answered (Art. 5(2)); their free-text reasons are blanked, since they may tell about
the person. Two ledgers with no personal data record that the patron was erased and when: an
ErasureTombstone in the main database and the ledger an app keeps in its own database (the silo's
ErasedPatron). Each database is backed up apart, so after a restore of either one `manage.py
reapply_erasures` writes the lost ledger rows back from the other and erases the patron again. A
restore of both from before the erasure loses it.

Systems outside this service's databases (the library system, GDPR Art. 19) are erased after the local
erasure has committed (ErasureDone.outside), in this order on purpose: a call over the network cannot be
rolled back, so made inside the transaction it could leave the patron gone there and still here; made
after, its failure leaves the local erasure whole. While the calls run, the request records an
unconfirmed part (should the process die, the DPO sees it); then it records each part that still holds
the patron, with the reason as a code. Such a request stays open until the DPO records the ground for
keeping (`subject_request_keeping_record`); with nothing held it is answered at once.
"""

import datetime
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import Action, DataCategory
from audit.services import access_event_record
from core.dates import shown_date, today
from core.errors import NotFound, RuleBroken
from core.privacy_contract import (
    DataSubject,
    DecisionLine,
    ErasureContext,
    ErasureLedger,
    ErasureLine,
    ErasurePart,
    LedgerEntry,
    LegalHold,
    OutsideErasure,
    PatronsChanged,
    PlanWarning,
    PrivacyContract,
    data_subject,
    privacy_contracts,
)
from dpo.models import ErasureTombstone, RequestKind, SubjectRequest
from dpo.models import LegalHold as LegalHoldRow
from dpo.services.subject_requests import subject_request_answered_by

REAPPLY_ACTOR = "reapply_erasures"
REAPPLY_BATCH = 500
# Recorded while the outside erasures run; replaced by their results.
UNCONFIRMED = {"key": "", "reason": "unconfirmed"}


@dataclass
class ErasurePlan:
    """Exactly what an erasure of one patron removes and keeps: counts and opaque ids, no personal data."""

    patron_id: int
    removal_lines: list[ErasureLine]
    kept_lines: list[ErasureLine]
    details: dict[str, object]  # the ids and decisions under the API's names (`note_ids`, `bans`)
    decisions: list[DecisionLine]
    warnings: list[PlanWarning] = field(default_factory=list)
    holds: list[LegalHold] = field(default_factory=list)

    @property
    def removes(self) -> dict[str, int]:
        return {line.key: line.count for line in self.removal_lines}

    @property
    def keeps(self) -> dict[str, int]:
        return {line.key: line.count for line in self.kept_lines}

    @property
    def shown(self) -> dict[str, object]:
        """The plan as the erasure API answers it."""
        return {
            "removes": self.removes,
            "keeps": self.keeps,
            **self.details,
            "warnings": self.warnings,
            "holds": self.holds,
        }


@dataclass
class ReapplyResult:
    """What `erasures_reapply` did (in a dry run: would do)."""

    erased_again: int
    tombstones_written_back: int  # to the main database's ledger, from the silo's
    silo_entries_written_back: int  # to the apps' own ledgers (the silo's), from the main database's


@dataclass
class ErasureResult:
    """What `subject_request_erase` did: in a dry run only the plan, otherwise also what was removed."""

    request_id: int
    patron_id: int
    dry_run: bool
    plan: ErasurePlan
    subject: DataSubject | None = None  # whom the dry run would erase, for the DPO's page to name before confirming
    removed: dict[str, int] = field(default_factory=dict)
    erased_at: datetime.datetime | None = None
    held_elsewhere: list[dict[str, str]] = field(default_factory=list)


def _contracts() -> list[PrivacyContract]:
    return privacy_contracts("erasure")


def _erased_categories() -> list[str]:
    """What an erasure processes: the events about it name these kinds of data, never the data."""
    return sorted({category for contract in _contracts() for category in contract.erased_categories})


def _ledgers() -> list[ErasureLedger]:
    """The apps' own ledgers of erasures, beside the main database's tombstones."""
    return [contract.ledger for contract in _contracts() if contract.ledger is not None]


@contextmanager
def _erasure_transaction() -> Iterator[None]:
    """One transaction on each database the apps' data is in, the main one innermost.

    The main database commits first. If its commit fails, the others roll back and nothing changed. If
    another one's commit fails after it, the patron is gone and the tombstone records the erasure while
    that database still holds its part and lacks its ledger entry: `manage.py reapply_erasures` writes
    the entry back from the tombstone and finishes the job. The other order could leave the identity
    code deleted and the patron, with no tombstone, still there, which nothing would notice.
    """
    aliases = dict.fromkeys(alias for contract in _contracts() for alias in contract.databases)
    with ExitStack() as stack:
        for alias in aliases:
            stack.enter_context(transaction.atomic(using=alias))
        stack.enter_context(transaction.atomic(using="default"))
        yield


# --- The plan ---------------------------------------------------------------------------------------------


def _record_hold(holds: list[LegalHold], patron_id: int) -> LegalHold | None:
    """The hold on the patron record, reduced, when a hold's data needs it (a kept decision names its party;
    billing reveals a kept code through it): as long as the longest such hold."""
    on_record = [hold for hold in holds if hold.needs_patron_record]
    if not on_record:
        return None
    longest = max(on_record, key=lambda hold: hold.until)
    return LegalHold(
        key="patron",
        label=_("Patron record, reduced to the name and date of birth"),
        ground=longest.ground,
        reason="kept_data_needs_record",
        reason_text=_(
            "What a legal hold keeps needs the patron record: a kept decision names the patron as its party; "
            "billing reveals a kept identity code through the record."
        ),
        until=longest.until,
        ids=(patron_id,),
    )


def _parts(context: ErasureContext) -> tuple[list[ErasurePart], list[LegalHold]]:
    """Every app's plan under the context's holds, and the holds under which some app keeps something."""
    parts = [contract.erasure_plan(context.patron_id, context) for contract in _contracts()]
    kept = {line.key for part in parts for line in part.keeps if line.count}
    return parts, [hold for hold in context.holds if hold.key in kept]


def erasure_plan(*, patron_id: int, consortium_id: int) -> ErasurePlan:
    """Exactly what erasing the patron would remove and keep, with warnings and the legal holds (Art. 17(3)(b),
    (e)) on what is kept; reads counts and ids only. A hold counts only when an app really keeps something
    under it (a claim holds the identity code only when one is stored); the patron record is then held too
    when a remaining hold needs it, and the plan is made again with that hold."""
    context = ErasureContext(patron_id=patron_id, consortium_id=consortium_id, day=today())
    declared = [hold for contract in _contracts() for hold in contract.legal_holds(patron_id, context)]
    parts, holds = _parts(replace(context, holds=tuple(declared)))
    if (record := _record_hold(holds, patron_id)) is not None:
        parts, holds = _parts(replace(context, holds=(*holds, record)))
    return ErasurePlan(
        patron_id=patron_id,
        removal_lines=[line for part in parts for line in part.removes],
        kept_lines=[line for part in parts for line in part.keeps],
        details={name: value for part in parts for name, value in part.details.items()},
        decisions=[line for part in parts for line in part.decisions],
        warnings=[warning for part in parts for warning in part.warnings],
        holds=holds,
    )


# --- Carrying it out ----------------------------------------------------------------------------------------


def _erasure_request(*, actor: Actor, request_id: int, lock: bool) -> tuple[SubjectRequest, DataSubject]:
    """The actor's consortium's erasure request (NotFound otherwise) and its patron, once every rule holds."""
    requests = SubjectRequest.objects.visible_to(actor)
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
    # Any ledger will do: after a restore of one database another still knows.
    tombstone = ErasureTombstone.objects.filter(patron_id=subject_request.patron_id).first()
    entries = [tombstone, *(ledger.entry(subject_request.patron_id) for ledger in _ledgers())]
    erased_ats = [subject_request.erased_at, *(entry.erased_at for entry in entries if entry is not None)]
    if any(erased_ats):
        erased_at = min(at for at in erased_ats if at is not None)
        raise RuleBroken(
            "already_erased",
            _(
                "This patron's data was erased on %(date)s. If the record is back after a backup was restored, "
                "reapply the erasures (the button on the admin's home page)."
            ),
            date=shown_date(timezone.localtime(erased_at)),
        )
    subject = data_subject(subject_request.patron_id, consortium_id=actor.consortium_id, lock=lock)
    if subject is None:
        raise RuleBroken("patron_not_found", _("The patron of this request is not in the patron register."))
    return subject_request, subject


def _erase_patron_data(
    context: ErasureContext,
) -> tuple[dict[str, int], list[PatronsChanged], list[Callable[[], OutsideErasure]]]:
    """Erase the patron from every app, the last `erasure_order` first, so what hangs on the patron record
    goes before the record; answers the counts removed, in the plan's order, the other patrons whose
    data changed with it, and the outside erasures to run once this has committed. Runs inside the
    caller's transactions on every database."""
    contracts = _contracts()
    done = [contract.erase(context.patron_id, context) for contract in reversed(contracts)][::-1]
    removed = {key: count for part in done for key, count in part.removed.items()}
    outside = [call for part in done for call in part.outside]
    return removed, [change for part in done for change in part.changed], outside


def _erase_outside(
    actor: Actor, request_id: int, patron_id: int, calls: list[Callable[[], OutsideErasure]]
) -> list[dict[str, str]]:
    """Run the outside erasures (after the local one committed) and record on the request what is still held.

    Each attempt is an access event about the patron; its detail is the reason code, never the data.
    """
    results = [call() for call in calls]
    held = [{"key": result.key, "reason": result.reason} for result in results if result.held]
    with transaction.atomic():
        subject_request = SubjectRequest.objects.select_for_update().get(pk=request_id)
        subject_request.held_elsewhere = held
        subject_request.completed_on = None if held else today()
        answered = [] if held else subject_request_answered_by(actor=actor, subject_request=subject_request)
        subject_request.save(update_fields=["held_elsewhere", "completed_on", *answered])
        for result in results:
            access_event_record(
                actor=actor,
                action=result.action,
                patron_ids=[patron_id],
                detail=result.reason or "deleted",
            )
    return held


def _record_changed(actor: Actor, changes: list[PatronsChanged], erased_ids: list[int]) -> None:
    """A guardian's or ward's link to the erased patron went: that is a change to their data too."""
    groups: dict[tuple[tuple[str, ...], str], set[int]] = {}
    for change in changes:
        groups.setdefault((change.data_categories, change.detail), set()).update(change.patron_ids)
    for (categories, detail), patron_ids in groups.items():
        if others := sorted(patron_ids - set(erased_ids)):
            access_event_record(
                actor=actor, action=Action.PATRON_UPDATE, patron_ids=others, data_categories=categories, detail=detail
            )


def _confirmation_check(subject: DataSubject, confirm: str) -> None:
    """The irreversible step needs the patron's card number typed: a DPO who has the wrong request open (or a
    script with a wrong id) is stopped before anything goes. The message never repeats the number."""
    typed = "".join(confirm.split())
    if not typed or typed != subject.cardnumber:
        raise RuleBroken(
            "confirmation_mismatch",
            _("Type the card number of the patron to be erased to confirm the erasure; what was typed is not it."),
        )


def subject_request_erase(*, actor: Actor, request_id: int, dry_run: bool, confirm: str = "") -> ErasureResult:
    """Carry out an erasure request, or (dry run) list exactly what it would remove.

    Rules: the request is the actor's consortium's (else NotFound), of kind erasure, not refused, not
    carried out already, and its patron is in the register; the erasure itself needs `confirm`, the patron's
    card number as typed (confirmation_mismatch). A dry run writes nothing but its access event, an
    ERASURE_PLAN read (not an erasure: the patron's access report must not say their data was erased). The
    transactions on the databases nest as `_erasure_transaction` says.
    """
    if dry_run:
        with transaction.atomic():
            subject_request, subject = _erasure_request(actor=actor, request_id=request_id, lock=False)
            plan = erasure_plan(patron_id=subject.patron_id, consortium_id=subject.consortium_id)
            access_event_record(
                actor=actor,
                action=Action.ERASURE_PLAN,
                patron_ids=[subject.patron_id],
                data_categories=[DataCategory.BASIC],
                detail=f"request:{subject_request.pk}",
            )
        return ErasureResult(
            request_id=subject_request.pk, patron_id=subject.patron_id, dry_run=True, plan=plan, subject=subject
        )
    with _erasure_transaction():
        subject_request, subject = _erasure_request(actor=actor, request_id=request_id, lock=True)
        _confirmation_check(subject, confirm)
        patron_id, consortium_id = subject.patron_id, subject.consortium_id
        plan = erasure_plan(patron_id=patron_id, consortium_id=consortium_id)
        removed, changes, outside = _erase_patron_data(
            ErasureContext(patron_id=patron_id, consortium_id=consortium_id, day=today(), holds=tuple(plan.holds))
        )
        LegalHoldRow.objects.bulk_create(
            [
                LegalHoldRow(
                    consortium_id=consortium_id,
                    subject_request=subject_request,
                    patron_id=patron_id,
                    key=hold.key,
                    ids=list(hold.ids),
                    ground=hold.ground,
                    reason=hold.reason,
                    held_until=hold.until,
                )
                for hold in plan.holds
            ]
        )
        now = timezone.now()
        ErasureTombstone.objects.create(
            patron_id=patron_id, consortium_id=consortium_id, erased_at=now, subject_request=subject_request
        )
        for ledger in _ledgers():
            ledger.write([LedgerEntry(patron_id=patron_id, consortium_id=consortium_id, erased_at=now)])
        subject_request.erased_at = now
        subject_request.completed_on = None if outside else today()
        subject_request.held_elsewhere = [UNCONFIRMED] if outside else []
        answered = [] if outside else subject_request_answered_by(actor=actor, subject_request=subject_request)
        subject_request.save(update_fields=["erased_at", "completed_on", "held_elsewhere", *answered])
        access_event_record(
            actor=actor,
            action=Action.PATRON_ERASE,
            patron_ids=[patron_id],
            data_categories=_erased_categories(),
            detail="erased",
        )
        _record_changed(actor, changes, [patron_id])
    held = _erase_outside(actor, subject_request.pk, patron_id, outside) if outside else []
    return ErasureResult(
        request_id=subject_request.pk,
        patron_id=patron_id,
        dry_run=False,
        plan=plan,
        removed=removed,
        erased_at=now,
        held_elsewhere=held,
    )


# --- After a backup restore ---------------------------------------------------------------------------------


def _tombstones() -> dict[int, LedgerEntry]:
    rows = ErasureTombstone.objects.values_list("patron_id", "consortium_id", "erased_at")
    return {patron_id: LedgerEntry(patron_id, consortium_id, erased_at) for patron_id, consortium_id, erased_at in rows}


def _ledgers_merged() -> tuple[
    dict[int, LedgerEntry], list[LedgerEntry], list[tuple[ErasureLedger, list[LedgerEntry]]]
]:
    """All ledgers as one, with the entries each one lacks (lost in a restore of its database).

    Should they disagree on the time, the earliest counts: fewer rows then pass as older than the
    erasure, so nobody created after it can be taken for the erased patron.
    """
    main = _tombstones()
    others = [(ledger, ledger.entries()) for ledger in _ledgers()]
    every = [main, *(entries for _ledger, entries in others)]
    union = {
        patron_id: min(
            (entries[patron_id] for entries in every if patron_id in entries), key=lambda entry: entry.erased_at
        )
        for patron_id in sorted(set().union(*every))
    }
    missing_in_main = [union[patron_id] for patron_id in sorted(union.keys() - main.keys())]
    missing_elsewhere = [
        (ledger, [union[patron_id] for patron_id in sorted(union.keys() - entries.keys())])
        for ledger, entries in others
    ]
    return union, missing_in_main, missing_elsewhere


def _ledgers_write_back(
    missing_in_main: list[LedgerEntry], missing_elsewhere: list[tuple[ErasureLedger, list[LedgerEntry]]]
) -> None:
    """Restore the ledger rows a database restore lost, from the other ledgers.

    A tombstone written back has no request: the restored request, if any, does not show the erasure.
    """
    ErasureTombstone.objects.bulk_create(
        [
            ErasureTombstone(patron_id=entry.patron_id, consortium_id=entry.consortium_id, erased_at=entry.erased_at)
            for entry in missing_in_main
        ],
        batch_size=REAPPLY_BATCH,
    )
    for ledger, entries in missing_elsewhere:
        ledger.write(entries)


def _returned(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """The erased patrons some app holds data of again, as it was before the erasure (after a restore).

    Only data stored before the erasure counts: a restored row keeps its creation time. After a restore
    from before the patron was even created, the id sequence may hand the same id to a new patron, and
    that patron must not be erased. A code stored before the erasure is the erased patron's.
    """
    by_patron = {entry.patron_id: entry for entry in entries}
    back: set[int] = set()
    for contract in _contracts():
        held = contract.held_since(list(by_patron))
        back.update(pk for pk, stored_at in held.items() if stored_at <= by_patron[pk].erased_at)
    return [by_patron[pk] for pk in sorted(back)]


def _holds_in_force(entry: LedgerEntry) -> tuple[LegalHold, ...]:
    """The holds of the erasure not lifted yet: an erasure applied again keeps what they keep."""
    rows = LegalHoldRow.objects.filter(patron_id=entry.patron_id, lifted_on__isnull=True)
    return tuple(
        LegalHold(
            key=row.key,
            label=row.key,
            ground=row.ground,
            reason=row.reason,
            reason_text=row.reason,
            until=row.held_until,
            ids=tuple(row.ids),
        )
        for row in rows
    )


def _of_consortium(entries: list[LedgerEntry], consortium_id: int | None) -> list[LedgerEntry]:
    return entries if consortium_id is None else [entry for entry in entries if entry.consortium_id == consortium_id]


def erasures_reapply(
    *, dry_run: bool = False, progress: Callable[[int, int], None] | None = None, actor: Actor | None = None
) -> ReapplyResult:
    """Repair the erasure ledgers from each other, then erase again every erased patron whose data is back
    (after a backup restore).

    Run by `manage.py reapply_erasures` (no actor: every consortium, logged as the command), or by a DPO
    from the admin (`actor`: their own consortium's erasures only, logged as theirs). A second run finds
    nothing to do. One ERASURE_REAPPLIED access event lists the ids of the patrons erased again. The
    transactions nest as in `subject_request_erase`.
    """
    union, missing_in_main, missing_elsewhere = _ledgers_merged()
    scope = None if actor is None else actor.consortium_id
    missing_in_main = _of_consortium(missing_in_main, scope)
    missing_elsewhere = [(ledger, _of_consortium(missing, scope)) for ledger, missing in missing_elsewhere]
    entries = _of_consortium(list(union.values()), scope)
    total = len(entries)
    back: list[LedgerEntry] = []
    for start in range(0, total, REAPPLY_BATCH):
        batch = entries[start : start + REAPPLY_BATCH]
        back += _returned(batch)
        if progress is not None:
            progress(start + len(batch), total)
    written_elsewhere = sum(len(missing) for _ledger, missing in missing_elsewhere)
    result = ReapplyResult(
        erased_again=len(back),
        tombstones_written_back=len(missing_in_main),
        silo_entries_written_back=written_elsewhere,
    )
    if dry_run or not (back or missing_in_main or written_elsewhere):
        return result
    actor = actor or Actor(
        user_id=None,
        username=REAPPLY_ACTOR,
        municipality_id=None,
        consortium_id=None,
        client_ip=None,
        resource=REAPPLY_ACTOR,
    )
    with _erasure_transaction():
        _ledgers_write_back(missing_in_main, missing_elsewhere)
        if not back:
            return result
        changes: list[PatronsChanged] = []
        day = today()
        for entry in back:
            context = ErasureContext(
                entry.patron_id, entry.consortium_id, day, erased_at=entry.erased_at, holds=_holds_in_force(entry)
            )
            # The outside systems were erased by the erasure itself; a restore here did not bring them back.
            _removed, changed, _outside = _erase_patron_data(context)
            changes += changed
        erased_ids = [entry.patron_id for entry in back]
        ErasureTombstone.objects.filter(patron_id__in=erased_ids).update(reapplied_at=timezone.now())
        access_event_record(
            actor=actor,
            action=Action.ERASURE_REAPPLIED,
            patron_ids=erased_ids,
            data_categories=_erased_categories(),
            detail="restored_after_backup",
        )
        _record_changed(actor, changes, erased_ids)
    return result
