"""Handing a caseload to a colleague in the real browser: the counsellor chooses a colleague and
confirms, by keyboard alone; the client reads the request on /me/ on a phone and says yes; the
colleague then sees the client, and the counsellor's page says the client accepted. axe checks
each page on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import CounsellorLink, Role
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import PHONE, Audit, checked_page, log_in_quickly

pytestmark = pytest.mark.e2e


def test_a_counsellor_hands_a_client_to_a_colleague_who_sees_them_once_the_client_says_yes(
    page, learner_page, browser, live_server, app, axe_source
):
    audit = Audit(axe_source)
    casey = create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive Osei")
    nia = create_user(app, "nia@example.org", name="Nia Learner")
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=casey, learner_id=nia, created_by_id=nia))
        db.session.commit()

    log_in_quickly(page, "casey@example.org", PASSWORD)
    page.goto("/counsel/invitations")
    page.get_by_role("link", name=re.compile("Ask my clients to share with a colleague")).click()
    expect(page).to_have_url(re.compile(rf"/counsel/caseloads/{casey}/handover$"))
    expect(page.get_by_role("checkbox", name="Nia Learner")).to_be_checked()
    audit(page, "counsel-handover-form")
    page.get_by_label("Colleague to take over").focus()
    page.get_by_label("Colleague to take over").select_option(label="Olive Osei (olive@example.org)")
    continue_button = page.get_by_role("button", name="Continue")
    continue_button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="What asking does")).to_be_visible()
    audit(page, "counsel-handover-confirm")
    ask = page.get_by_role("button", name="Ask 1 client")
    ask.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Nothing is shared until each client says yes")
    expect(page.get_by_role("row", name=re.compile("Nia Learner"))).to_contain_text("Waiting for an answer")

    with checked_page(browser, live_server, "the colleague's browser") as olive_page:
        # The colleague sees nothing of the client until they say yes.
        log_in_quickly(olive_page, "olive@example.org", PASSWORD)
        olive_page.goto("/counsel/")
        expect(olive_page.get_by_text("Nia Learner")).to_have_count(0)
        the_client_says_yes(learner_page, audit)
        olive_page.goto("/counsel/")
        expect(olive_page.get_by_role("link", name=re.compile("Nia Learner"))).to_be_visible()

    page.reload()
    expect(page.get_by_role("row", name=re.compile("Nia Learner"))).to_contain_text("Accepted")
    audit(page, "counsel-handover-answered")
    audit.check()


def the_client_says_yes(learner_page, audit) -> None:
    """Nia, on her phone, reads the request on /me/ and says yes."""
    learner_page.set_viewport_size(PHONE)
    log_in_quickly(learner_page, "nia@example.org", PASSWORD)
    learner_page.goto("/me/")
    request = learner_page.get_by_role(
        "heading", name="Casey Counsellor has asked Olive Osei to take over. Share your progress with Olive Osei?"
    )
    expect(request).to_be_visible()
    audit(learner_page, "me-handover-request")
    learner_page.get_by_role("button", name="Yes, share my progress with Olive Osei").click()
    expect(learner_page.get_by_role("status").first).to_contain_text(
        "You are now sharing your course progress with Olive Osei"
    )
    sharing = learner_page.locator(
        "section", has=learner_page.get_by_role("heading", name="Who you share your progress with")
    )
    expect(sharing).to_contain_text("Olive Osei")
    expect(sharing).to_contain_text("Casey Counsellor")  # saying yes did not stop the old sharing
    expect(request).to_have_count(0)


def test_an_admin_takes_the_counsellor_role_away_then_asks_the_clients_to_share_with_a_colleague(
    page, learner_page, live_server, app, axe_source
):
    """The page that asks before the change says who still shares and leads to the handover page,
    which the admin uses after the change; nothing is shared until the client says yes. The client's
    /me/ says the former counsellor no longer sees their progress, beside the request."""
    audit = Audit(axe_source)
    create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    casey = create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive Osei")
    nia = create_user(app, "nia@example.org", name="Nia Learner")
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=casey, learner_id=nia, created_by_id=nia))
        db.session.commit()

    log_in_quickly(page, "ada@example.org", PASSWORD)
    page.goto(f"/author/users/{casey}")
    page.get_by_label("Role", exact=True).select_option(label="Learner")
    page.get_by_role("button", name="Change role").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Make Casey Counsellor a learner?")
    expect(page.get_by_text("1 learner shares their progress with Casey Counsellor.")).to_be_visible()
    offer = page.get_by_role("link", name="ask Casey Counsellor's clients to share with a colleague")
    expect(offer).to_have_attribute("href", f"/counsel/caseloads/{casey}/handover")
    audit(page, "author-role-caseload-handover")
    page.get_by_role("button", name="Make them a learner").click()
    expect(page.get_by_role("status").first).to_contain_text("Casey Counsellor's role is now Learner")

    page.get_by_role("link", name="Ask their clients to share with a colleague").click()
    expect(page.get_by_text("Casey Counsellor is no longer a counsellor")).to_be_visible()
    audit(page, "counsel-handover-former-counsellor")
    page.get_by_label("Colleague to take over").select_option(label="Olive Osei (olive@example.org)")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Ask 1 client").click()
    expect(page.get_by_role("status").first).to_contain_text("Nothing is shared until each client says yes")
    expect(page.get_by_role("row", name=re.compile("Nia Learner"))).to_contain_text("Waiting for an answer")

    learner_page.set_viewport_size(PHONE)
    log_in_quickly(learner_page, "nia@example.org", PASSWORD)
    learner_page.goto("/me/")
    item = learner_page.get_by_role("listitem").filter(has_text="Casey Counsellor")
    expect(item).to_contain_text(
        "Casey Counsellor is no longer a counsellor here, so they do not see your progress. "
        "You can stop sharing with them."
    )
    expect(item.get_by_role("button", name="Stop sharing with Casey Counsellor")).to_be_visible()
    expect(learner_page.get_by_role("heading", name=re.compile("Share your progress with Olive Osei"))).to_be_visible()
    audit(learner_page, "me-former-counsellor")
    audit.check()
