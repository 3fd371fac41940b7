"""A counsellor stops seeing a client's progress in the real browser, by keyboard alone; axe
checks the page that asks, and the client's own page then lists nobody."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import CounsellorLink, Role
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import Audit, log_in_quickly

pytestmark = pytest.mark.e2e


def test_a_counsellor_stops_seeing_a_discharged_client(page, learner_page, app, axe_source):
    audit = Audit(axe_source)
    counsellor_id = create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    learner_id = create_user(app, "nia@example.org", name="Nia Learner")
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor_id, learner_id=learner_id, created_by_id=learner_id))
        db.session.commit()

    log_in_quickly(page, "casey@example.org", PASSWORD)
    page.goto(f"/counsel/clients/{learner_id}")
    stop = page.get_by_role("link", name="Stop seeing Nia Learner's progress")
    stop.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/counsel/clients/{learner_id}/stop$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop seeing Nia Learner's progress?")
    audit(page, "counsel-client-stop")

    button = page.get_by_role("button", name="Stop seeing Nia Learner's progress")
    button.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/counsel/$"))
    expect(page.get_by_role("status").first).to_contain_text("You no longer see Nia Learner's progress.")
    expect(page.get_by_text("0 clients.", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Nia Learner")).to_have_count(0)

    log_in_quickly(learner_page, "nia@example.org", PASSWORD)
    learner_page.goto("/me/")
    sharing = learner_page.get_by_role("region", name="Who you share your progress with")
    expect(sharing).to_contain_text("You are not sharing your progress with a counsellor.")
    audit.check()
