"""An admin publishes a lesson twice, then restores the first version from the publication history.

In real browsers: the learner reads the second text, then, after the restore, the first one
again. The history and the restore page are checked by axe-core at a desktop's 1280 px and a
small phone's 375 px, with no sideways scrolling; screenshots go to
tests/e2e/screenshots/publications-<page>-<width>.jpg.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import (
    DESKTOP,
    axe_violations,
    describe_violations,
    lesson_url,
    lessons_in_order,
    log_in_quickly,
    write_screenshot,
)

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}
ADMIN_EMAIL = "ada.admin@example.org"
LEARNER_EMAIL = "lee.learner@example.org"
FIRST_TEXT = "First version: warm the pot with a little hot water before the tea goes in."
SECOND_TEXT = "Second version: put the tea in a cold pot and pour the water straight on."


class Check:
    """axe-core and a screenshot at each width; every page's violations reported at the end."""

    def __init__(self, axe_source: str):
        self.axe_source = axe_source
        self.failures: list[str] = []

    def __call__(self, page, name: str) -> None:
        for label, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            wide = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
            assert wide <= 0, f"{name} scrolls sideways by {wide}px at {viewport['width']}px"
            violations = axe_violations(page, self.axe_source)
            if violations:
                self.failures.append(describe_violations(f"{name} at {viewport['width']}px ({page.url})", violations))
            write_screenshot(page, f"publications-{name}-{label}")
        page.set_viewport_size(DESKTOP)

    def check(self) -> None:
        assert not self.failures, "\n\n".join(self.failures)


def publish_text(admin, course_slug: str, lesson_slug: str, text: str) -> None:
    """Save a new lesson text to the draft in the editor, review the change and publish it."""
    admin.goto(f"/author/courses/{course_slug}/lessons/{lesson_slug}/edit")
    admin.get_by_label("Lesson text (Markdown)").fill(text)
    admin.get_by_role("button", name="Save to draft").click()
    expect(admin.get_by_role("status").filter(has_text="Lesson saved to the draft")).to_be_visible()
    admin.goto(f"/author/courses/{course_slug}/publish")
    admin.get_by_role("button", name="Publish these changes").click()
    expect(admin.get_by_role("status").filter(has_text="Published.")).to_be_visible()


def test_publish_twice_then_restore_the_first(page, learner_page, app, course_spec, axe_source):
    check = Check(axe_source)
    admin, learner = page, learner_page
    lesson = lessons_in_order(course_spec)[0]
    create_user(app, ADMIN_EMAIL, role=Role.ADMIN, name="Ada Admin")
    create_user(app, LEARNER_EMAIL, name="Lee Learner")
    log_in_quickly(admin, ADMIN_EMAIL, PASSWORD)
    log_in_quickly(learner, LEARNER_EMAIL, PASSWORD)

    publish_text(admin, course_spec.slug, lesson.slug, FIRST_TEXT)
    publish_text(admin, course_spec.slug, lesson.slug, SECOND_TEXT)
    learner.goto(lesson_url(course_spec, lesson))
    expect(learner.get_by_text(SECOND_TEXT)).to_be_visible()

    # The history, from the authoring home: newest first, each with who and what changed.
    admin.goto("/author/")
    admin.get_by_role("link", name="Publication history").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Publication history")
    entries = admin.locator(".publication-list > li")
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("Published by Ada Admin.")
    expect(entries.first).to_contain_text("What learners see now")
    expect(entries.first.get_by_role("link", name=re.compile("^Restore this version"))).to_have_count(0)
    earlier = entries.nth(1)
    earlier.get_by_text(re.compile(r"^What changed")).click()  # the collapsed list opens
    expect(earlier.get_by_role("listitem")).to_have_text([f"Lesson “{lesson.title}”: text changed"])
    check(admin, "history")

    # Restore the first: the confirm page lists what would change, then the restore is published.
    earlier.get_by_role("link", name=re.compile("^Restore this version")).click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Restore the version of")
    changes = admin.get_by_role("region", name="What will change").locator(".change-list > li")
    expect(changes).to_have_text([f"Lesson “{lesson.title}”: text changed"])
    check(admin, "restore")
    admin.get_by_role("button", name="Restore this version").click()
    expect(admin).to_have_url(re.compile(r"/publications$"))
    expect(admin.get_by_role("status").filter(has_text="Restored.")).to_be_visible()
    expect(entries).to_have_count(3)
    expect(entries.first).to_contain_text("Restored the version of")
    expect(entries.first).to_contain_text("What learners see now")
    # The restored version says it is the same as the newest (not live in its own right); the one in
    # between can be restored.
    expect(entries.nth(2)).to_contain_text("The same as version 3, which learners see now")
    expect(entries.nth(2)).not_to_contain_text("What learners see now")
    expect(entries.nth(2).get_by_role("link", name=re.compile("^Restore this version"))).to_have_count(0)
    expect(entries.nth(1).get_by_role("link", name=re.compile("^Restore this version"))).to_have_count(1)
    check(admin, "history-restored")

    # The learner reads the first text again.
    learner.reload()
    expect(learner.get_by_text(FIRST_TEXT)).to_be_visible()
    expect(learner.get_by_text(SECOND_TEXT)).to_have_count(0)
    check.check()
