"""The Swedish desk's day in Chromium: Eslöv's desk worker (`eslov.staff`, a consortium in Sweden) searches a patron,
opens them, sees the prosecutor's access prohibition (tillträdesförbud, lag 2021:34; Sweden has no library-use bans)
and its page, writes a behaviour note and reads it back. Every page is in Sweden's Swedish (html lang "sv", not
Finland's "sv-fi"), shows the texts the Swedish catalogue gives (looked up with gettext, not written here twice) and
none of Finland's ban procedure, and passes axe-core's WCAG 2.2 AA rules. The Finnish desk's day is test_day_staff.py;
E2E_SCREENSHOTS=<directory> keeps a screenshot of each page as day-staff-sv-<name>.png."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils.text import capfirst
from playwright.sync_api import Page, expect

from tests.e2e.conftest import E2EServer, assert_accessible, log_in, screenshot
from tests.e2e.test_ban_procedure import submit
from tests.privacy_service.test_translations import tr

pytestmark = pytest.mark.e2e

STAFF = "eslov.staff"
NOTE_TEXT = "Störde andra besökare i läsesalen och hotade personalen (e2e, arbetsdag)."
NOTE_LIBRARY = "ESLMA"  # Marieholms bibliotek, the consortium's other library

# Eslöv's patron with the demo's access prohibition (demo/procedures.py), and the prohibition's dates.
PROHIBITION_SQL = """
    SELECT a.id, p.id, p.first_name, p.last_name, a.prosecutor_reference, a.starts_on, a.ends_on
    FROM patrons_accessprohibition a JOIN patrons_patron p ON p.id = a.patron_id
    WHERE a.application_reference = 'KS 2026/114'
"""
# Texts of Finland's ban procedure: a patron of a consortium in Sweden has prohibitions, never these.
FINNISH_BAN_TEXTS = ("Library-use ban in force", "Library-use bans", "Propose a library-use ban")


def shot(page: Page, name: str) -> None:
    """The page is Swedish as in Sweden, passes axe, and is kept as day-staff-sv-<name>.png with E2E_SCREENSHOTS."""
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    assert_accessible(page, f"the Swedish desk's day: {name}")
    screenshot(page, f"day-staff-sv-{name}", full_page=True)


def day(value) -> datetime.date:
    """A date column as the database driver gives it (a date on PostgreSQL, an ISO string on SQLite)."""
    return datetime.date.fromisoformat(str(value)[:10])


def test_the_swedish_desk_workers_day(page: Page, e2e_server: E2EServer) -> None:
    db = e2e_server.database
    today = datetime.datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    prohibition_id, patron_id, first_name, last_name, prosecutor_reference, starts_on, ends_on = db.query(
        PROHIBITION_SQL
    )[0]
    library_name = db.query("SELECT name FROM patrons_library WHERE koha_library_id = %s", (NOTE_LIBRARY,))[0][0]
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))

    # 1. Log in (the log-in page is Finnish, the country unknown); the search is in the user's Swedish.
    log_in(page, e2e_server, STAFF, accessible=True)
    expect(page).to_have_url(e2e_server.url("/patrons/"))
    expect(page.locator("h1")).to_have_text(tr("Patron search", "sv"))
    shot(page, "0-search-empty")
    page.locator("#q").press_sequentially(f"{last_name}, {first_name}", delay=20)
    row = page.locator("#results tbody tr", has=page.locator(f'a[href="/patrons/{patron_id}/"]'))
    expect(row).to_contain_text(f"{last_name}, {first_name}")
    expect(page.locator("#results thead")).to_contain_text(tr("Home library", "sv"))
    shot(page, "1-search")

    # 2. The patron's page: the prohibition in force is the alert at the top, in Sweden's words (Y-m-d dates).
    row.locator(f'a[href="/patrons/{patron_id}/"]').click()
    expect(page).to_have_url(e2e_server.url(f"/patrons/{patron_id}/"))
    alert = page.locator("article.ban-alert[role=alert]")
    expect(alert).to_contain_text(tr("Access prohibition in force", "sv"))
    expect(alert).to_contain_text(f"{day(starts_on).isoformat()}\N{EN DASH}{day(ends_on).isoformat()}")
    expect(alert).to_contain_text(prosecutor_reference)
    alert_box, first_section = alert.bounding_box(), page.locator("h2").first.bounding_box()
    assert alert_box and first_section and alert_box["y"] < first_section["y"]  # above the page's sections
    expect(page.locator("#bans h2")).to_have_text(tr("Access prohibitions", "sv"))
    record = page.locator(f'#bans a[href="/patrons/{patron_id}/access-prohibitions/new/"]')
    expect(record).to_have_text(tr("Record a prosecutor's access prohibition", "sv"))
    expect(page.locator(f'a[href="/patrons/{patron_id}/bans/new/"]')).to_have_count(0)  # no ban to propose
    text = page.locator("body").text_content() or ""
    assert not [message for message in FINNISH_BAN_TEXTS if tr(message, "sv") in text]
    shot(page, "2-patron")

    # 3. The prohibition's page: the prosecutor's decision, and whose step comes next, in Sweden's words (not the
    # Finnish ban preparers').
    page.locator(f'#bans a[href="/bans/prohibitions/{prohibition_id}/"]').click()
    expect(page.locator("h1")).to_have_text(tr("Access prohibition", "sv"))
    expect(page.locator("main")).to_contain_text("KS 2026/114")
    expect(page.locator("main dl")).to_contain_text(capfirst(tr("prosecutor's reference", "sv")))  # a label's capital
    next_step = page.locator("#next-step")
    expect(next_step).to_contain_text(tr("the library staff who record access prohibitions", "sv"))
    expect(next_step).not_to_contain_text(tr("the library staff who prepare bans", "sv"))
    shot(page, "3-prohibition")

    # 4. Back to the patron; write a behaviour note of today at Marieholm.
    page.locator(f'main a[href="/patrons/{patron_id}/"]').click()
    page.click("#notes details summary")
    expect(page.locator("#notes summary")).to_have_text(tr("Write a note", "sv"))
    shot(page, "4-note-form")
    page.select_option("#id_category", "behaviour")
    page.fill("#id_text", NOTE_TEXT)
    page.select_option("#id_library", NOTE_LIBRARY)
    submit(page, 'form[action$="/notes/"] button[type=submit]')
    expect(page.locator("main .message-success")).to_contain_text(tr("The note was saved.", "sv"))
    note_id, category, library = db.query(
        "SELECT n.id, n.category, l.koha_library_id FROM patrons_note n JOIN patrons_library l ON l.id = n.library_id"
        " WHERE n.patron_id = %s AND n.created_by = %s ORDER BY n.id DESC",
        (patron_id, STAFF),
    )[0]
    assert (category, library) == ("behaviour", NOTE_LIBRARY)
    note = page.locator(f"#note-{note_id}")
    incident = tr("incident %(day)s at %(library)s", "sv") % {"day": today.isoformat(), "library": library_name}
    expect(note).to_contain_text(incident)
    expect(note).not_to_contain_text(NOTE_TEXT)  # sensitive: shown only on request
    shot(page, "4-note-saved")

    # 5. Read it back: a deliberate (logged) request, the text swapped in where the button was, the focus on it.
    reveal = page.locator(f"#note-text-{note_id} button[type=submit]")
    expect(reveal).to_have_text(tr("Sensitive: show the text (logged)", "sv"))
    reveal.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#note-text-{note_id}")).to_contain_text(NOTE_TEXT)
    assert page.evaluate("document.activeElement.id") == f"note-text-{note_id}"
    shot(page, "4-note-revealed")

    # The name was in no URL the browser asked for.
    assert not [url for url in urls if last_name.lower() in url.lower() or "q=" in url], urls
