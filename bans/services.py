"""The library-use ban procedure (Finland) and access prohibitions (Sweden).

Finland, Library Act 1492/2016 s. 15: a ban concerns one person and one library, lasts at most
30 days, and rests on the statute's alternatives as written: the person disturbs the library's use
repeatedly AND substantially (one ground), endangers safety, or damages property.
Administrative Procedure Act 434/2003: the patron is heard first (s. 34) and the
decision states its reasons, exactly what is decided and a contact person (s. 44). Local
Government Act 410/2015: a rectification request within 14 days of notification; a letter is
deemed received on the 7th day after sending, an electronic notice on the 3rd.

Sweden: a library cannot ban. It applies to the prosecutor, who may decide an access
prohibition (tillträdesförbud) of at most one year for a person aged at least 15; the library
records that decision.

Each function checks every rule before it writes, raises RuleBroken naming the first rule
broken, and writes in one transaction together with the patron's access-log event.
"""

import datetime
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import Action, DataCategory
from bans.changes import restrictions_changed
from bans.models import (
    AccessProhibition,
    AppealOutcome,
    Ban,
    BanGround,
    BanGuardian,
    BanState,
    BanStatus,
    CourtOutcome,
    DecisionCompetence,
    ElectronicConsentManner,
    HearingMethod,
    HearingWaiverGround,
    NoticeReceipt,
    NotificationMethod,
    ProhibitionWarning,
    ReceiptEvidence,
)
from bans.selectors import bans_visible_to_staff, party_guardians, party_is_minor
from bans.state import (
    CLOSED,
    STANDING,
    Step,
    ban_became_final_on,
    ban_state,
    dates_from,
    receipt_may_be_proven,
    step_allowed,
)
from core.dates import age_on, shown_date
from core.errors import RuleBroken
from core.time_limits import last_day_of_time_limit
from patrons.models import Note, NoteCategory, Patron
from patrons.services._common import (
    consortium_patron_ids,
    patron_for_write,
    record_write,
    today,
    write_refused_while_restricted,
    write_transaction,
)
from staff.models import Jurisdiction, Library, Municipality
from staff.scoping import object_of_consortium_or_404
from staff.typed_text import free_text_check

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

MAX_BAN_DAYS = 30
# "Repeatedly" (Library Act 1492/2016 s. 15): incidents on at least this many different days.
MIN_DISTURBANCE_DAYS = 2
APPEAL_DAYS = 14
# Act on Judicial Procedure in Administrative Matters 808/2019 s. 13: the appeal time to the administrative court.
COURT_APPEAL_DAYS = 30
DEEMED_RECEIVED_AFTER_DAYS: dict[str, int] = {
    NotificationMethod.LETTER: 7,
    NotificationMethod.ELECTRONIC: 3,
    NotificationMethod.IN_PERSON: 0,
}
LEGAL_BASIS = "Kirjastolaki (1492/2016) 15 § / Bibliotekslagen (1492/2016) 15 §"
PROHIBITION_MIN_AGE = 15
# Administrative Procedure Act 434/2003 s. 14: from this age a minor speaks for themselves as well as the guardian.
OWN_SPEAKING_RIGHT_AGE = 15
BAN_CATEGORIES = [DataCategory.BANS, DataCategory.BAN_DECISION]


def ban_days(starts_on: datetime.date, ends_on: datetime.date) -> int:
    """How many calendar days a ban covers: both the first and the last day count."""
    return (ends_on - starts_on).days + 1


def deemed_received_on(method: str, sent_on: datetime.date) -> datetime.date:
    return sent_on + datetime.timedelta(days=DEEMED_RECEIVED_AFTER_DAYS[method])


def appeal_deadline_for(received_on: datetime.date) -> datetime.date:
    """14 days after the notice is received; a last day off work moves to the next working day."""
    return last_day_of_time_limit(received_on + datetime.timedelta(days=APPEAL_DAYS), country=Jurisdiction.FINLAND)


# --- Rules ------------------------------------------------------------------------------------------


def _check_dates(starts_on: datetime.date, ends_on: datetime.date, *, not_before: datetime.date) -> None:
    if ends_on < starts_on:
        raise RuleBroken("dates_in_order", _("The ban cannot end before it starts."))
    if ban_days(starts_on, ends_on) > MAX_BAN_DAYS:
        raise RuleBroken(
            "max_30_days",
            _(
                "A library-use ban lasts at most 30 days, the first and last day included (Library Act 1492/2016 "
                "s. 15); this one would last %(days)d days."
            ),
            days=ban_days(starts_on, ends_on),
        )
    if starts_on < not_before:
        raise RuleBroken(
            "starts_too_early",
            _("The ban cannot start before %(date)s."),
            date=shown_date(not_before),
        )


def _check_grounds(grounds) -> list[str]:
    if isinstance(grounds, str):
        grounds = [grounds]
    grounds = list(dict.fromkeys(grounds or []))
    if not grounds:
        raise RuleBroken(
            "grounds_required",
            _(
                "Give the grounds: disturbing the library's use repeatedly and substantially, endangering safety or "
                "damaging property (Library Act 1492/2016 s. 15)."
            ),
        )
    if unknown := [g for g in grounds if g not in BanGround.values]:
        raise RuleBroken(
            "grounds_unknown",
            _("Unknown grounds %(grounds)s. The law allows: %(allowed)s."),
            grounds=", ".join(map(str, unknown)),
            allowed=", ".join(BanGround.values),
        )
    return grounds


def _behaviour_notes(patron: Patron, library: Library, note_ids) -> list[Note]:
    """The behaviour notes a proposal cites: the patron's, not removed, and of the ban's own library.

    A ban concerns one library (Library Act 1492/2016 s. 15), so what happened in another library is not
    its grounds: one incident cannot support parallel bans in several libraries.
    """
    note_ids = list(dict.fromkeys(note_ids or []))
    if not note_ids:
        raise RuleBroken(
            "behaviour_notes_required", _("A ban must cite the behaviour notes that record the disturbance.")
        )
    notes = {note.pk: note for note in Note.objects.filter(patron=patron, pk__in=note_ids, removed_at__isnull=True)}
    for note_id in note_ids:
        note = notes.get(note_id)
        if note is None:
            raise RuleBroken("note_unknown", _("Note %(id)s is not one of this patron's notes."), id=note_id)
        if note.category != NoteCategory.BEHAVIOUR:
            raise RuleBroken(
                "note_not_behaviour",
                _("Note %(id)s is not a behaviour note; a ban rests on behaviour notes."),
                id=note_id,
            )
        if note.library_id != library.pk:
            raise RuleBroken(
                "note_other_library",
                _("Note %(id)s records an incident in another library; a ban rests only on its own library's notes."),
                id=note_id,
            )
    return list(notes.values())


def _threshold_check(grounds: list[str], notes: list[Note]) -> None:
    """Library Act 1492/2016 s. 15: disturbing the library's use "repeatedly and substantially" is one ground.

    "Repeatedly" needs incidents on at least two different days (two notes of one day are one occasion),
    so a single note, however it is worded, never meets the test; whether the incidents were substantial
    is the decider's to weigh and state in the reasons.
    """
    if BanGround.REPEATED_SUBSTANTIAL_DISTURBANCE not in grounds:
        return
    if len({note.incident_on for note in notes}) < MIN_DISTURBANCE_DAYS:
        raise RuleBroken(
            "disturbance_not_repeated",
            _(
                "Disturbing the library's use repeatedly and substantially needs behaviour notes of this library "
                "on at least %(days)d different days (Library Act 1492/2016 s. 15)."
            ),
            days=MIN_DISTURBANCE_DAYS,
        )


def _library(patron: Patron, koha_library_id: str) -> Library:
    library = Library.objects.of_consortium(patron.consortium_id).filter(koha_library_id=koha_library_id or "").first()
    if library is None:
        raise RuleBroken(
            "library_unknown", _("Unknown library: give the Koha library id of one of your consortium's libraries.")
        )
    return library


def _finnish(patron: Patron) -> None:
    if patron.consortium.jurisdiction != Jurisdiction.FINLAND:
        raise RuleBroken(
            "swedish_consortium",
            _(
                "A Swedish library cannot ban a patron: it applies to the prosecutor and records the prosecutor's "
                "decision on an access prohibition (tillträdesförbud)."
            ),
        )


def _no_overlap(patron: Patron, library: Library, starts_on, ends_on, *, exclude: int | None = None) -> None:
    overlapping = Ban.objects.filter(
        patron=patron, library=library, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).exclude(status__in=CLOSED)
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude)
    if overlapping.exists():
        raise RuleBroken(
            "overlapping_ban",
            _("This patron already has a ban for this library in procedure or in force for these dates."),
        )


def note_cited_check(note: Note, day: datetime.date) -> None:
    """A behaviour note a ban in procedure or in force cites is the ban's grounds: it cannot be removed
    (a note removal guard, registered in BansConfig.ready)."""
    if bans_visible_to_staff(day).filter(notes=note).exists():
        raise RuleBroken(
            "note_cited_by_ban",
            _("This note is cited as grounds of a library-use ban that has not ended; it cannot be removed."),
        )


def _ban_for_step(*, actor: Actor, ban_id: int, step: Step, rule: str, message) -> Ban:
    """The ban (locked) of the actor's consortium, whose stored step must let `step` follow (bans.state)."""
    ban = object_of_consortium_or_404(
        Ban.objects.select_for_update(of=("self",)).select_related("patron__consortium", "library__municipality"),
        actor=actor,
        pk=ban_id,
    )
    if not step_allowed(ban, step):
        if ban.status in CLOSED:
            raise RuleBroken("ban_closed", _("This ban has been cancelled or overturned."))
        raise RuleBroken(rule, message)
    if step != Step.CANCEL:
        # GDPR Art. 18(2): while the patron's processing is restricted the procedure waits (the data is only
        # stored); cancelling, which processes nothing further, stays possible.
        write_refused_while_restricted(actor=actor, patron_id=ban.patron_id)
    return ban


def _ban_texts_check(*, actor: Actor, ban_id: int, model: type[Ban | BanGuardian] = Ban, **texts: str) -> None:
    """No identity code in a ban's texts; a refusal is a denied event about the ban's patron."""
    free_text_check(
        actor=actor,
        model=model,
        texts=texts,
        action=Action.PATRON_UPDATE,
        patron_ids=Ban.objects.visible_to(actor).filter(pk=ban_id).values_list("patron_id", flat=True),
        data_categories=BAN_CATEGORIES,
    )


def _record(actor: Actor, ban: Ban, detail: str, *, guardians: list[BanGuardian] | tuple[()] = ()) -> None:
    """Every step's access event; and, once the step commits, the listeners (bans.changes) hear of it.

    A step that hears or notifies a minor's guardians processes their data too: the event names their patron
    ids (never their names) beside the party's."""
    others = [row.guardian_id for row in guardians if row.guardian_id is not None]
    record_write(actor=actor, patron_ids=[ban.patron_id, *others], categories=BAN_CATEGORIES, detail=detail)
    restrictions_changed(ban.patron_id)


# --- Minors' guardians (Administrative Procedure Act 434/2003 s. 14) ---------------------------------


def _speaks_for_themselves(patron: Patron, day: datetime.date) -> bool:
    """From 15 a minor may request rectification themselves, alongside the guardian (s. 14)."""
    return patron.date_of_birth is None or age_on(patron.date_of_birth, day) >= OWN_SPEAKING_RIGHT_AGE


def _guardian_entries(entries, guardians: dict[int, Patron]) -> dict[int, dict]:
    """The per-guardian part of a step, keyed by the guardian's patron id; a person who is not the party's
    guardian is refused (by id only: a name never goes into an error)."""
    found: dict[int, dict] = {}
    for entry in entries or []:
        guardian_id = entry.get("guardian")
        if guardian_id not in guardians:
            raise RuleBroken(
                "guardian_unknown", _("Patron %(id)s is not a guardian of this ban's party."), id=guardian_id
            )
        found[guardian_id] = entry
    return found


def _ban_guardian(ban: Ban, guardian: Patron) -> BanGuardian:
    row, _created = BanGuardian.objects.get_or_create(
        ban=ban, guardian=guardian, defaults={"name": f"{guardian.first_name} {guardian.last_name}".strip()}
    )
    return row


def _guardians_heard_check(ban: Ban) -> None:
    """Administrative Procedure Act 434/2003 s. 14: a party under 18 on the hearing day is heard through their
    guardians as well (from 15, both), so no decision while a guardian's hearing is missing, unless the hearing
    was waived on a ground of s. 34(2)."""
    if ban.status == BanStatus.HEARING_WAIVED or ban.heard_on is None:
        return
    heard = set(ban.guardians.filter(heard_on__isnull=False).values_list("guardian_id", flat=True))
    if missing := [guardian for guardian in party_guardians(ban.patron, ban.heard_on) if guardian not in heard]:
        raise RuleBroken(
            "guardian_not_heard",
            _(
                "The party is under 18: hear each guardian as well before the decision (Administrative Procedure "
                "Act 434/2003 s. 14); guardians not heard: %(ids)s."
            ),
            ids=", ".join(map(str, missing)),
        )


def _waiver_ground_missing() -> RuleBroken:
    return RuleBroken(
        "waiver_ground_required",
        _("Choose the ground of Administrative Procedure Act 434/2003 s. 34(2) on which the hearing was waived."),
    )


def _hearing_time_check(ban: Ban, decided_on: datetime.date) -> None:
    """Administrative Procedure Act 434/2003 ss. 34, 36: the party may answer until the end of the day given
    (`answer_by`), so the decision comes the day after at the earliest, unless every statement asked for has
    come (the party's and, for a minor, each guardian's). A waiver on a ground of s. 34(2) needs no time."""
    if ban.status == BanStatus.HEARING_WAIVED:
        if not ban.hearing_waiver_ground:
            raise _waiver_ground_missing()
        return
    if ban.answer_by is None or decided_on > ban.answer_by:
        return
    statements = [ban.statement]
    if ban.heard_on is not None and party_is_minor(ban.patron, ban.heard_on):
        statements += list(ban.guardians.filter(heard_on__isnull=False).values_list("statement", flat=True))
    if not all(statement.strip() for statement in statements):
        raise RuleBroken(
            "hearing_time_running",
            _(
                "The party may answer until %(date)s: decide from the day after, unless every statement has come "
                "(Administrative Procedure Act 434/2003 s. 34)."
            ),
            date=shown_date(ban.answer_by),
        )


# --- The procedure ----------------------------------------------------------------------------------


def ban_propose(
    *,
    actor: Actor,
    patron_id: int,
    library: str,
    grounds: list[str],
    note_ids: list[int],
    starts_on: datetime.date,
    ends_on: datetime.date,
) -> Ban:
    """Step 1: a member of staff proposes a ban, citing the behaviour notes it rests on."""
    with write_transaction():
        patron = patron_for_write(actor=actor, patron_id=patron_id, lock=True)
        _finnish(patron)
        the_library = _library(patron, library)
        grounds = _check_grounds(grounds)
        notes = _behaviour_notes(patron, the_library, note_ids)
        _threshold_check(grounds, notes)
        _check_dates(starts_on, ends_on, not_before=today())
        _no_overlap(patron, the_library, starts_on, ends_on)
        ban = Ban.objects.create(
            patron=patron,
            library=the_library,
            grounds=grounds,
            starts_on=starts_on,
            ends_on=ends_on,
            proposed_at=timezone.now(),
            proposed_by=actor.username,
        )
        ban.notes.set(notes)
        _record(actor, ban, "ban_proposed")
    return ban


def ban_hearing_record(
    *,
    actor: Actor,
    ban_id: int,
    heard_on: datetime.date | None = None,
    method: str = "",
    statement: str = "",
    answer_by: datetime.date | None = None,
    material_shown: str = "",
    waiver_ground: str = "",
    waived_reason: str = "",
    guardians: list[dict] | None = None,
) -> Ban:
    """Step 2: the party was heard, or the hearing was waived (Administrative Procedure Act 434/2003 ss. 14, 34,
    36); recorded again when a statement comes.

    A hearing records when and how the party was asked, the date by which they may answer, what material was
    shown to them and their statement (empty: none came yet). For a party under 18 on the hearing day each
    guardian is heard as well: `guardians` lists `{"guardian": patron id, "heard_on", "method", "statement"}`
    and replaces what was recorded before. A waiver names its ground of s. 34(2) from the list; free text only
    adds to it.
    """
    _ban_texts_check(
        actor=actor,
        ban_id=ban_id,
        statement=statement,
        material_shown=material_shown,
        hearing_waived_reason=waived_reason,
    )
    for entry in guardians or []:
        _ban_texts_check(actor=actor, ban_id=ban_id, model=BanGuardian, statement=entry.get("statement") or "")
    with write_transaction():
        ban = _ban_for_step(
            actor=actor,
            ban_id=ban_id,
            step=Step.HEARING,
            rule="already_decided",
            message=_("The ban has been decided; its hearing can no longer be changed."),
        )
        waived_reason = (waived_reason or "").strip()
        if waiver_ground or waived_reason:
            _record_waiver(ban, waiver_ground, waived_reason, heard=bool(heard_on or method or guardians))
        else:
            _record_hearing(ban, heard_on, method, statement, answer_by, material_shown, guardians)
        ban.hearing_recorded_by = actor.username
        ban.save()
        _record(actor, ban, "ban_hearing", guardians=list(ban.guardians.filter(heard_on__isnull=False)))
    return ban


def _record_waiver(ban: Ban, ground: str, addition: str, *, heard: bool) -> None:
    if heard:
        raise RuleBroken("hearing_or_waiver", _("Record either the hearing or the reason it was waived, not both."))
    if not ground:
        raise _waiver_ground_missing()
    if ground not in HearingWaiverGround.values:
        raise RuleBroken(
            "waiver_ground_unknown",
            _("Unknown ground for waiving the hearing. Use one of: %(grounds)s."),
            grounds=", ".join(HearingWaiverGround.values),
        )
    ban.status, ban.heard_on, ban.hearing_method, ban.statement = BanStatus.HEARING_WAIVED, None, "", ""
    ban.answer_by, ban.material_shown = None, ""
    ban.hearing_waiver_ground, ban.hearing_waived_reason = ground, addition
    ban.guardians.update(heard_on=None, hearing_method="", statement="")


def _heard_on_check(heard_on: datetime.date, ban: Ban) -> None:
    if heard_on > today():
        raise RuleBroken("heard_in_future", _("The hearing date cannot be in the future."))
    if heard_on < timezone.localdate(ban.proposed_at):
        raise RuleBroken("heard_before_proposal", _("The hearing cannot be before the ban was proposed."))


def _hearing_method_check(method: str) -> None:
    if method not in HearingMethod.values:
        raise RuleBroken(
            "hearing_method_unknown",
            _("Unknown hearing method. Use one of: %(methods)s."),
            methods=", ".join(HearingMethod.values),
        )


def _record_hearing(ban: Ban, heard_on, method: str, statement: str, answer_by, material_shown: str, guardians) -> None:
    if heard_on is None or not method:
        raise RuleBroken(
            "hearing_incomplete",
            _(
                "Record when and how the patron was heard (and their statement, if any), or the legal reason "
                "the hearing was waived (Administrative Procedure Act 434/2003 s. 34)."
            ),
        )
    _hearing_method_check(method)
    _heard_on_check(heard_on, ban)
    if answer_by is None:
        raise RuleBroken(
            "answer_by_required",
            _("Give the date by which the party may answer (Administrative Procedure Act 434/2003 s. 36)."),
        )
    if answer_by < heard_on:
        raise RuleBroken("answer_by_before_hearing", _("The time to answer cannot end before the party was asked."))
    material_shown = (material_shown or "").strip()
    if not material_shown:
        raise RuleBroken(
            "material_shown_required",
            _("Say what material was shown or sent to the party (Administrative Procedure Act 434/2003 s. 36)."),
        )
    known = party_guardians(ban.patron, heard_on)
    entries = _guardian_entries(guardians, known)
    for entry in entries.values():
        guardian_heard_on, guardian_method = entry.get("heard_on"), entry.get("method") or ""
        if guardian_heard_on is None or not guardian_method:
            raise RuleBroken(
                "guardian_hearing_incomplete",
                _("Record when and how guardian %(id)s was heard (and their statement, if any)."),
                id=entry["guardian"],
            )
        _hearing_method_check(guardian_method)
        _heard_on_check(guardian_heard_on, ban)
        if guardian_heard_on > answer_by:
            # s. 34: each one heard is given the time to answer; a guardian asked after it ended was given none.
            raise RuleBroken(
                "guardian_heard_after_answer_by",
                _("Guardian %(id)s was asked after the time to answer ended: give a later date to answer by."),
                id=entry["guardian"],
            )
    ban.status, ban.heard_on, ban.hearing_method = BanStatus.HEARD, heard_on, method
    ban.statement, ban.answer_by, ban.material_shown = (statement or "").strip(), answer_by, material_shown
    ban.hearing_waiver_ground, ban.hearing_waived_reason = "", ""
    ban.guardians.exclude(guardian_id__in=entries).update(heard_on=None, hearing_method="", statement="")
    for guardian_id, entry in entries.items():
        row = _ban_guardian(ban, known[guardian_id])
        row.heard_on, row.hearing_method = entry["heard_on"], entry["method"]
        row.statement = (entry.get("statement") or "").strip()
        row.save()


def _delegation_on(actor: Actor, library: Library, day: datetime.date) -> DecisionCompetence:
    competence = (
        DecisionCompetence.objects.filter(
            decider_id=actor.user_id, municipality_id=library.municipality_id, valid_from__lte=day
        )
        .filter(Q(library__isnull=True) | Q(library=library))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .order_by("library_id", "-valid_from")  # a library's own row before the municipality's
        .first()
    )
    if competence is None:
        raise RuleBroken(
            "not_competent",
            _(
                "You have no delegation to decide library-use bans of %(library)s on %(date)s: ask the data "
                "protection officer to record the delegation (Local Government Act 410/2015 s. 91)."
            ),
            library=library.name,
            date=shown_date(day),
        )
    return competence


def _competence(actor: Actor, library: Library, day: datetime.date) -> DecisionCompetence:
    """The actor's delegation to decide bans for `library` on `day` (Local Government Act 410/2015 s. 91).

    Being a ban decider of the consortium is not enough: the power to decide is the municipality's and is
    delegated per office, so the competence table (bans.models.DecisionCompetence) must name this decider
    for this library, or every library of its municipality, on the day of the decision. A delegation that
    ended the day before does not count; one that starts that day does. It must also hold on the day the step
    is recorded (today): a delegation that has ended does not let its holder record a backdated decision.
    """
    competence = _delegation_on(actor, library, day)
    if day != today():
        _delegation_on(actor, library, today())
    return competence


def authority_of(municipality: Municipality) -> dict[str, str]:
    """What a decision of the municipality names: the authority (its official name) and, in the rectification
    instructions, the body that decides a request and where to send it (Administrative Procedure Act 434/2003
    ss. 44, 49 b; Local Government Act 410/2015 ss. 133-135). The Swedish names fall back to the Finnish ones,
    the official name to the municipality's name (for a decision made before the data was kept)."""
    name = municipality.official_name or municipality.name
    body = municipality.rectification_body
    return {
        "name": name,
        "name_sv": municipality.official_name_sv or name,
        "rectification_body": body,
        "rectification_body_sv": municipality.rectification_body_sv or body,
        "address": municipality.rectification_address,
        "email": municipality.rectification_email,
        "office_hours": municipality.office_hours,
    }


def _authority_check(library: Library) -> dict[str, str]:
    """Administrative Procedure Act 434/2003 ss. 44, 49 b and Local Government Act 410/2015 ss. 133-135: the
    decision names the authority and gives rectification instructions naming the body and its address, so no
    ban is decided while the municipality lacks its official name, rectification body or that address."""
    municipality = library.municipality
    if missing := municipality.missing_official_data():
        raise RuleBroken(
            "municipality_data_missing",
            _(
                "The decision must name the municipality and the body that decides rectification requests, with its "
                "address (Administrative Procedure Act 434/2003 ss. 44, 49 b). Missing for %(municipality)s: "
                "%(missing)s. Ask the data protection officer to record them (admin: Municipalities)."
            ),
            municipality=municipality.name,
            missing=", ".join(missing),
        )
    return authority_of(municipality)


def _decider_name(actor: Actor) -> str:
    user = get_user_model().objects.filter(pk=actor.user_id).first() if actor.user_id is not None else None
    return (user.get_full_name() or user.get_username()) if user else actor.username


def ban_decide(
    *,
    actor: Actor,
    ban_id: int,
    decision_number: str,
    reasons: str,
    contact_person: str,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    decided_on: datetime.date | None = None,
    enforced_before_final: bool = True,
    enforcement_reasons: str = "",
    length_days: int | None = None,
    decided_text: str = "",
) -> Ban:
    """Step 3: a ban decider decides. Not before the hearing is recorded or waived; only a decider competent
    for the ban's library on the decision day (`_competence`), whose title and delegation the decision names.

    Enforced before it is final (Local Government Act 410/2015 s. 143), the decision gives the dates and must
    say why it is enforced at once (`enforcement_reasons`). Not enforced before it is final, it gives only the
    length (`length_days`, at most 30): the ban starts the day after it becomes final (`_set_dates`).
    """
    _ban_texts_check(
        actor=actor,
        ban_id=ban_id,
        decision_number=decision_number,
        reasons=reasons,
        contact_person=contact_person,
        decided_text=decided_text,
        enforcement_reasons=enforcement_reasons if enforced_before_final else "",
    )
    with write_transaction():
        ban = _ban_for_step(
            actor=actor,
            ban_id=ban_id,
            step=Step.DECISION,
            rule="hearing_required",
            message=_(
                "No decision before the patron has been heard, or the hearing has been waived with its legal reason "
                "(Administrative Procedure Act 434/2003 s. 34)."
            ),
        )
        decided_on = decided_on or today()
        decision_number = (decision_number or "").strip()
        if not decision_number:
            raise RuleBroken("decision_number_required", _("Give the decision's number."))
        if Ban.objects.filter(library=ban.library, decision_number=decision_number).exclude(pk=ban.pk).exists():
            raise RuleBroken("decision_number_taken", _("This library already has a decision with that number."))
        if not (reasons or "").strip():
            raise RuleBroken(
                "reasons_required", _("A decision states its reasons (Administrative Procedure Act s. 45).")
            )
        if not (contact_person or "").strip():
            raise RuleBroken(
                "contact_person_required",
                _("A decision names a contact person who gives more information (Administrative Procedure Act s. 44)."),
            )
        if decided_on > today():
            raise RuleBroken("decided_in_future", _("The decision date cannot be in the future."))
        if ban.heard_on and decided_on < ban.heard_on:
            raise RuleBroken("decided_before_hearing", _("The decision cannot be dated before the hearing."))
        _guardians_heard_check(ban)
        _hearing_time_check(ban, decided_on)
        competence = _competence(actor, ban.library, decided_on)
        authority = _authority_check(ban.library)
        ban.enforced_before_final = bool(enforced_before_final)
        if ban.enforced_before_final:
            starts_on, ends_on = _enforced_dates(starts_on, ends_on, enforcement_reasons, decided_on)
            ban.enforcement_reasons, ban.length_days = enforcement_reasons.strip(), ban_days(starts_on, ends_on)
        else:
            ban.enforcement_reasons, ban.length_days = "", _length_check(length_days)
            # Provisionally as if the decision were handed over today and no request came (`_set_dates`).
            starts_on, ends_on = dates_from(ban, appeal_deadline_for(decided_on))
        _no_overlap(ban.patron, ban.library, starts_on, ends_on, exclude=ban.pk)
        ban.decider_title, ban.delegation, ban.authority = competence.title, competence.delegation, authority
        ban.status = BanStatus.DECIDED
        ban.decision_number, ban.decided_on, ban.decided_by = decision_number, decided_on, actor.username
        ban.decider_name = _decider_name(actor)
        ban.reasons, ban.contact_person = reasons.strip(), contact_person.strip()
        ban.decided_text = (decided_text or "").strip()
        ban.starts_on, ban.ends_on = starts_on, ends_on
        ban.legal_basis = LEGAL_BASIS
        ban.save()
        _record(actor, ban, "ban_decided")
    return ban


def _enforced_dates(
    starts_on: datetime.date | None, ends_on: datetime.date | None, reasons: str, decided_on: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """Local Government Act 410/2015 s. 143: a decision enforced before it is final says so and why, and gives
    its dates (at most 30 days, Library Act 1492/2016 s. 15)."""
    if not (reasons or "").strip():
        raise RuleBroken(
            "enforcement_reasons_required",
            _(
                "Say why the ban is enforced before the decision is final (Local Government Act 410/2015 s. 143), "
                "or let it wait until it is final."
            ),
        )
    if starts_on is None or ends_on is None:
        raise RuleBroken("dates_required", _("Give the first and the last day of a ban enforced at once."))
    _check_dates(starts_on, ends_on, not_before=max(decided_on, today()))
    return starts_on, ends_on


def _length_check(length_days: int | None) -> int:
    """A ban that waits until it is final is decided by its length: at least a day, at most 30 (Library Act
    1492/2016 s. 15)."""
    if not length_days or length_days < 1:
        raise RuleBroken("length_required", _("Give how many days the ban lasts once the decision is final (1 to 30)."))
    if length_days > MAX_BAN_DAYS:
        raise RuleBroken(
            "max_30_days",
            _(
                "A library-use ban lasts at most 30 days, the first and last day included (Library Act 1492/2016 "
                "s. 15); this one would last %(days)d days."
            ),
            days=length_days,
        )
    return length_days


def _set_deadline_and_dates(ban: Ban) -> None:
    """The rectification deadline and, for a ban not enforced before it is final, its dates.

    Local Government Act 410/2015 s. 134: the time runs from the LAST receipt of those who may request
    rectification: each guardian of a minor, and the minor too from 15 (under 15 the guardians speak for the
    minor, so the minor's own receipt starts no time). A receipt is the deemed one unless a later one is proven
    (Act 13/2003 s. 19(2), Local Government Act s. 141). A ban that waits until it is final gets the dates it
    will have if no request comes in time (s. 143: the day after the deadline, for its length); a request in
    time that is upheld or dismissed sets them again (`ban_appeal_record`).
    """
    assert ban.notified_on is not None
    guardians = list(ban.guardians.filter(notified_on__isnull=False))
    own = not guardians or _speaks_for_themselves(ban.patron, ban.notified_on)
    recipients: list[NoticeReceipt] = [*([ban] if own else []), *guardians]
    ban.appeal_deadline = appeal_deadline_for(max(row.received_on for row in recipients if row.received_on))
    _set_dates(ban)


def _set_dates(ban: Ban) -> None:
    """A ban not enforced before it is final: stored dates from the day it became (or, with no request in time,
    will become) final. Never moves a ban enforced at once."""
    if ban.enforced_before_final:
        return
    became_final_on = ban_became_final_on(ban)
    if became_final_on is not None:
        ban.starts_on, ban.ends_on = dates_from(ban, became_final_on)


def ban_notification_record(
    *,
    actor: Actor,
    ban_id: int,
    method: str,
    sent_on: datetime.date,
    electronic_consent_on: datetime.date | None = None,
    electronic_consent_how: str = "",
    guardians: list[dict] | None = None,
) -> Ban:
    """Step 4: how and when the decision was sent; gives the deemed-received date and the appeal deadline.

    For a party under 18 on the sending day the decision goes to each guardian as well (Administrative
    Procedure Act 434/2003 s. 14): `guardians` lists `{"guardian": patron id, "method", "sent_on"}` (and the
    guardian's consent, below) for every guardian. The deadline runs from the last receipt
    (`_set_deadline_and_dates`).

    An electronic notice needs the recipient's consent (Act on Electronic Services and Communication in the
    Public Sector 13/2003 s. 19; Local Government Act 410/2015 s. 141): when and how the party, or the guardian,
    consented (`electronic_consent_on`, `electronic_consent_how`), given on or before the sending day.
    """
    with write_transaction():
        ban = _ban_for_step(
            actor=actor,
            ban_id=ban_id,
            step=Step.NOTIFICATION,
            rule="decision_required",
            message=_("Only a decided ban is notified."),
        )
        _notice_check(ban, method, sent_on)
        _consent_check(method, sent_on, electronic_consent_on, electronic_consent_how, guardian=None)
        known = party_guardians(ban.patron, sent_on)
        entries = _guardian_entries(guardians, known)
        if missing := [guardian_id for guardian_id in known if guardian_id not in entries]:
            raise RuleBroken(
                "guardian_not_notified",
                _(
                    "The party is under 18: send the decision to each guardian as well (Administrative Procedure "
                    "Act 434/2003 s. 14); guardians not notified: %(ids)s."
                ),
                ids=", ".join(map(str, missing)),
            )
        for guardian_id, entry in entries.items():
            _notice_check(ban, entry.get("method") or "", entry.get("sent_on"))
            consent_on, consent_how = entry.get("electronic_consent_on"), entry.get("electronic_consent_how") or ""
            _consent_check(entry["method"], entry["sent_on"], consent_on, consent_how, guardian=guardian_id)
        ban.status, ban.notification_method, ban.notified_on = BanStatus.NOTIFIED, method, sent_on
        ban.deemed_received_on = deemed_received_on(method, sent_on)
        ban.electronic_consent_on, ban.electronic_consent_how = electronic_consent_on, electronic_consent_how
        rows = []
        for guardian_id, entry in entries.items():
            row = _ban_guardian(ban, known[guardian_id])
            row.notification_method, row.notified_on = entry["method"], entry["sent_on"]
            row.deemed_received_on = deemed_received_on(entry["method"], entry["sent_on"])
            row.electronic_consent_on = entry.get("electronic_consent_on")
            row.electronic_consent_how = entry.get("electronic_consent_how") or ""
            row.save()
            rows.append(row)
        _set_deadline_and_dates(ban)
        ban.save()
        _record(actor, ban, "ban_notified", guardians=rows)
    return ban


def _consent_check(
    method: str, sent_on: datetime.date, consent_on: datetime.date | None, how: str, *, guardian: int | None
) -> None:
    """Act 13/2003 s. 19: a decision is notified electronically only to a recipient who consented to it, on or
    before the sending day; the consent is recorded with how it was given. A consent may be recorded with a
    notice of another method too (it is then only kept)."""
    who = {"who": _("guardian %(id)s") % {"id": guardian} if guardian is not None else _("the party")}
    if consent_on is None and not how:
        if method == NotificationMethod.ELECTRONIC:
            raise RuleBroken(
                "electronic_consent_required",
                _(
                    "A decision is sent electronically only with the recipient's consent (Act 13/2003 s. 19): "
                    "record when and how %(who)s consented, or send it by letter or in person."
                ),
                **who,
            )
        return
    if consent_on is None or how not in ElectronicConsentManner.values:
        raise RuleBroken(
            "electronic_consent_incomplete",
            _("Record both when and how %(who)s consented to electronic notice (one of: %(ways)s)."),
            ways=", ".join(ElectronicConsentManner.values),
            **who,
        )
    if consent_on > sent_on:
        raise RuleBroken(
            "consent_after_sending",
            _("The consent of %(who)s is dated after the decision was sent: an electronic notice needs it first."),
            **who,
        )


def _method_check(method: str) -> None:
    if method not in NotificationMethod.values:
        raise RuleBroken(
            "notification_method_unknown",
            _("Unknown notification method. Use one of: %(methods)s."),
            methods=", ".join(NotificationMethod.values),
        )


def _sent_check(method: str, sent_on: datetime.date | None, decided_on: datetime.date | None) -> datetime.date:
    """A decision's notice: a known method, sent on a day between the decision and today."""
    _method_check(method)
    if sent_on is None:
        raise RuleBroken("sent_on_required", _("Give the date the decision was sent or handed over."))
    if sent_on > today():
        raise RuleBroken("sent_in_future", _("The sending date cannot be in the future."))
    assert decided_on is not None  # _ban_for_step: only a made decision is notified
    if sent_on < decided_on:
        raise RuleBroken("sent_before_decision", _("The decision cannot be sent before it was made."))
    return sent_on


def _notice_check(ban: Ban, method: str, sent_on: datetime.date | None) -> None:
    sent_on = _sent_check(method, sent_on, ban.decided_on)
    if sent_on > ban.ends_on:
        raise RuleBroken("ban_ended", _("This ban's dates have passed."))


def ban_receipt_record(
    *,
    actor: Actor,
    ban_id: int,
    received_on: datetime.date | None,
    evidence: str,
    note: str = "",
    guardian: int | None = None,
) -> Ban:
    """A proven later receipt of the decision, by the party or (`guardian`, a patron id) a minor's guardian.

    The law deems a letter received on the 7th day after sending and an electronic notice on the 3rd, "unless
    shown otherwise" (Local Government Act 410/2015 s. 141; Act 13/2003 s. 19(2)): a later receipt shown by
    `evidence` (and a `note`) replaces the deemed one and moves the rectification deadline (14 days from
    receipt, s. 134) by as many days, as the deadline runs from the last receipt. Only a later date replaces
    it: an earlier one is refused (the deemed date stands), the same date changes nothing. Recorded while no
    rectification request has been decided, also after the deadline it moves: the proof usually comes with a
    request that looks late, and refusing it then would take the party's right to rectification.
    """
    note = (note or "").strip()
    _ban_texts_check(actor=actor, ban_id=ban_id, model=BanGuardian, proven_receipt_note=note)
    with write_transaction():
        ban = _ban_for_step(
            actor=actor,
            ban_id=ban_id,
            step=Step.RECEIPT,
            rule="notification_required",
            message=_("A receipt is recorded for a decision that has been notified."),
        )
        if not receipt_may_be_proven(ban):
            raise RuleBroken(
                "appeal_already_decided",
                _("The rectification request has been decided; the time for it can no longer move."),
            )
        if ban_state(ban, today()) == BanState.ENDED:
            raise RuleBroken("ban_ended", _("This ban's dates have passed."))
        recipient: Ban | BanGuardian = ban
        if guardian is not None:
            row = ban.guardians.filter(guardian_id=guardian, notified_on__isnull=False).first()
            if row is None:
                raise RuleBroken(
                    "guardian_unknown", _("Patron %(id)s is not a guardian of this ban's party."), id=guardian
                )
            recipient = row
        _receipt_check(recipient, received_on, evidence, note)
        recipient.proven_received_on, recipient.proven_receipt_evidence = received_on, evidence
        recipient.proven_receipt_note = note
        recipient.save()
        _set_deadline_and_dates(ban)
        ban.save()
        _record(actor, ban, "ban_receipt", guardians=[recipient] if isinstance(recipient, BanGuardian) else [])
    return ban


def _receipt_check(recipient: Ban | BanGuardian, received_on: datetime.date | None, evidence: str, note: str) -> None:
    if evidence not in ReceiptEvidence.values:
        raise RuleBroken(
            "receipt_evidence_unknown",
            _("Say what proves the receipt. Use one of: %(evidence)s."),
            evidence=", ".join(ReceiptEvidence.values),
        )
    if evidence == ReceiptEvidence.OTHER and not note:
        raise RuleBroken("receipt_note_required", _("Describe the proof of receipt in the note."))
    if received_on is None:
        raise RuleBroken("received_on_required", _("Give the day the decision was received."))
    if received_on > today():
        raise RuleBroken("received_in_future", _("The day of receipt cannot be in the future."))
    assert recipient.deemed_received_on is not None  # set when the decision was notified
    if received_on < recipient.deemed_received_on:
        raise RuleBroken(
            "receipt_before_deemed",
            _(
                "Only a later receipt than the deemed one (%(date)s) can replace it (Local Government Act 410/2015 "
                "s. 141)."
            ),
            date=shown_date(recipient.deemed_received_on),
        )


def _outcome(outcome: str) -> str:
    outcome = outcome or AppealOutcome.PENDING
    if outcome not in AppealOutcome.values:
        raise RuleBroken(
            "appeal_outcome_unknown",
            _("Unknown outcome. Use one of: %(outcomes)s."),
            outcomes=", ".join(AppealOutcome.values),
        )
    return outcome


def _rectification_body(ban: Ban, body: str) -> str:
    """The body that decided the rectification request: as given, else the rectification body the decision
    named (or, for a decision made before that was kept, the municipality's)."""
    named = ban.authority.get("rectification_body") or ban.library.municipality.rectification_body
    body = (body or "").strip() or named
    if not body:
        raise RuleBroken(
            "rectification_body_required",
            _("Name the body that decided the rectification request (Local Government Act 410/2015 s. 134)."),
        )
    return body


def ban_appeal_record(
    *,
    actor: Actor,
    ban_id: int,
    lodged_on: datetime.date,
    outcome: str = AppealOutcome.PENDING,
    decided_on: datetime.date | None = None,
    body: str = "",
    reference: str = "",
) -> Ban:
    """A rectification request and, when decided, its outcome. An overturned ban ends at once.

    Local Government Act 410/2015 ss. 134-136: a rectification request against an official's decision is
    decided by the municipal body the official works under (usually a board), not by the official. So a
    decided outcome records that body (default: the rectification body the decision named), the date and
    reference of its decision (e.g. its minutes' section), and it is recorded by someone other than the
    official who made the ban's decision (`rectification_by_decider`): the decider does not put the body's
    decision on their own decision. A pending request (its arrival) anyone competent may record. Recorded only
    by a decider competent for the ban's library on the day of the rectification decision (the competence
    table: the body's secretary needs a row too). Once the rectification decision has been notified it is
    not changed here any more: what follows is the court appeal."""
    _ban_texts_check(actor=actor, ban_id=ban_id, appeal_body=body or "", appeal_reference=reference or "")
    with write_transaction():
        ban = _ban_for_step(
            actor=actor,
            ban_id=ban_id,
            step=Step.APPEAL,
            rule="notification_required",
            message=_("A rectification request concerns a decision that has been notified."),
        )
        if ban.rectification_notified_on is not None:
            raise RuleBroken(
                "rectification_notified",
                _("The rectification decision has been notified; it can no longer be changed here."),
            )
        if ban.appeal_outcome not in ("", AppealOutcome.PENDING):
            # The body's decision is recorded once; a later change would let anyone (the ban's own decider
            # included) undo it. Only the administrative court changes it (ss. 145-146).
            raise RuleBroken(
                "appeal_decided", _("The rectification request has been decided; its outcome is recorded.")
            )
        if ban.appeal_lodged_on is not None and lodged_on != ban.appeal_lodged_on:
            raise RuleBroken(
                "lodged_on_recorded",
                _("The request's arrival date (%(date)s) is recorded and does not change."),
                date=shown_date(ban.appeal_lodged_on),
            )
        outcome = _outcome(outcome)
        if lodged_on is None or lodged_on > today():
            raise RuleBroken(
                "lodged_on_invalid", _("Give the date the rectification request arrived (not in the future).")
            )
        assert ban.appeal_deadline is not None  # set when the decision was notified, before any appeal
        decided_on = _review_outcome_check(
            outcome=outcome,
            lodged_on=lodged_on,
            deadline=ban.appeal_deadline,
            decided_on=decided_on,
            late=("appeal_late", _("The request arrived after the deadline (%(deadline)s); it can only be dismissed.")),
            decided_on_invalid=(
                "appeal_decided_on_invalid",
                _("The rectification decision's date must be between the request's arrival and today."),
            ),
        )
        reference = (reference or "").strip()
        if decided_on is not None:
            if actor.username == ban.decided_by:
                raise RuleBroken(
                    "rectification_by_decider",
                    _(
                        "The rectification request is decided by the municipality's body, not by the official who "
                        "made the decision (Local Government Act 410/2015 ss. 134-135): someone other than the "
                        "decider records its outcome."
                    ),
                )
            body = _rectification_body(ban, body)
            if not reference:
                raise RuleBroken(
                    "rectification_reference_required",
                    _("Give the reference of the body's decision, e.g. its minutes' section."),
                )
        else:
            body, reference = "", ""
        _competence(actor, ban.library, decided_on or today())
        ban.appeal_lodged_on, ban.appeal_outcome, ban.appeal_decided_on = lodged_on, outcome, decided_on
        ban.appeal_body, ban.appeal_reference = body, reference
        ban.appeal_recorded_by = actor.username if outcome != AppealOutcome.PENDING else ""
        if outcome == AppealOutcome.OVERTURNED:
            ban.status, ban.ended_early_on = BanStatus.OVERTURNED, decided_on
        _set_dates(ban)  # upheld or dismissed: a ban that waited until it is final starts the next day
        ban.save()
        _record(actor, ban, "ban_appeal")
    return ban


def _review_outcome_check(
    *,
    outcome: str,
    lodged_on: datetime.date,
    deadline: datetime.date,
    decided_on: datetime.date | None,
    late: tuple[str, "StrPromise"],
    decided_on_invalid: tuple[str, "StrPromise"],
) -> datetime.date | None:
    """What the two reviews of a ban (the rectification request, the administrative-court appeal) share: one
    lodged after its deadline can only be dismissed (or wait, pending); a decided one has its decision's date,
    today unless given, between the lodging and today; a pending one has none. Each review names its own
    rules and messages."""
    if lodged_on > deadline and outcome not in (AppealOutcome.DISMISSED, AppealOutcome.PENDING):
        raise RuleBroken(late[0], late[1], deadline=shown_date(deadline))
    if outcome == AppealOutcome.PENDING:
        return None
    decided_on = decided_on or today()
    if decided_on < lodged_on or decided_on > today():
        raise RuleBroken(*decided_on_invalid)
    return decided_on


def court_appeal_deadline_for(received_on: datetime.date) -> datetime.date:
    """Act on Judicial Procedure in Administrative Matters 808/2019 s. 13: an appeal to the administrative court
    within 30 days of the notification, the day of receipt not counted; a last day off work moves to the next
    working day (Act on the Calculation of Statutory Time Limits 150/1930)."""
    return last_day_of_time_limit(
        received_on + datetime.timedelta(days=COURT_APPEAL_DAYS), country=Jurisdiction.FINLAND
    )


def ban_rectification_notification_record(*, actor: Actor, ban_id: int, method: str, sent_on: datetime.date) -> Ban:
    """How and when the rectification decision (upheld, or the request dismissed) was sent to the party: gives
    its deemed receipt (letter 7th day, electronic 3rd, in person the same day, as for the ban's decision) and
    the 30-day deadline of the administrative-court appeal (Local Government Act 410/2015 ss. 145-146; Act
    808/2019 s. 13). It may be corrected until a court appeal has been recorded."""
    with write_transaction():
        ban = _ban_for_step(
            actor=actor,
            ban_id=ban_id,
            step=Step.RECTIFICATION_NOTICE,
            rule="rectification_decision_required",
            message=_("Only a rectification decision that left the ban standing is notified for a court appeal."),
        )
        if ban.appeal_outcome not in STANDING:
            raise RuleBroken(
                "rectification_decision_required",
                _("Only a rectification decision that left the ban standing is notified for a court appeal."),
            )
        if ban.court_appeal_lodged_on is not None:
            raise RuleBroken(
                "court_appeal_recorded",
                _("A court appeal has been recorded; the rectification decision's notice can no longer be changed."),
            )
        sent_on = _sent_check(method, sent_on, ban.appeal_decided_on)
        # Act 13/2003 s. 19: electronically only with the party's consent, as recorded with the ban's notice.
        _consent_check(method, sent_on, ban.electronic_consent_on, ban.electronic_consent_how, guardian=None)
        ban.rectification_notification_method, ban.rectification_notified_on = method, sent_on
        ban.rectification_deemed_received_on = deemed_received_on(method, sent_on)
        ban.court_appeal_deadline = court_appeal_deadline_for(ban.rectification_deemed_received_on)
        _set_dates(ban)  # a ban that waits until it is final: from the day after the court deadline, if no appeal
        ban.save()
        _record(actor, ban, "ban_rectification_notified")
    return ban


def ban_court_appeal_record(
    *,
    actor: Actor,
    ban_id: int,
    lodged_on: datetime.date,
    court: str,
    outcome: str = AppealOutcome.PENDING,
    decided_on: datetime.date | None = None,
) -> Ban:
    """An appeal to the administrative court against the rectification decision and, when decided, the court's
    outcome (Local Government Act 410/2015 ss. 145-146): pending, upheld, overturned (the ban ends at once) or
    dismissed. An appeal lodged after the deadline (Act 808/2019 s. 13, 30 days) can only be dismissed; one
    made in time keeps a ban not enforced before it is final waiting (bans.state.ban_is_final). Recorded only by
    a decider competent for the ban's library on the day of the court's decision (today while pending)."""
    _ban_texts_check(actor=actor, ban_id=ban_id, court=court or "")
    with write_transaction():
        ban = _ban_for_step(
            actor=actor,
            ban_id=ban_id,
            step=Step.COURT_APPEAL,
            rule="rectification_notification_required",
            message=_("Record first how the rectification decision was notified: the appeal time runs from it."),
        )
        if ban.court_appeal_deadline is None or ban.appeal_outcome not in STANDING:
            raise RuleBroken(
                "rectification_notification_required",
                _("Record first how the rectification decision was notified: the appeal time runs from it."),
            )
        if ban.court_outcome in STANDING:
            raise RuleBroken("court_decided", _("The court has decided the appeal; its outcome is recorded."))
        outcome = _outcome(outcome)
        court = (court or "").strip()
        if not court:
            raise RuleBroken("court_required", _("Name the administrative court, e.g. Pohjois-Suomen hallinto-oikeus."))
        assert ban.appeal_decided_on is not None  # a rectification decision that left the ban standing has its date
        if lodged_on is None or lodged_on > today() or lodged_on < ban.appeal_decided_on:
            raise RuleBroken(
                "court_lodged_on_invalid",
                _("Give the date the appeal was lodged: not before the rectification decision, not in the future."),
            )
        decided_on = _review_outcome_check(
            outcome=outcome,
            lodged_on=lodged_on,
            deadline=ban.court_appeal_deadline,
            decided_on=decided_on,
            late=(
                "court_appeal_late",
                _("The appeal was lodged after the deadline (%(deadline)s); it can only be dismissed."),
            ),
            decided_on_invalid=(
                "court_decided_on_invalid",
                _("The court's decision date must be between the appeal and today."),
            ),
        )
        _competence(actor, ban.library, decided_on or today())
        ban.court_appeal_lodged_on, ban.court, ban.court_outcome = lodged_on, court, outcome
        ban.court_decided_on, ban.court_recorded_by = decided_on, actor.username
        if outcome == AppealOutcome.OVERTURNED:
            ban.status, ban.ended_early_on = BanStatus.OVERTURNED, decided_on
        _set_dates(ban)  # upheld or dismissed: a ban that waited until it is final starts the next day
        ban.save()
        _record(actor, ban, "ban_court_appeal")
    return ban


def ban_cancel(*, actor: Actor, ban_id: int, reason: str) -> Ban:
    """Withdraw a ban at any step before it has ended (e.g. the proposal is dropped after the hearing); only a
    decider competent for the ban's library today."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleBroken("reason_required", _("Say why the ban is cancelled."))
    _ban_texts_check(actor=actor, ban_id=ban_id, cancellation_reason=reason)
    with write_transaction():
        ban = _ban_for_step(
            actor=actor,
            ban_id=ban_id,
            step=Step.CANCEL,
            rule="ban_closed",
            message=_("This ban has been cancelled or overturned."),
        )
        if ban_state(ban, today()) == BanState.ENDED:
            raise RuleBroken("ban_ended", _("This ban's dates have passed."))
        _competence(actor, ban.library, today())
        ban.status, ban.ended_early_on, ban.cancellation_reason = BanStatus.CANCELLED, today(), reason[:300]
        ban.save()
        _record(actor, ban, "ban_cancelled")
    return ban


# --- Sweden -----------------------------------------------------------------------------------------
# Lag (2021:34) om tillträdesförbud till butiker, badanläggningar och bibliotek (for libraries since 1.7.2022)
# and förordning (2021:38): the prosecutor decides, the court reviews; the library records what they decided.


def access_prohibition_warnings(*, starts_on: datetime.date, ends_on: datetime.date) -> list[ProhibitionWarning]:
    """What the staff should double-check before recording a decision with these dates.

    Lag (2021:34): a prohibition is decided for a set time of at most one year, and may be prolonged by a new
    decision of at most a year at a time. The library records the decision as the prosecutor made it; a period
    of a year or more (the last day on or after the first day's anniversary) is most likely a typing error, or a
    prolongation that should be recorded as its own decision starting the day after the first one ends, so it
    is recorded with a warning, never refused.
    """
    if ends_on < starts_on + relativedelta(years=1):
        return []
    return [
        ProhibitionWarning(
            "longer_than_one_year",
            gettext(
                "The prohibition would last from %(starts_on)s to %(ends_on)s: a year or more. The law (2021:34) "
                "allows at most a year at a time; check the dates against the prosecutor's decision, and record a "
                "prolongation as its own decision."
            )
            % {"starts_on": shown_date(starts_on), "ends_on": shown_date(ends_on)},
        )
    ]


def _prohibition_dates_check(*, decided_on: datetime.date, starts_on: datetime.date, ends_on: datetime.date) -> None:
    """A prohibition cannot start before it exists: the day the prosecutor decided it (lag 2021:34 4 §: the
    decision is then served on the person), nor end before it starts."""
    if starts_on < decided_on:
        raise RuleBroken(
            "starts_before_decision",
            _("The prohibition cannot start before the prosecutor decided it (%(date)s)."),
            date=shown_date(decided_on),
        )
    if ends_on < starts_on:
        raise RuleBroken("dates_in_order", _("The prohibition cannot end before it starts."))


def _prohibition_overlap_check(
    patron: Patron, library: Library, starts_on: datetime.date, ends_on: datetime.date, *, exclude: int | None = None
) -> None:
    """One prohibition at a time per patron and library: two decisions for the same days are a typing error or
    the same decision recorded twice. A prolongation starts the day after the earlier one ends (adjacent, not
    overlapping). A revoked prohibition counts only up to the day before its revocation: a new decision may
    start on the day the earlier one was revoked from."""
    overlapping = AccessProhibition.objects.filter(
        patron=patron, library=library, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).exclude(revoked_on__lte=starts_on)
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude)
    if overlapping.exists():
        raise RuleBroken(
            "overlapping_prohibition",
            _(
                "This patron already has an access prohibition for this library on some of these days. A "
                "prolongation starts the day after the earlier prohibition ends."
            ),
        )


def access_prohibition_record(
    *,
    actor: Actor,
    patron_id: int,
    library: str,
    applied_on: datetime.date,
    application_reference: str,
    prosecutor_reference: str,
    decided_on: datetime.date,
    starts_on: datetime.date,
    ends_on: datetime.date,
) -> AccessProhibition:
    """Record a prosecutor's decision on an access prohibition, with the library's own application.

    The library records the decision; it does not judge it: a period of a year or more is recorded, with the
    warnings of `access_prohibition_warnings` set on the returned row (`warnings`, not a column) and named in
    the access event. Refused, as impossible rather than unusual: a start before the decision day, an end before
    the start, an overlap with another prohibition of the patron at the same library, and a person under 15 on
    the day of the decision (lag 2021:34 1 §: a prohibition cannot concern anyone younger; a younger age means
    the wrong patron or a wrong date of birth).
    """
    free_text_check(
        actor=actor,
        model=AccessProhibition,
        texts={"application_reference": application_reference, "prosecutor_reference": prosecutor_reference},
        action=Action.PATRON_UPDATE,
        patron_ids=consortium_patron_ids(actor=actor, patron_id=patron_id),
        data_categories=[DataCategory.BANS],
    )
    with write_transaction():
        patron = patron_for_write(actor=actor, patron_id=patron_id, lock=True)
        if patron.consortium.jurisdiction != Jurisdiction.SWEDEN:
            raise RuleBroken(
                "finnish_consortium",
                _("Access prohibitions are Swedish; a Finnish library decides a library-use ban instead."),
            )
        the_library = _library(patron, library)
        if not (application_reference or "").strip() or applied_on is None:
            raise RuleBroken("application_required", _("Record the library's own application: its date and reference."))
        if not (prosecutor_reference or "").strip():
            raise RuleBroken("prosecutor_reference_required", _("Give the prosecutor's decision reference."))
        if decided_on > today():
            raise RuleBroken("decided_in_future", _("The decision date cannot be in the future."))
        if decided_on < applied_on:
            raise RuleBroken(
                "decided_before_application", _("The prosecutor cannot decide before the library applied.")
            )
        _prohibition_dates_check(decided_on=decided_on, starts_on=starts_on, ends_on=ends_on)
        if patron.date_of_birth is None or age_on(patron.date_of_birth, decided_on) < PROHIBITION_MIN_AGE:
            raise RuleBroken(
                "under_15", _("An access prohibition can concern only a person who is at least 15 years old.")
            )
        _prohibition_overlap_check(patron, the_library, starts_on, ends_on)
        warnings = access_prohibition_warnings(starts_on=starts_on, ends_on=ends_on)
        prohibition = AccessProhibition.objects.create(
            patron=patron,
            library=the_library,
            applied_on=applied_on,
            application_reference=application_reference.strip(),
            prosecutor_reference=prosecutor_reference.strip(),
            decided_on=decided_on,
            starts_on=starts_on,
            ends_on=ends_on,
            recorded_at=timezone.now(),
            recorded_by=actor.username,
        )
        detail = ":".join(["prohibition_recorded", *(warning.code for warning in warnings)])
        record_write(actor=actor, patron_ids=[patron.pk], categories=[DataCategory.BANS], detail=detail)
        restrictions_changed(patron.pk)
    prohibition.warnings = warnings
    return prohibition


def _prohibition_for_change(*, actor: Actor, prohibition_id: int) -> AccessProhibition:
    """The prohibition (locked) of the actor's consortium; another consortium's is not found."""
    return object_of_consortium_or_404(
        AccessProhibition.objects.select_for_update(of=("self",)).select_related("library"),
        actor=actor,
        pk=prohibition_id,
    )


def _prohibition_texts_check(*, actor: Actor, prohibition_id: int, **texts: str) -> None:
    """No identity code in a prohibition's texts; a refusal is a denied event about the prohibition's patron."""
    free_text_check(
        actor=actor,
        model=AccessProhibition,
        texts=texts,
        action=Action.PATRON_UPDATE,
        patron_ids=AccessProhibition.objects.visible_to(actor)
        .filter(pk=prohibition_id)
        .values_list("patron_id", flat=True),
        data_categories=[DataCategory.BANS],
    )


def _later_decision_check(prohibition: AccessProhibition, decided_on: datetime.date, *, by: str) -> None:
    """A later decision on the prohibition (its revocation, the court's review) is made on a day that has come, and
    not before the prosecutor's decision it concerns."""
    if decided_on > today():
        raise RuleBroken("decided_in_future", _("The decision date cannot be in the future."))
    if decided_on < prohibition.decided_on:
        raise RuleBroken(
            f"{by}_before_decision",
            _("This cannot be dated before the prosecutor's decision on the prohibition (%(date)s)."),
            date=shown_date(prohibition.decided_on),
        )


def _record_prohibition_change(actor: Actor, prohibition: AccessProhibition, detail: str) -> None:
    """The access event of the change; once it commits, the listeners (Koha's restrictions) hear of it."""
    record_write(actor=actor, patron_ids=[prohibition.patron_id], categories=[DataCategory.BANS], detail=detail)
    restrictions_changed(prohibition.patron_id)


def access_prohibition_revoke(
    *, actor: Actor, prohibition_id: int, revoked_on: datetime.date, reference: str
) -> AccessProhibition:
    """Record that the prosecutor revoked (hävt) the prohibition, as lag (2021:34) requires when there is no longer
    reason for it (förordning 2021:38 2 §: a prosecutor's or court's revocation is a decision of its own).

    From `revoked_on` the prohibition is no longer in force: it leaves the patron's marks and Koha's restrictions
    (bans.changes fires), and stays in the record with its history. The date is the prosecutor's decision: not in
    the future (a decision not yet made is not recorded), not before the prohibition was decided. A revocation
    before the prohibition starts is recorded (the prosecutor may lift it before it begins; it is then never in
    force). A revocation after its last day is refused: the prohibition had already ended by itself, and a later
    date would change nothing but the record of how it ended.
    """
    reference = (reference or "").strip()
    if not reference:
        raise RuleBroken("revocation_reference_required", _("Give the reference of the prosecutor's revocation."))
    _prohibition_texts_check(actor=actor, prohibition_id=prohibition_id, revocation_reference=reference)
    with transaction.atomic():
        prohibition = _prohibition_for_change(actor=actor, prohibition_id=prohibition_id)
        if prohibition.revoked_on is not None:
            raise RuleBroken(
                "already_revoked",
                _("This prohibition was already revoked from %(date)s."),
                date=shown_date(prohibition.revoked_on),
            )
        _later_decision_check(prohibition, revoked_on, by="revoked")
        if revoked_on > prohibition.ends_on:
            raise RuleBroken(
                "revoked_after_end",
                _("The prohibition ended on %(date)s by itself; a revocation after its last day changes nothing."),
                date=shown_date(prohibition.ends_on),
            )
        prohibition.revoked_on, prohibition.revocation_reference = revoked_on, reference[:100]
        prohibition.revocation_recorded_by = actor.username
        prohibition.save(update_fields=["revoked_on", "revocation_reference", "revocation_recorded_by"])
        _record_prohibition_change(actor, prohibition, "prohibition_revoked")
    return prohibition


def access_prohibition_court_record(
    *,
    actor: Actor,
    prohibition_id: int,
    court: str,
    decided_on: datetime.date,
    reference: str,
    outcome: str,
    new_ends_on: datetime.date | None = None,
) -> AccessProhibition:
    """Record the district court's (tingsrätt) outcome on the person's request for review of the prosecutor's
    decision (lag 2021:34; förordning 2021:38 2 §: a court's decision that revokes or changes a prohibition).

    Upheld: nothing changes. Revoked: no longer in force from the court's decision day (kept if the prosecutor had
    revoked it earlier); a court decision after the prohibition ended is recorded as the outcome only, since the
    prohibition was no longer in force to be lifted. Changed: the new end date applies, the prosecutor's kept in
    `decided_ends_on`; it may not end before it starts nor overlap another prohibition of the patron at the same
    library, and a year or more is recorded with a warning, as for the prosecutor's decision. One outcome per
    prohibition: an appeal further up is outside what the library records.
    """
    court, reference = (court or "").strip(), (reference or "").strip()
    if not court or not reference:
        raise RuleBroken("court_required", _("Give the court and its case number."))
    if outcome not in CourtOutcome.values:
        raise RuleBroken(
            "outcome_unknown",
            _("Unknown outcome. Use one of: %(outcomes)s."),
            outcomes=", ".join(CourtOutcome.values),
        )
    if (outcome == CourtOutcome.CHANGED) != (new_ends_on is not None):
        raise RuleBroken(
            "new_end_date",
            _("Give a new end date when the court changed the prohibition, and only then."),
        )
    _prohibition_texts_check(actor=actor, prohibition_id=prohibition_id, court=court, court_reference=reference)
    warnings: list[ProhibitionWarning] = []
    with transaction.atomic():
        prohibition = _prohibition_for_change(actor=actor, prohibition_id=prohibition_id)
        if prohibition.court_outcome:
            raise RuleBroken(
                "court_outcome_recorded", _("The court's outcome on this prohibition is already recorded.")
            )
        _later_decision_check(prohibition, decided_on, by="court")
        if outcome == CourtOutcome.REVOKED and decided_on <= prohibition.last_day:
            prohibition.revoked_on = min(prohibition.revoked_on or decided_on, decided_on)
        if outcome == CourtOutcome.CHANGED and new_ends_on is not None:
            if new_ends_on < prohibition.starts_on:
                raise RuleBroken("dates_in_order", _("The prohibition cannot end before it starts."))
            _prohibition_overlap_check(
                prohibition.patron, prohibition.library, prohibition.starts_on, new_ends_on, exclude=prohibition.pk
            )
            warnings = access_prohibition_warnings(starts_on=prohibition.starts_on, ends_on=new_ends_on)
            prohibition.decided_ends_on, prohibition.ends_on = prohibition.ends_on, new_ends_on
        prohibition.court, prohibition.court_reference = court[:200], reference[:100]
        prohibition.court_decided_on, prohibition.court_outcome = decided_on, outcome
        prohibition.court_recorded_by = actor.username
        prohibition.save()
        detail = ":".join([f"prohibition_court_{outcome}", *(warning.code for warning in warnings)])
        _record_prohibition_change(actor, prohibition, detail)
    prohibition.warnings = warnings
    return prohibition
