"""The lesson and question editors in a real browser, with their scripts running.

The lesson editor puts the learner's page beside the form on a desktop and below it on a phone,
and the preview follows what is typed (the server renders it; nothing is saved). The question
editor asks for the right answer as the quiz does (radio buttons for one, checkboxes for several),
swaps them when the kind changes without dropping a tick, and shows the question and each
choice's feedback as learners see them. axe-core checks each page at 1280 and 375 px;
screenshots go to tests/e2e/screenshots/. With script switched off, both still work through their "Preview" buttons.
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
    lessons_in_order,
    log_in_quickly,
    save_screenshots,
)

pytestmark = pytest.mark.e2e

ADMIN_EMAIL = "ada.admin@example.org"
PHONE = {"width": 375, "height": 812}
TYPED = "Typed in the browser: **the preview follows** as you type."
TYPED_SENTENCE = "Typed in the browser: the preview follows as you type."


def audit(page, axe_source: str, name: str) -> None:
    """axe-core at a desktop's and a small phone's width, then screenshots of both."""
    failures = []
    for label, viewport in (("1280 px", DESKTOP), ("375 px", PHONE)):
        page.set_viewport_size(viewport)
        violations = axe_violations(page, axe_source)
        if violations:
            failures.append(describe_violations(f"{name} at {label}", violations))
    save_screenshots(page, name)
    assert not failures, "\n\n".join(failures)


@pytest.fixture
def admin(page, app):
    create_user(app, ADMIN_EMAIL, role=Role.ADMIN, name="Ada Admin")
    log_in_quickly(page, ADMIN_EMAIL, PASSWORD)
    return page


def test_the_lesson_preview_follows_the_typing(admin, app, course_spec, axe_source):
    page = admin
    lesson = lessons_in_order(course_spec)[0]
    page.goto(f"/author/courses/{course_spec.slug}/lessons/{lesson.slug}/edit")
    form = page.locator("form.editor-form")
    preview = page.get_by_role("region", name=re.compile("^Preview"))
    expect(preview).to_contain_text("Preview: what learners will see once published")

    # On a desktop the learner's page sits beside the form, not under it.
    form_box, preview_box = form.bounding_box(), preview.bounding_box()
    assert preview_box["x"] >= form_box["x"] + form_box["width"], (form_box, preview_box)
    assert abs(preview_box["y"] - form_box["y"]) < 50

    body = page.get_by_label("Lesson text (Markdown)")
    body.click()
    body.press("Control+End")
    body.press_sequentially("\n\n" + TYPED, delay=5)

    expect(preview.get_by_role("heading", level=2).first).to_have_text("Preview of your text (not saved yet)")
    expect(preview.get_by_role("paragraph").filter(has_text=TYPED_SENTENCE)).to_have_count(1)
    expect(preview.locator("strong").filter(has_text="the preview follows")).to_have_count(1)
    expect(page.get_by_role("status").filter(has_text="Preview updated.")).to_have_count(1)
    expect(body).to_be_focused()  # the update never takes the cursor away

    page.get_by_label("Title", exact=True).fill("A title typed live")
    expect(preview.get_by_role("heading", level=1)).to_have_text("A title typed live")
    audit(page, axe_source, "author-lesson-live-preview")

    # On a phone the preview follows the form.
    page.set_viewport_size(PHONE)
    form_box, preview_box = form.bounding_box(), preview.bounding_box()
    assert preview_box["y"] >= form_box["y"] + form_box["height"], (form_box, preview_box)
    page.set_viewport_size(DESKTOP)

    # Nothing was saved: the page opened afresh shows the saved text.
    page.reload()
    expect(body).not_to_have_value(re.compile("Typed in the browser"))


def test_the_question_editor_asks_for_the_right_answer_as_the_quiz_does(admin, app, course_spec, axe_source):
    page = admin
    lesson = lessons_in_order(course_spec)[0]
    number, question = next((n, q) for n, q in enumerate(lesson.quiz, start=1) if q.kind == "single")
    right = next(i for i, choice in enumerate(question.choices) if choice.correct)
    page.goto(f"/author/courses/{course_spec.slug}/lessons/{lesson.slug}/questions/{number}/edit")
    choices = page.get_by_role("group", name="Choices", exact=True)

    # One right answer: a radio button in each row, the right one picked; no checkbox shown.
    radios = choices.get_by_role("radio", name="The right answer")
    expect(radios).to_have_count(len(question.choices) + 3)  # three blank rows to add choices
    expect(radios.nth(right)).to_be_checked()
    expect(choices.get_by_role("checkbox", name="A right answer")).to_have_count(0)

    # The question as learners see it, and what each choice tells them.
    shown = page.get_by_role("region", name="Preview: the question as learners see it")
    asked = shown.get_by_role("group", name=f"Question {number} {question.prompt}", exact=True)
    for choice in question.choices:
        expect(asked.get_by_role("radio", name=choice.text, exact=True)).to_be_visible()
    told = page.get_by_role("region", name="After answering: what each choice shows")
    each = told.get_by_role("heading", name=f"Question {number} {question.prompt}", exact=True)
    expect(each).to_have_count(len(question.choices))
    expect(told).to_contain_text(question.choices[right].feedback)
    audit(page, axe_source, "author-question-single")

    # Made a multiple question: checkboxes at once, the right answer still ticked.
    page.get_by_label("Kind").select_option("multiple")
    boxes = choices.get_by_role("checkbox", name="A right answer")
    expect(boxes).to_have_count(len(question.choices) + 3)
    expect(choices.get_by_role("radio")).to_have_count(0)
    expect(boxes.nth(right)).to_be_checked()
    other = (right + 1) % len(question.choices)
    boxes.nth(other).check()
    audit(page, axe_source, "author-question-multiple")

    # Back to one right answer with two ticked: no tick is dropped. A radio button holds one,
    # so the checkboxes stay, both ticked, and the hint says to leave one.
    page.get_by_label("Kind").select_option("single")
    expect(boxes.nth(right)).to_be_checked()
    expect(boxes.nth(other)).to_be_checked()
    expect(choices.get_by_role("radio")).to_have_count(0)
    expect(choices.get_by_text("This kind of question has one right answer, and several are ticked")).to_be_visible()
    expect(choices.get_by_text("Tick “A right answer” on every right answer.")).to_be_hidden()

    # Saving it so is refused, with the kind's rule beside the choices; the form keeps both ticks.
    page.get_by_role("textbox", name="Question").fill("Edited before the refused save?")
    page.get_by_role("button", name="Save to draft").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    expect(choices).to_contain_text("A one-answer question (kind: single) needs exactly one correct choice, found 2")
    expect(page.get_by_label("Kind")).to_have_value("single")
    expect(page.get_by_role("textbox", name="Question")).to_have_value("Edited before the refused save?")
    expect(boxes.nth(right)).to_be_checked()
    expect(boxes.nth(other)).to_be_checked()
    expect(choices.get_by_role("radio")).to_have_count(0)

    # With one tick left, the kinds swap controls again, carrying it across.
    boxes.nth(other).uncheck()
    page.get_by_label("Kind").select_option("multiple")
    page.get_by_label("Kind").select_option("single")
    expect(radios.nth(right)).to_be_checked()
    expect(choices.get_by_role("checkbox", name="A right answer")).to_have_count(0)

    # Saved as a multiple question with two right answers, it comes back with both ticked.
    page.get_by_role("textbox", name="Question").fill(question.prompt)
    page.get_by_label("Kind").select_option("multiple")
    boxes.nth(other).check()
    page.get_by_role("button", name="Save to draft").click()
    expect(page.get_by_role("status").filter(has_text=f"Question {number} saved to the draft")).to_be_visible()
    page.goto(f"/author/courses/{course_spec.slug}/lessons/{lesson.slug}/questions/{number}/edit")
    expect(boxes.nth(right)).to_be_checked()
    expect(boxes.nth(other)).to_be_checked()


def test_both_editors_work_without_script(browser, live_server, app, course_spec):
    create_user(app, ADMIN_EMAIL, role=Role.ADMIN, name="Ada Admin")
    context = browser.new_context(base_url=live_server, viewport=DESKTOP, locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(30_000)  # as the page fixture's (conftest.py)
    page = context.new_page()
    try:
        log_in_quickly(page, ADMIN_EMAIL, PASSWORD)
        lesson = lessons_in_order(course_spec)[0]
        base = f"/author/courses/{course_spec.slug}/lessons/{lesson.slug}"

        # The lesson: typing changes nothing until "Preview" posts the form.
        page.goto(f"{base}/edit")
        body = page.get_by_label("Lesson text (Markdown)")
        body.fill(body.input_value() + "\n\n" + TYPED)
        expect(page.get_by_text(TYPED_SENTENCE)).to_have_count(0)
        page.get_by_role("button", name="Preview").click()
        preview = page.get_by_role("region", name="Preview of your text (not saved yet)")
        expect(preview.get_by_role("paragraph").filter(has_text=TYPED_SENTENCE)).to_have_count(1)

        # The question: made a multiple one, "Preview" brings the checkboxes, the right answer ticked.
        number, question = next((n, q) for n, q in enumerate(lesson.quiz, start=1) if q.kind == "single")
        right = next(i for i, choice in enumerate(question.choices) if choice.correct)
        page.goto(f"{base}/questions/{number}/edit")
        choices = page.get_by_role("group", name="Choices", exact=True)
        expect(choices.get_by_role("checkbox", name="A right answer")).to_have_count(0)
        page.get_by_label("Kind").select_option("multiple")
        page.get_by_role("button", name="Preview").click()
        boxes = choices.get_by_role("checkbox", name="A right answer")
        expect(boxes.nth(right)).to_be_checked()
        expect(choices.get_by_role("radio")).to_have_count(0)
        shown = page.get_by_role("region", name="Preview of your question (not saved yet)")
        asked = shown.get_by_role("group", name=f"Question {number} {question.prompt}", exact=True)
        expect(asked.get_by_role("checkbox")).to_have_count(len(question.choices))
        expect(asked).to_contain_text("Select all that apply.")
    finally:
        context.close()
