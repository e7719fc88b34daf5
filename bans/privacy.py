"""What bans/ holds of a patron, for the data protection officer (core.privacy_contract): library-use
bans with their decisions and Swedish access prohibitions, and how long the decision archive keeps them."""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.models import DataCategory
from bans.models import NOTICE_FIELDS, AccessProhibition, Ban, BanGround, BanGuardian, BanState
from bans.selectors import bans_visible_to_staff
from bans.state import ban_state
from core.dates import today
from core.privacy_contract import (
    HOLD_LEGAL_OBLIGATION,
    DecisionLine,
    ErasureContext,
    ErasureDone,
    ErasureLine,
    ErasurePart,
    LegalHold,
    PrivacyContract,
    Record,
    ReportContext,
    ReportPart,
    RetentionRule,
    Section,
    deleted_rows,
    model_item,
    model_record,
    report_item,
    staff_fields,
)
from core.registers import Register
from patrons.models import Note
from patrons.privacy import patron_record_is_theirs


class ProhibitionState(models.TextChoices):
    """What an access prohibition is on a given day, from its dates."""

    SCHEDULED = "scheduled", _("Starts later")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")
    REVOKED = "revoked", _("Revoked")


def _prohibition_state(prohibition: AccessProhibition, day: datetime.date) -> ProhibitionState:
    if prohibition.revoked_on is not None and prohibition.revoked_on <= day:
        return ProhibitionState.REVOKED
    if prohibition.ends_on < day:
        return ProhibitionState.ENDED
    return ProhibitionState.SCHEDULED if prohibition.starts_on > day else ProhibitionState.ACTIVE


def _kept_by_archive(decision: Ban | AccessProhibition, day: datetime.date) -> bool:
    """A decision not yet archived, or archived and still within its retention, is an official document kept."""
    return decision.archived_at is None or decision.retain_until is None or decision.retain_until >= day


BAN_HELD = _("A ban decision kept in the decision archive (an official document)")
PROHIBITION_HELD = _("An access prohibition kept for its archive period")
NOTES_HELD = _("Behaviour notes a kept ban decision cites as its grounds")
ARCHIVE_REASON = _(
    "An official decision is kept until its time in the decision archive ends (BAN_DECISION_RETENTION_YEARS "
    "after it ended); GDPR Art. 17(3)(b)."
)


def _kept_until(decision: Ban | AccessProhibition, ended_on: datetime.date) -> datetime.date:
    """Until when the archive keeps the decision: its `retain_until`, or the day `archive_bans` will set."""
    return decision.retain_until or ended_on + relativedelta(years=settings.BAN_DECISION_RETENTION_YEARS)


def _hold(key: str, label, ids: tuple[int, ...], until: datetime.date) -> LegalHold:
    return LegalHold(
        key=key,
        label=label,
        ground=HOLD_LEGAL_OBLIGATION,
        reason="decision_archive",
        reason_text=ARCHIVE_REASON,
        until=until,
        ids=ids,
        needs_patron_record=True,
    )


def ban_decisions_due(day: datetime.date) -> QuerySet[Ban]:
    """Archived ban decisions whose keeping date has passed (kept on the retain_until day itself)."""
    return Ban.objects.filter(archived_at__isnull=False, retain_until__lt=day)


def access_prohibitions_due(day: datetime.date) -> QuerySet[AccessProhibition]:
    return AccessProhibition.objects.filter(archived_at__isnull=False, retain_until__lt=day)


def notes_cited_by_kept_decisions(day: datetime.date) -> QuerySet[Note]:
    """The notes a ban decision kept on `day` cites, removed or not: they stay with the decision, as part of its
    grounds, whatever the retention of removed notes or of behaviour notes would say (a note keeper, registered
    in BansConfig.ready)."""
    return Note.objects.filter(bans__in=Ban.objects.exclude(pk__in=ban_decisions_due(day).values("pk")))


BAN_DECISIONS = RetentionRule(
    name="ban_decisions",
    order=10,
    register=Register.LIBRARY_SYSTEM,
    description=_(
        "Decisions of library-use bans that have ended, once their time in the decision archive is over "
        "(BAN_DECISION_RETENTION_YEARS after the ban ended)."
    ),
    due=ban_decisions_due,
    patron_fields=("patron_id",),
    data_categories=(DataCategory.BANS, DataCategory.BAN_DECISION),
)
ACCESS_PROHIBITIONS = RetentionRule(
    name="access_prohibitions",
    order=20,
    register=Register.LIBRARY_SYSTEM,
    description=_(
        "Access prohibitions that have ended, once their keeping time is over "
        "(BAN_DECISION_RETENTION_YEARS after the prohibition ended)."
    ),
    due=access_prohibitions_due,
    patron_fields=("patron_id",),
    data_categories=(DataCategory.BANS,),
)


def _guardian_record(row: BanGuardian) -> Record:
    """A guardian's own part in the ban procedure of their ward (Administrative Procedure Act 434/2003 s. 14):
    that they were heard and notified, what they said, and which decision they were given; nothing of the
    ward's data beyond the decision's number, date and library, which the guardian was sent."""
    ban = row.ban
    first = (
        model_item(ban, "library"),
        model_item(ban, "decision_number"),
        model_item(ban, "decided_on"),
    )
    fields = ("name", "heard_on", "hearing_method", "statement", *NOTICE_FIELDS)
    return model_record(row, fields, first=first)


def _ban_record(ban: Ban, day: datetime.date) -> Record:
    state = ban_state(ban, day)
    grounds = [BanGround(code).label if code in BanGround.values else code for code in ban.grounds or []]
    fields = (
        "starts_on",
        "ends_on",
        "proposed_at",
        *staff_fields("proposed_by"),
        "heard_on",
        "hearing_method",
        "statement",
        "hearing_waived_reason",
        *staff_fields("hearing_recorded_by"),
        "decision_number",
        "decided_on",
        *staff_fields("decided_by"),
        # The decider and the contact person are named in the decision the patron was sent.
        "decider_name",
        "reasons",
        "decided_text",
        "legal_basis",
        "contact_person",
        "enforcement_reasons",
        "length_days",
        *NOTICE_FIELDS,
        "appeal_deadline",
        "appeal_lodged_on",
        "appeal_outcome",
        "appeal_decided_on",
        "appeal_body",
        "appeal_reference",
        *staff_fields("appeal_recorded_by"),
        "rectification_notification_method",
        "rectification_notified_on",
        "rectification_deemed_received_on",
        "court_appeal_deadline",
        "court_appeal_lodged_on",
        "court",
        "court_outcome",
        "court_decided_on",
        *staff_fields("court_recorded_by"),
        "ended_early_on",
        "cancellation_reason",
        "archived_at",
        "retain_until",
    )
    meta = Ban._meta
    cited = [note.pk for note in ban.notes.all()]
    items = (
        model_item(ban, "library"),
        report_item("status", meta.get_field("status").verbose_name, state, str(BanState(state).label)),
        report_item("grounds", meta.get_field("grounds").verbose_name, grounds),
        *model_record(ban, fields).items,
        report_item("notes", meta.get_field("notes").verbose_name, cited, ", ".join(f"#{pk}" for pk in cited)),
    )
    return Record(items=tuple(item for item in items if item.text))


class BanContract(PrivacyContract):
    """Library-use bans with their decisions (archived ones too), and Swedish access prohibitions.

    The decisions are official documents kept under the archive rule: an erasure keeps each one still
    within its archive period under a legal hold (GDPR Art. 17(3)(b)), which lifts itself when it ends.
    """

    report_order = 20
    erasure_order = 40
    erased_categories = (DataCategory.BANS, DataCategory.BAN_DECISION)

    def retention_rules(self) -> tuple[RetentionRule, ...]:
        return (BAN_DECISIONS, ACCESS_PROHIBITIONS)

    def report_sections(self, patron_id: int, context: ReportContext) -> ReportPart:
        day = today()
        bans = Ban.objects.filter(patron_id=patron_id).select_related("library").prefetch_related("notes")
        prohibition_fields = (
            "library",
            "applied_on",
            "application_reference",
            "prosecutor_reference",
            "decided_on",
            "starts_on",
            "ends_on",
            "recorded_at",
            *staff_fields("recorded_by"),
            "revoked_on",
            "revocation_reference",
            *staff_fields("revocation_recorded_by"),
            "court",
            "court_decided_on",
            "court_reference",
            "court_outcome",
            "decided_ends_on",
            *staff_fields("court_recorded_by"),
            "archived_at",
            "retain_until",
        )
        prohibitions = AccessProhibition.objects.filter(patron_id=patron_id).select_related("library")
        ban_records = tuple(_ban_record(ban, day) for ban in bans.order_by("proposed_at", "id"))
        sections: tuple[Section, ...] = (
            Section(
                key="bans",
                title=gettext("Library-use bans"),
                description=gettext(
                    "Bans proposed or decided under the Library Act, ended and archived decisions included."
                ),
                records=ban_records,
            ),
            Section(
                key="access_prohibitions",
                title=gettext("Access prohibitions"),
                description=gettext(
                    "Prosecutors' decisions on access prohibitions (tillträdesförbud) recorded by the library."
                ),
                records=tuple(model_record(p, prohibition_fields) for p in prohibitions.order_by("starts_on", "id")),
            ),
        )
        as_guardian = list(
            BanGuardian.objects.filter(guardian_id=patron_id).select_related("ban__library").order_by("ban_id", "id")
        )
        if as_guardian:
            sections += (
                Section(
                    key="bans_as_guardian",
                    title=gettext("Library-use bans of your ward: your part as guardian"),
                    description=gettext(
                        "As a minor's guardian you were heard and/or sent the decision in these ban procedures."
                    ),
                    records=tuple(_guardian_record(row) for row in as_guardian),
                ),
            )
        categories = [DataCategory.BANS]
        if as_guardian or any(item.field == "decided_on" for record in ban_records for item in record.items):
            categories.append(DataCategory.BAN_DECISION)
        # The ward's ban is named by its decision only, but it is the ward's data: the report's event names them.
        wards = tuple(sorted({row.ban.patron_id for row in as_guardian}))
        return ReportPart(sections=sections, data_categories=tuple(categories), related_patron_ids=wards)

    def legal_holds(self, patron_id: int, context: ErasureContext) -> tuple[LegalHold, ...]:
        """A decided ban or an access prohibition still within its archive period is an official document the
        erasure must not destroy (GDPR Art. 17(3)(b)): held to its `retain_until`, or, not archived yet, to
        the day `archive_bans` will set (BAN_DECISION_RETENTION_YEARS after it ended). The notes a held ban
        cites are its grounds and are held with it. Both hang on the patron record."""
        day = context.day
        holds = []
        bans = Ban.objects.filter(patron_id=patron_id, decided_on__isnull=False).prefetch_related("notes")
        for ban in bans.order_by("pk"):
            ended_on = min(ban.ended_early_on or ban.ends_on, ban.ends_on)
            until = _kept_until(ban, ended_on)
            if until >= day:
                holds.append(_hold("bans", BAN_HELD, (ban.pk,), until))
                if cited := tuple(note.pk for note in ban.notes.all()):
                    holds.append(_hold("notes", NOTES_HELD, cited, until))
        for prohibition in AccessProhibition.objects.filter(patron_id=patron_id).order_by("pk"):
            until = _kept_until(prohibition, prohibition.last_day)
            if until >= day:
                holds.append(_hold("access_prohibitions", PROHIBITION_HELD, (prohibition.pk,), until))
        return tuple(holds)

    def erasure_plan(self, patron_id: int, context: ErasureContext) -> ErasurePart:
        day = context.day
        bans = list(Ban.objects.filter(patron_id=patron_id).order_by("pk"))
        prohibitions = list(AccessProhibition.objects.filter(patron_id=patron_id).order_by("pk"))
        ban_lines = []
        for ban in bans:
            state = BanState(ban_state(ban, day))
            ban_lines.append(
                DecisionLine(ban.pk, state.value, ban.archived_at is not None, ban.retain_until, state.label, _("ban"))
            )
        prohibition_lines = []
        for prohibition in prohibitions:
            prohibition_state = _prohibition_state(prohibition, day)
            prohibition_lines.append(
                DecisionLine(
                    prohibition.pk,
                    prohibition_state.value,
                    prohibition.archived_at is not None,
                    prohibition.retain_until,
                    prohibition_state.label,
                    _("access prohibition"),
                )
            )
        held_bans = context.held_ids("bans") or set()
        held_prohibitions = context.held_ids("access_prohibitions") or set()
        going_bans = tuple(ban.pk for ban in bans if ban.pk not in held_bans)
        going_prohibitions = tuple(p.pk for p in prohibitions if p.pk not in held_prohibitions)
        kept_bans = tuple(ban.pk for ban in bans if ban.pk in held_bans)
        kept_prohibitions = tuple(p.pk for p in prohibitions if p.pk in held_prohibitions)
        kept = (
            ErasureLine("bans", BAN_HELD, len(kept_bans), kept_bans),
            ErasureLine("access_prohibitions", PROHIBITION_HELD, len(kept_prohibitions), kept_prohibitions),
        )
        return ErasurePart(
            removes=(
                ErasureLine("bans", _("Library-use bans and their decisions"), len(going_bans), going_bans),
                ErasureLine(
                    "access_prohibitions", _("Access prohibitions"), len(going_prohibitions), going_prohibitions
                ),
            ),
            keeps=tuple(line for line in kept if line.count),
            details={"bans": ban_lines, "access_prohibitions": prohibition_lines},
            decisions=(*ban_lines, *prohibition_lines),
        )

    def erase(self, patron_id: int, context: ErasureContext) -> ErasureDone:
        """What a legal hold keeps stays (`legal_holds`); the rest goes."""
        removed = {"bans": 0, "access_prohibitions": 0}
        if patron_record_is_theirs(patron_id, context):
            bans = Ban.objects.filter(patron_id=patron_id).exclude(pk__in=context.held_ids("bans") or ())
            prohibitions = AccessProhibition.objects.filter(patron_id=patron_id).exclude(
                pk__in=context.held_ids("access_prohibitions") or ()
            )
            removed["bans"] = deleted_rows(bans)
            removed["access_prohibitions"] = deleted_rows(prohibitions)
        return ErasureDone(removed=removed)

    def release_hold(self, patron_id: int, key: str, ids: tuple[int, ...]) -> int:
        """A held decision goes when its hold ends (unless the archive's own retention removed it already)."""
        if key == "bans":
            return deleted_rows(Ban.objects.filter(patron_id=patron_id, pk__in=ids))
        if key == "access_prohibitions":
            return deleted_rows(AccessProhibition.objects.filter(patron_id=patron_id, pk__in=ids))
        return 0

    def open_matters(self, patron_ids: list[int], *, day: datetime.date) -> dict[int, tuple[str, ...]]:
        """A ban still in procedure or in force (its last day not passed), an access prohibition in force."""
        found: dict[int, set[str]] = {}
        open_bans = bans_visible_to_staff(day).filter(patron_id__in=patron_ids)
        for patron_id in open_bans.values_list("patron_id", flat=True):
            found.setdefault(patron_id, set()).add("ban")
        prohibitions = AccessProhibition.objects.not_ended(day).filter(patron_id__in=patron_ids)
        for patron_id in prohibitions.values_list("patron_id", flat=True):
            found.setdefault(patron_id, set()).add("access_prohibition")
        return {patron_id: tuple(sorted(codes)) for patron_id, codes in found.items()}


CONTRACTS = (BanContract(),)
