"""The access report (GDPR Art. 15, tietopyyntö): everything held about a patron, and who has processed it.

One selector, `access_report_build`, reads every register of the patron's consortium in one transaction:
the patron record, notes (sensitive ones with their text; a removed note as the record of its removal,
since its text is erased; earlier texts of edited notes), bans with archived decisions, Swedish access
prohibitions, guardian links and adult guardianship, register memberships and consents, whether an
identity code is stored (never the code), the patron's data-subject requests, and the access log about
the patron. The JSON API, the PDF and the DPO's page all render the one AccessReport it returns, so they
cannot disagree.

Labels and texts are made in the patron's language while the report is built. Staff are named (usernames
and names) only with settings.ACCESS_REPORT_STAFF_NAMES; otherwise by role and library.

One report a year is free (Art. 12(5), 15(3)): a request received within 12 months of an earlier report
of the same patron is flagged (dpo.selectors.earlier_report_within_12_months, which the DPO also sees on
the request before the report is made), and the DPO decides whether to charge or refuse, with a reason.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import formats, timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import AccessEvent, Action, DataCategory, Outcome
from audit.services import access_event_record
from core.dates import today
from core.errors import NotFound, RuleBroken
from dpo.models import Breach, RequestKind, SubjectRequest
from dpo.selectors import earlier_report_within_12_months
from patrons.models import (
    SENSITIVE_NOTE_CATEGORIES,
    AccessProhibition,
    Ban,
    BanGround,
    BanState,
    Guardianship,
    Municipality,
    Note,
    NoteRevision,
    Patron,
    RegisterMembership,
    StaffProfile,
    Trusteeship,
)
from patrons.selectors import ban_state
from sotu_silo.services import identity_code_exists

# The roles (Django groups) as a patron reads them, in the order they are listed.
ROLE_LABELS = {
    "staff": _("Library staff"),
    "billing": _("Billing clerk"),
    "ban_decider": _("Ban decider"),
    "dpo": _("Data protection officer"),
}


class PatronErased(NotFound):
    """The request's patron no longer exists: erased, so there is nothing left to report."""

    code = "patron_erased"
    message = _("The patron's data has been erased; there is nothing to report.")

    def __init__(self) -> None:
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled value: `value` for machines (codes, ISO dates), `text` as the report shows it."""

    field: str
    label: str
    value: object
    text: str


@dataclass(frozen=True, slots=True)
class Record:
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """One kind of data. A "table" section lists its records in columns (every record has every column)."""

    key: str
    title: str
    description: str
    records: tuple[Record, ...]
    layout: str = "fields"  # or "table"
    columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PreviousReport:
    request_id: int
    report_made_at: datetime.datetime


@dataclass(frozen=True, slots=True)
class AccessReport:
    request_id: int
    patron_id: int
    patron_name: str
    controller: str
    language: str
    received_on: datetime.date
    report_made_at: datetime.datetime  # first made; a reprint keeps it
    generated_at: datetime.datetime
    previous_report: PreviousReport | None
    identity_code_stored: bool
    staff_names_included: bool
    sections: tuple[Section, ...]

    @property
    def repeat_within_12_months(self) -> bool:
        return self.previous_report is not None

    def section(self, key: str) -> Section:
        return next(section for section in self.sections if section.key == key)


# --- Values as the report shows them ------------------------------------------------------------------


def _text(value) -> str:
    """`value` in the active language: dates and times in its short format, yes/no, lists with commas."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, list | tuple):
        return ", ".join(_text(part) for part in value)
    return str(value)


def _item(field: str, label, value, text: str | None = None) -> Item:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return Item(field=field, label=capfirst(str(label)), value=value, text=_text(value) if text is None else text)


def _model_item(obj: models.Model, name: str) -> Item:
    """A model field labelled with its verbose name; a choice's value is its code, its text the label."""
    model_field = obj._meta.get_field(name)
    value = getattr(obj, name)
    if model_field.choices:
        return _item(name, model_field.verbose_name, value, str(getattr(obj, f"get_{name}_display")()))
    if isinstance(value, models.Model):
        return _item(name, model_field.verbose_name, str(value))
    return _item(name, model_field.verbose_name, value)


def _record(
    obj: models.Model, names, *, first: tuple[Item, ...] = (), extra: tuple[Item, ...] = (), keep_empty: bool = False
) -> Record:
    """The named fields of `obj` between `first` and `extra`; empty ones left out unless `keep_empty`."""
    items = (*first, *(_model_item(obj, name) for name in names), *extra)
    return Record(items=tuple(item for item in items if keep_empty or item.text))


def _staff_fields(*names: str) -> tuple[str, ...]:
    """Fields naming a staff member: reported only when settings.ACCESS_REPORT_STAFF_NAMES is on."""
    return names if settings.ACCESS_REPORT_STAFF_NAMES else ()


# --- The sections -------------------------------------------------------------------------------------

PATRON_FIELDS = (
    "first_name",
    "last_name",
    "cardnumber",
    "date_of_birth",
    "email",
    "phone",
    "street_address",
    "postal_code",
    "city",
    "home_library",
    "language",
    "loan_history",
    "status",
    "card_expires_on",
    "data_provided_by_guardian",
    "needs_protection",
    "koha_patron_id",
    "created_at",
    "updated_at",
)


def _patron_section(patron: Patron, code_stored: bool) -> Section:
    code_item = _item("identity_code_stored", _("personal identity code stored"), code_stored)
    return Section(
        key="patron",
        title=gettext("Patron record"),
        description=gettext(
            "Your details in the library system. Your personal identity code, if one is stored, is kept "
            "encrypted in a separate store and is never shown in this report."
        ),
        records=(_record(patron, PATRON_FIELDS, extra=(code_item,), keep_empty=True),),
    )


def _notes_sections(patron: Patron) -> list[Section]:
    note_fields = (
        "category",
        "text",
        "created_at",
        *_staff_fields("created_by"),
        "updated_at",
        *_staff_fields("updated_by"),
        "removed_at",
        *_staff_fields("removed_by"),
        "removal_reason",
    )
    notes = tuple(
        _record(
            note,
            note_fields,
            first=(_item("note", _("note"), note.pk, f"#{note.pk}"),),
            extra=(_item("sensitive", _("sensitive"), note.sensitive),),
        )
        for note in Note.objects.filter(patron=patron).order_by("created_at", "id")
    )
    revision_fields = ("category", "text", "written_at", *_staff_fields("written_by"), "replaced_at")
    revisions = tuple(
        _record(revision, revision_fields, first=(_item("note", _("note"), revision.note_id, f"#{revision.note_id}"),))
        for revision in NoteRevision.objects.filter(note__patron=patron).order_by("note_id", "written_at", "id")
    )
    return [
        Section(
            key="notes",
            title=gettext("Notes"),
            description=gettext(
                "Notes library staff have written about you, sensitive ones included. When a note is removed, "
                "its text is erased; only the record of the removal is kept."
            ),
            records=notes,
        ),
        Section(
            key="note_revisions",
            title=gettext("Earlier texts of edited notes"),
            description=gettext("When a note is edited, the text it replaced is kept."),
            records=revisions,
        ),
    ]


def _ban_record(ban: Ban, day: datetime.date) -> Record:
    state = ban_state(ban, day)
    grounds = [BanGround(code).label if code in BanGround.values else code for code in ban.grounds or []]
    fields = (
        "starts_on",
        "ends_on",
        "proposed_at",
        *_staff_fields("proposed_by"),
        "heard_on",
        "hearing_method",
        "statement",
        "hearing_waived_reason",
        *_staff_fields("hearing_recorded_by"),
        "decision_number",
        "decided_on",
        *_staff_fields("decided_by"),
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
        _model_item(ban, "library"),
        _item("status", meta.get_field("status").verbose_name, state, str(BanState(state).label)),
        _item("grounds", meta.get_field("grounds").verbose_name, grounds),
        *_record(ban, fields).items,
        _item("notes", meta.get_field("notes").verbose_name, cited, ", ".join(f"#{pk}" for pk in cited)),
    )
    return Record(items=tuple(item for item in items if item.text))


def _ban_sections(patron: Patron) -> list[Section]:
    day = today()
    bans = Ban.objects.filter(patron=patron).select_related("library").prefetch_related("notes")
    prohibition_fields = (
        "library",
        "applied_on",
        "application_reference",
        "prosecutor_reference",
        "decided_on",
        "starts_on",
        "ends_on",
        "recorded_at",
        *_staff_fields("recorded_by"),
        "archived_at",
        "retain_until",
    )
    prohibitions = AccessProhibition.objects.filter(patron=patron).select_related("library")
    return [
        Section(
            key="bans",
            title=gettext("Library-use bans"),
            description=gettext(
                "Bans proposed or decided under the Library Act, ended and archived decisions included."
            ),
            records=tuple(_ban_record(ban, day) for ban in bans.order_by("proposed_at", "id")),
        ),
        Section(
            key="access_prohibitions",
            title=gettext("Access prohibitions"),
            description=gettext(
                "Prosecutors' decisions on access prohibitions (tillträdesförbud) recorded by the library."
            ),
            records=tuple(_record(p, prohibition_fields) for p in prohibitions.order_by("starts_on", "id")),
        ),
    ]


def _full_name(patron: Patron) -> str:
    return f"{patron.first_name} {patron.last_name}".strip()


def _guardian_sections(patron: Patron) -> list[Section]:
    guardians = Guardianship.objects.filter(ward=patron).select_related("guardian").order_by("id")
    wards = Guardianship.objects.filter(guardian=patron).select_related("ward").order_by("id")
    trusteeship = Trusteeship.objects.filter(patron=patron).first()
    trusteeship_fields = (
        "guardian_name",
        "guardian_phone",
        "guardian_email",
        "recorded_at",
        *_staff_fields("recorded_by"),
    )
    return [
        Section(
            key="guardians",
            title=gettext("Your guardians"),
            description=gettext("The guardians linked to your library card, with their names as we hold them."),
            records=tuple(
                _record(link, ("relationship",), extra=(_item("name", _("guardian"), _full_name(link.guardian)),))
                for link in guardians
            ),
        ),
        Section(
            key="wards",
            title=gettext("Patrons you are a guardian of"),
            description=gettext("Library cards linked to you as their guardian."),
            records=tuple(
                _record(link, ("relationship",), extra=(_item("name", _("patron"), _full_name(link.ward)),))
                for link in wards
            ),
        ),
        Section(
            key="trusteeship",
            title=gettext("Adult guardianship"),
            description=gettext("A guardian appointed for an adult (edunvalvonta), and their contact details."),
            records=(_record(trusteeship, trusteeship_fields),) if trusteeship else (),
        ),
    ]


def _register_section(patron: Patron) -> Section:
    memberships = RegisterMembership.objects.filter(patron=patron).order_by("joined_on", "id")
    return Section(
        key="registers",
        title=gettext("Registers and consents"),
        description=gettext("Registers you have joined by choice, and when you gave your consent."),
        records=tuple(_record(m, ("register", "joined_on", "consent_on")) for m in memberships),
    )


def _request_section(patron: Patron) -> Section:
    requests = SubjectRequest.objects.filter(consortium_id=patron.consortium_id, patron_id=patron.pk)
    fields = (
        "kind",
        "received_on",
        "identity_document",
        "identity_verified_on",
        "due_on",
        "extended_due_on",
        "report_made_at",
        "delivery_method",
        "delivered_on",
        "completed_on",
        "refusal_ground",
    )
    return Section(
        key="subject_requests",
        title=gettext("Your requests about your data"),
        description=gettext("Requests you have made under the data protection regulation, this one included."),
        records=tuple(_record(r, fields) for r in requests.order_by("received_on", "id")),
    )


def _breach_section(patron: Patron) -> Section:
    """Personal-data breaches that concerned the patron (Art. 34: what happened, its likely consequences, measures).

    A consortium records a handful of breaches a year, so their lists of patron ids are read here rather
    than searched in the database (SQLite has no JSON containment lookup).
    """
    breaches = [
        breach
        for breach in Breach.objects.filter(consortium_id=patron.consortium_id).order_by("aware_at", "id")
        if patron.pk in breach.affected_patron_ids
    ]
    fields = ("aware_at", "description", "consequences", "measures", "risk", "people_notified_on")
    return Section(
        key="breaches",
        title=gettext("Personal-data breaches that concerned you"),
        description=gettext(
            "Breaches of security in which your data may have been disclosed, lost or changed, and what was done."
        ),
        records=tuple(_record(breach, fields) for breach in breaches),
    )


# --- The access log -----------------------------------------------------------------------------------


def _label(choices, code: str) -> str:
    return str(choices(code).label) if code in choices.values else code


def _role(event: AccessEvent, user) -> tuple[list[str], str]:
    """The user's roles (groups) as codes and as the patron reads them; "system" for no user at all."""
    if event.actor_id is None:
        return ["system"], gettext("System")
    if user is None:
        return [], gettext("Unknown (the user account has been removed)")
    groups = [name for name in ROLE_LABELS if name in {group.name for group in user.groups.all()}]
    if groups:
        return groups, ", ".join(str(ROLE_LABELS[name]) for name in groups)
    if user.is_superuser:
        return ["administrator"], gettext("Administrator")
    return [], gettext("Staff member")


def _access_log_section(patron_id: int) -> Section:
    """Every event about the patron, oldest first: when, what, whose role and which library."""
    events = list(
        AccessEvent.objects.filter(subjects__patron_id=patron_id)
        .only("at", "actor_id", "actor_username", "actor_municipality_id", "action", "data_categories", "outcome")
        .order_by("id")
    )
    actor_ids = {event.actor_id for event in events if event.actor_id is not None}
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in=actor_ids).prefetch_related("groups")}
    profiles = {
        profile.user_id: profile
        for profile in StaffProfile.objects.filter(user_id__in=actor_ids).select_related("home_library__municipality")
    }
    municipality_ids = {event.actor_municipality_id for event in events if event.actor_municipality_id}
    municipalities = dict(Municipality.objects.filter(pk__in=municipality_ids).values_list("pk", "name"))
    names = settings.ACCESS_REPORT_STAFF_NAMES
    field = AccessEvent._meta.get_field
    records = []
    for event in events:
        user = users.get(event.actor_id)
        profile = profiles.get(event.actor_id)
        role_codes, role_text = _role(event, user)
        # The log records only the municipality. The role is the user's groups today and the library their
        # home library today, shown only while it is in the municipality of the event; the labels say so.
        same_place = profile is not None and event.actor_municipality_id in (None, profile.municipality_id)
        library = profile.home_library.name if same_place else ""
        municipality = (
            profile.home_library.municipality.name
            if same_place
            else municipalities.get(event.actor_municipality_id, "")
        )
        categories = list(event.data_categories or [])
        items = [
            _item("at", field("at").verbose_name, event.at),
            _item("action", field("action").verbose_name, event.action, _label(Action, event.action)),
            _item(
                "data_categories",
                field("data_categories").verbose_name,
                categories,
                "; ".join(_label(DataCategory, code) for code in categories),
            ),
            _item("outcome", field("outcome").verbose_name, event.outcome, _label(Outcome, event.outcome)),
            _item("role", _("role now"), role_codes, role_text),
            _item("library", _("library now"), library),
            _item("municipality", _("municipality at the time"), municipality),
        ]
        if names:
            items += [
                _item("username", _("user"), event.actor_username),
                _item("name", _("name"), user.get_full_name() if user is not None else ""),
            ]
        records.append(Record(items=tuple(items)))
    columns = ("at", "action", "data_categories", "outcome", "role", "library", "municipality")
    return Section(
        key="access_log",
        title=gettext("Who has processed your data"),
        description=gettext(
            "Every time your data was searched, viewed or changed in this service, oldest first: when, what "
            "kind of data, and in which municipality it was done. The role and the library of the person who "
            "did it are as they are now, when this report is made: the role the person has today, and their "
            "home library today if it is in the same municipality (otherwise the library is left empty)."
        )
        + (
            ""
            if names
            else " " + gettext("Staff members are not named; they are identified by their role and library as above.")
        ),
        records=tuple(records),
        layout="table",
        columns=(*columns, "username", "name") if names else columns,
    )


# --- Building the report ------------------------------------------------------------------------------


class _Refused(Exception):
    """Raised inside the transaction; recorded as a denied event after the rollback."""

    def __init__(self, detail: str, error: Exception) -> None:
        self.detail = detail
        self.error = error


def _shows_sensitive_text(section: Section) -> bool:
    """Whether a note (or an earlier text) of a sensitive category is listed with its text."""
    for record in section.records:
        values = {item.field: item.value for item in record.items}
        if "text" in values and values["category"] in SENSITIVE_NOTE_CATEGORIES:
            return True
    return False


def _categories_read(sections: dict[str, Section]) -> list[str]:
    """What the report showed, for its access event: sensitive notes, guardianship and decisions when there."""
    categories = [
        DataCategory.BASIC,
        DataCategory.CONTACT,
        DataCategory.PREFERENCES,
        DataCategory.NOTES,
        DataCategory.GUARDIANS,
        DataCategory.BANS,
        DataCategory.REGISTERS,
        DataCategory.ACCESS_LOG,
    ]
    if _shows_sensitive_text(sections["notes"]) or _shows_sensitive_text(sections["note_revisions"]):
        categories.append(DataCategory.SENSITIVE_NOTE)
    if sections["trusteeship"].records:
        categories.append(DataCategory.TRUSTEESHIP)
    if any(item.field == "decided_on" for record in sections["bans"].records for item in record.items):
        categories.append(DataCategory.BAN_DECISION)
    return categories


def access_report_build(*, actor: Actor, request_id: int) -> AccessReport:
    """The access report of an access request of the actor's consortium; the read is an ACCESS_REPORT event.

    Another consortium's request is a 404, a request of another kind a RuleBroken, and a request whose
    patron has been erased a PatronErased (a 404 naming why). The first report of a request records
    when it was made and the earlier report within 12 months, if any; a reprint keeps both, and records
    the language it is in (the patron's, which may have changed).
    """
    try:
        return _build(actor=actor, request_id=request_id)
    except _Refused as refused:
        access_event_record(actor=actor, action=Action.ACCESS_REPORT, outcome=Outcome.DENIED, detail=refused.detail)
        raise refused.error from None


def _build(*, actor: Actor, request_id: int) -> AccessReport:
    with transaction.atomic():
        subject_request = (
            SubjectRequest.objects.select_for_update().filter(pk=request_id, consortium_id=actor.consortium_id).first()
        )
        if subject_request is None:
            raise _Refused("not_found", NotFound())
        if subject_request.kind != RequestKind.ACCESS:
            raise RuleBroken("not_access_request", _("Only an access request (GDPR Art. 15) has an access report."))
        patron = (
            Patron.objects.filter(pk=subject_request.patron_id, consortium_id=actor.consortium_id)
            .select_related("consortium", "home_library")
            .first()
        )
        if patron is None:
            raise _Refused("patron_erased", PatronErased())

        changed = []
        if subject_request.report_made_at is None:
            subject_request.report_made_at = timezone.now()
            subject_request.previous_report = earlier_report_within_12_months(subject_request)
            changed += ["report_made_at", "previous_report"]
        if subject_request.report_language != patron.language:
            subject_request.report_language = patron.language
            changed.append("report_language")
        if changed:
            subject_request.save(update_fields=changed)

        code_stored = identity_code_exists(patron_id=patron.pk)
        with translation.override(patron.language):
            sections = [
                _patron_section(patron, code_stored),
                *_notes_sections(patron),
                *_ban_sections(patron),
                *_guardian_sections(patron),
                _register_section(patron),
                _request_section(patron),
                _breach_section(patron),
                _access_log_section(patron.pk),
            ]
        related = [
            *Guardianship.objects.filter(ward=patron).values_list("guardian_id", flat=True),
            *Guardianship.objects.filter(guardian=patron).values_list("ward_id", flat=True),
        ]
        access_event_record(
            actor=actor,
            action=Action.ACCESS_REPORT,
            patron_ids=[patron.pk, *related],
            data_categories=_categories_read({section.key: section for section in sections}),
            detail=f"request:{subject_request.pk}",
        )
    previous = subject_request.previous_report
    return AccessReport(
        request_id=subject_request.pk,
        patron_id=patron.pk,
        patron_name=_full_name(patron),
        controller=patron.consortium.name,
        language=patron.language,
        received_on=subject_request.received_on,
        report_made_at=subject_request.report_made_at,
        generated_at=timezone.now(),
        previous_report=PreviousReport(previous.pk, previous.report_made_at) if previous else None,
        identity_code_stored=code_stored,
        staff_names_included=settings.ACCESS_REPORT_STAFF_NAMES,
        sections=tuple(sections),
    )
