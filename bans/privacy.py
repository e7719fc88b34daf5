"""What bans/ holds of a patron, for the data protection officer (core.privacy_contract): library-use
bans with their decisions and Swedish access prohibitions, and how long the decision archive keeps them."""

import datetime

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.models import DataCategory
from bans.models import AccessProhibition, Ban, BanGround, BanState
from bans.state import STAFF_VISIBLE_BAN_STEPS, ban_state
from core.dates import today
from core.privacy_contract import (
    DecisionLine,
    ErasureContext,
    ErasureDone,
    ErasureLine,
    ErasurePart,
    PlanWarning,
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


def _prohibition_state(prohibition: AccessProhibition, day: datetime.date) -> ProhibitionState:
    if prohibition.ends_on < day:
        return ProhibitionState.ENDED
    return ProhibitionState.SCHEDULED if prohibition.starts_on > day else ProhibitionState.ACTIVE


def _kept_by_archive(decision: Ban | AccessProhibition, day: datetime.date) -> bool:
    """A decision not yet archived, or archived and still within its retention, is an official document kept."""
    return decision.archived_at is None or decision.retain_until is None or decision.retain_until >= day


def ban_decisions_due(day: datetime.date) -> QuerySet[Ban]:
    """Archived ban decisions whose keeping date has passed (kept on the retain_until day itself)."""
    return Ban.objects.filter(archived_at__isnull=False, retain_until__lt=day)


def access_prohibitions_due(day: datetime.date) -> QuerySet[AccessProhibition]:
    return AccessProhibition.objects.filter(archived_at__isnull=False, retain_until__lt=day)


def notes_cited_by_kept_decisions(day: datetime.date) -> QuerySet[Note]:
    """Removed notes a ban decision kept on `day` cites: they stay with the decision, as part of its grounds
    (a removed-note keeper, registered in BansConfig.ready)."""
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
        "notification_method",
        "notified_on",
        "deemed_received_on",
        "appeal_deadline",
        "appeal_lodged_on",
        "appeal_outcome",
        "appeal_decided_on",
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

    The decisions are official documents kept under the archive rule: the dry run of an erasure warns
    of each one still kept, a ground to refuse the erasure under GDPR Art. 17(3)(b).
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
            "archived_at",
            "retain_until",
        )
        prohibitions = AccessProhibition.objects.filter(patron_id=patron_id).select_related("library")
        ban_records = tuple(_ban_record(ban, day) for ban in bans.order_by("proposed_at", "id"))
        sections = (
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
        categories = [DataCategory.BANS]
        if any(item.field == "decided_on" for record in ban_records for item in record.items):
            categories.append(DataCategory.BAN_DECISION)
        return ReportPart(sections=sections, data_categories=tuple(categories))

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
        return ErasurePart(
            removes=(
                ErasureLine(
                    "bans", _("Library-use bans and their decisions"), len(bans), tuple(ban.pk for ban in bans)
                ),
                ErasureLine(
                    "access_prohibitions",
                    _("Access prohibitions"),
                    len(prohibitions),
                    tuple(prohibition.pk for prohibition in prohibitions),
                ),
            ),
            details={"bans": ban_lines, "access_prohibitions": prohibition_lines},
            decisions=(*ban_lines, *prohibition_lines),
            warnings=self._warnings(bans, prohibitions, day),
        )

    @staticmethod
    def _warnings(bans: list[Ban], prohibitions: list[AccessProhibition], day: datetime.date) -> tuple:
        warnings = []
        kept_bans = [ban.pk for ban in bans if ban.decided_on is not None and _kept_by_archive(ban, day)]
        if kept_bans:
            warnings.append(
                PlanWarning(
                    code="ban_decision_kept",
                    message=ngettext(
                        "The decision of ban %(ids)s is an official document kept under the archive rule until its "
                        "retention ends; the erasure would remove it. You may refuse the erasure under GDPR "
                        "Art. 17(3)(b).",
                        "The decisions of bans %(ids)s are official documents kept under the archive rule until "
                        "their retention ends; the erasure would remove them. You may refuse the erasure under GDPR "
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
        return tuple(warnings)

    def erase(self, patron_id: int, context: ErasureContext) -> ErasureDone:
        removed = {"bans": 0, "access_prohibitions": 0}
        if patron_record_is_theirs(patron_id, context):
            removed["bans"] = deleted_rows(Ban.objects.filter(patron_id=patron_id))
            removed["access_prohibitions"] = deleted_rows(AccessProhibition.objects.filter(patron_id=patron_id))
        return ErasureDone(removed=removed)

    def open_matters(self, patron_ids: list[int], *, day: datetime.date) -> dict[int, tuple[str, ...]]:
        """A ban still in procedure or in force (its last day not passed), an access prohibition in force."""
        found: dict[int, set[str]] = {}
        open_bans = Ban.objects.filter(patron_id__in=patron_ids, status__in=STAFF_VISIBLE_BAN_STEPS, ends_on__gte=day)
        for patron_id in open_bans.values_list("patron_id", flat=True):
            found.setdefault(patron_id, set()).add("ban")
        prohibitions = AccessProhibition.objects.filter(patron_id__in=patron_ids, ends_on__gte=day)
        for patron_id in prohibitions.values_list("patron_id", flat=True):
            found.setdefault(patron_id, set()).add("access_prohibition")
        return {patron_id: tuple(sorted(codes)) for patron_id, codes in found.items()}


CONTRACTS = (BanContract(),)
