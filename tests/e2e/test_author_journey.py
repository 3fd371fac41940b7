"""An admin and a learner in two real browsers: edit, preview, publish; history stays true.

The learner fails lesson 1's quiz once. The admin then edits the lesson's text (previewing it as
learners will see it) and the feedback of the choice the learner picked, reviews and publishes.
Drafts stay invisible to the learner until then; afterwards the lesson shows the new text, the
earlier attempt still shows the feedback as it was, and a new attempt shows the new wording.

Along the way, axe-core (WCAG 2.1 A and AA) checks the authoring pages (with unpublished changes,
with validation errors, the preview, the publish page), the analytics page with attempts recorded
and the user pages; phone and desktop screenshots go to tests/e2e/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import Audit, answer_quiz, lesson_url, lessons_in_order, log_in_quickly, wrong_choices

pytestmark = pytest.mark.e2e

ADMIN_EMAIL = "ada.admin@example.org"
LEARNER_EMAIL = "lee.learner@example.org"
LEARNER = "Lee Learner"
COUNSELLOR = "Casey Counsellor"
# Markdown as the admin types it, and the sentence learners should read once it is published.
NEW_MARKDOWN = "Checked in the browser: **the blocker stays put for about a day** after each tablet."
NEW_SENTENCE = "Checked in the browser: the blocker stays put for about a day after each tablet."
NEW_FEEDBACK = "Not quite (reworded in the browser): this choice describes a different medicine."


def heading(page):
    """The page's h1 (the lesson preview adds the learner's page, with its own h1, further down)."""
    return page.get_by_role("heading", level=1).first


def test_author_journey(page, learner_page, app, course_spec, axe_source):
    audit = Audit(axe_source)
    admin, learner = page, learner_page
    lesson = lessons_in_order(course_spec)[0]
    number, question = next((n, q) for n, q in enumerate(lesson.quiz, start=1) if q.kind == "single")
    picked = wrong_choices(question)[0]
    chosen = question.choices[picked]
    old_feedback = chosen.feedback
    create_user(app, ADMIN_EMAIL, role=Role.ADMIN, name="Ada Admin")
    create_user(app, LEARNER_EMAIL, name=LEARNER)
    create_user(app, "casey.counsellor@example.org", role=Role.COUNSELLOR, name=COUNSELLOR)

    # The learner fails lesson 1's quiz once; that attempt shows the feedback as written today.
    log_in_quickly(learner, LEARNER_EMAIL, PASSWORD)
    learner.goto(lesson_url(course_spec, lesson))
    learner.get_by_role("link", name="Take the quiz").click()
    answer_quiz(learner, lesson, wrong_choices)
    expect(learner.get_by_role("heading", level=1)).to_contain_text("Not passed yet")
    earlier_attempt = learner.url
    assert re.search(r"/quiz/attempts/\d+$", earlier_attempt), earlier_attempt
    feedback_item = learner.get_by_role("listitem").filter(
        has=learner.get_by_role("heading", name=f"Question {number} {question.prompt}", exact=True)
    )
    expect(feedback_item).to_contain_text(f"You chose {chosen.text}")
    expect(feedback_item).to_contain_text(old_feedback)

    # The admin opens the authoring area from the main navigation: nothing is waiting to publish.
    log_in_quickly(admin, ADMIN_EMAIL, PASSWORD)
    admin.goto("/")  # where logging in lands
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Authoring").click()
    expect(admin).to_have_url(re.compile(r"/author/$"))
    expect(admin.get_by_role("heading", level=1)).to_have_text("Authoring and administration")
    expect(admin.get_by_text("No unpublished changes.")).to_be_visible()

    # ... opens lesson 1, and first tries to save it without a title.
    admin.get_by_role("link", name=lesson.title, exact=True).click()
    expect(heading(admin)).to_have_text("Edit lesson")
    title = admin.get_by_label("Title", exact=True)
    body = admin.get_by_label("Lesson text (Markdown)")
    expect(title).to_have_value(lesson.title)
    title.fill("")
    admin.get_by_role("button", name="Save to draft").click()
    expect(admin.get_by_role("alert")).to_contain_text("Nothing was saved")
    expect(admin.get_by_role("alert").get_by_role("link", name="Give it a title.")).to_have_attribute("href", "#title")
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_accessible_description("Give it a title.")
    # Not the saved lesson's preview (it would mix in the saved title), but the live one of the form.
    live = admin.get_by_role("region", name="Preview of your text (not saved yet)")
    expect(live.get_by_role("heading", level=1)).to_have_text("(No title yet)")
    audit(admin, "author-lesson-edit-error")

    # ... puts the title back, adds a sentence and previews it exactly as learners will see it.
    title.fill(lesson.title)
    body.fill(body.input_value().rstrip() + "\n\n" + NEW_MARKDOWN + "\n")
    admin.get_by_role("button", name="Preview").click()
    expect(admin.get_by_role("alert")).to_have_count(0)
    preview = admin.get_by_role("region", name="Preview of your text (not saved yet)")
    # The page opens at the preview, not at the top of the long form.
    expect(admin.get_by_role("heading", name="Preview of your text (not saved yet)")).to_be_in_viewport()
    expect(preview.get_by_role("heading", level=1)).to_have_text(lesson.title)
    expect(preview.get_by_role("paragraph").filter(has_text=NEW_SENTENCE)).to_have_count(1)
    expect(preview.locator("strong")).to_contain_text(["the blocker stays put for about a day"])
    expect(preview).not_to_contain_text("**")
    expect(body).to_have_value(re.compile(re.escape(NEW_MARKDOWN)))  # the text is kept for saving
    audit(admin, "author-lesson-preview")

    # ... and saves it to the draft.
    admin.get_by_role("button", name="Save to draft").click()
    expect(admin.get_by_role("status").filter(has_text="Lesson saved to the draft")).to_be_visible()
    saved = admin.get_by_role("region", name="Preview: what learners will see once published")
    expect(saved.get_by_text(NEW_SENTENCE)).to_be_visible()
    audit(admin, "author-lesson-edit")

    # Drafts are invisible to learners: lesson 1 still reads as before.
    learner.goto(lesson_url(course_spec, lesson))
    expect(learner.get_by_role("heading", level=1)).to_have_text(lesson.title)
    expect(learner.get_by_text(NEW_SENTENCE)).to_have_count(0)

    # The admin opens the question the learner got wrong (one right answer: radio buttons) and
    # first saves it with the feedback of the choice the learner picked left empty.
    admin.get_by_role("region", name="Quiz").get_by_role("link", name=question.prompt, exact=True).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(f"Edit question {number}")
    row = admin.get_by_role("group", name=f"Choice {picked + 1}", exact=True)
    expect(row.get_by_label("Text", exact=True)).to_have_value(chosen.text)
    expect(row.get_by_label("Feedback when chosen")).to_have_value(old_feedback)
    expect(row.get_by_role("radio", name="The right answer")).not_to_be_checked()
    row.get_by_label("Feedback when chosen").fill("")
    admin.get_by_role("button", name="Save to draft").click()
    alert = admin.get_by_role("alert")
    expect(alert).to_contain_text("Nothing was saved")
    expect(alert.get_by_role("link", name="Is required")).to_have_attribute("href", f"#choices-{picked}-feedback")
    expect(row.get_by_label("Feedback when chosen")).to_have_accessible_description("Is required")
    audit(admin, "author-question-edit-error")

    # ... puts that right, rewording the feedback.
    row.get_by_label("Feedback when chosen").fill(NEW_FEEDBACK)
    admin.get_by_role("button", name="Save to draft").click()
    expect(admin.get_by_role("status").filter(has_text=f"Question {number} saved to the draft")).to_be_visible()
    expect(heading(admin)).to_have_text("Edit lesson")
    admin.get_by_role("region", name="Quiz").get_by_role("link", name=question.prompt, exact=True).click()
    expect(row.get_by_label("Feedback when chosen")).to_have_value(NEW_FEEDBACK)
    audit(admin, "author-question-edit")

    # The outline now lists the unpublished changes; the publish page shows them both.
    admin.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Authoring").click()
    expect(admin.get_by_role("heading", name="Unpublished changes")).to_be_visible()
    audit(admin, "author-index-draft")
    admin.get_by_role("link", name="Review before publishing").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(f"Publish “{course_spec.title}”")
    what_changes = admin.get_by_role("region", name="What will change")
    expect(what_changes.locator(".change-list").first.get_by_role("listitem")).to_have_text(
        [
            f"Lesson “{lesson.title}”: text changed",
            f"Lesson “{lesson.title}”, question {number}, choice {picked + 1}: feedback changed",
        ]
    )
    # The content changes under the review date learners see: said, never blocking.
    warnings = what_changes.get_by_role("region", name="Quality warnings")
    expect(warnings).to_contain_text("the content changes, but its review is still dated")
    audit(admin, "author-publish")

    # Still nothing new for the learner until the admin publishes.
    learner.reload()
    expect(learner.get_by_role("heading", level=1)).to_have_text(lesson.title)
    expect(learner.get_by_text(NEW_SENTENCE)).to_have_count(0)

    admin.get_by_role("button", name="Publish these changes").click()
    expect(admin).to_have_url(re.compile(r"/author/$"))
    expect(admin.get_by_role("status").filter(has_text="Published.")).to_be_visible()
    expect(admin.get_by_text("No unpublished changes.")).to_be_visible()

    # The learner reloads lesson 1 and reads the new sentence, rendered from the Markdown.
    learner.reload()
    expect(learner.get_by_role("paragraph").filter(has_text=NEW_SENTENCE)).to_have_count(1)
    expect(learner.locator("strong", has_text="the blocker stays put for about a day")).to_be_visible()

    # The earlier attempt still shows the feedback the learner was given then, not the new wording.
    learner.goto(earlier_attempt)
    expect(feedback_item).to_contain_text(f"You chose {chosen.text}")
    expect(feedback_item).to_contain_text(old_feedback)
    expect(learner.get_by_text(NEW_FEEDBACK)).to_have_count(0)

    # A new attempt, with the same answers, shows the new wording.
    learner.get_by_role("link", name="Try the quiz again").click()
    answer_quiz(learner, lesson, wrong_choices)
    expect(learner.get_by_role("heading", level=1)).to_contain_text("Not passed yet")
    assert learner.url != earlier_attempt
    expect(feedback_item).to_contain_text(NEW_FEEDBACK)
    expect(feedback_item).not_to_contain_text(old_feedback)

    # Analytics, with the learner's two attempts recorded.
    admin.get_by_role("link", name="Question analytics").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Question analytics")
    overview = admin.get_by_role("region", name="Learners who started, passed and gave up each lesson")
    first_row = overview.get_by_role("row").filter(has=admin.get_by_role("rowheader", name=f"1. {lesson.title}"))
    expect(first_row.get_by_role("cell").first).to_have_text("1")  # started
    stats = admin.get_by_role("row").filter(has_text=question.prompt)
    expect(stats.get_by_role("cell").nth(1)).to_have_text("2")  # answers: both attempts
    expect(stats.get_by_role("cell").nth(2)).to_have_text("1")  # first tries: one learner
    audit(admin, "author-analytics")

    # Users: the list, and the learner's own page.
    admin.goto("/author/")
    admin.get_by_role("link", name="Users and roles").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Users")
    expect(admin.get_by_role("status").filter(has_text="3 accounts")).to_be_visible()
    audit(admin, "author-users")
    admin.get_by_role("link", name=LEARNER).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(LEARNER)
    expect(admin.get_by_text(LEARNER_EMAIL)).to_be_visible()
    expect(admin.get_by_label("Counsellor", exact=True)).to_contain_text(COUNSELLOR)
    audit(admin, "author-user-detail")

    audit.check()
