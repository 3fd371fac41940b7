"""Changing one's password and name while logged in, in Chromium, with the keyboard: each link and the
first field are focused directly, then opened with Enter, filled by typing, moved between with Tab and
sent with Enter. A wrong current password first (focus on the box that says so, whose link leads to
the field), then the right one. axe-core checks each page at 1280 and 375 px, with no sideways scroll."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import DESKTOP, axe_violations, describe_violations, log_in, log_in_quickly
from tests.mail_server import body_of

pytestmark = pytest.mark.e2e

EMAIL = "kay.keys@example.org"
NEW = "a brand new passphrase"
NARROW = {"width": 375, "height": 812}


class WidthsAudit:
    """axe-core's WCAG 2.1 A and AA rules at 1280 and 375 px; at 375 the page must not scroll sideways."""

    def __init__(self, axe_source: str):
        self.axe_source = axe_source
        self.failures: list[str] = []

    def __call__(self, page, name: str) -> None:
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        for label, viewport in (("1280 px", DESKTOP), ("375 px", NARROW)):
            page.set_viewport_size(viewport)
            violations = axe_violations(page, self.axe_source)
            if violations:
                self.failures.append(describe_violations(f"{name} at {label} ({page.url})", violations))
            wider = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
            if wider:
                self.failures.append(f"{name} scrolls sideways at {label} ({page.url})")
        page.set_viewport_size(DESKTOP)

    def check(self) -> None:
        assert not self.failures, "\n\n".join(self.failures)


def type_into_focused(page, text: str) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Tab")


def test_a_learner_changes_their_password_by_keyboard(page, app, browser, live_server, axe_source, inbox):
    audit = WidthsAudit(axe_source)
    create_user(app, EMAIL, name="Kay Keys")
    log_in_quickly(page, EMAIL, PASSWORD)
    page.goto("/me/")
    link = page.get_by_role("link", name="Change my password")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your password")
    audit(page, "me-password")

    # Field to field with Tab, and Enter to save.
    page.get_by_label("Current password").focus()
    type_into_focused(page, "not my password at all")
    expect(page.get_by_label("New password", exact=True)).to_be_focused()
    type_into_focused(page, NEW)
    expect(page.get_by_label("New password again")).to_be_focused()
    page.keyboard.type(NEW)
    page.keyboard.press("Enter")

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("That is not your current password.")
    audit(page, "me-password-wrong")
    # The summary's link takes focus to the field; the passwords typed are not shown again.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    current = page.get_by_label("Current password")
    expect(current).to_be_focused()
    expect(current).to_have_attribute("aria-invalid", "true")
    type_into_focused(page, PASSWORD)
    type_into_focused(page, NEW)
    page.keyboard.type(NEW)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Kay Keys")
    expect(page.get_by_text("Your password has been changed.")).to_be_visible()
    audit(page, "me-after-password-change")
    messages = inbox.wait_for(1, timeout=20)
    assert [m["Subject"] for m in messages] == ["Your password was changed"]

    # The name page, reached and checked the same way.
    page.get_by_role("link", name="Change my name").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your name")
    audit(page, "me-name")
    name = page.get_by_label("Your name")
    name.focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("Kay Corrected")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Kay Corrected")
    audit.check()

    # A fresh browser logs in with the new password only.
    context = browser.new_context(base_url=live_server, viewport=DESKTOP, locale="en-GB")
    try:
        other = context.new_page()
        log_in(other, EMAIL, NEW)
    finally:
        context.close()


def test_a_learner_moves_their_account_to_a_new_address_by_keyboard(page, app, browser, live_server, axe_source, inbox):
    """Ask with the password (a wrong one first: the title says "Error:"), get the link at the new
    address and a note at the old one, open it while logged in, press its button; then the new
    address logs in."""
    audit = WidthsAudit(axe_source)
    create_user(app, EMAIL, name="Kay Keys")
    log_in_quickly(page, EMAIL, PASSWORD)
    page.goto("/me/")
    page.get_by_role("link", name="Change my e-mail address").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your e-mail address")
    audit(page, "me-email")

    page.get_by_label("New e-mail address").focus()
    type_into_focused(page, "Kay.New@Example.org")
    expect(page.get_by_label("Current password")).to_be_focused()
    page.keyboard.type("not my password")
    page.keyboard.press("Enter")
    expect(page.locator(".error-summary")).to_be_focused()
    assert page.title().startswith("Error: Change your e-mail address")
    audit(page, "me-email-wrong")

    page.get_by_label("Current password").focus()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Check your new inbox")).to_be_visible()
    messages = inbox.wait_for(2, timeout=20)
    by_address = {m["To"]: m for m in messages}
    assert set(by_address) == {EMAIL, "kay.new@example.org"}
    assert "/me/email/confirm/" not in body_of(by_address[EMAIL])  # the old address gets no link
    link = re.search(r"https?://\S+/me/email/confirm/\S+", body_of(by_address["kay.new@example.org"])).group(0)

    page.goto("/me/" + link.split("/me/", 1)[1])  # the live server's, whatever PUBLIC_URL says
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your new e-mail address")
    audit(page, "me-email-confirm")
    page.get_by_role("button", name="Use my new address").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your e-mail address has been changed")).to_be_visible()
    audit.check()

    context = browser.new_context(base_url=live_server, viewport=DESKTOP, locale="en-GB")
    try:
        log_in(context.new_page(), "kay.new@example.org", PASSWORD)
    finally:
        context.close()
