"""A counsellor gives a client a label on the client's page in the real browser, by keyboard alone,
meets the length limit, then removes it; axe checks the client page and the page with the error."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import CounsellorLink, Role
from app.services.sharing import LABEL_MAX_LENGTH
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import Audit, log_in_quickly

pytestmark = pytest.mark.e2e


def test_a_counsellor_labels_a_client_and_then_removes_the_label(page, app, axe_source):
    audit = Audit(axe_source)
    counsellor_id = create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    learner_id = create_user(app, "nia@example.org", name="Nia Learner")
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor_id, learner_id=learner_id, created_by_id=learner_id))
        db.session.commit()

    log_in_quickly(page, "casey@example.org", PASSWORD)
    page.goto(f"/counsel/clients/{learner_id}")
    box = page.get_by_label("Your label for this client (optional, only you see this)")
    audit(page, "counsel-client-label-form")
    box.focus()
    page.keyboard.type("Tuesday group")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/counsel/clients/{learner_id}$"))
    expect(page.get_by_role("status").first).to_contain_text("Your label is saved. Only you see it.")
    expect(page.locator(".client-notes-line")).to_have_text("Your label: Tuesday group")
    expect(box).to_have_value("Tuesday group")

    # The box stops at the limit; a browser that does not (its maxlength removed here) meets the
    # server's check, and its page with the error.
    box.fill("")
    box.press_sequentially("x" * (LABEL_MAX_LENGTH + 1))
    expect(box).to_have_value("x" * LABEL_MAX_LENGTH)
    box.evaluate("box => box.removeAttribute('maxlength')")
    box.fill("x" * (LABEL_MAX_LENGTH + 1))
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/counsel/clients/{learner_id}/label$"))
    error = f"Keep the label to {LABEL_MAX_LENGTH} characters or fewer."
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text(error)
    expect(
        page.get_by_label("Your label for this client (optional, only you see this)")
    ).to_have_accessible_description(re.compile(re.escape(error)))
    audit(page, "counsel-client-label-error")

    page.get_by_role("link", name="Nia Learner").click()
    remove = page.get_by_role("button", name="Remove your label")
    remove.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Your label is removed.")
    expect(page.locator(".client-notes-line")).to_have_count(0)
    expect(box).to_have_value("")
    audit.check()
