"""Staff notes through the API: sensitive ones listed by category only, opened on a logged request;
edits keep their history, removal keeps who and why; no identity code, note text or name reaches the log."""

import pytest

from audit.models import AccessEvent, Action, DataCategory, Outcome
from patrons.models import Note, NoteRevision
from tests.patrons.procedure import (
    MONDAY,
    NothingWritten,
    as_user,
    ban_through,
    days,
    last_event_id,
    ok,
    on,
    post,
    refused,
    write_events_for,
    write_note,
)

pytestmark = pytest.mark.django_db

SENSITIVE = ["behaviour", "guardianship", "accessibility"]
NOT_SENSITIVE = ["general", "pin_by_phone", "identity_check"]
# A valid HETU (131052308 % 31 = 25 -> "T").
HETU = "131052-308T"


@pytest.fixture
def staff():
    return as_user("rovaniemi.staff")


def notes_url(patron_id: int, note_id: int | None = None) -> str:
    return f"/api/v1/patrons/{patron_id}/notes/" + (f"{note_id}/" if note_id else "")


def patch(client, url: str, body: dict):
    return client.patch(url, body, content_type="application/json")


def delete(client, url: str, body: dict):
    return client.delete(url, body, content_type="application/json")


def events_mentioning(text: str, after_id: int = 0) -> list[AccessEvent]:
    """Events whose free-text fields hold `text`."""
    return [
        event
        for event in AccessEvent.objects.filter(id__gt=after_id)
        if any(text.lower() in (value or "").lower() for value in (event.reason, event.detail, event.resource))
    ]


@pytest.mark.parametrize("category", SENSITIVE + NOT_SENSITIVE)
def test_every_category_can_be_written(category, staff, lapland_patron):
    note = ok(post(staff, notes_url(lapland_patron.pk), {"category": category, "text": f"A {category} note."}), 201)
    assert (note["category"], note["text"], note["created_by"]) == (category, f"A {category} note.", "rovaniemi.staff")
    assert note["sensitive"] is (category in SENSITIVE)


def test_an_unknown_category_is_refused(staff, lapland_patron):
    with NothingWritten():
        response = post(staff, notes_url(lapland_patron.pk), {"category": "gossip", "text": "Hmm."})
        assert response.status_code == 400


def test_the_list_shows_sensitive_notes_by_category_only(staff, lapland_patron):
    ids = {
        category: write_note(staff, lapland_patron.pk, f"Text of the {category} note.", category)
        for category in SENSITIVE + NOT_SENSITIVE
    }
    listed = {note["id"]: note for note in ok(staff.get(notes_url(lapland_patron.pk)))}
    for category, note_id in ids.items():
        assert listed[note_id]["category"] == category
        if category in SENSITIVE:
            assert listed[note_id]["sensitive"] is True and listed[note_id]["text"] is None
        else:
            assert listed[note_id]["sensitive"] is False
            assert listed[note_id]["text"] == f"Text of the {category} note."


@pytest.mark.parametrize("category", SENSITIVE)
def test_opening_a_sensitive_note_is_a_logged_sensitive_read(category, staff, lapland_patron):
    note_id = write_note(staff, lapland_patron.pk, "Needs an easy-read format.", category)
    before = last_event_id()
    opened = ok(staff.get(notes_url(lapland_patron.pk, note_id)))
    assert opened["text"] == "Needs an easy-read format." and opened["revisions"] == []
    event = AccessEvent.objects.get(id__gt=before)
    assert (event.action, event.outcome, event.actor_username) == (
        Action.SENSITIVE_READ,
        Outcome.ALLOWED,
        "rovaniemi.staff",
    )
    assert event.patron_ids == [lapland_patron.pk] and event.data_categories == [DataCategory.SENSITIVE_NOTE]


def test_opening_an_ordinary_note_is_no_sensitive_read(staff, lapland_patron):
    note_id = write_note(staff, lapland_patron.pk, "Asked about e-books.", "general")
    before = last_event_id()
    assert ok(staff.get(notes_url(lapland_patron.pk, note_id)))["text"] == "Asked about e-books."
    event = AccessEvent.objects.get(id__gt=before)
    assert event.action == Action.PATRON_VIEW and event.data_categories == [DataCategory.NOTES]


def test_an_edit_keeps_the_earlier_versions(staff, lapland_patron):
    url = notes_url(lapland_patron.pk, write_note(staff, lapland_patron.pk, "First version.", "general"))
    ok(patch(staff, url, {"text": "Second version."}))
    edited = ok(patch(as_user("kemi.staff"), url, {"text": "Third version."}))
    assert (edited["text"], edited["updated_by"]) == ("Third version.", "kemi.staff")
    opened = ok(staff.get(url))
    assert opened["text"] == "Third version."
    assert [r["text"] for r in opened["revisions"]] == ["Second version.", "First version."]
    assert [r["written_by"] for r in opened["revisions"]] == ["rovaniemi.staff", "rovaniemi.staff"]


def test_removal_erases_the_text_and_keeps_who_and_why(staff, lapland_patron):
    note_id = write_note(staff, lapland_patron.pk, "First version.", "general")
    url = notes_url(lapland_patron.pk, note_id)
    ok(patch(staff, url, {"text": "Second version."}))
    removed = ok(delete(as_user("rovaniemi.billing"), url, {"reason": "Written on the wrong patron."}))
    assert (removed["removed"], removed["text"]) == (True, None)
    assert (removed["removed_by"], removed["removal_reason"]) == ("rovaniemi.billing", "Written on the wrong patron.")
    assert removed["removed_at"]
    opened = ok(staff.get(url))
    assert (opened["text"], opened["revisions"], opened["removed_by"]) == (None, [], "rovaniemi.billing")
    listed = next(n for n in ok(staff.get(notes_url(lapland_patron.pk))) if n["id"] == note_id)
    assert (listed["removed"], listed["text"]) == (True, None)
    note = Note.objects.get(pk=note_id)
    assert note.text == "" and not NoteRevision.objects.filter(note=note).exists()


def test_note_removed(staff, lapland_patron):
    url = notes_url(lapland_patron.pk, write_note(staff, lapland_patron.pk, "Old.", "general"))
    ok(delete(staff, url, {"reason": "Outdated."}))
    before = Note.objects.filter(patron=lapland_patron).values().get(removed_by="rovaniemi.staff")
    with NothingWritten():
        refused(patch(staff, url, {"text": "Brought back."}), "note_removed")
        refused(delete(staff, url, {"reason": "Again."}), "note_removed")
    assert Note.objects.filter(patron=lapland_patron).values().get(removed_by="rovaniemi.staff") == before


def test_note_cited_by_ban(lapland_patron):
    with on(MONDAY):
        staff = as_user("rovaniemi.staff")
        note_id = write_note(staff, lapland_patron.pk, "Threw a chair.")
        ban = ban_through(lapland_patron.pk, note_ids=[note_id], length=10)
        url = notes_url(lapland_patron.pk, note_id)
        with NothingWritten():
            refused(delete(staff, url, {"reason": "Tidying up."}), "note_cited_by_ban")
        assert Note.objects.get(pk=note_id).text == "Threw a chair."
    assert ban["status"] == "active" and ban["ends_on"] == "2027-02-10"
    with on(MONDAY + days(9)), NothingWritten():  # the ban's last day
        refused(delete(as_user("rovaniemi.staff"), url, {"reason": "Tidying up."}), "note_cited_by_ban")
    with on(MONDAY + days(10)):  # an ended ban no longer holds its notes
        ok(delete(as_user("rovaniemi.staff"), url, {"reason": "Tidying up."}))


def test_a_cancelled_ban_no_longer_holds_its_note(lapland_patron):
    with on(MONDAY):
        staff = as_user("rovaniemi.staff")
        note_id = write_note(staff, lapland_patron.pk, "Threw a chair.")
        ban = ban_through(lapland_patron.pk, note_ids=[note_id], step="proposed")
        refused(delete(staff, notes_url(lapland_patron.pk, note_id), {"reason": "Dropped."}), "note_cited_by_ban")
        ok(post(as_user("rovaniemi.director"), f"/api/v1/bans/{ban['id']}/cancel/", {"reason": "Dropped."}))
        ok(delete(staff, notes_url(lapland_patron.pk, note_id), {"reason": "Dropped."}))


def test_identity_code_in_a_new_note_or_an_edit(staff, lapland_patron):
    before = last_event_id()
    with NothingWritten():
        for text in (f"Henkilötunnus {HETU} tarkistettu.", f"hetu:{HETU}", "Code 131052308T in the file."):
            refused(
                post(staff, notes_url(lapland_patron.pk), {"category": "identity_check", "text": text}),
                "identity_code_in_text",
            )
    url = notes_url(lapland_patron.pk, write_note(staff, lapland_patron.pk, "Identity checked.", "identity_check"))
    with NothingWritten():
        refused(patch(staff, url, {"text": f"Identity checked: {HETU}"}), "identity_code_in_text")
    opened = ok(staff.get(url))
    assert (opened["text"], opened["revisions"]) == ("Identity checked.", [])
    # A card number is not an identity code.
    ok(patch(staff, url, {"text": "Identity checked; card 24400000001234 renewed."}))
    assert AccessEvent.objects.filter(id__gt=before).exists()
    for shape in (HETU, "131052308T", "131052"):
        assert events_mentioning(shape) == []
    assert not Note.objects.filter(text__contains="131052").exists()


def test_another_consortium_gets_404(staff, lapland_patron):
    note_id = write_note(staff, lapland_patron.pk, "Asked about e-books.", "general")
    mikkeli = as_user("mikkeli.staff")
    before = last_event_id()
    with NothingWritten():
        assert mikkeli.get(notes_url(lapland_patron.pk)).status_code == 404
        assert mikkeli.get(notes_url(lapland_patron.pk, note_id)).status_code == 404
        assert post(mikkeli, notes_url(lapland_patron.pk), {"category": "general", "text": "x"}).status_code == 404
        assert patch(mikkeli, notes_url(lapland_patron.pk, note_id), {"text": "x"}).status_code == 404
        assert delete(mikkeli, notes_url(lapland_patron.pk, note_id), {"reason": "x"}).status_code == 404
    assert Note.objects.get(pk=note_id).text == "Asked about e-books."
    # Each refusal is a denied event that names no patron.
    denied = AccessEvent.objects.filter(id__gt=before, actor_username="mikkeli.staff", outcome=Outcome.DENIED)
    assert denied.count() >= 2 and all(event.patron_ids == [] for event in denied)


@pytest.mark.parametrize("username", ["dpo", None])
def test_the_dpo_and_anonymous_get_403(username, staff, lapland_patron):
    note_id = write_note(staff, lapland_patron.pk, "Asked about e-books.", "general")
    client = as_user(username)
    with NothingWritten():
        assert client.get(notes_url(lapland_patron.pk)).status_code == 403
        assert client.get(notes_url(lapland_patron.pk, note_id)).status_code == 403
        assert post(client, notes_url(lapland_patron.pk), {"category": "general", "text": "x"}).status_code == 403
        assert patch(client, notes_url(lapland_patron.pk, note_id), {"text": "x"}).status_code == 403
        assert delete(client, notes_url(lapland_patron.pk, note_id), {"reason": "x"}).status_code == 403
    assert Note.objects.get(pk=note_id).text == "Asked about e-books."


def test_every_note_write_is_in_the_patrons_access_log_without_its_text(staff, lapland_patron):
    before = last_event_id()
    note_id = write_note(staff, lapland_patron.pk, "Slept on the sofa all day.", "behaviour")
    url = notes_url(lapland_patron.pk, note_id)
    ok(patch(staff, url, {"text": "Slept on the reading-room sofa all day."}))
    ok(delete(staff, url, {"reason": "Entered twice by mistake."}))
    writes = write_events_for(lapland_patron.pk, before)
    assert [event.detail for event in writes] == ["note_added", "note_edited", "note_removed"]
    assert all(event.data_categories == [DataCategory.SENSITIVE_NOTE] for event in writes)
    assert all(event.actor_username == "rovaniemi.staff" for event in writes)
    for text in ("sofa", "Entered twice", lapland_patron.first_name, lapland_patron.last_name):
        assert events_mentioning(text, before) == []
