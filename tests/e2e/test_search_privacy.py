"""A search typed in Chromium never becomes part of a URL: not a request's, not a history entry's.

Searches are names, and a URL is kept by access logs, proxies, the browser's history and the Referer
of the next request (issue 10). The browser types a patron's name (htmx posts it as you type), pages
through a broad search with the pager's buttons, and does the same with JavaScript off (plain POST
forms); every URL it requested and every entry of its history is then checked for the name.
"""

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from tests.e2e.conftest import E2EServer
from tests.e2e.test_browser import PASSWORD, PATRON_OF_STAFF_SQL, USERNAME

pytestmark = pytest.mark.e2e

CARDNUMBERS_OF_STAFFS_CONSORTIUM_SQL = """
    SELECT p.cardnumber
    FROM patrons_patron p
    WHERE p.consortium_id = (
        SELECT m.consortium_id
        FROM auth_user u
        JOIN patrons_staffprofile s ON s.user_id = u.id
        JOIN patrons_library l ON l.id = s.home_library_id
        JOIN patrons_municipality m ON m.id = l.municipality_id
        WHERE u.username = %s
    )
"""


def broad_search(server: E2EServer) -> str:
    """The start of a card number that lists more than one page (25) of patrons."""
    counts: dict[str, int] = {}
    for (cardnumber,) in server.database.query(CARDNUMBERS_OF_STAFFS_CONSORTIUM_SQL, (USERNAME,)):
        counts[cardnumber[:4]] = counts.get(cardnumber[:4], 0) + 1
    start, count = max(counts.items(), key=lambda item: (item[1], item[0]))
    assert count > 25, "no card-number start lists two pages"
    return start


def history_urls(page: Page) -> list[str]:
    """Every entry of the tab's session history, as Chromium keeps it (the back button's list)."""
    session = page.context.new_cdp_session(page)
    try:
        return [entry["url"] for entry in session.send("Page.getNavigationHistory")["entries"]]
    finally:
        session.detach()


def log_in(page: Page, server: E2EServer) -> None:
    page.goto(server.url("/accounts/login/"))
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("form:not(.language) button[type=submit]")
    expect(page).to_have_url(server.url("/patrons/"))


def search_and_page(page: Page, server: E2EServer, name: str, broad: str, *, typed: bool) -> None:
    """Find the patron by name, then go to page 2 and back of a broad search, with the page's own controls."""
    if typed:
        page.locator("#q").press_sequentially(name, delay=20)  # htmx posts as you type
    else:
        page.fill("#q", name)
        page.click("form.patron-search button[type=submit]")
    expect(page.locator("#results tbody tr").first).to_contain_text(name.split()[0])
    page.fill("#q", broad)
    page.click("form.patron-search button[type=submit]")
    expect(page.locator("#results nav.pager")).to_contain_text("Sivu 1 /")
    page.click('#results nav.pager button[value="2"]')
    expect(page.locator("#results nav.pager")).to_contain_text("Sivu 2 /")
    page.click('#results nav.pager button[value="1"]')
    expect(page.locator("#results nav.pager")).to_contain_text("Sivu 1 /")


def assert_no_search_in(urls: list[str], name: str, what: str) -> None:
    words = [word.lower() for word in name.split()]
    leaked = [url for url in urls if "q=" in url or any(word in url.lower() for word in words)]
    assert not leaked, f"{what} holding the search: {leaked}"


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no_javascript"])
def test_a_typed_search_is_in_no_request_url_and_no_history_entry(
    browser: Browser, e2e_server: E2EServer, javascript: bool
) -> None:
    _patron_id, first_name, last_name, _cardnumber = e2e_server.database.query(PATRON_OF_STAFF_SQL, (USERNAME,))[0]
    broad = broad_search(e2e_server)
    name = f"{last_name} {first_name}"
    context = browser.new_context(locale="en-US", java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    requests: list[str] = []
    posted: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    def note_post(request: Request) -> None:
        if request.method == "POST":
            posted.append(request.post_data or "")

    page.on("request", note_post)
    try:
        log_in(page, e2e_server)
        search_and_page(page, e2e_server, name, broad, typed=javascript)
        history = history_urls(page)
    finally:
        context.close()

    assert_no_search_in(requests, name, "request URLs")
    assert_no_search_in(history, name, "history entries")
    # The searches were made, in request bodies: the test saw the real thing.
    assert any(f"q={last_name}" in body for body in posted), posted
    assert any("page=2" in body for body in posted), posted
    assert len(requests) > 5 and len(history) >= 2
    assert [url for url in history if not url.startswith(e2e_server.base_url)] == ["about:blank"], history
