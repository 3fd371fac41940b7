"""Removing a lesson and discarding the draft in a real browser: each asks first, on a page that
says what would be lost, and "Keep" changes nothing. axe-core checks both pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import Audit, lessons_in_order, log_in_quickly

pytestmark = pytest.mark.e2e


def test_remove_a_lesson_then_discard_the_draft_each_after_confirming(page, app, course_spec, axe_source):
    audit = Audit(axe_source)
    create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    log_in_quickly(page, "ada@example.org", PASSWORD)
    first = lessons_in_order(course_spec)[0]
    page.goto("/author/")
    outline = page.locator(".outline-item .lesson-link")

    # "Remove" asks first, naming the lesson; "Keep it" goes back with the lesson still there.
    page.get_by_role("link", name=f"lesson {first.title}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Remove the lesson “{first.title}”?")
    expect(page.get_by_text(f"its quiz of {len(first.quiz)} questions")).to_be_visible()
    expect(page.get_by_text("Learners' progress and quiz attempts with it are kept")).to_be_visible()
    audit(page, "author-lesson-remove-confirm")
    page.get_by_role("link", name="Keep it").click()
    expect(page).to_have_url(re.compile(r"/author/#tools-lesson-"))
    expect(outline.filter(has_text=first.title)).to_have_count(1)
    expect(page.get_by_text("No unpublished changes.")).to_be_visible()

    # Confirmed, it leaves the draft.
    page.get_by_role("link", name=f"lesson {first.title}").click()
    page.get_by_role("button", name="Remove the lesson").click()
    expect(page.get_by_role("status").filter(has_text="Lesson removed from the draft")).to_be_visible()
    expect(outline.filter(has_text=first.title)).to_have_count(0)

    # "Discard the draft" lists what would be lost, and only its own button discards.
    page.get_by_role("link", name="Discard the draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Discard the draft?")
    lost = page.get_by_role("region", name="1 unpublished change will be lost")
    expect(lost.get_by_role("listitem")).to_have_text([f"Lesson “{first.title}” deleted"])
    audit(page, "author-discard-confirm")
    page.get_by_role("button", name="Discard the draft").click()
    expect(page.get_by_role("status").filter(has_text="The draft was discarded")).to_be_visible()
    expect(outline.filter(has_text=first.title)).to_have_count(1)
    audit.check()
