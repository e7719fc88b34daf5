"""The data protection officer's day in headless Chromium against a real server (see conftest.py).

Log in to the admin, read the dashboard, record an access request by patron id, open its access
report and PDF, glance at the breach register, and read the public privacy notice without logging in;
then check in the server's database that the report was an access event of that patron.
"""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import E2EServer, log_in

pytestmark = pytest.mark.e2e

LAPLAND_ADULT_SQL = """
    SELECT p.id, p.first_name, p.last_name
    FROM patrons_patron p JOIN patrons_consortium c ON c.id = p.consortium_id
    WHERE c.slug = 'lapin-kirjastot' AND p.date_of_birth < '2000-01-01'
    ORDER BY p.id DESC
    LIMIT 1
"""


def test_the_dpo_records_a_request_and_reads_its_access_report(page: Page, e2e_server: E2EServer) -> None:
    patron_id, first_name, last_name = e2e_server.database.query(LAPLAND_ADULT_SQL)[0]

    log_in(page, e2e_server, "dpo", next_path="/admin/")  # the password, then the authenticator code
    expect(page).to_have_url(e2e_server.url("/admin/"))

    # The dashboard: the demo's open requests and its running breach deadline.
    expect(page.locator(".requests-due")).to_be_visible()
    expect(page.locator(".requests-due a[href*='/admin/dpo/subjectrequest/']").first).to_be_visible()
    expect(page.locator(".breach-deadlines")).to_be_visible()

    # Record an access request by the patron's id (no list of names anywhere).
    page.goto(e2e_server.url("/admin/dpo/subjectrequest/add/"))
    page.fill("#id_patron", str(patron_id))
    page.select_option("#id_kind", "access")
    page.select_option("#id_identity_document", "passport")
    page.click("input[type=submit][name=_save], .submit-row input[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/dpo/subjectrequest/\d+/change/$"))
    request_id = int(re.search(r"/subjectrequest/(\d+)/change/", page.url).group(1))

    # The printable report opens from the request's page, in the patron's language (Finnish here).
    page.click(f"a[href='/admin/dpo/requests/{request_id}/report/']")
    expect(page).to_have_url(e2e_server.url(f"/admin/dpo/requests/{request_id}/report/"))
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.locator("body")).to_contain_text(f"{first_name} {last_name}")
    pdf = page.request.get(e2e_server.url(f"/api/v1/subject-requests/{request_id}/report.pdf"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    page.goto(e2e_server.url("/admin/dpo/breach/"))
    expect(page.locator("#result_list tbody tr")).not_to_have_count(0)

    reports = e2e_server.database.query(
        """
        SELECT e.outcome FROM audit_accessevent e JOIN audit_accesseventpatron ep ON ep.event_id = e.id
        WHERE e.actor_username = 'dpo' AND e.action = 'access_report' AND ep.patron_id = %s
        """,
        (patron_id,),
    )
    assert reports and all(outcome == "allowed" for (outcome,) in reports), reports


def test_the_privacy_notice_needs_no_log_in(browser: Browser, e2e_server: E2EServer) -> None:
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    page.goto(e2e_server.url("/privacy/"))
    page.click("a[href='/privacy/lapin-kirjastot/']")
    expect(page).to_have_url(e2e_server.url("/privacy/lapin-kirjastot/"))
    # Swedish by the browser's language on the public pages, in the Swedish of the library's country; every
    # register of the notice is described.
    expect(page.locator("html")).to_have_attribute("lang", "sv-fi")  # Lapland is in Finland: Finland-Swedish
    for register in ("library_system", "interlibrary_loans", "newsletter", "home_service", "cctv"):
        expect(page.locator(f"#register-{register}")).to_be_visible()
    context.close()
