"""A desk worker's day in Chromium (issue 15): search a patron by the name as lists show it ("Kangas, Aino"), open
them, come Back to the same results, see the ban in force and the link to Koha, write a behaviour note and propose a
ban citing it. Every page of the walk passes axe-core's WCAG 2.2 AA rules. E2E_SCREENSHOTS=<directory> keeps a
screenshot of each page for a person to look at."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.e2e.conftest import E2EServer, assert_accessible, log_in, screenshot
from tests.e2e.test_ban_procedure import STAFF, iso, shown, submit

pytestmark = pytest.mark.e2e

NOTE_TEXT = "Heitteli kirjoja lastenosastolla ja uhkasi henkilökuntaa (e2e, työpäivä)."
KOHA = "https://koha-staff.lapin-kirjastot.example"

# The Lapland patron with the demo's ban in force (demo/procedures.py), with their Koha id.
BANNED_SQL = """
    SELECT p.id, p.first_name, p.last_name, p.koha_patron_id, b.ends_on
    FROM patrons_ban b JOIN patrons_patron p ON p.id = b.patron_id
    WHERE b.decision_number = 'ROV-DEMO-1'
"""
# Lapland's Koha connection, as the admin would save it (the secret's columns do not matter to the link).
CONNECT_SQL = """
    INSERT INTO koha_kohaconnection (consortium_id, base_url, staff_url, auth, client_id, secret_key_id,
                                     secret_nonce, secret_ciphertext, enabled, created_at, updated_at)
    SELECT id, 'https://koha.lapin-kirjastot.example', %s, 'oauth2', 'e2e', 'e2e', %s, %s, %s, %s, %s
    FROM patrons_consortium WHERE slug = 'lapin-kirjastot'
"""


def shot(page: Page, name: str) -> None:
    """The page checked with axe, and kept as day-staff-<name>.png with E2E_SCREENSHOTS set."""
    assert_accessible(page, f"the staff's day: {name}")
    screenshot(page, f"day-staff-{name}", full_page=True)


def test_a_desk_workers_day(page: Page, e2e_server: E2EServer) -> None:
    db = e2e_server.database
    today = datetime.datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    now = datetime.datetime.now(datetime.UTC).isoformat()
    with db.connect() as conn:
        sql = CONNECT_SQL if db.is_postgres else CONNECT_SQL.replace("%s", "?")
        conn.cursor().execute(sql, (KOHA, b"", b"", True, now, now))
        conn.commit()
    patron_id, first_name, last_name, koha_id, ban_ends_on = db.query(BANNED_SQL)[0]
    ends_on = datetime.date.fromisoformat(str(ban_ends_on)[:10])
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))

    # 1. Search by the name as the list shows it; the results tell namesakes apart by birth date and status.
    log_in(page, e2e_server, STAFF, accessible=True)
    expect(page).to_have_url(e2e_server.url("/patrons/"))
    shot(page, "0-search-empty")
    page.locator("#q").press_sequentially(f"{last_name}, {first_name}", delay=20)
    row = page.locator("#results tbody tr", has=page.locator(f'a[href="/patrons/{patron_id}/"]'))
    expect(row).to_contain_text(f"{last_name}, {first_name}")
    expect(row.locator("td")).to_have_count(5)
    expect(row.locator('a[href*="/cgi-bin/koha/members/moremember.pl?borrowernumber="]')).to_have_count(1)  # Koha
    shot(page, "1-search")

    # 2. Open the patron, go Back: the same search is there.
    row.locator(f'a[href="/patrons/{patron_id}/"]').click()
    expect(page).to_have_url(e2e_server.url(f"/patrons/{patron_id}/"))
    page.go_back()
    expect(page).to_have_url(e2e_server.url("/patrons/"))
    expect(page.locator("#q")).to_have_value(f"{last_name}, {first_name}")
    expect(page.locator(f'#results a[href="/patrons/{patron_id}/"]')).to_be_visible()

    # 3. The patron's page: the ban in force is an alert at the top, and the patron opens in Koha.
    page.locator(f'#results a[href="/patrons/{patron_id}/"]').click()
    alert = page.locator("article.ban-alert[role=alert]")
    expect(alert).to_contain_text("ROV-DEMO-1")
    expect(alert).to_contain_text(shown(ends_on))
    alert_box, first_section = alert.bounding_box(), page.locator("h2").first.bounding_box()
    assert alert_box and first_section and alert_box["y"] < first_section["y"]  # above the page's sections
    koha = page.locator("a.koha-link")
    expect(koha).to_have_attribute("href", f"{KOHA}/cgi-bin/koha/members/moremember.pl?borrowernumber={koha_id}")
    assert koha.get_attribute("target") is None  # the same tab
    shot(page, "2-patron")

    # 4. Write a behaviour note of today at Rovaniemi.
    page.click("#notes details summary")
    shot(page, "2-note-form")
    page.select_option("#id_category", "behaviour")
    page.fill("#id_text", NOTE_TEXT)
    page.select_option("#id_library", "ROV")
    submit(page, 'form[action$="/notes/"] button[type=submit]')
    note_id = db.query(
        "SELECT id FROM patrons_note WHERE patron_id = %s AND created_by = %s ORDER BY id DESC", (patron_id, STAFF)
    )[0][0]
    shot(page, "2-note-saved")

    # A behaviour note is sensitive: its text is shown on a deliberate (logged) request, swapped in where the button
    # was, and the keyboard's focus moves to the text, not back to the top of the page.
    reveal = page.locator(f"#note-text-{note_id} button[type=submit]")
    reveal.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#note-text-{note_id}")).to_contain_text(NOTE_TEXT)
    assert page.evaluate("document.activeElement.id") == f"note-text-{note_id}"
    shot(page, "2-note-revealed")

    # 5. Propose a ban citing it, after the ban in force ends: the form shows the note's date, library and start.
    page.goto(e2e_server.url(f"/patrons/{patron_id}/bans/new/"))
    label = page.locator(f'label:has(input[name="note_ids"][value="{note_id}"])')
    expect(label).to_contain_text(f"{shown(today)} Rovaniemen")
    expect(label).to_contain_text(NOTE_TEXT[:40])
    shot(page, "3-propose")
    page.select_option("#id_library", "ROV")
    page.check('input[name="grounds"][value="endangering_safety"]')
    page.check(f'input[name="note_ids"][value="{note_id}"]')
    page.fill("#id_starts_on", iso(ends_on + datetime.timedelta(days=1)))
    page.fill("#id_ends_on", iso(ends_on + datetime.timedelta(days=7)))
    submit(page, "form:has(#id_ends_on) button[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(e2e_server.url("/bans/")) + r"\d+/$"))
    expect(page.locator("#next-step")).to_contain_text("kirjaston henkilökunta")  # the hearing: the desk's step
    shot(page, "4-ban")

    # The name was in no URL the browser asked for.
    assert not [url for url in urls if last_name.lower() in url.lower() or "q=" in url], urls
