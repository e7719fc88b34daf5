"""The whole Finnish library-use ban procedure in headless Chromium against a real server (see conftest.py).

Staff write a behaviour note and open it (a logged sensitive read), propose a ban on it (a
31-day ban is refused first), record the hearing; the ban decider decides and prints the
decision; staff record the notification, which gives the appeal deadline; the patron's page
shows the ban in force. The server's own database is checked with plain SQL along the way.

Pages are Finnish by default and may not be translated yet, so elements are found by ids,
names, URLs and form actions, never by their visible text.
"""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from playwright.sync_api import Page, Response, expect

from core.time_limits import last_day_of_time_limit
from tests.e2e.conftest import E2EServer

pytestmark = pytest.mark.e2e

STAFF = "rovaniemi.staff"
DIRECTOR = "rovaniemi.director"
PASSWORD = "kirjasto-demo-2026"
DECISION_NUMBER = "ROV-E2E-1"
NOTE_TEXT = "Huusi toistuvasti lukusalissa ja häiritsi muita asiakkaita (e2e)."
STATEMENT = "Asiakas kertoi olleensa huonolla tuulella eikä aio toistaa tekoaan."

# A Lapland adult who has never had a ban: the first by id.
PATRON_SQL = """
    SELECT p.id
    FROM patrons_patron p
    JOIN patrons_consortium c ON c.id = p.consortium_id
    WHERE c.slug = 'lapin-kirjastot'
      AND p.date_of_birth < '1990-01-01'
      AND NOT EXISTS (SELECT 1 FROM patrons_ban b WHERE b.patron_id = p.id)
    ORDER BY p.id
    LIMIT 1
"""
# The access events of one patron after a given event, through the event-patron link table.
PATRON_EVENTS_SQL = """
    SELECT e.action, e.actor_username, e.detail, e.outcome
    FROM audit_accessevent e JOIN audit_accesseventpatron ep ON ep.event_id = e.id
    WHERE ep.patron_id = %s AND e.id > %s
    ORDER BY e.id
"""


def iso(day: datetime.date) -> str:
    return day.isoformat()


def shown(day: datetime.date) -> str:
    """A date as the pages show it to Finnish staff (SHORT_DATE_FORMAT of privacy_service/formats/fi, and the ban
    decision's fixed format): "d.m.Y", with leading zeros."""
    return f"{day:%d.%m.%Y}"


def log_in(page: Page, server: E2EServer, username: str) -> None:
    page.goto(server.url("/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form:not(.language) button[type=submit]")
    # Each role's landing page (accounts.landing): the director's queue of bans awaiting their step.
    expect(page).to_have_url(server.url("/bans/queue/" if username == DIRECTOR else "/patrons/"))


def log_out(page: Page, server: E2EServer) -> None:
    page.click('form[action="/accounts/logout/"] button')
    expect(page).to_have_url(server.url("/accounts/login/"))


def submit(page: Page, button: str, *, status: int = 200) -> Response:
    """Click a full-page form's submit button; the final response (after any redirect) must have `status`."""
    with page.expect_navigation() as navigation:
        page.click(button)
    response = navigation.value
    assert response is not None
    if response.status != status:
        alerts = page.locator("main [role=alert], main .errorlist").all_inner_texts()
        pytest.fail(f"{button} answered {response.status}, not {status}, at {page.url}; errors shown: {alerts}")
    return response


def patron_events(server: E2EServer, patron_id: int, since: int) -> list[tuple[str, str, str, str]]:
    """(action, actor, detail, outcome) of the patron's access events after event `since`."""
    return server.database.query(PATRON_EVENTS_SQL, (patron_id, since))


def test_finnish_ban_procedure(page: Page, e2e_server: E2EServer) -> None:
    db = e2e_server.database
    # The server's "today" (the rules compare dates with timezone.localdate()).
    today = datetime.datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    last_day = today + datetime.timedelta(days=13)  # 14 days, the first and last included
    rows = db.query(PATRON_SQL)
    assert rows, "seed_demo made no Lapland adult without a ban"
    patron_id = rows[0][0]
    patron_url = e2e_server.url(f"/patrons/{patron_id}/")
    # Only this test's events count (seed_demo and the other e2e tests write their own).
    since = db.query("SELECT COALESCE(MAX(id), 0) FROM audit_accessevent")[0][0]

    # 1. Staff write a behaviour note; it is listed without its text until opened (a logged read).
    log_in(page, e2e_server, STAFF)
    page.goto(patron_url)
    page.click("#notes details summary")
    page.select_option("#id_category", "behaviour")
    page.fill("#id_text", NOTE_TEXT)
    page.select_option("#id_library", "ROV")  # where it happened; the incident date defaults to today
    submit(page, 'form[action$="/notes/"] button[type=submit]')
    expect(page).to_have_url(patron_url)

    notes = db.query(
        "SELECT id FROM patrons_note WHERE patron_id = %s AND category = 'behaviour' AND created_by = %s",
        (patron_id, STAFF),
    )
    assert len(notes) == 1, notes
    note_id = notes[0][0]
    note = page.locator(f"#note-{note_id}")
    expect(note).to_have_class(re.compile(r"\bsensitive\b"))
    assert NOTE_TEXT not in page.content(), "a sensitive note's text was on the page before it was opened"

    note.locator('form[action$="/open/"] button[type=submit]').click()  # htmx swaps the text in
    expect(page.locator(f"#note-text-{note_id}")).to_contain_text(NOTE_TEXT)
    expect(page).to_have_url(patron_url)
    events = patron_events(e2e_server, patron_id, since)
    sensitive_reads = [event for event in events if event[0] == "sensitive_read" and event[1] == STAFF]
    assert sensitive_reads, events
    assert sensitive_reads[-1][2:] == ("note:behaviour", "allowed"), sensitive_reads

    # 2. Propose a ban on the note: 31 days is refused (and nothing is written), 14 days is accepted.
    propose_url = e2e_server.url(f"/patrons/{patron_id}/bans/new/")
    page.goto(propose_url)
    page.select_option("#id_library", "ROV")
    # One note: endangering safety (disturbing "repeatedly and substantially" needs notes of two days).
    page.check('input[name="grounds"][value="endangering_safety"]')
    page.check(f'input[name="note_ids"][value="{note_id}"]')
    page.fill("#id_starts_on", iso(today))
    page.fill("#id_ends_on", iso(today + datetime.timedelta(days=30)))
    propose_button = "form:has(#id_ends_on) button[type=submit]"
    submit(page, propose_button, status=400)
    expect(page).to_have_url(propose_url)
    expect(page.locator("form:has(#id_ends_on) [role=alert]").first).to_contain_text("31")
    assert db.query("SELECT id FROM patrons_ban WHERE patron_id = %s", (patron_id,)) == []

    expect(page.locator(f'input[name="note_ids"][value="{note_id}"]')).to_be_checked()  # the form kept its input
    page.fill("#id_ends_on", iso(last_day))
    submit(page, propose_button)
    expect(page).to_have_url(re.compile(re.escape(e2e_server.url("/bans/")) + r"\d+/$"))
    ban_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    ban_url = e2e_server.url(f"/bans/{ban_id}/")
    assert db.query("SELECT patron_id, status FROM patrons_ban WHERE id = %s", (ban_id,)) == [(patron_id, "proposed")]
    assert db.query("SELECT note_id FROM patrons_ban_notes WHERE ban_id = %s", (ban_id,)) == [(note_id,)]

    # 3. The hearing: when, how, the time to answer and the material shown (an adult: no guardians).
    #    Staff may not decide: no decision form for them.
    page.fill("#id_hearing-heard_on", iso(today))
    page.select_option("#id_hearing-method", "in_person")
    page.fill("#id_hearing-answer_by", iso(today))  # the statement came at once: the decision may follow today
    page.fill("#id_hearing-material_shown", "Käyttökieltoesitys ja huomautus.")
    page.fill("#id_hearing-statement", STATEMENT)
    submit(page, 'form[action$="/hearing/"] button[type=submit]')
    expect(page).to_have_url(ban_url)
    expect(page.locator("main dd", has_text=STATEMENT)).to_have_count(1)
    expect(page.locator('form[action$="/decision/"]')).to_have_count(0)

    # 4. The ban decider decides, and the decision can be printed in Finnish and Swedish.
    log_out(page, e2e_server)
    log_in(page, e2e_server, DIRECTOR)
    page.goto(ban_url)
    page.fill("#id_decision-decision_number", DECISION_NUMBER)
    page.fill("#id_decision-decided_on", iso(today))
    page.fill("#id_decision-starts_on", iso(today))
    page.fill("#id_decision-ends_on", iso(last_day))
    page.fill("#id_decision-reasons", "Asiakas on häirinnyt kirjaston käyttöä toistuvasti huomautuksista huolimatta.")
    page.fill("#id_decision-contact_person", "Marjatta Ylitalo, 040 123 4567")
    expect(page.locator("#id_decision-enforced_before_final")).to_be_checked()
    # Enforced at once (Local Government Act s. 143): the decision says why, and prints it.
    page.fill("#id_decision-enforcement_reasons", "Häiriöt jatkuvat; muut asiakkaat tarvitsevat kiellon heti.")
    submit(page, 'form[action$="/decision/"] button[type=submit]')
    expect(page).to_have_url(ban_url)
    for language in ("fi", "sv"):
        expect(page.locator(f'a[href="/bans/{ban_id}/decision/{language}/"]')).to_have_count(1)
        expect(page.locator(f'a[href="/bans/{ban_id}/decision/{language}.pdf"]')).to_have_count(1)
    expect(page.locator('form[action$="/notification/"]')).to_have_count(1)  # the director also prepares bans

    response = page.goto(e2e_server.url(f"/bans/{ban_id}/decision/fi/"))
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.locator("body")).to_contain_text(DECISION_NUMBER)
    expect(page.locator("body")).to_contain_text("Oikaisuvaatimus")
    expect(page.locator("body")).to_contain_text("muut asiakkaat tarvitsevat kiellon heti")

    pdf = page.request.get(e2e_server.url(f"/bans/{ban_id}/decision/sv.pdf"))
    assert pdf.status == 200, pdf.status
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")

    # 5. Staff record that the decision was handed over in person today: the appeal deadline follows.
    page.goto(ban_url)
    log_out(page, e2e_server)
    log_in(page, e2e_server, STAFF)
    page.goto(ban_url)
    page.select_option("#id_notification-method", "in_person")
    page.fill("#id_notification-sent_on", iso(today))
    submit(page, 'form[action$="/notification/"] button[type=submit]')
    expect(page).to_have_url(ban_url)
    deadline = last_day_of_time_limit(today + datetime.timedelta(days=14), country="FI")
    expect(page.locator("main dd", has_text=re.compile(rf"^\s*{re.escape(shown(deadline))}\s*$"))).to_have_count(1)

    # 6. The patron's page marks the ban in force.
    page.goto(patron_url)
    expect(page.locator(".ban-mark", has_text=DECISION_NUMBER)).to_have_count(1)
    expect(page.locator(f'.ban-mark a[href="/bans/{ban_id}/"]')).to_have_count(1)

    # 7. The database: the ban is notified with the computed deadline, and every step was logged.
    status, appeal_deadline, decision_number = db.query(
        "SELECT status, appeal_deadline, decision_number FROM patrons_ban WHERE id = %s", (ban_id,)
    )[0]
    assert (status, str(appeal_deadline), decision_number) == ("notified", iso(deadline), DECISION_NUMBER)

    updates = [
        (actor, detail)
        for action, actor, detail, outcome in patron_events(e2e_server, patron_id, since)
        if action == "patron_update" and outcome == "allowed"
    ]
    assert updates == [
        (STAFF, "note_added"),
        (STAFF, "ban_proposed"),
        (STAFF, "ban_hearing"),
        (DIRECTOR, "ban_decided"),
        (STAFF, "ban_notified"),
    ], updates
