"""Back to a quiz after submitting it, in a real browser: no old ticks on new choices.

Each visit to a quiz shuffles its choices anew. A browser going back restores a form's ticks by
their place on the page, so the ticks of the answers sent landed on other choices, and sending
the form again recorded answers the learner never chose. The quiz and review forms ask the
browser not to restore them.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import answer_quiz, lesson_url, lessons_in_order, log_in_quickly, right_choices
from tests.e2e.test_review_journey import make_reviews_due

pytestmark = pytest.mark.e2e


def test_going_back_to_a_submitted_quiz_or_review_shows_no_ticks(page, app, course_spec):
    first = lessons_in_order(course_spec)[0]
    create_user(app, "back@example.org", name="Bea Back")
    log_in_quickly(page, "back@example.org", PASSWORD)

    page.goto(lesson_url(course_spec, first, "/quiz"))
    answer_quiz(page, first, right_choices)
    expect(page.get_by_role("heading", level=1)).to_contain_text("You passed")
    page.go_back()
    expect(page.get_by_role("button", name="Submit my answers")).to_be_visible()
    expect(page.locator("form.quiz input:checked")).to_have_count(0)

    # The review's form too: get one wrong, make it due, answer it, go back.
    page.goto(lesson_url(course_spec, first, "/quiz"))
    answer_quiz(page, first, lambda question: [next(i for i, c in enumerate(question.choices) if not c.correct)])
    make_reviews_due(app)
    page.goto(f"/courses/{course_spec.slug}/review")
    for radio_group in page.locator("form.quiz fieldset").all():
        radio_group.locator("input").first.check()
    page.get_by_role("button", name="Check my answers").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("right")
    make_reviews_due(app)  # due again, so going back shows the form, not "nothing to review"
    page.go_back()
    expect(page.get_by_role("button", name="Check my answers")).to_be_visible()
    expect(page.locator("form.quiz input:checked")).to_have_count(0)
