"""The data protection officer's day in headless Chromium on a 1,280 px screen (see conftest.py).

The DPO logs in to the dashboard, records an access request finding the patron by name, makes the report,
opens the access-event browser and an event, then records an erasure request the same way, runs its dry run
and confirms the erasure by typing the card number. Every page fits the screen's width and passes axe-core's WCAG 2.2
AA rules; E2E_SCREENSHOTS=<directory> keeps a screenshot of each for a person to look at.
"""

import re
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import E2EServer, assert_accessible, log_in, screenshot

pytestmark = pytest.mark.e2e

WIDTH = 1280
ADULTS_SQL = """
    SELECT p.id, p.first_name, p.last_name, p.cardnumber, p.date_of_birth
    FROM patrons_patron p JOIN patrons_consortium c ON c.id = p.consortium_id
    WHERE c.slug = 'lapin-kirjastot' AND p.date_of_birth < '2000-01-01' AND p.held_after_erasure = %s
    ORDER BY p.id DESC
    LIMIT 2
"""


@pytest.fixture
def wide_page(browser: Browser):
    context = browser.new_context(locale="en-US", viewport={"width": WIDTH, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def fits(page: Page, name: str) -> None:
    """The page needs no sideways scrolling at 1,280 px and passes axe; kept as day-dpo-<name>.png with
    E2E_SCREENSHOTS set."""
    assert_accessible(page, f"the DPO's day: {name}")
    screenshot(page, f"day-dpo-{name}", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{name} is {width} px wide"


def record_request(page: Page, server: E2EServer, *, kind: str, first_name: str, last_name: str, patron_id: int) -> int:
    """Record a request on the admin's form, finding the patron by name; answers the request's id."""
    page.goto(server.url("/admin/dpo/subjectrequest/add/"))
    fits(page, f"record-{kind}-form")
    page.select_option("#id_kind", kind)
    page.select_option("#id_identity_document", "passport")
    page.fill("#id_find", f"{last_name} {first_name}")
    page.click("button[name=_find]")
    # The search is posted, never in the URL; the typed values stay.
    expect(page).to_have_url(server.url("/admin/dpo/subjectrequest/add/"))
    expect(page.locator("#id_kind")).to_have_value(kind)
    row = page.locator("table.patron-results tr", has=page.locator(f"input[value='{patron_id}']"))
    expect(row).to_contain_text(f"{last_name}, {first_name}")
    fits(page, f"record-{kind}")
    page.check(f"#patron-{patron_id}")
    page.click(".submit-row input[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/dpo/subjectrequest/\d+/change/$"))
    return int(re.search(r"/subjectrequest/(\d+)/change/", page.url).group(1))


def test_the_dpos_day(wide_page: Page, e2e_server: E2EServer) -> None:
    page, server = wide_page, e2e_server
    reported, erased = server.database.query(ADULTS_SQL, (False,))

    log_in(page, server, "dpo", next_path="/admin/", accessible=True)
    expect(page).to_have_url(server.url("/admin/"))
    expect(page.locator(".requests-due")).to_be_visible()
    fits(page, "dashboard")

    # An access request, the patron found by name; the report opens from the request.
    patron_id, first_name, last_name, _card, _born = reported
    request_id = record_request(
        page, server, kind="access", first_name=first_name, last_name=last_name, patron_id=patron_id
    )
    fits(page, "access-request")
    page.click(f"a[href='/admin/dpo/requests/{request_id}/report/']")
    expect(page.locator("body")).to_contain_text(f"{first_name} {last_name}")
    expect(page.locator("#access_summary table.summary")).to_be_visible()
    expect(page.locator("#access_log.appendix")).to_be_attached()
    fits(page, "access-report")
    pdf = page.request.get(server.url(f"/api/v1/subject-requests/{request_id}/report.pdf"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # The access-event browser: actions and data categories in words, no JSON.
    page.goto(server.url("/admin/audit/accessevent/"))
    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    fits(page, "access-events")
    assert page.evaluate(
        "document.querySelector('.results').scrollWidth <= document.querySelector('.results').clientWidth"
    )
    page.locator("#result_list tbody tr th a").first.click()
    expect(page.locator("#content")).not_to_contain_text('["')
    fits(page, "access-event")

    # An erasure request: the dry run names the patron, the erasure needs the card number typed.
    patron_id, first_name, last_name, card, born = erased
    request_id = record_request(
        page, server, kind="erasure", first_name=first_name, last_name=last_name, patron_id=patron_id
    )
    page.click(f"a[href='/admin/dpo/requests/{request_id}/erase/']")
    expect(page.locator(".subject-name")).to_have_text(f"{first_name} {last_name}")
    expect(page.locator(".subject-cardnumber")).to_have_text(card)
    born = born if isinstance(born, date) else date.fromisoformat(born)
    expect(page.locator(".subject-birth")).to_have_text(f"{born:%d.%m.%Y}")  # Finnish staff: d.m.Y
    fits(page, "erasure-dry-run")
    page.fill("#id_confirm", "1" + card)
    page.click(".erasure-confirm input[type=submit]")
    expect(page.locator(".errorlist")).to_be_visible()
    # The refusal is said at the top, above the plan's tables, and the focus is there; its link goes to the field.
    expect(page.locator(".error-summary")).to_be_focused()
    assert page.evaluate("document.activeElement.matches('[data-error-summary]')")
    expect(page.locator("#id_confirm")).to_have_value("1" + card)
    fits(page, "erasure-refused")
    page.click(".error-summary a[href='#id_confirm']")
    expect(page.locator("#id_confirm")).to_be_focused()
    page.fill("#id_confirm", card)
    page.click(".erasure-confirm input[type=submit]")
    expect(page).to_have_url(server.url(f"/admin/dpo/subjectrequest/{request_id}/change/"))
    expect(page.locator(".messagelist .success")).to_be_visible()
    fits(page, "erased")

    for path, name in (("/admin/dpo/subjectrequest/", "requests"), ("/admin/dpo/breach/", "breaches")):
        page.goto(server.url(path))
        expect(page.locator("#result_list tbody tr").first).to_be_visible()
        fits(page, name)
        # Every column is on the screen, none behind the list's own sideways scroll.
        right = page.evaluate(
            "Math.max(...[...document.querySelectorAll('#result_list thead th')]"
            ".map(th => th.getBoundingClientRect().right))"
        )
        edge = page.evaluate("document.querySelector('.results').getBoundingClientRect().right")
        assert right <= edge + 1, (name, right, edge)
    page.goto(server.url("/admin/dpo/erasures/reapply/"))
    expect(page.locator(".erased-again")).to_have_text("0")
    fits(page, "reapply")

    actions = [
        action
        for (action,) in server.database.query(
            """
            SELECT e.action FROM audit_accessevent e JOIN audit_accesseventpatron ep ON ep.event_id = e.id
            WHERE e.actor_username = 'dpo' AND ep.patron_id = %s ORDER BY e.id
            """,
            (patron_id,),
        )
    ]
    # Found by a search, the plan read (not an erasure), then erased once.
    assert actions[0] == "patron_search" and actions.count("patron_erase") == 1, actions
    assert actions.index("erasure_plan") < actions.index("patron_erase"), actions
    assert not server.database.query("SELECT 1 FROM patrons_patron WHERE id = %s", (patron_id,))
