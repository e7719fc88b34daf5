"""`apply_retention`: each register's rule removes exactly what is due, never patrons, never access events."""

import datetime
from io import StringIO

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.db.models import Model
from django.utils import timezone, translation

from audit.models import AccessEvent, Action
from audit.prune import access_log_cutoff
from audit.verify import verify_chain
from bans.models import AccessProhibition, Ban, BanStatus
from core.dates import age_on, start_of_day
from dpo.models import (
    ErasureTombstone,
    IdentityDocument,
    Register,
    RegisterDescription,
    RegisterDescriptionText,
    RequestKind,
    SubjectRequest,
)
from dpo.services.retention import retention_apply
from patrons.models import Guardianship, Note, NoteCategory, NoteRevision, Patron, RegisterKind, RegisterMembership
from staff.models import Consortium, Library

pytestmark = pytest.mark.django_db

DAY = datetime.date(2027, 6, 15)
YESTERDAY = DAY - datetime.timedelta(days=1)
TOMORROW = DAY + datetime.timedelta(days=1)


def ban(patron: Patron, *, retain_until: datetime.date | None, number: str) -> Ban:
    archived = retain_until is not None
    return Ban.objects.create(
        patron=patron,
        library=Library.objects.get(koha_library_id="ROV"),
        grounds=["repeated_substantial_disturbance"],
        starts_on=datetime.date(2024, 1, 1),
        ends_on=datetime.date(2024, 6, 30),
        status=BanStatus.NOTIFIED,
        decision_number=number,
        proposed_at=timezone.now(),
        proposed_by="rovaniemi.staff",
        archived_at=timezone.now() if archived else None,
        retain_until=retain_until,
    )


def prohibition(patron: Patron, *, retain_until: datetime.date | None) -> AccessProhibition:
    return AccessProhibition.objects.create(
        patron=patron,
        library=patron.home_library,
        applied_on=datetime.date(2024, 1, 2),
        application_reference="ESL-2024-1",
        prosecutor_reference="AM-1234-24",
        decided_on=datetime.date(2024, 1, 20),
        starts_on=datetime.date(2024, 2, 1),
        ends_on=datetime.date(2024, 12, 31),
        recorded_at=timezone.now(),
        recorded_by="eslov.staff",
        archived_at=timezone.now() if retain_until else None,
        retain_until=retain_until,
    )


def note(patron: Patron, *, removed_at: datetime.datetime | None) -> Note:
    written = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    return Note.objects.create(
        patron=patron,
        category=NoteCategory.BEHAVIOUR,
        text="" if removed_at else "Kept note.",
        created_at=written,
        created_by="rovaniemi.staff",
        removed_at=removed_at,
        removed_by="rovaniemi.staff" if removed_at else "",
        removal_reason="No longer needed." if removed_at else "",
    )


def subject_request(patron: Patron, *, completed_on: datetime.date | None) -> SubjectRequest:
    received = (completed_on or DAY) - datetime.timedelta(days=20)
    return SubjectRequest.objects.create(
        consortium=patron.consortium,
        patron_id=patron.pk,
        kind=RequestKind.ACCESS,
        received_on=received,
        identity_document=IdentityDocument.PASSPORT,
        identity_verified_by="dpo",
        identity_verified_on=received,
        due_on=received + datetime.timedelta(days=30),
        recorded_at=timezone.now(),
        recorded_by="dpo",
        completed_on=completed_on,
    )


def ids(model: type[Model]) -> set[int]:
    return set(model._default_manager.values_list("pk", flat=True))


def removed_by_retention(model: type[Model], *, day: datetime.date = DAY) -> set[int]:
    before = ids(model)
    retention_apply(day=day, dry_run=False)
    return before - ids(model)


def test_ban_decisions_go_the_day_after_their_retain_until(lapland_patron):
    kept_today = ban(lapland_patron, retain_until=DAY, number="R-1")
    gone = ban(lapland_patron, retain_until=YESTERDAY, number="R-2")
    not_archived = ban(lapland_patron, retain_until=None, number="R-3")
    already_due = {
        b.pk for b in Ban.objects.exclude(pk=gone.pk) if b.archived_at and b.retain_until and b.retain_until < DAY
    }

    assert removed_by_retention(Ban) == {gone.pk} | already_due
    assert Ban.objects.filter(pk__in=[kept_today.pk, not_archived.pk]).count() == 2


def test_access_prohibitions_go_the_day_after_their_retain_until(eslov_patron):
    kept_today = prohibition(eslov_patron, retain_until=DAY)
    gone = prohibition(eslov_patron, retain_until=YESTERDAY)
    in_force = prohibition(eslov_patron, retain_until=None)

    already_due = {
        p.pk
        for p in AccessProhibition.objects.exclude(pk=gone.pk)
        if p.archived_at and p.retain_until and p.retain_until < DAY
    }

    assert removed_by_retention(AccessProhibition) == {gone.pk} | already_due
    assert set(AccessProhibition.objects.filter(patron=eslov_patron).values_list("pk", flat=True)) >= {
        kept_today.pk,
        in_force.pk,
    }


def ward_born(born: datetime.date) -> Guardianship | None:
    """A demo ward's link, the ward's date of birth set to `born`."""
    link = Guardianship.objects.order_by("pk").first()
    Patron.objects.filter(pk=link.ward_id).update(date_of_birth=born)
    return link


def links_of_adult_wards(day: datetime.date) -> set[int]:
    """Worked out the way core.dates.age_on counts, one link at a time."""
    return {
        link.pk
        for link in Guardianship.objects.select_related("ward")
        if link.ward.date_of_birth and age_on(link.ward.date_of_birth, day) >= 18
    }


def test_guardian_links_go_on_the_wards_18th_birthday():
    link = ward_born(DAY - relativedelta(years=18))

    due_yesterday = links_of_adult_wards(YESTERDAY)
    assert link.pk not in due_yesterday
    assert removed_by_retention(Guardianship, day=YESTERDAY) == due_yesterday
    due_today = links_of_adult_wards(DAY)
    assert link.pk in due_today
    assert removed_by_retention(Guardianship, day=DAY) == due_today
    assert Patron.objects.filter(pk__in=[link.ward_id, link.guardian_id]).count() == 2


def test_a_ward_born_on_29_february_turns_18_on_1_march():
    link = ward_born(datetime.date(2008, 2, 29))
    assert link.pk not in removed_by_retention(Guardianship, day=datetime.date(2026, 2, 28))
    assert link.pk in removed_by_retention(Guardianship, day=datetime.date(2026, 3, 1))


def test_only_the_links_of_wards_of_age_go():
    """Across the demo world, years ahead: exactly the links whose ward is 18 by then."""
    day = datetime.date(2030, 1, 1)
    adult_wards = links_of_adult_wards(day)
    assert adult_wards, "the demo world has wards who are of age by 2030"
    assert adult_wards != ids(Guardianship), "...and wards who are not"
    assert removed_by_retention(Guardianship, day=day) == adult_wards


def test_note_removal_records_go_after_the_retention_years(lapland_patron, settings):
    settings.NOTE_REMOVAL_RECORD_RETENTION_YEARS = 2
    boundary = start_of_day(DAY - relativedelta(years=2))
    exactly_two_years = note(lapland_patron, removed_at=boundary)
    gone = note(lapland_patron, removed_at=boundary - datetime.timedelta(seconds=1))
    NoteRevision.objects.create(
        note=gone,
        category=gone.category,
        text="",
        written_at=gone.created_at,
        written_by="rovaniemi.staff",
        replaced_at=gone.created_at,
    )
    not_removed = note(lapland_patron, removed_at=None)
    Note.objects.filter(pk=not_removed.pk).update(
        created_at=datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC), category=NoteCategory.GENERAL
    )
    cited_by_a_kept_decision = note(lapland_patron, removed_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    ban(lapland_patron, retain_until=DAY, number="R-4").notes.add(cited_by_a_kept_decision)
    cited_by_a_due_decision = note(lapland_patron, removed_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    ban(lapland_patron, retain_until=YESTERDAY, number="R-5").notes.add(cited_by_a_due_decision)

    assert removed_by_retention(Note) == {gone.pk, cited_by_a_due_decision.pk}
    assert not NoteRevision.objects.filter(note_id=gone.pk).exists()
    assert Note.objects.filter(pk__in=[exactly_two_years.pk, not_removed.pk, cited_by_a_kept_decision.pk]).count() == 3


def behaviour_note(patron: Patron, incident_on: datetime.date) -> Note:
    return Note.objects.create(
        patron=patron,
        category=NoteCategory.BEHAVIOUR,
        text="Disturbed other readers.",
        incident_on=incident_on,
        created_at=start_of_day(incident_on),
        created_by="rovaniemi.staff",
    )


@pytest.mark.parametrize(
    ("days_ago", "kept"), [(729, True), (730, True), (731, False)], ids=["day before", "the day", "day after"]
)
def test_behaviour_notes_go_the_day_after_the_retention_days_from_the_incident(
    lapland_patron, settings, days_ago, kept
):
    settings.BEHAVIOUR_NOTE_RETENTION_DAYS = 730
    note = behaviour_note(lapland_patron, DAY - datetime.timedelta(days=days_ago))
    general = Note.objects.create(
        patron=lapland_patron,
        category=NoteCategory.GENERAL,
        text="Asked for large print.",
        incident_on=datetime.date(2001, 1, 1),
        created_at=start_of_day(datetime.date(2001, 1, 1)),
        created_by="rovaniemi.staff",
    )
    latest = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()

    removed = removed_by_retention(Note)

    assert (note.pk not in removed) is kept
    assert general.pk not in removed, "the rule is for behaviour notes"
    if not kept:
        event = AccessEvent.objects.get(id__gt=latest, detail="behaviour_notes")
        assert event.action == Action.RETENTION_APPLIED and lapland_patron.pk in event.patron_ids
        assert event.data_categories == ["sensitive_note"] and "Disturbed" not in str(event.__dict__)


def test_a_behaviour_note_a_ban_cites_goes_with_the_bans_archive_period(lapland_patron, settings):
    settings.BEHAVIOUR_NOTE_RETENTION_DAYS = 730
    cited = behaviour_note(lapland_patron, datetime.date(2023, 12, 1))
    decision = ban(lapland_patron, retain_until=DAY, number="R-10")
    decision.notes.add(cited)
    in_procedure = behaviour_note(lapland_patron, datetime.date(2023, 12, 2))
    ban(lapland_patron, retain_until=None, number="R-11").notes.add(in_procedure)

    assert cited.pk not in removed_by_retention(Note, day=DAY), "kept on the ban's retain_until day"
    removed = removed_by_retention(Note, day=TOMORROW)
    assert cited.pk in removed and not Ban.objects.filter(pk=decision.pk).exists(), "gone with its ban, one run"
    assert in_procedure.pk not in removed, "a ban not yet archived keeps its grounds"
    out, _err = run_command("--dry-run", "--day", TOMORROW.isoformat())
    assert any(line.startswith("behaviour_notes") for line in out.splitlines())


def test_answered_requests_go_after_the_retention_years_unless_an_erasure_needs_them(lapland_patron, settings):
    settings.SUBJECT_REQUEST_RETENTION_YEARS = 5
    boundary = DAY - relativedelta(years=5)
    kept_today = subject_request(lapland_patron, completed_on=boundary)
    gone = subject_request(lapland_patron, completed_on=boundary - datetime.timedelta(days=1))
    open_request = subject_request(lapland_patron, completed_on=None)
    SubjectRequest.objects.filter(pk=open_request.pk).update(received_on=datetime.date(2015, 1, 1))
    erasure = subject_request(lapland_patron, completed_on=datetime.date(2015, 1, 1))
    ErasureTombstone.objects.create(
        patron_id=9_999_999,
        consortium=lapland_patron.consortium,
        erased_at=timezone.now(),
        subject_request=erasure,
    )
    already_due = {
        r.pk
        for r in SubjectRequest.objects.exclude(pk=gone.pk)
        if r.completed_on
        and r.completed_on < boundary
        and not ErasureTombstone.objects.filter(subject_request=r).exists()
    }

    assert removed_by_retention(SubjectRequest) == {gone.pk} | already_due
    assert SubjectRequest.objects.filter(pk__in=[kept_today.pk, open_request.pk, erasure.pk]).count() == 3
    assert ErasureTombstone.objects.filter(subject_request=erasure).exists()


def test_a_newsletter_membership_goes_once_the_patron_has_no_email_address(lapland_patron, mikkeli_patron):
    without_email, with_email = lapland_patron, mikkeli_patron
    Patron.objects.filter(pk=without_email.pk).update(email="")
    Patron.objects.filter(pk=with_email.pk).update(email="lukija@example.org")
    for patron in (without_email, with_email):
        for register in (RegisterKind.NEWSLETTER, RegisterKind.HOME_SERVICE):
            RegisterMembership.objects.update_or_create(
                patron=patron, register=register, defaults={"joined_on": datetime.date(2025, 3, 1)}
            )
    latest = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()

    retention_apply(day=DAY, dry_run=False)

    assert set(RegisterMembership.objects.filter(patron=without_email).values_list("register", flat=True)) == {
        RegisterKind.HOME_SERVICE  # home service ends only when the patron asks
    }
    assert set(RegisterMembership.objects.filter(patron=with_email).values_list("register", flat=True)) == {
        RegisterKind.NEWSLETTER,
        RegisterKind.HOME_SERVICE,
    }
    event = AccessEvent.objects.get(id__gt=latest, detail="newsletter_without_email")
    assert without_email.pk in event.patron_ids and with_email.pk not in event.patron_ids


def test_patrons_are_never_removed_and_access_events_only_counted():
    patrons = ids(Patron)
    events = ids(AccessEvent)
    far_ahead = datetime.date(2100, 1, 1)

    report = retention_apply(day=far_ahead, dry_run=False)

    assert ids(Patron) == patrons
    assert not Guardianship.objects.exists(), "every ward is of age by 2100"
    assert events <= ids(AccessEvent)
    assert report.access_log_cutoff == access_log_cutoff(day=far_ahead)
    # All events are older than the cutoff; a prune would keep only the newest.
    assert report.access_events_due == AccessEvent.objects.count() - 1


def test_each_rule_that_removed_something_writes_one_event_with_ids_only(lapland_patron):
    gone = ban(lapland_patron, retain_until=YESTERDAY, number="R-6")
    link = ward_born(DAY - relativedelta(years=18))
    latest = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()

    report = retention_apply(day=DAY, dry_run=False)

    written = list(AccessEvent.objects.filter(id__gt=latest).order_by("id"))
    assert {e.action for e in written} == {Action.RETENTION_APPLIED}
    by_rule = {e.detail: e for e in written}
    assert len(by_rule) == len(written), "one event per rule"
    assert set(by_rule) == {o.rule.name for o in report.outcomes if o.removed}
    assert {"ban_decisions", "guardian_links"} <= set(by_rule)
    assert gone.patron_id in by_rule["ban_decisions"].patron_ids
    assert {link.ward_id, link.guardian_id} <= set(by_rule["guardian_links"].patron_ids)
    assert by_rule["guardian_links"].actor_username == "apply_retention"
    for event in written:
        assert lapland_patron.last_name not in str(event.__dict__)
    assert verify_chain() is None


def test_a_dry_run_writes_nothing_but_reports_what_a_run_removes(lapland_patron):
    ban(lapland_patron, retain_until=YESTERDAY, number="R-7")
    ward_born(DAY - relativedelta(years=18))
    models = [Ban, AccessProhibition, Guardianship, Note, SubjectRequest, Patron, AccessEvent]
    before = {model: ids(model) for model in models}

    dry = retention_apply(day=DAY, dry_run=True)

    assert {model: ids(model) for model in models} == before
    assert dry.dry_run and all(outcome.removed == 0 for outcome in dry.outcomes)
    run = retention_apply(day=DAY, dry_run=False)
    assert [o.due for o in dry.outcomes] == [o.removed for o in run.outcomes]
    assert {o.rule.name: o.removed for o in run.outcomes}["ban_decisions"] >= 1


def test_a_second_run_removes_nothing(lapland_patron):
    ban(lapland_patron, retain_until=YESTERDAY, number="R-8")
    ward_born(DAY - relativedelta(years=18))
    first = retention_apply(day=DAY, dry_run=False)
    assert sum(o.removed for o in first.outcomes) >= 2
    latest = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()

    second = retention_apply(day=DAY, dry_run=False)

    assert all(o.due == 0 and o.removed == 0 for o in second.outcomes)
    assert not AccessEvent.objects.filter(id__gt=latest).exists()


def run_command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with translation.override("en"):
        call_command("apply_retention", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_shows_progress_and_a_report_with_cctv_and_the_access_log(lapland_patron):
    ban(lapland_patron, retain_until=YESTERDAY, number="R-9")
    RegisterDescription.objects.update_or_create(
        consortium=lapland_patron.consortium, register=Register.CCTV, defaults={"retention_days": 28}
    )

    out, err = run_command("--dry-run", "--day", DAY.isoformat())
    assert "Dry run" in out and "nothing was removed" in out
    assert "[" not in err, "a dry run has nothing to show progress of"
    assert Ban.objects.filter(decision_number="R-9").exists()

    out, err = run_command("--day", DAY.isoformat())
    assert "ban_decisions" in err and f"[{'#' * 30}]" in err
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("rule"))
    assert header.split() == ["rule", "register", "due", "removed"]
    due, removed = next(line for line in lines if line.startswith("ban_decisions")).split()[-2:]
    assert due == removed and int(removed) >= 1
    assert any(line.startswith("cctv_recordings") and "CCTV recordings" in line for line in lines)
    assert f"{lapland_patron.consortium.name}: 28 days" in out
    assert "Patron records are never ended or removed by retention" in out
    assert "prune_access_log" in out and "owner" in out

    out, _err = run_command("--day", DAY.isoformat())
    ban_row = next(line for line in out.splitlines() if line.startswith("ban_decisions"))
    assert ban_row.split()[-2:] == ["0", "0"]


def test_every_consortium_is_in_the_cctv_report_even_without_a_description():
    out, _err = run_command("--dry-run", "--day", DAY.isoformat())
    for name in Consortium.objects.values_list("name", flat=True):
        assert name in out


def test_the_report_covers_all_five_registers_and_where_the_others_apply_their_retention(lapland_patron):
    description, _created = RegisterDescription.objects.update_or_create(
        consortium=lapland_patron.consortium, register=Register.INTERLIBRARY_LOANS, defaults={"retention_days": 400}
    )
    other_fields = ("controller", "contact_person", "dpo_contact", "purpose", "legal_basis", "data_categories")
    other_fields += ("people_categories", "recipients", "transfers", "security_measures")
    RegisterDescriptionText.objects.update_or_create(
        description=description,
        language="en",
        defaults={"retention": "Deleted once\nthe loan is settled.", **dict.fromkeys(other_fields, "-")},
    )
    RegisterDescription.objects.filter(register=Register.HOME_SERVICE).update(retention_days=None)

    out, _err = run_command("--dry-run", "--day", DAY.isoformat())

    lines = out.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("rule"))) : lines.index("")]
    with translation.override("en"):
        labels = {str(label) for label in Register.labels}
    assert {label for label in labels if any(label in row for row in table)} == labels
    assert any(row.startswith("newsletter_without_email") for row in table)
    ill = out.index("interlibrary_loans: Interlibrary-loan memberships end only when the patron asks")
    home = out.index("home_service: Home-service memberships end only when the patron asks")
    assert "interlibrary-loan system" in out[ill:home] and "Koha" in out[home:]
    consortium = lapland_patron.consortium.name
    assert f"{consortium}: 400 days (Deleted once the loan is settled.)" in out[ill:home]
    assert f"{consortium}: not set in a register description" in out[home : out.index("cctv_recordings:")]
