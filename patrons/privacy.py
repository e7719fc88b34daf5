"""What patrons/ holds of a patron, for the data protection officer (core.privacy_contract).

Three contracts, each a register the DPO answers for: the patron record with its notes, guardians and
adult guardianship, and register memberships (bans and Swedish access prohibitions are bans/privacy.py's).
A fourth, the staff side, describes who processed the patron's data and clears a staff member's link to
their own patron record.

An erasure deletes what hangs on the patron record before the record itself (the contracts run from the
last `erasure_order`), so each one counts its own rows. Retention never ends a patron record or a
membership: patronage ends only when the patron asks (Mikkeli notice).
"""

import datetime
from typing import Any, cast

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Field, Q, QuerySet
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.models import AccessEvent, Action, DataCategory, Outcome
from audit.sealing import without_unsealed_forgeries
from core.dates import ADULT_AGE, age_on, start_of_day
from core.model_fields import model_field
from core.privacy_contract import (
    DataSubject,
    ErasureContext,
    ErasureDone,
    ErasureLine,
    ErasurePart,
    NotAppliedHere,
    PatronsChanged,
    PlanWarning,
    PrivacyContract,
    Record,
    ReportContext,
    ReportPart,
    RetentionRule,
    Section,
    deleted_rows,
    model_record,
    report_item,
    staff_fields,
)
from core.registers import Register
from patrons.models import (
    SENSITIVE_NOTE_CATEGORIES,
    Guardianship,
    Note,
    NoteCategory,
    NoteRevision,
    Patron,
    ProcessingRestriction,
    RegisterKind,
    RegisterMembership,
    Trusteeship,
)
from patrons.restrictions import notes_kept
from patrons.services.registration import GUARDIAN_REQUIRED_UNDER_AGE
from staff.language import swedish_variant
from staff.models import Municipality, StaffProfile


def _full_name(patron: Patron) -> str:
    return f"{patron.first_name} {patron.last_name}".strip()


# What stays of a patron record a legal hold keeps (a kept decision names its party): who they are, nothing to
# reach them by. The record is marked for watching, so every read of it is in the DPO's access review, and as
# held, so staff no longer find or change it (patrons.selectors, patron_for_write): only the DPO reaches it.
REDUCED_RECORD_BLANKS = {"email": "", "phone": "", "street_address": "", "postal_code": "", "city": ""}
PATRON_HELD = _("Patron record, reduced to the name and date of birth a kept decision names")


def _record_reduce(patron: Patron) -> None:
    for name, blank in REDUCED_RECORD_BLANKS.items():
        setattr(patron, name, blank)
    patron.needs_protection = True
    patron.held_after_erasure = True
    patron.save(update_fields=[*REDUCED_RECORD_BLANKS, "needs_protection", "held_after_erasure"])


def patron_record_is_theirs(patron_id: int, context: ErasureContext) -> bool:
    """Whether the patron record with this id, if any, is the erased patron's (core.privacy_contract.ErasureContext)."""
    if context.erased_at is None:
        return True
    created_at = Patron.objects.filter(pk=patron_id).values_list("created_at", flat=True).first()
    return created_at is not None and created_at <= context.erased_at


# --- Retention (`manage.py apply_retention`) --------------------------------------------------------------


def guardian_links_due(day: datetime.date) -> QuerySet[Guardianship]:
    """Links of wards who are 18 on `day`: the patron gets the notices from then on.

    Born on or before this day 18 years ago, as core.dates.age_on counts (a 29 February birthday
    comes on 1 March). A ward without a date of birth is never due: their age is not known.
    """
    return Guardianship.objects.filter(ward__date_of_birth__lte=day - relativedelta(years=ADULT_AGE))


def note_removal_records_due(day: datetime.date) -> QuerySet[Note]:
    """Removed notes (their text erased at removal) removed more than the retention years before `day`.

    A removed note that an app above still keeps (a kept ban decision cites it, as part of its grounds)
    stays: patrons.restrictions asks them.
    """
    cutoff = start_of_day(day - relativedelta(years=settings.NOTE_REMOVAL_RECORD_RETENTION_YEARS))
    notes = Note.objects.filter(removed_at__lt=cutoff)
    for kept in notes_kept(day):
        notes = notes.exclude(pk__in=kept.values("pk"))
    return notes


def behaviour_notes_due(day: datetime.date) -> QuerySet[Note]:
    """Behaviour notes whose incident was more than BEHAVIOUR_NOTE_RETENTION_DAYS before `day` (kept on that
    day itself; gone the day after), GDPR Art. 5(1)(e): kept no longer than supervising library use needs.

    A note a ban decision still kept cites stays, as part of the decision's grounds, and goes with the decision
    at the end of its archive period (bans.privacy, run before this rule: the ban's `retain_until`). A removed
    note goes by its removal record's rule instead (`note_removal_records_due`).
    """
    cutoff = day - datetime.timedelta(days=settings.BEHAVIOUR_NOTE_RETENTION_DAYS)
    notes = Note.objects.filter(category=NoteCategory.BEHAVIOUR, removed_at__isnull=True, incident_on__lt=cutoff)
    for kept in notes_kept(day):
        notes = notes.exclude(pk__in=kept.values("pk"))
    return notes


def newsletter_memberships_due(day: datetime.date) -> QuerySet[RegisterMembership]:
    """Newsletter memberships of patrons who have no email address any more (on any day).

    The newsletter register holds email addresses only and is sent by email only, so without an address
    the membership serves no purpose (GDPR Art. 5(1)(c), (e)). The patron joins again with a new address.
    """
    return RegisterMembership.objects.filter(register=RegisterKind.NEWSLETTER, patron__email="")


GUARDIAN_LINKS = RetentionRule(
    name="guardian_links",
    order=30,
    register=Register.LIBRARY_SYSTEM,
    description=_(
        "Links between a minor and their guardians, once the patron has turned 18: the notices go to "
        "the patron from then on."
    ),
    due=guardian_links_due,
    patron_fields=("ward_id", "guardian_id"),
    data_categories=(DataCategory.GUARDIANS,),
)
# After the ban decisions (bans/privacy.py): a note cited only by decisions removed there goes in the same run.
BEHAVIOUR_NOTES = RetentionRule(
    name="behaviour_notes",
    order=35,
    register=Register.LIBRARY_SYSTEM,
    description=_(
        "Behaviour notes, BEHAVIOUR_NOTE_RETENTION_DAYS after the incident; a note a kept ban decision cites "
        "goes with the decision when its time in the decision archive ends."
    ),
    due=behaviour_notes_due,
    patron_fields=("patron_id",),
    data_categories=(DataCategory.SENSITIVE_NOTE,),
)
NOTE_REMOVAL_RECORDS = RetentionRule(
    name="note_removal_records",
    order=40,
    register=Register.LIBRARY_SYSTEM,
    description=_(
        "The record that a note was removed (who, when and why; the text was erased at removal), "
        "NOTE_REMOVAL_RECORD_RETENTION_YEARS after the removal."
    ),
    due=note_removal_records_due,
    patron_fields=("patron_id",),
    data_categories=(DataCategory.NOTES,),
)
NEWSLETTER_WITHOUT_EMAIL = RetentionRule(
    name="newsletter_without_email",
    order=60,
    register=Register.NEWSLETTER,
    description=_(
        "Newsletter memberships of patrons who no longer have an email address: the newsletter register "
        "holds email addresses only, so the membership serves no purpose."
    ),
    due=newsletter_memberships_due,
    patron_fields=("patron_id",),
    data_categories=(DataCategory.REGISTERS,),
)

INTERLIBRARY_LOANS = NotAppliedHere(
    name="interlibrary_loans",
    order=10,
    register=Register.INTERLIBRARY_LOANS,
    description=_(
        "Interlibrary-loan memberships end only when the patron asks, as patronage does. The loan records are "
        "not held in this service: the interlibrary-loan system keeps them and applies the retention set in "
        "the interlibrary-loans register description."
    ),
    lists_retention=True,
)
HOME_SERVICE = NotAppliedHere(
    name="home_service",
    order=20,
    register=Register.HOME_SERVICE,
    description=_(
        "Home-service memberships end only when the patron asks, as patronage does. The visit and delivery "
        "records are not held in this service: Koha keeps them and applies the retention set in the "
        "home-service register description."
    ),
    lists_retention=True,
)
PATRON_RECORDS = NotAppliedHere(
    name="patron_records",
    order=40,
    register=Register.LIBRARY_SYSTEM,
    description=_(
        "Patron records are never ended or removed by retention: patronage ends only when the patron asks "
        "(an erasure request)."
    ),
)


# --- The patron record and notes ------------------------------------------------------------------------

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
    "loan_history_chosen_on",
    "loan_history_chosen_by",
    "status",
    "card_expires_on",
    "data_provided_by_guardian",
    "needs_protection",
    "koha_patron_id",
    "created_at",
    "updated_at",
)


def _shows_sensitive_text(section: Section) -> bool:
    """Whether a note (or an earlier text) of a sensitive category is listed with its text."""
    for record in section.records:
        values = {item.field: item.value for item in record.items}
        if "text" in values and values["category"] in SENSITIVE_NOTE_CATEGORIES:
            return True
    return False


class PatronRecordContract(PrivacyContract):
    """The patron record and the notes staff have written, with the earlier texts of edited notes."""

    report_order = 10
    erasure_order = 10
    erased_categories = (
        DataCategory.BASIC,
        DataCategory.CONTACT,
        DataCategory.PREFERENCES,
        DataCategory.NOTES,
        DataCategory.SENSITIVE_NOTE,
    )

    def subject(self, patron_id: int, *, consortium_id: int | None, lock: bool = False) -> DataSubject | None:
        patrons = Patron.objects.of_consortium(consortium_id)
        if lock:
            patrons = patrons.select_for_update(of=("self",))
        patron = patrons.select_related("consortium").filter(pk=patron_id).first()
        if patron is None:
            return None
        return DataSubject(
            patron_id=patron.pk,
            consortium_id=patron.consortium_id,
            name=_full_name(patron),
            # Their Swedish is their library's country's: personbeteckning in Finland, personnummer in Sweden.
            language=swedish_variant(patron.language, jurisdiction=patron.consortium.jurisdiction),
            controller=patron.consortium.name,
            cardnumber=patron.cardnumber,
            date_of_birth=patron.date_of_birth,
        )

    def report_sections(self, patron_id: int, context: ReportContext) -> ReportPart:
        patron = Patron.objects.select_related("home_library").get(pk=patron_id)
        note_fields = (
            "category",
            "text",
            "created_at",
            *staff_fields("created_by"),
            "updated_at",
            *staff_fields("updated_by"),
            "removed_at",
            *staff_fields("removed_by"),
            "removal_reason",
        )
        notes = tuple(
            model_record(
                note,
                note_fields,
                first=(report_item("note", _("note"), note.pk, f"#{note.pk}"),),
                extra=(report_item("sensitive", _("sensitive"), note.sensitive),),
            )
            for note in Note.objects.filter(patron=patron).order_by("created_at", "id")
        )
        revision_fields = ("category", "text", "written_at", *staff_fields("written_by"), "replaced_at")
        revisions = tuple(
            model_record(
                revision,
                revision_fields,
                first=(report_item("note", _("note"), revision.note_id, f"#{revision.note_id}"),),
            )
            for revision in NoteRevision.objects.filter(note__patron=patron).order_by("note_id", "written_at", "id")
        )
        restriction_fields = (
            "ground",
            "restricted_at",
            *staff_fields("restricted_by"),
            "patron_informed_on",
            "lifted_at",
            *staff_fields("lifted_by"),
        )
        restrictions = tuple(
            model_record(restriction, restriction_fields)
            for restriction in ProcessingRestriction.objects.filter(patron=patron).order_by("restricted_at", "id")
        )
        sections = (
            Section(
                key="patron",
                title=gettext("Patron record"),
                description=gettext(
                    "Your details in the library system. Your personal identity code, if one is stored, is kept "
                    "encrypted in a separate store and is never shown in this report."
                ),
                records=(model_record(patron, PATRON_FIELDS, keep_empty=True),),
            ),
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
            Section(
                key="processing_restrictions",
                title=gettext("Restrictions of processing"),
                description=gettext(
                    "While processing of your data is restricted (GDPR Art. 18), the library only stores it: it is "
                    "not changed, billed or updated from the library system until the restriction is lifted, and "
                    "you are told before it is lifted."
                ),
                records=restrictions,
            ),
        )
        categories = [DataCategory.BASIC, DataCategory.CONTACT, DataCategory.PREFERENCES, DataCategory.NOTES]
        if any(_shows_sensitive_text(section) for section in sections[1:]):
            categories.append(DataCategory.SENSITIVE_NOTE)
        return ReportPart(sections=sections, data_categories=tuple(categories))

    def erasure_plan(self, patron_id: int, context: ErasureContext) -> ErasurePart:
        notes = list(Note.objects.filter(patron_id=patron_id).order_by("pk").values_list("pk", "category"))
        held_notes = context.held_ids("notes") or set()
        note_ids = [pk for pk, _category in notes if pk not in held_notes]
        sensitive_note_ids = [pk for pk, category in notes if category in SENSITIVE_NOTE_CATEGORIES and pk in note_ids]
        kept_note_ids = tuple(pk for pk, _category in notes if pk in held_notes)
        record_held = context.held_ids("patron") is not None
        revisions = NoteRevision.objects.filter(note__patron_id=patron_id).exclude(note_id__in=kept_note_ids)
        keeps = (
            ErasureLine("patron", PATRON_HELD, int(record_held), (patron_id,) if record_held else ()),
            ErasureLine("notes", _("Notes a kept decision cites"), len(kept_note_ids), kept_note_ids),
        )
        return ErasurePart(
            removes=(
                ErasureLine("patron", _("Patron record"), int(not record_held), () if record_held else (patron_id,)),
                ErasureLine("notes", _("Notes"), len(note_ids), tuple(note_ids)),
                ErasureLine(
                    "sensitive_notes",
                    _("of which sensitive (behaviour, guardianship, accessibility)"),
                    len(sensitive_note_ids),
                    tuple(sensitive_note_ids),
                ),
                ErasureLine("note_revisions", _("Earlier versions of notes"), revisions.count()),
            ),
            keeps=tuple(line for line in keeps if line.count),
            details={"note_ids": note_ids, "sensitive_note_ids": sensitive_note_ids},
        )

    def erase(self, patron_id: int, context: ErasureContext) -> ErasureDone:
        """The record goes with its notes and their earlier texts (they cascade). Under a legal hold on the record
        (a kept decision names the patron, GDPR Art. 17(3)(b)) it stays, reduced (`_record_reduce`), with the
        notes the decision cites; the other notes go."""
        removed = {"patron": 0, "notes": 0, "note_revisions": 0}
        patron = Patron.objects.select_for_update(of=("self",)).filter(pk=patron_id).first()
        if patron is None or not patron_record_is_theirs(patron_id, context):
            return ErasureDone(removed=removed)
        if context.held_ids("patron") is not None:
            _total, per_model = (
                Note.objects.filter(patron_id=patron_id).exclude(pk__in=context.held_ids("notes") or ()).delete()
            )
            _record_reduce(patron)
        else:
            _total, per_model = patron.delete()
        for model, key in ((Patron, "patron"), (Note, "notes"), (NoteRevision, "note_revisions")):
            removed[key] = per_model.get(model._meta.label, 0)
        return ErasureDone(removed=removed)

    def release_hold(self, patron_id: int, key: str, ids: tuple[int, ...]) -> int:
        """When the hold on the reduced record ends, the record goes, with whatever still hangs on it."""
        if key == "patron":
            return deleted_rows(Patron.objects.filter(pk=patron_id))
        if key == "notes":
            return deleted_rows(Note.objects.filter(patron_id=patron_id, pk__in=ids))
        return 0

    def retention_rules(self) -> tuple[RetentionRule, ...]:
        return (BEHAVIOUR_NOTES, NOTE_REMOVAL_RECORDS)

    def retention_not_applied_here(self) -> tuple[NotAppliedHere, ...]:
        return (PATRON_RECORDS,)

    def held_since(self, patron_ids: list[int]) -> dict[int, datetime.datetime]:
        return dict(Patron.objects.filter(pk__in=patron_ids).values_list("pk", "created_at"))


# --- Guardians and adult guardianship ---------------------------------------------------------------------


def _orphaned_children(patron_id: int, ward_ids: list[int], day: datetime.date) -> list[int]:
    """Wards under 15 whose only guardian is this patron: nobody would give their data or get their notices."""
    other_guardians = Guardianship.objects.filter(ward_id__in=ward_ids).exclude(guardian_id=patron_id)
    guarded = set(other_guardians.values_list("ward_id", flat=True))
    born = Patron.objects.filter(pk__in=ward_ids, date_of_birth__isnull=False).values_list("pk", "date_of_birth")
    return sorted(
        pk
        for pk, born_on in born
        if pk not in guarded and age_on(cast(datetime.date, born_on), day) < GUARDIAN_REQUIRED_UNDER_AGE
    )


class GuardianContract(PrivacyContract):
    """Guardian links both ways (the other patron stays) and adult guardianship (edunvalvonta)."""

    report_order = 30
    erasure_order = 20
    erased_categories = (DataCategory.GUARDIANS, DataCategory.TRUSTEESHIP)

    def retention_rules(self) -> tuple[RetentionRule, ...]:
        return (GUARDIAN_LINKS,)

    def report_sections(self, patron_id: int, context: ReportContext) -> ReportPart:
        guardians = Guardianship.objects.filter(ward_id=patron_id).select_related("guardian").order_by("id")
        wards = Guardianship.objects.filter(guardian_id=patron_id).select_related("ward").order_by("id")
        trusteeship = Trusteeship.objects.filter(patron_id=patron_id).first()
        trusteeship_fields = (
            "guardian_name",
            "guardian_phone",
            "guardian_email",
            "recorded_at",
            *staff_fields("recorded_by"),
        )
        sections = (
            Section(
                key="guardians",
                title=gettext("Your guardians"),
                description=gettext("The guardians linked to your library card, with their names as we hold them."),
                records=tuple(
                    model_record(
                        link, ("relationship",), extra=(report_item("name", _("guardian"), _full_name(link.guardian)),)
                    )
                    for link in guardians
                ),
            ),
            Section(
                key="wards",
                title=gettext("Patrons you are a guardian of"),
                description=gettext("Library cards linked to you as their guardian."),
                records=tuple(
                    model_record(
                        link, ("relationship",), extra=(report_item("name", _("patron"), _full_name(link.ward)),)
                    )
                    for link in wards
                ),
            ),
            Section(
                key="trusteeship",
                title=gettext("Adult guardianship"),
                description=gettext("A guardian appointed for an adult, and their contact details."),
                records=(model_record(trusteeship, trusteeship_fields),) if trusteeship else (),
            ),
        )
        categories = [DataCategory.GUARDIANS]
        if trusteeship:
            categories.append(DataCategory.TRUSTEESHIP)
        return ReportPart(
            sections=sections,
            related_patron_ids=(*(link.guardian_id for link in guardians), *(link.ward_id for link in wards)),
            data_categories=tuple(categories),
        )

    def erasure_plan(self, patron_id: int, context: ErasureContext) -> ErasurePart:
        guardian_ids = sorted(Guardianship.objects.filter(ward_id=patron_id).values_list("guardian_id", flat=True))
        ward_ids = sorted(Guardianship.objects.filter(guardian_id=patron_id).values_list("ward_id", flat=True))
        warnings: tuple[PlanWarning, ...] = ()
        if orphans := _orphaned_children(patron_id, ward_ids, context.day):
            warnings = (
                PlanWarning(
                    code="minor_left_without_guardian",
                    message=ngettext(
                        "The patron is the only guardian of a child under %(age)d (patron %(ids)s); after the erasure "
                        "the child's record has no guardian. Record another guardian first.",
                        "The patron is the only guardian of children under %(age)d (patrons %(ids)s); after the "
                        "erasure their records have no guardian. Record another guardian first.",
                        len(orphans),
                    )
                    % {"age": GUARDIAN_REQUIRED_UNDER_AGE, "ids": ", ".join(map(str, orphans))},
                    ids=orphans,
                ),
            )
        return ErasurePart(
            removes=(
                ErasureLine(
                    "guardian_links",
                    _("Guardian links to the patrons listed, as ward and as guardian (those patrons stay)"),
                    len(guardian_ids) + len(ward_ids),
                    (*guardian_ids, *ward_ids),
                ),
                ErasureLine(
                    "trusteeship",
                    _("Adult guardianship and the guardian's contact"),
                    int(Trusteeship.objects.filter(patron_id=patron_id).exists()),
                ),
            ),
            details={"guardian_ids": guardian_ids, "ward_ids": ward_ids},
            warnings=warnings,
        )

    def erase(self, patron_id: int, context: ErasureContext) -> ErasureDone:
        """The links go both ways; the patrons at their other end stay, and their access log records the change."""
        if not patron_record_is_theirs(patron_id, context):
            return ErasureDone(removed={"guardian_links": 0, "trusteeship": 0})
        links = Guardianship.objects.filter(Q(ward_id=patron_id) | Q(guardian_id=patron_id))
        linked = sorted({pid for pair in links.values_list("ward_id", "guardian_id") for pid in pair} - {patron_id})
        removed = {
            "guardian_links": deleted_rows(links),
            "trusteeship": deleted_rows(Trusteeship.objects.filter(patron_id=patron_id)),
        }
        changed = PatronsChanged(tuple(linked), (DataCategory.GUARDIANS,), "guardian_erased")
        return ErasureDone(removed=removed, changed=(changed,) if linked else ())


# --- Registers and consents -------------------------------------------------------------------------------


class RegisterContract(PrivacyContract):
    """Registers the patron joined by choice (the newsletter, interlibrary loans, the home service)."""

    report_order = 40
    erasure_order = 30
    erased_categories = (DataCategory.REGISTERS,)

    def retention_rules(self) -> tuple[RetentionRule, ...]:
        return (NEWSLETTER_WITHOUT_EMAIL,)

    def retention_not_applied_here(self) -> tuple[NotAppliedHere, ...]:
        return (INTERLIBRARY_LOANS, HOME_SERVICE)

    def report_sections(self, patron_id: int, context: ReportContext) -> ReportPart:
        memberships = RegisterMembership.objects.filter(patron_id=patron_id).order_by("joined_on", "id")
        section = Section(
            key="registers",
            title=gettext("Registers and consents"),
            description=gettext("Registers you have joined by choice, and when you gave your consent."),
            records=tuple(model_record(m, ("register", "joined_on", "consent_on")) for m in memberships),
        )
        return ReportPart(sections=(section,), data_categories=(DataCategory.REGISTERS,))

    def erasure_plan(self, patron_id: int, context: ErasureContext) -> ErasurePart:
        ids = sorted(RegisterMembership.objects.filter(patron_id=patron_id).values_list("pk", flat=True))
        return ErasurePart(
            removes=(
                ErasureLine("register_memberships", _("Register memberships and consents"), len(ids), tuple(ids)),
            ),
            details={"register_membership_ids": ids},
        )

    def erase(self, patron_id: int, context: ErasureContext) -> ErasureDone:
        memberships = RegisterMembership.objects.filter(patron_id=patron_id)
        return ErasureDone(
            removed={
                "register_memberships": deleted_rows(memberships) if patron_record_is_theirs(patron_id, context) else 0
            }
        )


# --- Staff: who processed the patron's data ---------------------------------------------------------------

# The roles (Django groups) as a patron reads them, in the order they are listed.
ROLE_LABELS = {
    "staff": _("Library staff"),
    "billing": _("Billing clerk"),
    "ban_decider": _("Ban decider"),
    "dpo": _("Data protection officer"),
}


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
        without_unsealed_forgeries(AccessEvent.objects.about_patron(patron_id))
        .only("at", "actor_id", "actor_username", "actor_municipality_id", "action", "data_categories", "outcome")
        .order_by("id")
    )
    actor_ids = {event.actor_id for event in events if event.actor_id is not None}
    # Looked up by each event's actor id, which is None for an event of no user.
    users: dict[int | None, Any] = {
        user.pk: user for user in get_user_model().objects.filter(pk__in=actor_ids).prefetch_related("groups")
    }
    profiles: dict[int | None, StaffProfile] = {
        profile.user_id: profile
        for profile in StaffProfile.objects.filter(user_id__in=actor_ids).select_related("home_library__municipality")
    }
    municipality_ids = {event.actor_municipality_id for event in events if event.actor_municipality_id}
    municipalities: dict[int | None, str] = dict(
        Municipality.objects.filter(pk__in=municipality_ids).values_list("pk", "name")
    )
    names = settings.ACCESS_REPORT_STAFF_NAMES

    def field(name: str) -> Field:
        return model_field(AccessEvent, name)

    records = []
    for event in events:
        user = users.get(event.actor_id)
        profile = profiles.get(event.actor_id)
        role_codes, role_text = _role(event, user)
        # The log records only the municipality. The role is the user's groups today and the library their
        # home library today, shown only while it is in the municipality of the event; the labels say so.
        same_place = profile is not None and event.actor_municipality_id in (None, profile.municipality_id)
        home = profile.home_library if profile is not None and same_place else None
        library = home.name if home is not None else ""
        municipality = (
            home.municipality.name if home is not None else municipalities.get(event.actor_municipality_id, "")
        )
        categories = list(event.data_categories or [])
        items = [
            report_item("at", field("at").verbose_name, event.at),
            report_item("action", field("action").verbose_name, event.action, _label(Action, event.action)),
            report_item(
                "data_categories",
                field("data_categories").verbose_name,
                categories,
                "; ".join(_label(DataCategory, code) for code in categories),
            ),
            report_item("outcome", field("outcome").verbose_name, event.outcome, _label(Outcome, event.outcome)),
            report_item("role", _("role now"), role_codes, role_text),
            report_item("library", _("library now"), library),
            report_item("municipality", _("municipality at the time"), municipality),
        ]
        if names:
            items += [
                report_item("username", _("user"), event.actor_username),
                report_item("name", _("name"), user.get_full_name() if user is not None else ""),
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


class StaffContract(PrivacyContract):
    """Who has processed the patron's data: the access log, each event described by the staff member's role
    and library; and a staff member's link to their own patron record, which an erasure clears (the staff
    member stays)."""

    report_order = 90
    erasure_order = 60

    def report_sections(self, patron_id: int, context: ReportContext) -> ReportPart:
        return ReportPart(sections=(_access_log_section(patron_id),), data_categories=(DataCategory.ACCESS_LOG,))

    def erasure_plan(self, patron_id: int, context: ErasureContext) -> ErasurePart:
        linked = StaffProfile.objects.filter(patron_id=patron_id).exists()
        label = _("Link from a staff member's profile (cleared; the staff member stays)")
        return ErasurePart(removes=(ErasureLine("staff_profile_links", label, int(linked)),))

    def erase(self, patron_id: int, context: ErasureContext) -> ErasureDone:
        cleared = 0
        if patron_record_is_theirs(patron_id, context):
            cleared = StaffProfile.objects.filter(patron_id=patron_id).update(patron=None)
        return ErasureDone(removed={"staff_profile_links": cleared})


CONTRACTS = (PatronRecordContract(), GuardianContract(), RegisterContract(), StaffContract())
