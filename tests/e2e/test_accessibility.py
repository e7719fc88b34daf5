"""Accessibility beyond axe's rules, in headless Chromium against a real server (see conftest.py), issue 15.

axe-core checks every page of the four role's-day walks (tests/e2e/test_day_*.py, conftest.assert_accessible);
here: that check can fail at all; a keyboard user sees where the focus is (a ring of at least 3:1 contrast, on the
staff pages and in the admin); the desk's pages work on a 390 px phone screen, in Finnish and in Swedish: the search
with results, the patron page, the note form refused, a note's edit page, the ban's or the prohibition's page.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.e2e.conftest import E2EServer, assert_accessible, log_in, screenshot
from tests.e2e.test_ban_procedure import submit

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 390, "height": 844}
# Lapland's patron with the demo's ban in force, and Eslöv's with the demo's access prohibition (demo/procedures.py).
BANNED_SQL = "SELECT patron_id FROM patrons_ban WHERE decision_number = 'ROV-DEMO-1'"
PROHIBITED_SQL = "SELECT patron_id FROM patrons_accessprohibition WHERE application_reference = 'KS 2026/114'"

# The focused element's outline, and its contrast against the first opaque background outside the element (where
# a ring drawn 2 px outside it lies), by WCAG's relative luminance.
FOCUS_RING_JS = """() => {
    const element = document.activeElement;
    const channels = (colour) => colour.match(/[\\d.]+/g).map(Number);
    const luminance = (rgb) => {
        const [r, g, b] = rgb.slice(0, 3).map((v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    let background = [255, 255, 255];
    for (let node = element.parentElement; node; node = node.parentElement) {
        const colour = channels(getComputedStyle(node).backgroundColor);
        if (colour.length < 4 || colour[3] === 1) { background = colour; break; }
    }
    const style = getComputedStyle(element);
    const [light, dark] = [luminance(channels(style.outlineColor)), luminance(background)].sort((a, b) => b - a);
    return {
        element: element.outerHTML.slice(0, 120),
        style: style.outlineStyle,
        width: parseFloat(style.outlineWidth),
        contrast: (light + 0.05) / (dark + 0.05),
    };
}"""


def tab_through(page: Page, stops: int, where: str) -> None:
    """Press Tab `stops` times; at each stop the focused element must show a solid ring of 2 px or more with
    a contrast of 3:1 or more. From the page loaded: while a page that was just navigated to is still being parsed,
    it may have no focused element at all (document.activeElement null; a fresh-clone run failed on it)."""
    page.wait_for_load_state("load")
    for _ in range(stops):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING_JS)
        if ring["element"].startswith("<body"):
            break
        assert ring["style"] != "none" and ring["width"] >= 2, (where, ring)
        assert ring["contrast"] >= 3, (where, ring)


def test_the_check_fails_on_a_page_that_breaks_a_rule(page: Page) -> None:
    """assert_accessible is not a check that passes whatever the page: an image without a text alternative fails it."""
    page.set_content('<!doctype html><html lang="fi"><title>t</title><main><img src="data:,"></main></html>')
    with pytest.raises(pytest.fail.Exception, match=r"image-alt \(critical\)[\s\S]*img"):
        assert_accessible(page, "a page with an image without alt")
    page.set_content('<!doctype html><html lang="fi"><title>t</title><main><img src="data:," alt="x"></main></html>')
    assert_accessible(page, "the same page, the image described")


def test_the_focus_is_visible_on_the_staff_pages_and_in_the_admin(page: Page, e2e_server: E2EServer) -> None:
    page.goto(e2e_server.url("/accounts/login/"))
    tab_through(page, 8, "the log-in page")

    log_in(page, e2e_server, "rovaniemi.staff")
    patron_id = e2e_server.database.query(BANNED_SQL)[0][0]
    page.goto(e2e_server.url(f"/patrons/{patron_id}/"))
    tab_through(page, 25, "the patron page")
    page.click('form[action="/accounts/logout/"] button')

    log_in(page, e2e_server, "dpo", next_path="/admin/")
    expect(page).to_have_url(e2e_server.url("/admin/"))
    tab_through(page, 20, "the admin's dashboard")
    page.goto(e2e_server.url("/admin/dpo/subjectrequest/"))
    tab_through(page, 30, "the admin's list of requests")


@contextmanager
def phone(browser: Browser) -> Iterator[Page]:
    """A page in a 390 x 844 touch screen's browser context, closed after."""
    context = browser.new_context(locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


# What sticks out of a 390 px screen (`width`): a table wider than it not in a box that scrolls sideways of its own,
# a visible form control outside it. Not `innerWidth`: on a mobile viewport it grows with a page that is too wide.
OFF_SCREEN_JS = """(width) => {
    const outside = (element) => {
        const box = element.getBoundingClientRect();
        return box.left < 0 || box.right > width;
    };
    const shown = (element) => element.outerHTML.slice(0, 80);
    return {
        tables: [...document.querySelectorAll("main table")]
            .filter((table) => table.getBoundingClientRect().right > width)
            .filter((table) => !["auto", "scroll"].includes(getComputedStyle(table.parentElement).overflowX))
            .map(shown),
        controls: [...document.querySelectorAll("main :is(input, select, textarea, button)")]
            .filter((control) => control.getClientRects().length && !control.closest("table"))
            .filter(outside)
            .map(shown),
    };
}"""


def assert_fits_a_phone(page: Page, label: str) -> None:
    """The page as it is now does not scroll sideways on the 390 px screen (a table wider than the screen scrolls
    inside its own box, never the page; every form control shown fits), and axe passes there too."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{label} scrolls sideways"
    off_screen = page.evaluate(OFF_SCREEN_JS, PHONE["width"])
    assert off_screen == {"tables": [], "controls": []}, (label, off_screen)
    assert_accessible(page, f"{label} at 390 px")


@pytest.mark.parametrize(
    ("username", "patron_sql", "language"),
    [("rovaniemi.staff", BANNED_SQL, "fi"), ("eslov.staff", PROHIBITED_SQL, "sv")],
    ids=["fi", "sv"],
)
def test_the_patron_page_on_a_390_px_phone(
    browser: Browser, e2e_server: E2EServer, username: str, patron_sql: str, language: str
) -> None:
    """The ban alert is on the first screen, the note form opened fits, nothing scrolls the page sideways."""
    with phone(browser) as page:
        log_in(page, e2e_server, username)
        page.goto(e2e_server.url(f"/patrons/{e2e_server.database.query(patron_sql)[0][0]}/"))
        expect(page.locator("html")).to_have_attribute("lang", language)  # exactly: Eslöv is in Sweden, sv not sv-fi
        alert = page.locator("article.ban-alert[role=alert]")
        expect(alert).to_be_in_viewport()
        page.click("#notes details summary")
        expect(page.locator("#id_text")).to_be_visible()
        assert_fits_a_phone(page, f"the patron page ({language})")
        screenshot(page, f"phone-patron-{language}", full_page=True)


@pytest.mark.parametrize(
    ("username", "patron_sql", "language", "library"),
    [("rovaniemi.staff", BANNED_SQL, "fi", "ROV"), ("eslov.staff", PROHIBITED_SQL, "sv", "ESL")],
    ids=["fi", "sv"],
)
def test_the_desk_pages_on_a_390_px_phone(
    browser: Browser, e2e_server: E2EServer, username: str, patron_sql: str, language: str, library: str
) -> None:
    """The rest of the desk's walk on a phone: the search with its results, the note form as the server gives it back
    refused (the error summary above the page), a saved note's edit page, and the ban's or the prohibition's page."""
    db = e2e_server.database
    patron_id = db.query(patron_sql)[0][0]
    last_name = db.query("SELECT last_name FROM patrons_patron WHERE id = %s", (patron_id,))[0][0]
    with phone(browser) as page:
        log_in(page, e2e_server, username)
        page.locator("#q").press_sequentially(last_name, delay=20)
        expect(page.locator(f'#results a[href="/patrons/{patron_id}/"]')).to_be_visible()
        assert_fits_a_phone(page, f"the search results ({language})")
        screenshot(page, f"phone-search-{language}", full_page=True)

        page.goto(e2e_server.url(f"/patrons/{patron_id}/"))
        page.click("#notes details summary")
        page.select_option("#id_library", library)
        submit(page, 'form[action$="/notes/"] button[type=submit]', status=400)  # no text
        expect(page.locator("#id_text[aria-invalid=true]")).to_be_visible()
        assert_fits_a_phone(page, f"the refused note form ({language})")
        screenshot(page, f"phone-note-refused-{language}", full_page=True)

        page.select_option("#id_category", "general")
        page.fill("#id_text", f"{language}: 390 px (e2e).")
        submit(page, 'form[action$="/notes/"] button[type=submit]')
        page.locator('#notes a[href$="/edit/"]').first.click()
        expect(page).to_have_url(re.compile(rf"/patrons/{patron_id}/notes/\d+/edit/$"))
        assert_fits_a_phone(page, f"the note's edit page ({language})")
        screenshot(page, f"phone-note-edit-{language}", full_page=True)

        page.goto(e2e_server.url(f"/patrons/{patron_id}/"))
        page.locator('#bans a[href^="/bans/"]').first.click()
        expect(page.locator("#next-step")).to_be_visible()
        assert_fits_a_phone(page, f"the {'prohibition' if language == 'sv' else 'ban'}'s page ({language})")
        screenshot(page, f"phone-restriction-{language}", full_page=True)
