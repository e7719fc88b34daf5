"""Restriction of processing (GDPR Art. 18) as staff meet it: a banner and logged reads, and every write to the
patron refused (each write URL and API performed as an attack), billing refused, the Koha sync skipping the
patron; lifted, all allowed again. The DPO's side: tests/dpo/test_processing_restriction.py."""

import datetime
from typing import cast

import pytest
from django.conf import settings
from django.utils import timezone

from audit.models import AccessEvent, Action, Outcome
from bans.models import Ban
from dpo.models import RequestKind
from patrons.models import Note, NoteCategory, Patron, ProcessingRestriction, RegisterMembership, Trusteeship
from patrons.services.closures import cards_to_extend
from sotu_silo.models import IdentityCode
from staff.models import Library
from tests.conftest import client_for
from tests.dpo.test_erasure import CODE, subject_request
from tests.factories import PatronFactory

pytestmark = pytest.mark.django_db

JSON = "application/json"


def in_language(username: str, language: str = "en"):
    client = client_for(username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def today() -> datetime.date:
    return timezone.localdate()


def restrict(patron: Patron, ground: str = "art18_1_a") -> int:
    """The DPO restricts the patron on a restriction request; the request's id."""
    request = subject_request(patron, RequestKind.RESTRICTION)
    answer = client_for("dpo").post(
        f"/api/v1/subject-requests/{request.pk}/restriction/", {"ground": ground}, content_type=JSON
    )
    assert answer.status_code == 200, answer.content
    return request.pk


def lift(request_id: int):
    return client_for("dpo").post(
        f"/api/v1/subject-requests/{request_id}/restriction/lift/",
        {"informed_on": today().isoformat()},
        content_type=JSON,
    )


@pytest.fixture
def patron() -> Patron:
    """A Lapland adult with a note, an identity code stored, then restricted."""
    rovaniemi = Library.objects.get(koha_library_id="ROV")
    patron = cast(Patron, PatronFactory(home_library=rovaniemi, email="rajattu@example.fi", last_name="Rajoitettu"))
    Note.objects.create(
        patron=patron, category=NoteCategory.GENERAL, text="Kertoo itse.", created_at=timezone.now(), created_by="x"
    )
    stored = client_for("rovaniemi.staff").put(
        f"/api/v1/patrons/{patron.pk}/identity-code/", {"identity_code": CODE}, content_type=JSON
    )
    assert stored.status_code == 200
    patron.restriction_request_id = restrict(patron)  # type: ignore[attr-defined]
    return patron


def note_of(patron: Patron) -> Note:
    return Note.objects.filter(patron=patron).get()


def test_staff_see_the_restricted_patron_with_a_banner_in_each_language_and_the_read_says_so(patron):
    banners = {"fi": "Käsittelyä rajoitettu", "sv": "Behandlingen begränsad", "en": "Processing restricted"}
    for language, banner in banners.items():
        page = in_language("rovaniemi.staff", language).get(f"/patrons/{patron.pk}/")
        assert page.status_code == 200
        assert 'id="processing-restricted"' in page.content.decode()
        assert banner in page.content.decode(), language
    event = AccessEvent.objects.filter(action=Action.PATRON_VIEW, subjects__patron_id=patron.pk).order_by("-id")[0]
    assert event.detail == "processing_restricted"
    assert client_for("rovaniemi.staff").get(f"/api/v1/patrons/{patron.pk}/").json()["processing_restricted"] is True


def test_the_patron_list_marks_the_restricted_patron_and_its_event_says_so(patron):
    client = client_for("rovaniemi.staff")
    listed = client.post("/patrons/", {"q": "Rajoitettu"}, follow=True)
    assert 'class="processing-restricted"' in listed.content.decode()
    assert AccessEvent.objects.order_by("-id")[0].detail == "processing_restricted"
    found = client.post("/api/v1/patrons/search/", {"search": "Rajoitettu"}, content_type=JSON).json()["results"]
    assert [row["processing_restricted"] for row in found if row["id"] == patron.pk] == [True]


def test_an_unrestricted_patron_is_read_as_before():
    other = Patron.objects.filter(consortium__slug="lapin-kirjastot").first()
    client_for("rovaniemi.staff").get(f"/patrons/{other.pk}/")
    assert AccessEvent.objects.order_by("-id")[0].detail == ""


# Every write to a patron, in the API and on the pages: (method, url, body); {p} the patron, {n} a note.
API_WRITES = [
    ("post", "/api/v1/patrons/{p}/notes/", {"category": "general", "text": "Uusi huomautus."}),
    ("patch", "/api/v1/patrons/{p}/notes/{n}/", {"text": "Muutettu teksti."}),
    ("delete", "/api/v1/patrons/{p}/notes/{n}/", {"reason": "Väärä potilas."}),
    ("patch", "/api/v1/patrons/{p}/choices/", {"newsletter": True, "loan_history": 2}),
    ("put", "/api/v1/patrons/{p}/adult-guardianship/", {"guardian_name": "Edun Valvoja", "guardian_phone": "0401"}),
    ("delete", "/api/v1/patrons/{p}/adult-guardianship/", None),
    ("post", "/api/v1/patrons/{p}/pin-by-phone/", {"verification": "date_of_birth"}),
    ("put", "/api/v1/patrons/{p}/identity-code/", {"identity_code": CODE}),
    (
        "post",
        "/api/v1/patrons/{p}/bans/",
        {
            "library": "ROV",
            "grounds": ["repeated_disturbance"],
            "note_ids": [],
            "starts_on": "2099-01-01",
            "ends_on": "2099-01-02",
        },
    ),
]
PAGE_WRITES = [
    (
        "/patrons/{p}/notes/",
        {"category": "general", "text": "Uusi huomautus.", "library": "ROV", "incident_on": "2026-01-02"},
    ),
    ("/patrons/{p}/notes/{n}/edit/", {"text": "Muutettu teksti."}),
    ("/patrons/{p}/notes/{n}/remove/", {"reason": "Väärä potilas."}),
    ("/patrons/{p}/choices/", {"loan_history": "2", "newsletter": "on"}),
    ("/patrons/{p}/guardianship/", {"guardian_name": "Edun Valvoja", "guardian_phone": "0401"}),
    ("/patrons/{p}/identity-code/", {"identity_code": CODE}),
]


def _state(patron: Patron) -> tuple:
    """Everything a write could change: the record, notes and their texts, registers, guardianship, bans, code."""
    record = Patron.objects.filter(pk=patron.pk).values().get()
    notes = sorted(Note.objects.filter(patron=patron).values_list("pk", "text", "removed_at"))
    code = IdentityCode.objects.filter(patron_id=patron.pk).values_list("ciphertext", flat=True).first()
    return (
        record,
        notes,
        list(RegisterMembership.objects.filter(patron=patron).values_list("register")),
        Trusteeship.objects.filter(patron=patron).exists(),
        Ban.objects.filter(patron=patron).count(),
        code,
    )


def refused_attempts(patron: Patron) -> list[tuple]:
    """The denied events of writes refused because the patron's processing is restricted, as the DPO reads them."""
    events = AccessEvent.objects.filter(subjects__patron_id=patron.pk, outcome=Outcome.DENIED).order_by("id")
    return list(events.values_list("actor_username", "detail", "patron_ids", "data_categories", "reason"))


def assert_one_attempt_logged(patron: Patron, before: list[tuple], username: str) -> None:
    """Exactly one more denied event, naming the patron and the reason's code only (no personal data), which
    stayed although the write's transaction was rolled back."""
    after = refused_attempts(patron)
    assert after[: len(before)] == before
    [(actor, detail, patron_ids, _categories, reason)] = after[len(before) :]
    assert (actor, detail, patron_ids, reason) == (username, "processing_restricted", [patron.pk], "")


@pytest.mark.parametrize(("method", "url", "body"), API_WRITES, ids=[f"{m} {u}" for m, u, _b in API_WRITES])
def test_every_api_write_to_a_restricted_patron_is_refused_and_nothing_is_written(patron, method, url, body):
    before, attempts = _state(patron), refused_attempts(patron)
    client = in_language("rovaniemi.director")  # staff, and a ban preparer: allowed everything but this patron
    address = url.format(p=patron.pk, n=note_of(patron).pk)
    answer = getattr(client, method)(address, body, content_type=JSON) if body else getattr(client, method)(address)
    assert answer.status_code == 403, answer.content
    assert answer.json()["code"] == "processing_restricted"
    assert "GDPR Art. 18" in answer.json()["detail"]
    assert _state(patron) == before
    assert_one_attempt_logged(patron, attempts, "rovaniemi.director")


@pytest.mark.parametrize(("url", "data"), PAGE_WRITES, ids=[u for u, _d in PAGE_WRITES])
def test_every_page_write_to_a_restricted_patron_is_refused_and_nothing_is_written(patron, url, data):
    before, attempts = _state(patron), refused_attempts(patron)
    answer = in_language("rovaniemi.staff").post(url.format(p=patron.pk, n=note_of(patron).pk), data)
    assert answer.status_code == 403
    assert "restricted (GDPR Art. 18)" in answer.content.decode()
    assert _state(patron) == before
    assert_one_attempt_logged(patron, attempts, "rovaniemi.staff")


def test_billing_cannot_reveal_or_look_up_the_code_of_a_restricted_patron_and_the_refusals_are_logged(patron):
    billing = client_for("rovaniemi.billing")
    reveal = billing.post(
        f"/api/v1/patrons/{patron.pk}/identity-code/reveal/", {"reason": "lasku 2026-7"}, content_type=JSON
    )
    assert reveal.status_code == 403 and reveal.json()["code"] == "processing_restricted"
    assert CODE not in reveal.content.decode()
    lookup = billing.post(
        "/api/v1/identity-codes/lookup/", {"identity_code": CODE, "reason": "lasku 2026-7"}, content_type=JSON
    )
    assert lookup.status_code == 403 and str(patron.pk) not in lookup.content.decode()
    page = billing.post(f"/billing/patrons/{patron.pk}/reveal/", {"reason": "lasku 2026-7"})
    assert page.status_code == 403 and CODE not in page.content.decode()
    looked_up = billing.post("/billing/lookup/", {"identity_code": CODE, "reason": "lasku 2026-7"})
    assert looked_up.status_code == 403 and "Rajoitettu" not in looked_up.content.decode()
    refusals = AccessEvent.objects.filter(
        subjects__patron_id=patron.pk, outcome=Outcome.DENIED, detail="processing_restricted"
    )
    assert refusals.count() == 4


def test_the_billing_list_shows_no_reveal_form_for_a_restricted_patron(patron):
    page = client_for("rovaniemi.billing").post("/billing/", {"q": "Rajoitettu"}).content.decode()
    assert "processing-restricted" in page
    assert f"/billing/patrons/{patron.pk}/reveal/" not in page


def test_lifted_the_patron_can_be_changed_and_billed_again(patron):
    assert lift(patron.restriction_request_id).status_code == 200
    staff = client_for("rovaniemi.staff")
    written = staff.post(
        f"/api/v1/patrons/{patron.pk}/notes/", {"category": "general", "text": "Taas."}, content_type=JSON
    )
    assert written.status_code == 201
    revealed = client_for("rovaniemi.billing").post(
        f"/api/v1/patrons/{patron.pk}/identity-code/reveal/", {"reason": "lasku 2026-7"}, content_type=JSON
    )
    assert revealed.status_code == 200 and revealed.json()["identity_code"] == CODE
    assert 'id="processing-restricted"' not in staff.get(f"/patrons/{patron.pk}/").content.decode()


def test_a_closure_does_not_extend_the_card_of_a_restricted_patron(patron):
    Patron.objects.filter(pk=patron.pk).update(card_expires_on=today() - datetime.timedelta(days=3))
    closure = type("Closure", (), {"starts_on": today() - datetime.timedelta(days=10), "ends_on": today()})
    until = today() + datetime.timedelta(days=30)
    assert patron.pk not in set(
        cards_to_extend(consortium=patron.consortium, closures=[closure], until=until).values_list("pk", flat=True)
    )
    ProcessingRestriction.objects.filter(patron=patron).update(lifted_at=timezone.now())
    assert patron.pk in set(
        cards_to_extend(consortium=patron.consortium, closures=[closure], until=until).values_list("pk", flat=True)
    )


# --- The ban procedure of a restricted patron, and a held record's bans --------------------------------------


def test_a_restricted_patrons_ban_waits_its_page_warns_and_only_a_cancel_is_taken():
    """Art. 18(2): the procedure is processing too. The ban page shows the banner and its read is marked."""
    from tests.patrons.procedure import MONDAY, as_user, ban_through, hear, on

    with on(MONDAY):
        rovaniemi = Library.objects.get(koha_library_id="ROV")
        patron = cast(Patron, PatronFactory(home_library=rovaniemi))
        ban = ban_through(patron.pk, step="proposed")
        restrict(patron)
        staff = as_user("rovaniemi.staff")

        attempts = refused_attempts(patron)
        refused = hear(staff, ban["id"], MONDAY)
        assert refused.status_code == 403 and refused.json()["code"] == "processing_restricted"
        assert Ban.objects.get(pk=ban["id"]).status == "proposed"
        assert_one_attempt_logged(patron, attempts, "rovaniemi.staff")
        page = staff.get(f"/bans/{ban['id']}/").content.decode()
        assert 'id="processing-restricted"' in page
        assert AccessEvent.objects.filter(detail=f"ban:{ban['id']};processing_restricted").exists()

        cancelled = as_user("rovaniemi.director").post(
            f"/api/v1/bans/{ban['id']}/cancel/", {"reason": "Ei jatketa."}, content_type=JSON
        )
        assert cancelled.status_code == 200, cancelled.content


def test_a_ban_in_force_of_a_record_kept_after_erasure_is_the_archives_not_staffs():
    """GDPR Art. 17(3)(b): the decision is kept for the archive; staff no longer reach the patron through it."""
    from tests.dpo.test_erasure import erase
    from tests.dpo.test_legal_holds import Decided

    world = Decided(archived=False, ends_ago=-5)  # notified, in force for five more days
    assert client_for("rovaniemi.staff").get(f"/api/v1/bans/{world.ban.pk}/").status_code == 200
    assert erase(world.request.pk, dry_run=False).status_code == 200
    assert Patron.objects.get(pk=world.patron.pk).held_after_erasure

    assert client_for("rovaniemi.staff").get(f"/api/v1/bans/{world.ban.pk}/").status_code == 404
    assert client_for("rovaniemi.staff").get(f"/bans/{world.ban.pk}/").status_code == 404
    assert client_for("rovaniemi.director").get(f"/api/v1/bans/{world.ban.pk}/").status_code == 200
