"""The billing clerk's day in headless Chromium against a real server (see conftest.py).

The clerk logs in (password and the demo authenticator), finds a patron by card number and reveals their demo
identity code for an invoice; later a code is given to them: they look it up with a reason, see whose it is,
reveal it without typing the reason again, watch the countdown hide it and show it again (the same reason, a
reveal of its own in the log). A code nobody has is a message on the same page, the reason kept. Every page of the
walk passes axe-core's WCAG 2.2 AA rules; E2E_SCREENSHOTS=<directory> keeps a screenshot of each.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import E2EServer, assert_accessible, log_in, screenshot

pytestmark = pytest.mark.e2e
CLERK = "rovaniemi.billing"
INVOICE = "lasku 2026-0412"
CHECK = "henkilöllisyyden tarkistus"
# A valid code (right check character, a real date, individual number 517) that no demo patron has: the demo's
# codes are temporary ones (900-999).
NOBODYS = "230375-5179"

# A Lapland adult whose demo code seed_demo stored (its store event names them), whose processing is not restricted.
CODED_PATRON_SQL = """
    SELECT p.id, p.first_name, p.last_name, p.cardnumber
    FROM patrons_patron p
    JOIN patrons_consortium c ON c.id = p.consortium_id
    WHERE c.slug = 'lapin-kirjastot'
      AND p.id IN (
        SELECT ep.patron_id FROM audit_accesseventpatron ep JOIN audit_accessevent e ON e.id = ep.event_id
        WHERE e.action = 'identity_code_store' AND e.actor_username = 'seed_demo'
      )
      AND p.id NOT IN (SELECT patron_id FROM patrons_processingrestriction)
    ORDER BY p.id
    LIMIT 1
"""
REVEALS_SQL = """
    SELECT e.reason, e.outcome
    FROM audit_accessevent e JOIN audit_accesseventpatron ep ON ep.event_id = e.id
    WHERE e.actor_username = %s AND e.action = 'identity_code_reveal' AND ep.patron_id = %s
    ORDER BY e.id
"""


def shot(page: Page, name: str) -> None:
    """The page checked with axe, and kept as day-billing-<name>.png with E2E_SCREENSHOTS set."""
    assert_accessible(page, f"the billing clerk's day: {name}")
    screenshot(page, f"day-billing-{name}", full_page=True)


def test_the_billing_clerks_day(page: Page, e2e_server: E2EServer) -> None:
    patron_id, first_name, last_name, cardnumber = e2e_server.database.query(CODED_PATRON_SQL)[0]
    page.clock.install()  # the reveal page's countdown runs on a clock the test can move

    log_in(page, e2e_server, CLERK, next_path="/billing/", accessible=True)
    expect(page).to_have_url(e2e_server.url("/billing/"))
    shot(page, "index")

    # 1. A patron at the desk: found by card number, the code revealed for an invoice.
    page.fill("#q", cardnumber)
    page.click("#billing-search button[type=submit]")
    row = page.locator("tbody tr", has_text=cardnumber)
    expect(row).to_be_visible()
    shot(page, "search-found")
    row.locator("input[name=reason]").fill(INVOICE)
    row.locator("button[type=submit]").click()
    expect(page.locator("#holder-cardnumber")).to_have_text(cardnumber)
    shot(page, "revealed-at-the-desk")
    code = page.locator(".identity-code output").inner_text()
    assert re.fullmatch(r"\d{6}[-+A-FU-Y]9\d\d[0-9A-Y]", code), "a demo code is a temporary one (900-999)"

    # 2. Later the code is given to the clerk: looked up with a reason, it names the patron.
    page.goto(e2e_server.url("/billing/"))
    page.fill("#id_lookup_code", code)
    page.fill("#id_lookup_reason", CHECK)
    page.click("form[action='/billing/lookup/'] button[type=submit]")
    found = page.locator("tbody tr", has_text=cardnumber)
    expect(found).to_contain_text(f"{last_name}, {first_name}")
    expect(page.locator("body")).not_to_contain_text(code)
    shot(page, "lookup-found")

    # 3. Revealed without typing the reason again: whose code, the code, the time left.
    expect(found.locator("input[name=reason]")).to_have_value(CHECK)
    found.locator("button[type=submit]").click()
    expect(page.locator("#holder-name")).to_have_text(f"{last_name}, {first_name}")
    expect(page.locator("#holder-cardnumber")).to_have_text(cardnumber)
    expect(page.locator(".identity-code output")).to_have_text(code)
    expect(page.locator("[data-countdown]")).to_have_text("1:00")
    expect(page.locator("form.reveal-again")).to_be_hidden()
    shot(page, "revealed")
    page.clock.run_for(15_000)
    expect(page.locator("[data-countdown]")).to_have_text("0:45")

    # 4. The time is up: the code is hidden, and "show again" reveals it with the same reason.
    page.clock.run_for(46_000)
    expect(page.locator(".identity-code")).to_have_text("")
    again = page.locator("form.reveal-again button")
    expect(again).to_be_visible()
    expect(again).to_be_focused()
    shot(page, "hidden")
    again.click()
    expect(page.locator(".identity-code output")).to_have_text(code)
    expect(page.locator("#holder-cardnumber")).to_have_text(cardnumber)
    shot(page, "revealed-again")
    assert e2e_server.database.query(REVEALS_SQL, (CLERK, patron_id)) == [
        (INVOICE, "allowed"),
        (CHECK, "allowed"),
        (CHECK, "allowed"),
    ]

    # 5. A code nobody has: a message on the billing page, the reason kept for the next try.
    page.goto(e2e_server.url("/billing/"))
    page.fill("#id_lookup_code", NOBODYS)
    page.fill("#id_lookup_reason", CHECK)
    page.click("form[action='/billing/lookup/'] button[type=submit]")
    # Staff pages speak Finnish until the clerk picks another language.
    expect(page.locator("#lookup-not-found")).to_contain_text("Kimppasi asiakkaista ei löytynyt ketään")
    expect(page.locator("h1")).to_have_text("Laskutus")
    expect(page.locator("#id_lookup_reason")).to_have_value(CHECK)
    expect(page.locator("#id_lookup_code")).to_have_value("")
    shot(page, "not-found")
