"""Erasure (GDPR Art. 17) from the outside: the dry run, the erasure and what finds nothing after it,
the rules, and re-applying erasures after a backup restore."""

import datetime
from io import StringIO

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AccessEvent, AccessEventPatron, Action
from bans.models import AccessProhibition, Ban, BanStatus, NotificationMethod
from dpo.models import ErasureTombstone, RefusalGround, RequestKind, SubjectRequest
from patrons.models import Guardianship, Note, NoteCategory, NoteRevision, Patron, RegisterMembership, Trusteeship
from sotu_silo.models import ErasedPatron, IdentityCode
from staff.models import Consortium, Library, StaffProfile
from tests.conftest import client_for
from tests.factories import PatronFactory

pytestmark = pytest.mark.django_db

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
LAST_NAME = "Poistettavainen"


def hetu(ddmmyy: str, sign: str, individual: int) -> str:
    return f"{ddmmyy}{sign}{individual:03d}{CHECK[int(f'{ddmmyy}{individual:03d}') % 31]}"


CODE = hetu("140679", "-", 431)


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def subject_request(patron: Patron, kind: str = RequestKind.ERASURE, **fields) -> SubjectRequest:
    return SubjectRequest.objects.create(
        consortium=patron.consortium,
        patron_id=patron.pk,
        kind=kind,
        received_on=today(),
        identity_document="passport",
        identity_verified_by="dpo",
        identity_verified_on=today(),
        due_on=today() + days(30),
        recorded_at=timezone.now(),
        recorded_by="dpo",
        **fields,
    )


def card_of_request(request_id: int) -> str:
    """The card number the DPO types to confirm an erasure ("" when the request or its patron is gone)."""
    patron_ids = SubjectRequest.objects.filter(pk=request_id).values("patron_id")
    return Patron.objects.filter(pk__in=patron_ids).values_list("cardnumber", flat=True).first() or ""


def erase(request_id: int, dry_run: bool, username: str = "dpo", confirm: str | None = None):
    """The erasure API; an erasure (not a dry run) confirms with the patron's card number unless `confirm` says."""
    body: dict[str, object] = {"dry_run": dry_run}
    if not dry_run:
        body["confirm"] = card_of_request(request_id) if confirm is None else confirm
    return client_for(username).post(
        f"/api/v1/subject-requests/{request_id}/erase/", body, content_type="application/json"
    )


def lookup(code: str):
    return client_for("rovaniemi.billing").post(
        "/api/v1/identity-codes/lookup/",
        {"identity_code": code, "reason": "lasku 2026-41"},
        content_type="application/json",
    )


def newest_event() -> AccessEvent | None:
    return AccessEvent.objects.order_by("-id").first()


class World:
    """A Lapland patron with something of every kind on their record, and the patrons linked to them."""

    def __init__(self):
        rovaniemi = Library.objects.get(koha_library_id="ROV")
        self.patron = PatronFactory(home_library=rovaniemi, first_name="Erkki", last_name=LAST_NAME)
        patron = self.patron
        general = self.note(NoteCategory.GENERAL, "Prefers large print.")
        behaviour = self.note(NoteCategory.BEHAVIOUR, "Shouted at the desk on Monday.")
        accessibility = self.note(NoteCategory.ACCESSIBILITY, "Uses a wheelchair; ground floor.")
        NoteRevision.objects.create(
            note=behaviour,
            category=NoteCategory.BEHAVIOUR,
            text="Shouted.",
            written_at=timezone.now(),
            written_by="rovaniemi.staff",
            replaced_at=timezone.now(),
        )
        self.note_ids = [general.pk, behaviour.pk, accessibility.pk]
        self.sensitive_note_ids = [behaviour.pk, accessibility.pk]
        # A child whose only guardian is the patron, and one who has another guardian too.
        self.only_child = PatronFactory(home_library=rovaniemi, date_of_birth=today() - relativedelta(years=8))
        self.shared_child = PatronFactory(home_library=rovaniemi, date_of_birth=today() - relativedelta(years=9))
        self.other_parent = PatronFactory(home_library=rovaniemi)
        Guardianship.objects.create(ward=self.only_child, guardian=patron, relationship="parent")
        Guardianship.objects.create(ward=self.shared_child, guardian=patron, relationship="parent")
        Guardianship.objects.create(ward=self.shared_child, guardian=self.other_parent, relationship="parent")
        # The patron as a ward: the link goes, the guardian stays.
        Guardianship.objects.create(ward=patron, guardian=self.other_parent, relationship="guardian")
        Trusteeship.objects.create(
            patron=patron, guardian_name="Edunvalvoja", recorded_at=timezone.now(), recorded_by="rovaniemi.staff"
        )
        self.membership = RegisterMembership.objects.create(patron=patron, register="newsletter", joined_on=today())
        self.proposed_ban = self.ban(status=BanStatus.PROPOSED, starts_on=today() + days(7), ends_on=today() + days(20))
        # Ended and archived; its time in the decision archive ended yesterday (the retention run has not come
        # yet): nothing holds it. A decision still kept is held (test_legal_holds.py).
        self.archived_ban = self.ban(
            status=BanStatus.NOTIFIED,
            starts_on=today() - days(60),
            ends_on=today() - days(40),
            decision_number=f"ERASE-{patron.pk}",
            decided_on=today() - days(62),
            notification_method=NotificationMethod.LETTER,
            notified_on=today() - days(62),
            archived_at=timezone.now() - days(39),
            retain_until=today() - days(1),
        )
        # A prohibition whose archive retention is over: it goes without a warning.
        self.old_prohibition = AccessProhibition.objects.create(
            patron=patron,
            library=rovaniemi,
            applied_on=today() - days(900),
            application_reference="ANS-1",
            prosecutor_reference="AM-1",
            decided_on=today() - days(890),
            starts_on=today() - days(890),
            ends_on=today() - days(800),
            recorded_at=timezone.now() - days(890),
            recorded_by="rovaniemi.staff",
            archived_at=timezone.now() - days(799),
            retain_until=today() - days(70),
        )
        self.staff_profile = StaffProfile.objects.get(user__username="rovaniemi.staff")
        self.staff_profile.patron = patron
        self.staff_profile.save(update_fields=["patron"])
        staff = client_for("rovaniemi.staff")
        stored = staff.put(
            f"/api/v1/patrons/{patron.pk}/identity-code/", {"identity_code": CODE}, content_type="application/json"
        )
        assert stored.status_code == 200
        assert staff.get(f"/api/v1/patrons/{patron.pk}/").status_code == 200  # an access event about them
        self.request = subject_request(patron)

    def note(self, category: str, text: str) -> Note:
        return Note.objects.create(
            patron=self.patron, category=category, text=text, created_at=timezone.now(), created_by="rovaniemi.staff"
        )

    def ban(self, **fields) -> Ban:
        return Ban.objects.create(
            patron=self.patron,
            library=Library.objects.get(koha_library_id="ROV"),
            grounds=["repeated_substantial_disturbance"],
            proposed_at=timezone.now() - days(70),
            proposed_by="rovaniemi.staff",
            **fields,
        )


@pytest.fixture
def world() -> World:
    return World()


def test_the_dry_run_lists_exactly_what_would_go_and_changes_nothing(world):
    patron = world.patron
    events_before = AccessEventPatron.objects.filter(patron_id=patron.pk).count()

    response = erase(world.request.pk, dry_run=True)

    assert response.status_code == 200
    body = response.json()
    assert (body["request_id"], body["patron_id"], body["dry_run"], body["removed"], body["erased_at"]) == (
        world.request.pk,
        patron.pk,
        True,
        {},
        None,
    )
    plan = body["plan"]
    assert plan["removes"] == {
        "patron": 1,
        "notes": 3,
        "sensitive_notes": 2,
        "note_revisions": 1,
        "guardian_links": 3,
        "trusteeship": 1,
        "register_memberships": 1,
        "bans": 2,
        "access_prohibitions": 1,
        "identity_code": 1,
        "staff_profile_links": 1,
    }
    # The patron came from Koha (a Koha id): its id is kept so that a sync never brings the patron back.
    assert plan["keeps"] == {"access_events": events_before, "subject_requests": 1, "koha_erased_id": 1}
    assert sorted(plan["note_ids"]) == sorted(world.note_ids)
    assert sorted(plan["sensitive_note_ids"]) == sorted(world.sensitive_note_ids)
    assert plan["guardian_ids"] == [world.other_parent.pk]
    assert plan["ward_ids"] == sorted([world.only_child.pk, world.shared_child.pk])
    assert plan["register_membership_ids"] == [world.membership.pk]
    assert plan["subject_request_ids"] == [world.request.pk]
    assert [(line["id"], line["state"], line["archived"]) for line in plan["bans"]] == [
        (world.proposed_ban.pk, "proposed", False),
        (world.archived_ban.pk, "ended", True),
    ]
    assert [(line["id"], line["state"], line["archived"]) for line in plan["access_prohibitions"]] == [
        (world.old_prohibition.pk, "ended", True)
    ]
    # Only the child with no other guardian is warned about; no decision is within its archive period.
    assert [(warning["code"], warning["ids"]) for warning in plan["warnings"]] == [
        ("minor_left_without_guardian", [world.only_child.pk]),
    ]
    assert plan["holds"] == []
    # Counts and ids only: nothing of the patron's data is in the answer.
    for personal in ("Erkki", LAST_NAME, patron.cardnumber, CODE, "Shouted", "wheelchair", "Edunvalvoja"):
        assert personal not in response.content.decode()

    # Nothing changed; only the dry run was logged.
    assert Patron.objects.filter(pk=patron.pk).exists()
    assert Note.objects.filter(patron=patron).count() == 3
    assert IdentityCode.objects.filter(patron_id=patron.pk).exists()
    assert not ErasureTombstone.objects.filter(patron_id=patron.pk).exists()
    world.request.refresh_from_db()
    assert (world.request.erased_at, world.request.completed_on) == (None, None)
    # A read of the plan, not an erasure: the patron's access report must not say their data was erased.
    event = newest_event()
    assert (event.action, event.detail, event.patron_ids, event.actor_username, event.data_categories) == (
        Action.ERASURE_PLAN,
        f"request:{world.request.pk}",
        [patron.pk],
        "dpo",
        ["basic"],
    )
    assert not AccessEvent.objects.filter(action=Action.PATRON_ERASE, subjects__patron_id=patron.pk).exists()


def test_after_the_erasure_nothing_finds_the_patron_and_only_the_opaque_id_stays(world):
    patron = world.patron
    staff = client_for("rovaniemi.staff")
    search = f"/api/v1/patrons/?search={LAST_NAME}"
    assert [row["id"] for row in staff.get(search).json()["results"]] == [patron.pk]
    assert lookup(CODE).json() == {"patron": {"id": patron.pk}}
    plan = erase(world.request.pk, dry_run=True).json()["plan"]

    response = erase(world.request.pk, dry_run=False)

    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is False and body["erased_at"]
    assert body["removed"] == {key: count for key, count in plan["removes"].items() if key != "sensitive_notes"}
    # Search, record and the billing lookup by identity code find nothing.
    assert staff.get(search).json()["count"] == 0
    assert staff.get(f"/api/v1/patrons/{patron.pk}/").status_code == 404
    assert lookup(CODE).status_code == 404
    assert not IdentityCode.objects.using("sotu").filter(patron_id=patron.pk).exists()
    # Everything on the record went; the linked patrons and the staff member stay.
    assert not Patron.objects.filter(pk=patron.pk).exists()
    assert not Note.objects.filter(pk__in=world.note_ids).exists()
    assert not NoteRevision.objects.filter(note_id__in=world.note_ids).exists()
    assert not Guardianship.objects.filter(guardian_id=patron.pk).exists()
    assert not Guardianship.objects.filter(ward_id=patron.pk).exists()
    assert not Trusteeship.objects.filter(patron_id=patron.pk).exists()
    assert not RegisterMembership.objects.filter(patron_id=patron.pk).exists()
    assert not Ban.objects.filter(pk__in=[world.proposed_ban.pk, world.archived_ban.pk]).exists()
    assert not AccessProhibition.objects.filter(pk=world.old_prohibition.pk).exists()
    assert (
        Patron.objects.filter(pk__in=[world.only_child.pk, world.shared_child.pk, world.other_parent.pk]).count() == 3
    )
    world.staff_profile.refresh_from_db()
    assert world.staff_profile.patron_id is None
    # The access log keeps the events about the patron, by id only.
    assert AccessEventPatron.objects.filter(patron_id=patron.pk).count() >= plan["keeps"]["access_events"] + 1
    erased = AccessEvent.objects.filter(action=Action.PATRON_ERASE, detail="erased").order_by("-id").first()
    assert erased.patron_ids == [patron.pk]
    linked = AccessEvent.objects.filter(action=Action.PATRON_UPDATE, detail="guardian_erased").order_by("-id").first()
    assert linked.patron_ids == sorted([world.only_child.pk, world.shared_child.pk, world.other_parent.pk])
    # The request is answered; the tombstone holds ids and times, nothing personal.
    world.request.refresh_from_db()
    assert world.request.erased_at is not None and world.request.completed_on == today()
    tombstone = ErasureTombstone.objects.get(patron_id=patron.pk)
    assert sorted(field.name for field in ErasureTombstone._meta.concrete_fields) == [
        "consortium",
        "erased_at",
        "id",
        "patron_id",
        "reapplied_at",
        "subject_request",
    ]
    assert (tombstone.consortium_id, tombstone.subject_request_id, tombstone.erased_at, tombstone.reapplied_at) == (
        patron.consortium_id,
        world.request.pk,
        world.request.erased_at,
        None,
    )
    # The silo keeps its own copy of the ledger (backed up apart), again ids and a time only.
    silo_entry = ErasedPatron.objects.using("sotu").get(patron_id=patron.pk)
    assert sorted(field.name for field in ErasedPatron._meta.concrete_fields) == [
        "consortium_id",
        "erased_at",
        "id",
        "patron_id",
    ]
    assert (silo_entry.consortium_id, silo_entry.erased_at) == (patron.consortium_id, world.request.erased_at)


def test_the_erasure_blanks_the_free_text_of_the_patrons_requests(world):
    """The requests stay as long as the ledger, to show how they were answered; what they say of the person goes."""
    world.request.extension_reason = "Erkki asked us to check the archive of the home service too."
    world.request.save(update_fields=["extension_reason"])
    access = subject_request(
        world.patron,
        kind=RequestKind.ACCESS,
        fee_reason="Erkki's third report this year.",
        refusal_ground=RefusalGround.MANIFESTLY_UNFOUNDED,
        refusal_details="Erkki asked for the same report three times in a month.",
        completed_on=today(),
    )
    other = subject_request(world.other_parent, kind=RequestKind.ACCESS, extension_reason="Backups to check.")

    assert erase(world.request.pk, dry_run=False).status_code == 200

    texts = SubjectRequest.objects.filter(pk__in=[world.request.pk, access.pk]).values_list(
        "extension_reason", "fee_reason", "refusal_details"
    )
    assert list(texts) == [("", "", "")] * 2
    access.refresh_from_db()
    assert (access.refusal_ground, access.completed_on) == (
        RefusalGround.MANIFESTLY_UNFOUNDED,
        today(),
    )  # the answer stays
    other.refresh_from_db()
    assert other.extension_reason == "Backups to check."  # another patron's request is untouched


def test_the_access_report_of_an_erased_patron_finds_nothing(world):
    assert erase(world.request.pk, dry_run=False).status_code == 200
    access = subject_request(world.patron, kind=RequestKind.ACCESS)
    response = client_for("dpo").get(reverse("api:subject-request-report", args=[access.pk]))
    assert response.status_code == 404
    assert response.json()["code"] == "patron_erased"


def assert_rule(response, rule: str) -> None:
    assert response.status_code == 400, response.content
    assert response.json()["rule"] == rule


def test_a_refused_request_cannot_be_carried_out(world):
    world.request.refusal_ground = RefusalGround.LEGAL_OBLIGATION
    world.request.refusal_details = "The ban decision is kept under the archive rule."
    world.request.completed_on = today()
    world.request.save()
    assert_rule(erase(world.request.pk, dry_run=False), "request_refused")
    assert_rule(erase(world.request.pk, dry_run=True), "request_refused")
    assert Patron.objects.filter(pk=world.patron.pk).exists()


def test_only_an_erasure_request_erases(world):
    access = subject_request(world.patron, kind=RequestKind.ACCESS)
    assert_rule(erase(access.pk, dry_run=False), "not_an_erasure_request")
    assert Patron.objects.filter(pk=world.patron.pk).exists()


def test_an_erasure_is_carried_out_once(world):
    assert erase(world.request.pk, dry_run=False).status_code == 200
    assert_rule(erase(world.request.pk, dry_run=False), "already_erased")
    # Another erasure request for the same patron: already done, by the tombstone.
    again = SubjectRequest.objects.create(
        **{
            field.name: getattr(world.request, field.name)
            for field in SubjectRequest._meta.concrete_fields
            if field.name not in ("id", "erased_at", "completed_on")
        }
    )
    assert_rule(erase(again.pk, dry_run=True), "already_erased")


def test_a_request_for_a_patron_not_in_the_register_is_refused():
    missing = Patron.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    request = SubjectRequest.objects.create(
        consortium=Consortium.objects.get(slug="lapin-kirjastot"),
        patron_id=missing,
        kind=RequestKind.ERASURE,
        received_on=today(),
        identity_document="passport",
        identity_verified_by="dpo",
        identity_verified_on=today(),
        due_on=today() + days(30),
        recorded_at=timezone.now(),
        recorded_by="dpo",
    )
    assert_rule(erase(request.pk, dry_run=True), "patron_not_found")


def test_another_consortiums_request_does_not_exist(mikkeli_patron):
    request = subject_request(mikkeli_patron)
    assert erase(request.pk, dry_run=True).status_code == 404
    assert erase(request.pk, dry_run=False).status_code == 404
    assert Patron.objects.filter(pk=mikkeli_patron.pk).exists()


@pytest.mark.parametrize("typed", ["", "0000000000", "patron"])
def test_the_erasure_needs_the_patron_card_number_typed(world, typed):
    response = erase(world.request.pk, dry_run=False, confirm=typed)

    assert_rule(response, "confirmation_mismatch")
    assert world.patron.cardnumber not in response.content.decode()
    assert Patron.objects.filter(pk=world.patron.pk).exists()
    assert not AccessEvent.objects.filter(action=Action.PATRON_ERASE, subjects__patron_id=world.patron.pk).exists()


def test_the_erasure_takes_the_card_number_with_spaces_typed_around_it(world):
    assert erase(world.request.pk, dry_run=False, confirm=f" {world.patron.cardnumber} ").status_code == 200
    assert not Patron.objects.filter(pk=world.patron.pk).exists()


def test_dry_run_is_required(world):
    response = client_for("dpo").post(
        f"/api/v1/subject-requests/{world.request.pk}/erase/", {}, content_type="application/json"
    )
    assert response.status_code == 400
    assert Patron.objects.filter(pk=world.patron.pk).exists()


@pytest.mark.parametrize(
    "role", [None, "rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "kemi.staff", "mikkeli.staff"]
)
def test_only_the_dpo_erases(world, role):
    assert erase(world.request.pk, dry_run=False, username=role).status_code == 403
    assert erase(world.request.pk, dry_run=True, username=role).status_code == 403
    assert Patron.objects.filter(pk=world.patron.pk).exists()


# --- The DPO's page ------------------------------------------------------------------------------------------


def page(request_id: int) -> str:
    return reverse("dpo:request-erase", args=[request_id])


def test_the_page_shows_the_dry_run_and_erases_only_when_confirmed(world):
    dpo = client_for("dpo")
    response = dpo.get(page(world.request.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert str(world.only_child.pk) in html and 'name="confirm"' in html
    # Whom the DPO is about to erase: name, card number and date of birth; no note's text.
    assert LAST_NAME in html and world.patron.cardnumber in html
    assert f"{world.patron.date_of_birth:%d.%m.%Y}" in html
    assert "Shouted" not in html
    assert (newest_event().action, newest_event().data_categories) == (Action.ERASURE_PLAN, ["basic"])

    for typed in ({}, {"confirm": "on"}, {"confirm": "1" + world.patron.cardnumber}):
        unconfirmed = dpo.post(page(world.request.pk), typed)
        assert unconfirmed.status_code == 400
        assert Patron.objects.filter(pk=world.patron.pk).exists()
    assert 'class="errorlist' in unconfirmed.content.decode()

    confirmed = dpo.post(page(world.request.pk), {"confirm": world.patron.cardnumber})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("admin:dpo_subjectrequest_change", args=[world.request.pk])
    assert not Patron.objects.filter(pk=world.patron.pk).exists()
    assert dpo.get(page(world.request.pk)).status_code == 400  # already erased, said on the page


def test_the_page_refuses_other_requests(world, mikkeli_patron):
    dpo = client_for("dpo")
    access = subject_request(world.patron, kind=RequestKind.ACCESS)
    assert dpo.get(page(access.pk)).status_code == 400
    assert dpo.get(page(subject_request(mikkeli_patron).pk)).status_code == 404
    staff = client_for("rovaniemi.staff")
    assert staff.post(page(world.request.pk), {"confirm": world.patron.cardnumber}).status_code == 403
    assert Patron.objects.filter(pk=world.patron.pk).exists()


# --- After a backup restore ----------------------------------------------------------------------------------


def reapply(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with translation.override("en"):
        call_command("reapply_erasures", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def restore(patron_row: dict, code_row: dict) -> None:
    """Put the rows back as a backup restore would, creation times included."""
    Patron.objects.create(**patron_row)
    Patron.objects.filter(pk=patron_row["id"]).update(created_at=patron_row["created_at"])
    IdentityCode.objects.create(**code_row)
    IdentityCode.objects.filter(pk=code_row["id"]).update(created_at=code_row["created_at"])


def test_reapply_erasures_erases_a_restored_patron_again_and_a_second_run_nothing(world):
    patron_id = world.patron.pk
    patron_row = Patron.objects.filter(pk=patron_id).values().get()
    code_row = IdentityCode.objects.filter(patron_id=patron_id).values().get()
    assert erase(world.request.pk, dry_run=False).status_code == 200
    restore(patron_row, code_row)
    assert client_for("rovaniemi.staff").get(f"/api/v1/patrons/{patron_id}/").status_code == 200

    out, _err = reapply("--dry-run")
    assert out.startswith("Dry run: 1 erased patron is back")
    assert Patron.objects.filter(pk=patron_id).exists()

    out, err = reapply()
    assert out.strip() == "Erased 1 patron again."
    assert "1/1 erasures checked" in err
    assert not Patron.objects.filter(pk=patron_id).exists()
    assert not IdentityCode.objects.filter(patron_id=patron_id).exists()
    assert ErasureTombstone.objects.get(patron_id=patron_id).reapplied_at is not None
    event = newest_event()
    assert (event.action, event.patron_ids, event.actor_username) == (
        Action.ERASURE_REAPPLIED,
        [patron_id],
        "reapply_erasures",
    )
    assert lookup(CODE).status_code == 404

    events = AccessEvent.objects.count()
    out, _err = reapply()
    assert out.strip() == "Erased 0 patrons again."
    assert AccessEvent.objects.count() == events


def test_the_dpo_reapplies_erasures_with_a_button_after_seeing_the_dry_run(world, mikkeli_patron):
    patron_id = world.patron.pk
    patron_row = Patron.objects.filter(pk=patron_id).values().get()
    code_row = IdentityCode.objects.filter(patron_id=patron_id).values().get()
    assert erase(world.request.pk, dry_run=False).status_code == 200
    restore(patron_row, code_row)
    # Another consortium's restored erasure is not this DPO's to apply again.
    ErasureTombstone.objects.create(
        patron_id=mikkeli_patron.pk,
        consortium_id=mikkeli_patron.consortium_id,
        erased_at=timezone.now(),
        subject_request=subject_request(mikkeli_patron),
    )
    dpo = client_for("dpo")
    url = reverse("dpo:erasures-reapply")
    assert url in dpo.get(reverse("admin:index")).content.decode()  # reached from the dashboard, no shell

    dry = dpo.get(url)
    assert dry.status_code == 200
    html = dry.content.decode()
    assert '<td class="erased-again">1</td>' in html and "manage.py" not in html
    assert Patron.objects.filter(pk=patron_id).exists()

    done = dpo.post(url)
    assert done.status_code == 302
    assert not Patron.objects.filter(pk=patron_id).exists()
    assert Patron.objects.filter(pk=mikkeli_patron.pk).exists()
    event = newest_event()
    assert (event.action, event.patron_ids, event.actor_username) == (Action.ERASURE_REAPPLIED, [patron_id], "dpo")
    assert 'class="nothing-to-do"' in dpo.get(url).content.decode()
    for role in ("rovaniemi.staff", "rovaniemi.billing"):
        assert client_for(role).post(url).status_code == 403


def test_reapply_erasures_finishes_an_erasure_whose_silo_commit_failed(world):
    patron_id = world.patron.pk
    code_row = IdentityCode.objects.filter(patron_id=patron_id).values().get()
    assert erase(world.request.pk, dry_run=False).status_code == 200
    IdentityCode.objects.create(**code_row)  # as if the silo had rolled back
    IdentityCode.objects.filter(pk=code_row["id"]).update(created_at=code_row["created_at"])
    reapply()
    assert not IdentityCode.objects.filter(patron_id=patron_id).exists()


def test_reapply_erasures_spares_a_new_patron_who_got_an_erased_id(world):
    """After a restore from before the patron existed, the id sequence may hand their id to someone new."""
    patron_row = Patron.objects.filter(pk=world.patron.pk).values().get()
    code_row = IdentityCode.objects.filter(patron_id=world.patron.pk).values().get()
    assert erase(world.request.pk, dry_run=False).status_code == 200
    Patron.objects.create(**{**patron_row, "first_name": "Uusi", "cardnumber": "99999999999999"})
    out, _err = reapply()
    assert out.strip() == "Erased 0 patrons again."
    assert Patron.objects.filter(pk=world.patron.pk).exists()
    # The erased patron's code, back from an older silo backup, goes; the new patron stays.
    IdentityCode.objects.create(**code_row)
    IdentityCode.objects.filter(pk=code_row["id"]).update(created_at=code_row["created_at"])
    out, _err = reapply()
    assert out.strip() == "Erased 1 patron again."
    assert Patron.objects.filter(pk=world.patron.pk).exists()
    assert not IdentityCode.objects.filter(patron_id=world.patron.pk).exists()


def test_a_restore_of_the_main_database_is_repaired_from_the_silos_ledger(world):
    """A main-database backup from before the erasure brings the patron and the request back, but no tombstone."""
    patron_id = world.patron.pk
    patron_row = Patron.objects.filter(pk=patron_id).values().get()
    request_row = SubjectRequest.objects.filter(pk=world.request.pk).values().get()
    assert erase(world.request.pk, dry_run=False).status_code == 200
    erased_at = ErasureTombstone.objects.get(patron_id=patron_id).erased_at
    # The restore: the tombstone is gone, the patron and the still open request are back.
    ErasureTombstone.objects.filter(patron_id=patron_id).delete()
    Patron.objects.create(**patron_row)
    Patron.objects.filter(pk=patron_id).update(created_at=patron_row["created_at"])
    SubjectRequest.objects.filter(pk=world.request.pk).update(**{**request_row, "extension_reason": "Erkki's note."})
    assert client_for("rovaniemi.staff").get(f"/api/v1/patrons/{patron_id}/").status_code == 200
    # The silo's ledger still knows: the restored request cannot erase twice.
    assert_rule(erase(world.request.pk, dry_run=False), "already_erased")

    out, _err = reapply("--dry-run")
    assert out.splitlines() == [
        "1 erasure is missing from the main database's ledger and would be written back from the silo's.",
        "Dry run: 1 erased patron is back and would be erased again; nothing was changed.",
    ]
    assert not ErasureTombstone.objects.filter(patron_id=patron_id).exists()

    out, _err = reapply()
    assert out.splitlines() == [
        "1 erasure missing from the main database's ledger was written back from the silo's.",
        "Erased 1 patron again.",
    ]
    assert (newest_event().action, newest_event().patron_ids) == (Action.ERASURE_REAPPLIED, [patron_id])
    assert not Patron.objects.filter(pk=patron_id).exists()
    assert client_for("rovaniemi.staff").get(f"/api/v1/patrons/{patron_id}/").status_code == 404
    tombstone = ErasureTombstone.objects.get(patron_id=patron_id)
    assert (tombstone.consortium_id, tombstone.erased_at, tombstone.subject_request_id) == (
        world.patron.consortium_id,
        erased_at,
        None,
    )
    assert tombstone.reapplied_at is not None
    assert SubjectRequest.objects.get(pk=world.request.pk).extension_reason == ""
    assert reapply()[0].strip() == "Erased 0 patrons again."


def test_a_restore_of_the_silo_database_is_repaired_from_the_main_ledger(world):
    """A silo backup from before the erasure brings the identity code back, but not the silo's ledger entry."""
    patron_id = world.patron.pk
    code_row = IdentityCode.objects.filter(patron_id=patron_id).values().get()
    assert erase(world.request.pk, dry_run=False).status_code == 200
    erased_at = ErasureTombstone.objects.get(patron_id=patron_id).erased_at
    ErasedPatron.objects.filter(patron_id=patron_id).delete()
    IdentityCode.objects.create(**code_row)
    IdentityCode.objects.filter(pk=code_row["id"]).update(created_at=code_row["created_at"])

    out, _err = reapply("--dry-run")
    assert out.splitlines()[0] == (
        "1 erasure is missing from the silo's ledger and would be written back from the main database's."
    )
    assert not ErasedPatron.objects.filter(patron_id=patron_id).exists()

    out, _err = reapply()
    assert out.splitlines() == [
        "1 erasure missing from the silo's ledger was written back from the main database's.",
        "Erased 1 patron again.",
    ]
    assert not IdentityCode.objects.filter(patron_id=patron_id).exists()
    assert lookup(CODE).status_code == 404
    entry = ErasedPatron.objects.get(patron_id=patron_id)
    assert (entry.consortium_id, entry.erased_at) == (world.patron.consortium_id, erased_at)
    assert reapply()[0].strip() == "Erased 0 patrons again."
