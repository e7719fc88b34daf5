"""Accessibility beyond axe's rules, in headless Chromium against a real server (see conftest.py), issue 15.

axe-core checks every page of the four role's-day walks (tests/e2e/test_day_*.py, conftest.assert_accessible);
here: that check can fail at all; a keyboard user sees where the focus is (a ring of at least 3:1 contrast, on the
staff pages and in the admin); the patron page works on a 390 px phone screen, in Finnish and in Swedish.
"""

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.e2e.conftest import E2EServer, assert_accessible, log_in, screenshot

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


@pytest.mark.parametrize(
    ("username", "patron_sql", "language"),
    [("rovaniemi.staff", BANNED_SQL, "fi"), ("eslov.staff", PROHIBITED_SQL, "sv")],
    ids=["fi", "sv"],
)
def test_the_patron_page_on_a_390_px_phone(
    browser: Browser, e2e_server: E2EServer, username: str, patron_sql: str, language: str
) -> None:
    """No sideways scrolling of the page: tables scroll in their own box, the ban alert and the note form fit."""
    context = browser.new_context(locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, e2e_server, username)
        page.goto(e2e_server.url(f"/patrons/{e2e_server.database.query(patron_sql)[0][0]}/"))
        expect(page.locator("html")).to_have_attribute("lang", language)  # exactly: Eslöv is in Sweden, sv not sv-fi
        alert = page.locator("article.ban-alert[role=alert]")
        expect(alert).to_be_in_viewport()
        page.click("#notes details summary")
        for field in ("#id_category", "#id_text", "#id_library", 'form[action$="/notes/"] button[type=submit]'):
            box = page.locator(field).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (field, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # A table wider than the screen scrolls inside its own box, never the page.
        overflowing = page.evaluate(
            """() => [...document.querySelectorAll("main table")]
                .filter((table) => table.getBoundingClientRect().right > innerWidth)
                .filter((table) => !["auto", "scroll"].includes(getComputedStyle(table.parentElement).overflowX))
                .map((table) => table.outerHTML.slice(0, 80))"""
        )
        assert not overflowing, overflowing
        assert_accessible(page, f"the patron page at 390 px ({language})")
        screenshot(page, f"phone-patron-{language}", full_page=True)
    finally:
        context.close()
