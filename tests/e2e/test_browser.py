"""The staff pages in headless Chromium against a real server (see conftest.py).

Log in, search (htmx as you type, and the Search button), open a patron, switch the
language, and check in the server's own database that the reads were logged.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import E2EServer, screenshot

pytestmark = pytest.mark.e2e

USERNAME = "rovaniemi.staff"
PASSWORD = "kirjasto-demo-2026"

# The first patron, by id, of the consortium rovaniemi.staff works in.
PATRON_OF_STAFF_SQL = """
    SELECT p.id, p.first_name, p.last_name, p.cardnumber
    FROM patrons_patron p
    JOIN patrons_municipality m ON m.consortium_id = p.consortium_id
    JOIN patrons_library l ON l.municipality_id = m.id
    JOIN patrons_staffprofile s ON s.home_library_id = l.id
    JOIN auth_user u ON u.id = s.user_id
    WHERE u.username = %s
    ORDER BY p.id
    LIMIT 1
"""
SELECT_ACTIONS = "SELECT action FROM audit_accessevent WHERE actor_username = %s"


def log_in(page: Page, server: E2EServer) -> None:
    page.goto(server.url("/accounts/login/"))
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("form:not(.language) button[type=submit]")
    # Staff land on the patron search (accounts.landing).
    expect(page).to_have_url(server.url("/patrons/"))


def test_search_and_view_patron_is_logged(page: Page, e2e_server: E2EServer) -> None:
    rows = e2e_server.database.query(PATRON_OF_STAFF_SQL, (USERNAME,))
    assert rows, f"seed_demo made no patrons in {USERNAME}'s consortium"
    patron_id, first_name, last_name, cardnumber = rows[0]
    patron_link = f'#results a[href="/patrons/{patron_id}/"]'

    log_in(page, e2e_server)
    expect(page.locator("html")).to_have_attribute("lang", "fi")

    # As you type: htmx fetches the results into #results; the address stays put.
    page.locator("#q").press_sequentially(f"{last_name} {first_name}", delay=20)
    expect(page.locator(patron_link)).to_have_text(f"{last_name}, {first_name}")
    assert page.url == e2e_server.url("/patrons/")

    # The Search button: by card number this time.
    page.fill("#q", cardnumber)
    page.click("form.patron-search button[type=submit]")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody tr td").nth(2)).to_have_text(cardnumber)  # after the date of birth

    page.click(patron_link)
    expect(page).to_have_url(e2e_server.url(f"/patrons/{patron_id}/"))
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.locator("h1")).to_have_text(f"{first_name} {last_name}")
    expect(page.locator("main dd", has_text=re.compile(rf"^{re.escape(cardnumber)}$"))).to_have_count(1)
    screenshot(page, "e2e-detail", full_page=True)

    events = e2e_server.database.query(
        """
        SELECT e.action, e.outcome
        FROM audit_accessevent e JOIN audit_accesseventpatron ep ON ep.event_id = e.id
        WHERE e.actor_username = %s AND ep.patron_id = %s
        ORDER BY e.id
        """,
        (USERNAME, patron_id),
    )
    # At least the typed search and the Search button listed the patron (a slow typist
    # could set off more searches), then the patron was viewed.
    assert all(outcome == "allowed" for _, outcome in events), events
    assert [action for action, _ in events].count("patron_search") >= 2, events
    assert events[-1][0] == "patron_view", events

    actions = {row[0] for row in e2e_server.database.query(SELECT_ACTIONS, (USERNAME,))}
    assert {"patron_search", "patron_view"} <= actions


def test_language_switch_to_swedish(page: Page, e2e_server: E2EServer) -> None:
    log_in(page, e2e_server)
    expect(page.locator("html")).to_have_attribute("lang", "fi")

    page.click('form.language button[name=language][value="sv"]')
    expect(page.locator("html")).to_have_attribute("lang", "sv-fi")  # a Lapland user: Finland-Swedish
    expect(page).to_have_url(e2e_server.url("/patrons/"))
    expect(page.locator('form.language button[value="sv"]')).to_have_attribute("aria-current", "true")
