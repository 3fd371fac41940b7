"""API tokens in a real browser: make one on /me/tokens, copy it, use it, see its last use, revoke it;
and the API's reference page. axe-core checks each page; screenshots at 1280 and 375 px."""

from __future__ import annotations

import re
import sys
import threading

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import ApiToken, Role
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import Audit, log_in_quickly

pytestmark = pytest.mark.e2e

COUNSELLOR_EMAIL = "casey.counsellor@example.org"


def test_a_counsellor_makes_uses_and_revokes_a_token(page, app, axe_source):
    audit = Audit(axe_source)
    create_user(app, COUNSELLOR_EMAIL, role=Role.COUNSELLOR, name="Casey Counsellor")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in_quickly(page, COUNSELLOR_EMAIL, PASSWORD)
    page.goto("/me/")
    page.get_by_role("link", name="Manage API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    # A counsellor is offered their clients' progress, and nothing of an admin's or a learner's.
    expect(page.get_by_role("checkbox")).to_have_count(1)
    audit(page, "me-tokens")

    # Nothing chosen: both problems are said, at the top and beside each field.
    page.get_by_role("button", name="Make the token").click()
    expect(page.get_by_role("alert")).to_contain_text("Give the token a name")
    expect(page.get_by_role("alert")).to_contain_text("Choose at least one thing the token may do")
    audit(page, "me-tokens-errors")

    page.get_by_label("Name").fill("Clinic dashboard")
    page.get_by_label(re.compile(r"^Read learners' progress: a counsellor's clients")).check()
    page.get_by_role("button", name="Make the token").click()
    created = page.get_by_role("status").filter(has=page.get_by_role("heading", name="Your new token"))
    expect(created).to_contain_text("shown only this once")
    token = page.locator("#new-token").inner_text()
    assert re.fullmatch(r"nlt_[A-Za-z0-9_-]{43}", token)
    copy = created.get_by_role("button", name="Copy token")
    # A button like the page's others, below the token: not in the token's large monospace.
    assert "monospace" not in copy.evaluate("b => getComputedStyle(b).fontFamily")
    token_box, copy_box = page.locator("#new-token").bounding_box(), copy.bounding_box()
    assert copy_box["y"] >= token_box["y"] + token_box["height"]
    copy.click()
    assert page.evaluate("navigator.clipboard.readText()") == token
    audit(page, "me-tokens-created")

    # The token works at once; the list then shows when it was last used.
    response = page.request.get("/api/v1/clients", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200 and response.json()["items"] == []
    page.goto("/me/tokens")
    mine = page.get_by_role("listitem").filter(has_text="Clinic dashboard")
    expect(mine).to_contain_text("last used")
    expect(page.locator("#new-token")).to_have_count(0)  # shown once, never again

    mine.get_by_role("button", name="Revoke “Clinic dashboard”").click()
    expect(page.get_by_role("status").first).to_contain_text("is revoked")
    expect(page.get_by_text("You have no tokens.")).to_be_visible()
    response = page.request.get("/api/v1/clients", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 401
    audit.check()


def test_the_api_reference_page(page, axe_source):
    audit = Audit(axe_source)
    page.goto("/api/v1/docs")
    expect(page.get_by_role("heading", level=1)).to_have_text("How Naltrexone Works API")
    expect(page.get_by_role("heading", name="GET /api/v1/clients", exact=True)).to_be_visible()
    page.get_by_role("link", name="/api/v1/openapi.json").first.click()
    assert page.url.endswith("/api/v1/openapi.json")
    page.goto("/api/v1/docs")
    audit(page, "api-docs")
    audit.check()


def test_a_second_click_before_the_answer_shows_the_one_token_made(page, app, monkeypatch):
    """The server makes one token per form; the page must show that token, not "made already".
    The first answer is held back until the second click has been made, as a slow network would."""
    tokens = sys.modules["app.me.tokens"]  # the module: app.me's "tokens" is its view of that name
    real_create = tokens.token_create
    arrived, answer = threading.Event(), threading.Event()

    def slow_create(*args, **kwargs):
        arrived.set()
        answer.wait(timeout=30)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(tokens, "token_create", slow_create)
    create_user(app, COUNSELLOR_EMAIL, role=Role.COUNSELLOR, name="Casey Counsellor")
    log_in_quickly(page, COUNSELLOR_EMAIL, PASSWORD)
    page.goto("/me/tokens")
    page.get_by_label("Name").fill("Clinic dashboard")
    page.get_by_label(re.compile(r"^Read learners' progress")).check()
    sent = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
    # Raw clicks where the button is: a locator's click would wait for the first answer's page.
    box = page.get_by_role("button", name="Make the token").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    try:
        page.mouse.click(x, y)
        assert arrived.wait(timeout=30), "the first click's request never reached the server"
        page.mouse.click(x, y)  # while the server still works on the first
    finally:
        answer.set()
    expect(page.get_by_role("heading", name=re.compile("^Your new token"))).to_be_visible()
    assert re.fullmatch(r"nlt_[A-Za-z0-9_-]{43}", page.locator("#new-token").inner_text())
    expect(page.get_by_text("That form made its token already")).to_have_count(0)
    assert sent == [page.url], f"the form was sent more than once: {sent}"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ApiToken)) == 1
        db.session.remove()
