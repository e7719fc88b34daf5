"""A ban decider's day in headless Chromium against a real server (see conftest.py), issue 15.

Staff have a note refused (the error summary, on the patron's page) and record the hearing of the demo's
proposed ban; the director logs in and lands on the queue of bans awaiting their step, opens the ban, takes
the decision (refused once: the error summary at the top takes the focus and its link moves the focus to the
field, the typed text kept), and the queue no longer lists the ban. Every page of the walk passes axe-core's WCAG 2.2
AA rules; E2E_SCREENSHOTS=<directory> keeps a screenshot of each. Elements are found by ids, URLs and form actions,
not by their visible text.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.e2e.conftest import E2EServer, assert_accessible, log_in, screenshot

pytestmark = pytest.mark.e2e

STAFF = "rovaniemi.staff"
DIRECTOR = "rovaniemi.director"
NOTE_TEXT = "Asiakas unohti kirjastokorttinsa tiskille (e2e)."
REASONS = "Asiakas on uhannut henkilökuntaa; kielto tarvitaan muiden turvaksi."
# The demo's proposed ban (seed_demo): a Lapland patron, waiting for the hearing.
PROPOSED_BAN_SQL = """
    SELECT b.id, b.patron_id, l.koha_library_id
    FROM patrons_ban b JOIN patrons_library l ON l.id = b.library_id
    WHERE b.status = 'proposed' AND l.koha_library_id = 'ROV'
    ORDER BY b.id LIMIT 1
"""


def iso(day: datetime.date) -> str:
    return day.isoformat()


def submit(page: Page, button: str, *, status: int) -> None:
    with page.expect_navigation() as navigation:
        page.click(button)
    response = navigation.value
    assert response is not None and response.status == status, (response and response.status, page.url)


def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    """The page checked with axe, and kept as day-ban-decider-<name>.png with E2E_SCREENSHOTS set."""
    assert_accessible(page, f"the ban decider's day: {name}")
    screenshot(page, f"day-ban-decider-{name}", full_page=full_page)


def active_element(page: Page) -> dict:
    return page.evaluate("() => ({id: document.activeElement.id, cls: document.activeElement.className})")


def test_the_ban_deciders_day(page: Page, e2e_server: E2EServer) -> None:
    db = e2e_server.database
    today = datetime.datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    rows = db.query(PROPOSED_BAN_SQL)
    assert rows, "seed_demo made no proposed ban in Rovaniemi"
    ban_id, patron_id, _library = rows[0]
    ban_url = e2e_server.url(f"/bans/{ban_id}/")
    taken_number = db.query("SELECT decision_number FROM patrons_ban WHERE decision_number <> '' LIMIT 1")[0][0]
    since = db.query("SELECT COALESCE(MAX(id), 0) FROM audit_accessevent")[0][0]

    # 1. Staff: a refused note (an incident in the future) keeps its text, and the summary at the top of the
    #    page, not the form 1,600 px below, takes the focus; its link moves the focus to the form.
    log_in(page, e2e_server, STAFF)
    expect(page).to_have_url(e2e_server.url("/patrons/"))
    page.goto(e2e_server.url(f"/patrons/{patron_id}/"))
    shot(page, "patron")
    page.click("#notes details summary")
    page.select_option("#id_category", "general")
    page.fill("#id_text", NOTE_TEXT)
    page.fill("#id_incident_on", iso(today + datetime.timedelta(days=2)))
    submit(page, 'form[action$="/notes/"] button[type=submit]', status=400)
    assert "error-summary" in active_element(page)["cls"]
    expect(page.locator("#id_text")).to_have_value(NOTE_TEXT)
    shot(page, "note-refused")
    page.locator('main .error-summary a[href="#id_category"]').click()
    assert active_element(page)["id"] == "id_category"
    expect(page.locator("#id_text")).to_be_in_viewport()

    # 2. Staff record the hearing: the decision is now the decider's step.
    page.goto(ban_url)
    shot(page, "ban-proposed", full_page=True)
    page.fill("#id_hearing-heard_on", iso(today))
    page.select_option("#id_hearing-method", "in_person")
    page.fill("#id_hearing-answer_by", iso(today))
    page.fill("#id_hearing-material_shown", "Käyttökieltoesitys ja huomautus.")
    page.fill("#id_hearing-statement", "Asiakas kiisti uhkailun.")
    submit(page, 'form[action$="/hearing/"] button[type=submit]', status=200)
    shot(page, "heard")
    page.click('form[action="/accounts/logout/"] button')

    # 3. The director lands on the queue, which lists the ban with its step and due date.
    log_in(page, e2e_server, DIRECTOR, accessible=True)
    expect(page).to_have_url(e2e_server.url("/bans/queue/"))
    row_link = page.locator(f'main table a[href="/bans/{ban_id}/#step-decision"]')
    expect(row_link).to_have_count(1)
    shot(page, "queue", full_page=True)

    # 4. The decision, refused once (a number the library already used): the summary at the top has the focus.
    row_link.click()
    expect(page).to_have_url(ban_url + "#step-decision")
    shot(page, "decision-form")
    page.fill("#id_decision-decision_number", taken_number)
    page.fill("#id_decision-decided_on", iso(today))
    page.fill("#id_decision-reasons", REASONS)
    page.fill("#id_decision-contact_person", "Marjatta Ylitalo, 040 123 4567")
    page.fill("#id_decision-enforcement_reasons", "Uhkailu voi toistua; kielto tarvitaan heti.")
    submit(page, 'form[action$="/decision/"] button[type=submit]', status=400)
    summary = page.locator("main .error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    assert "error-summary" in active_element(page)["cls"]
    assert page.evaluate("() => document.querySelector('.error-summary').getBoundingClientRect().top") < 400
    expect(page.locator("#id_decision-reasons")).to_have_value(REASONS)  # the typed text is kept
    shot(page, "refused")

    summary.locator('a[href="#id_decision-decision_number"]').click()
    assert active_element(page)["id"] == "id_decision-decision_number"
    expect(page.locator("#id_decision-decision_number")).to_be_in_viewport()
    shot(page, "jumped")

    # 5. A free number: the decision is recorded, the success message says so, the queue is empty of the ban.
    page.fill("#id_decision-decision_number", "ROV-E2E-DAY-1")
    submit(page, 'form[action$="/decision/"] button[type=submit]', status=200)
    expect(page).to_have_url(ban_url)
    expect(page.locator("main .message-success[role=status]")).to_be_visible()
    shot(page, "decided")
    page.click('header a[href="/bans/queue/"]')
    expect(page.locator(f'main table a[href^="/bans/{ban_id}/"]')).to_have_count(0)
    shot(page, "queue-after", full_page=True)

    assert db.query("SELECT status, decision_number FROM patrons_ban WHERE id = %s", (ban_id,)) == [
        ("decided", "ROV-E2E-DAY-1")
    ]
    events = db.query(
        "SELECT action, outcome FROM audit_accessevent WHERE id > %s AND actor_username = %s ORDER BY id",
        (since, DIRECTOR),
    )
    assert ("ban_queue_view", "allowed") in events
    assert not [event for event in events if event[1] == "denied"], events
