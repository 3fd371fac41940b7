"""Reordering the course by keyboard, in Chromium: after "Down", the page comes back to the lesson
moved (focused, with its buttons next), not to the top, so the next press moves it again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import lessons_in_order, log_in_quickly

pytestmark = pytest.mark.e2e


def test_a_lesson_moved_by_keyboard_keeps_the_focus_where_it_went(page, app, course_spec):
    create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    log_in_quickly(page, "ada@example.org", PASSWORD)
    first = lessons_in_order(course_spec)[0]
    page.goto("/author/")

    moves = f"form[action$='/lessons/{first.slug}/move']"
    page.locator(f"{moves} button[value=down]").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status").or_(page.get_by_role("alert")).first).to_contain_text(
        "Lesson moved in the draft."
    )
    expect(page.locator(f"#tools-lesson-{first.slug}")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator(f"{moves} button[value=up]")).to_be_focused()
    numbers = page.locator(".outline-item .lesson-link").all_inner_texts()
    assert numbers[1] == first.title  # it went down one place
