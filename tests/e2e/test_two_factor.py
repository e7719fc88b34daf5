"""Two-factor authentication in headless Chromium against a real server (see conftest.py).

The demo billing clerk logs in with the password and the code the demo authenticator shows; the phone
is lost, so the superuser (after their own second factor) resets it in the admin; the clerk sets up a new
authenticator from the key on the QR page, keeps the recovery codes shown once, and the next day logs in
with one of them. The server's own log has each step.
"""

import re
from base64 import b32decode

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, E2EServer, authenticator_code, log_in

pytestmark = pytest.mark.e2e
CLERK = "rovaniemi.billing"


def submit(page: Page) -> None:
    page.click("main form button[type=submit]")


def test_a_lost_phone_reset_and_a_new_authenticator(browser: Browser, page: Page, e2e_server: E2EServer) -> None:
    (clerk_id,) = e2e_server.database.query("SELECT id FROM auth_user WHERE username = %s", (CLERK,))[0]

    # 1. The clerk: password, then the six digits of the demo authenticator.
    log_in(page, e2e_server, CLERK, next_path="/billing/")
    expect(page).to_have_url(e2e_server.url("/billing/"))
    page.click('form[action="/accounts/logout/"] button')
    expect(page).to_have_url(e2e_server.url("/accounts/login/"))

    # 2. The superuser resets the clerk's second factor (their own first, then the admin's action).
    admin = browser.new_context(locale="en-US").new_page()
    log_in(admin, e2e_server, "admin", next_path="/admin/auth/user/")
    expect(admin).to_have_url(e2e_server.url("/admin/auth/user/"))
    admin.check(f"input.action-select[value='{clerk_id}']")
    admin.select_option("select[name=action]", "reset_two_factor")
    admin.click("div.actions button[name=index]")
    expect(admin.locator(".messagelist .success")).to_be_visible()
    admin.context.close()

    # 3. The clerk sets up a new authenticator: the QR code shows (CSP allows its data: URI), the key is typed.
    page.fill("#id_username", CLERK)
    page.fill("#id_password", DEMO_PASSWORD)
    submit(page)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/\?next="))
    qr = page.locator(".qr-code img")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    key = b32decode(page.locator(".totp-secret").inner_text().replace(" ", ""))
    page.fill("#id_code", authenticator_code(e2e_server, key))
    submit(page)
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.click("main a[role=button]")
    expect(page).to_have_url(e2e_server.url("/billing/"))  # a billing clerk's landing page
    page.click('form[action="/accounts/logout/"] button')

    # 4. Without the phone: the password and a recovery code.
    page.fill("#id_username", CLERK)
    page.fill("#id_password", DEMO_PASSWORD)
    submit(page)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/\?next="))
    page.fill("#id_code", codes[0])
    submit(page)
    expect(page).to_have_url(e2e_server.url("/billing/"))
    expect(page.locator("main .message-warning")).to_be_visible()  # how many recovery codes are left

    steps = e2e_server.database.query(
        "SELECT actor_username, action, detail FROM audit_accessevent "
        "WHERE action IN ('login', 'logout', 'two_factor') AND actor_username IN (%s, 'admin') ORDER BY id",
        (CLERK,),
    )
    assert steps == [
        (CLERK, "login", "two_factor_pending"),
        (CLERK, "two_factor", "verified"),
        (CLERK, "logout", "by_user"),
        ("admin", "login", "two_factor_pending"),
        ("admin", "two_factor", "verified"),
        ("admin", "two_factor", f"reset:user={clerk_id}"),
        (CLERK, "login", "two_factor_pending"),
        (CLERK, "two_factor", "enrolled"),
        (CLERK, "logout", "by_user"),
        (CLERK, "login", "two_factor_pending"),
        (CLERK, "two_factor", "recovery_code_used"),
    ]
