"""A counsellor manages invitations in a real browser: a label, the copy buttons, cancel; and the
client who then opens the cancelled link. axe-core checks both pages; screenshots at both widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import Audit, log_in_quickly

pytestmark = pytest.mark.e2e

COUNSELLOR_EMAIL = "casey.counsellor@example.org"


def test_label_copy_and_cancel(page, learner_page, app, axe_source):
    audit = Audit(axe_source)
    create_user(app, COUNSELLOR_EMAIL, role=Role.COUNSELLOR, name="Casey Counsellor")
    create_user(app, "nia@example.org", name="Nia Learner")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in_quickly(page, COUNSELLOR_EMAIL, PASSWORD)
    page.goto("/counsel/invitations")

    # A labelled invitation: the label heads the new invitation and names it in the waiting list.
    page.get_by_label("Who is it for?").fill("Sam, Tuesday group")
    page.get_by_role("button", name="Create an invitation").click()
    created = page.get_by_role("status").filter(has=page.get_by_role("heading", name="Your new invitation"))
    expect(created.get_by_role("heading")).to_have_text("Your new invitation for Sam, Tuesday group")
    code = page.locator("#invitation-code").inner_text()
    link = page.locator("#invitation-link").inner_text()
    waiting = page.get_by_role("region", name="Waiting for an answer").get_by_role("listitem")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("Sam, Tuesday group")
    expect(waiting).to_contain_text(re.compile(r"Expires \d{1,2} [A-Z][a-z]{2}"))

    # The script shows the copy buttons; each puts its text on the clipboard and says so.
    created.get_by_role("button", name="Copy code").click()
    expect(created.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == code
    created.get_by_role("button", name="Copy link").click()
    assert page.evaluate("navigator.clipboard.readText()") == link
    expect(page.locator("#copy-status")).to_have_text("Copied the link.")
    audit(page, "counsel-invitations-labelled")

    # Cancel it: a page asks first, saying what the client will see; "Keep it" changes nothing.
    waiting.get_by_role("link", name="Cancel the invitation for Sam, Tuesday group").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel the invitation for Sam, Tuesday group?")
    expect(page.get_by_text("Its code and link stop working at once")).to_be_visible()
    audit(page, "counsel-invitation-cancel")
    page.get_by_role("link", name="Keep it").click()
    expect(waiting).to_have_count(1)
    waiting.get_by_role("link", name="Cancel the invitation for Sam, Tuesday group").click()
    # Confirmed, it leaves the list, and the page says so.
    page.get_by_role("button", name="Cancel the invitation").click()
    expect(page.get_by_role("status").first).to_contain_text("The invitation for Sam, Tuesday group is cancelled")
    expect(page.get_by_text("No invitations are waiting.")).to_be_visible()

    # The client who opens the link now is told plainly what happened and what to do.
    log_in_quickly(learner_page, "nia@example.org", PASSWORD)
    response = learner_page.goto(link)
    assert response.status == 410
    expect(learner_page.get_by_role("heading", level=1)).to_have_text("This invitation was cancelled")
    expect(learner_page.get_by_text("Ask your counsellor for a new code")).to_be_visible()
    expect(learner_page.get_by_text("Sam, Tuesday group")).to_have_count(0)
    audit(learner_page, "join-cancelled")
    audit.check()
