"""The access report (GDPR Art. 15, tietopyyntö): everything held about a patron, and who has processed it.

One selector, `access_report_build`, asks every app's privacy contract (core.privacy_contract) for its
sections in one transaction: the patron record, notes (sensitive ones with their text; a removed note as
the record of its removal, since its text is erased; earlier texts of edited notes), bans with archived
decisions, Swedish access prohibitions, guardian links and adult guardianship, register memberships and
consents, whether an identity code is stored (never the code), the patron's data-subject requests and
the breaches that concerned them, and the access log about the patron: grouped by day, role and data category
(`access_summary`), every event in an appendix. A new app's data is in the
report once it declares its contract. The JSON API, the PDF and the DPO's page all render the one
AccessReport it returns, so they cannot disagree.

Labels and texts are made in the patron's language while the report is built. Staff are named (usernames
and names) only with settings.ACCESS_REPORT_STAFF_NAMES; otherwise by role and library.

Every copy is free (Art. 15(3), 12(5)): a request received after an earlier report of the same patron is
flagged (dpo.selectors.earlier_report, which the DPO also sees on the request before the report is made),
and stays free unless the DPO records a finding, with its reasoning, that allows a fee or a refusal.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, replace
from typing import cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import Action, DataCategory, Outcome
from audit.services import access_event_record
from core.errors import NotFound, RuleBroken
from core.privacy_contract import Item, Record, ReportContext, ReportPart, Section, data_subject, privacy_contracts
from dpo.models import RequesterRole, RequestKind, SubjectRequest
from dpo.selectors import earlier_report


class PatronErased(NotFound):
    """The request's patron no longer exists: erased, so there is nothing left to report."""

    code = "patron_erased"
    message = _("The patron's data has been erased; there is nothing to report.")

    def __init__(self) -> None:
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class PreviousReport:
    request_id: int
    report_made_at: datetime.datetime


@dataclass(frozen=True, slots=True)
class Requester:
    """The representative who asked for the patron, to whom the report is addressed and delivered."""

    role: str
    role_label: str
    name: str


@dataclass(frozen=True, slots=True)
class SummaryCount:
    """One kind of data (or, for an event that names none, what was done) and how many events processed it."""

    code: str
    label: str
    events: int


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """The events of one day by the staff of one role: how many, and which data they processed how often."""

    day: datetime.date
    role: str  # as the access log section says it, in the report's language
    events: int
    categories: tuple[SummaryCount, ...]
    cells: tuple[int | None, ...]  # the counts under the summary's columns, for the printed table


@dataclass(frozen=True, slots=True)
class AccessSummary:
    """The access log grouped by day and role, with a column for each kind of data processed in it."""

    columns: tuple[SummaryCount, ...] = ()  # with the year's total of each
    rows: tuple[SummaryRow, ...] = ()


@dataclass(frozen=True, slots=True)
class AccessReport:
    request_id: int
    patron_id: int
    patron_name: str
    controller: str
    language: str  # the language it is in: fi, sv (Sweden), sv-fi (Finland-Swedish) or en
    received_on: datetime.date
    report_made_at: datetime.datetime  # first made; a reprint keeps it
    generated_at: datetime.datetime
    previous_report: PreviousReport | None
    identity_code_stored: bool
    staff_names_included: bool
    sections: tuple[Section, ...]
    incomplete: tuple[str, ...] = ()  # why a part is missing (a system out of reach): not to be delivered
    requester: Requester | None = None  # None: the patron asked themself
    # The access log grouped by day and role, which keeps a normal year's report to a few pages; the access_log
    # section, every event, is its appendix.
    access_summary: AccessSummary = AccessSummary()

    @property
    def complete(self) -> bool:
        return not self.incomplete

    @property
    def repeat(self) -> bool:
        return self.previous_report is not None

    def section(self, key: str) -> Section:
        return next(section for section in self.sections if section.key == key)


# --- Building the report ------------------------------------------------------------------------------


class _Refused(Exception):
    """Raised inside the transaction; recorded as a denied event after the rollback."""

    def __init__(self, detail: str, error: Exception) -> None:
        self.detail = detail
        self.error = error


def _items(record: Record) -> dict[str, Item]:
    return {item.field: item for item in record.items}


def _category_label(code: str) -> str:
    return str(DataCategory(code).label) if code in DataCategory.values else code


def access_summary(sections: list[Section]) -> AccessSummary:
    """The access log section's events grouped by day (local time), role and data category, with counts.

    An event counts once in its day and role, and once under each category it names; one that names none
    counts under its action. Made from the section itself, so the summary and the appendix cannot disagree;
    call it in the report's language (the labels are made in the active one). Columns come in the order of
    DataCategory, then the actions.
    """
    log = next((section for section in sections if section.key == "access_log"), None)
    if log is None:
        return AccessSummary()
    labels: dict[str, str] = {}
    events: Counter[tuple[datetime.date, str]] = Counter()
    counts: dict[tuple[datetime.date, str], Counter[str]] = {}
    for record in log.records:
        items = _items(record)
        at = cast(datetime.datetime, items["at"].value)
        key = (timezone.localtime(at).date(), items["role"].text)
        codes = [str(code) for code in cast(list[str], items["data_categories"].value or [])]
        if codes:
            labels.update((code, _category_label(code)) for code in codes)
        else:
            codes = [str(items["action"].value)]
            labels[codes[0]] = items["action"].text
        events[key] += 1
        counts.setdefault(key, Counter()).update(codes)
    order = {code: position for position, code in enumerate(DataCategory.values)}
    codes = sorted(labels, key=lambda code: (order.get(code, len(order)), code))
    totals = sum(counts.values(), Counter())
    rows = tuple(
        SummaryRow(
            day=day,
            role=role,
            events=events[day, role],
            categories=tuple(
                SummaryCount(code, labels[code], counts[day, role][code]) for code in codes if counts[day, role][code]
            ),
            cells=tuple(counts[day, role][code] or None for code in codes),
        )
        for day, role in sorted(events)
    )
    return AccessSummary(columns=tuple(SummaryCount(code, labels[code], totals[code]) for code in codes), rows=rows)


def _merged(parts: list[ReportPart]) -> list[Section]:
    """The parts' sections in order, each with the items other parts add to its records."""
    added: dict[str, list[Item]] = {}
    for part in parts:
        for key, items in part.record_items.items():
            added.setdefault(key, []).extend(items)
    return [
        replace(
            section, records=tuple(Record(items=(*record.items, *added[section.key])) for record in section.records)
        )
        if section.key in added
        else section
        for part in parts
        for section in part.sections
    ]


def access_report_build(*, actor: Actor, request_id: int) -> AccessReport:
    """The access report of an access request of the actor's consortium; the read is an ACCESS_REPORT event.

    Another consortium's request is a 404, a request of another kind a RuleBroken, and a request whose
    patron has been erased a PatronErased (a 404 naming why). The first report of a request records
    when it was made and the patron's earlier report, if any; a reprint keeps both, and records
    the language it is in (the patron's, which may have changed).
    """
    try:
        return _build(actor=actor, request_id=request_id)
    except _Refused as refused:
        access_event_record(actor=actor, action=Action.ACCESS_REPORT, outcome=Outcome.DENIED, detail=refused.detail)
        raise refused.error from None


def _build(*, actor: Actor, request_id: int) -> AccessReport:
    with transaction.atomic():
        subject_request = SubjectRequest.objects.visible_to(actor).select_for_update().filter(pk=request_id).first()
        if subject_request is None:
            raise _Refused("not_found", NotFound())
        if subject_request.kind != RequestKind.ACCESS:
            raise RuleBroken("not_access_request", _("Only an access request (GDPR Art. 15) has an access report."))
        subject = data_subject(subject_request.patron_id, consortium_id=actor.consortium_id)
        if subject is None:
            raise _Refused("patron_erased", PatronErased())

        language = subject.language  # sv-fi for a Swedish-speaking patron of a Finnish library
        changed = []
        if subject_request.report_made_at is None:
            subject_request.report_made_at = timezone.now()
            subject_request.previous_report = earlier_report(subject_request)
            changed += ["report_made_at", "previous_report"]
        if subject_request.report_language != language[:2]:  # the patron's choice: fi, sv or en
            subject_request.report_language = language[:2]
            changed.append("report_language")

        context = ReportContext(patron_id=subject.patron_id, consortium_id=subject.consortium_id)
        with translation.override(language):
            parts = [contract.report_sections(subject.patron_id, context) for contract in privacy_contracts("report")]
            sections = _merged(parts)
            summary = access_summary(sections)
        facts = {name: value for part in parts for name, value in part.facts.items()}
        incomplete = tuple(reason for part in parts for reason in part.incomplete)
        if subject_request.report_incomplete != bool(incomplete):
            subject_request.report_incomplete = bool(incomplete)
            changed.append("report_incomplete")
        if changed:
            subject_request.save(update_fields=changed)
        for action in dict.fromkeys(action for part in parts for action in part.events):
            access_event_record(
                actor=actor, action=action, patron_ids=[subject.patron_id], detail=f"request:{subject_request.pk}"
            )
        access_event_record(
            actor=actor,
            action=Action.ACCESS_REPORT,
            patron_ids=[subject.patron_id, *(pid for part in parts for pid in part.related_patron_ids)],
            data_categories=[category for part in parts for category in part.data_categories],
            detail=f"request:{subject_request.pk}",
        )
    previous = subject_request.previous_report
    return AccessReport(
        request_id=subject_request.pk,
        patron_id=subject.patron_id,
        patron_name=subject.name,
        controller=subject.controller,
        language=language,
        received_on=subject_request.received_on,
        report_made_at=subject_request.report_made_at,
        generated_at=timezone.now(),
        previous_report=PreviousReport(previous.pk, previous.report_made_at) if previous else None,
        identity_code_stored=bool(facts.get("identity_code_stored", False)),
        staff_names_included=settings.ACCESS_REPORT_STAFF_NAMES,
        sections=tuple(sections),
        incomplete=incomplete,
        requester=_requester(subject_request, language),
        access_summary=summary,
    )


def _requester(subject_request: SubjectRequest, language: str) -> Requester | None:
    if subject_request.requester_role == RequesterRole.PATRON:
        return None
    with translation.override(language):
        label = str(subject_request.get_requester_role_display())
    return Requester(subject_request.requester_role, label, subject_request.requester_name)
