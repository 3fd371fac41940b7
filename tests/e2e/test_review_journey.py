"""The review of mistakes in a real browser: get questions wrong, come back when they are due, answer, see why."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from app.extensions import db
from app.models import ReviewCard
from app.models.types import utcnow
from tests.conftest import PASSWORD, create_user
from tests.e2e.conftest import answer_quiz, lesson_url, lessons_in_order, log_in_quickly, right_choices, wrong_choices

pytestmark = pytest.mark.e2e


def make_reviews_due(app) -> None:
    """Move every review card's due time into the past: as if the learner came back days later."""
    with app.app_context():
        db.session.execute(update(ReviewCard).values(due=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        db.session.remove()


def answer_review(page, spec, pick) -> None:
    """On the review page, tick ``pick(question)`` for every question it shows, whatever their order, then submit."""
    questions = {question.prompt: question for lesson in spec.lessons.values() for question in lesson.quiz}
    groups = page.get_by_role("group")
    for index in range(groups.count()):
        group = groups.nth(index)
        legend = group.locator("legend").text_content() or ""
        prompt = re.sub(r"^\s*Question \d+\s*", "", legend).strip()
        question = questions[prompt]
        for choice in pick(question):
            group.get_by_label(question.choices[choice].text, exact=True).check()
    page.get_by_role("button", name="Check my answers").click()


def test_mistakes_come_back_for_review(page, app, course_spec):
    first = lessons_in_order(course_spec)[0]
    create_user(app, "rev@example.org", name="Rev Iewer")
    log_in_quickly(page, "rev@example.org", PASSWORD)
    review_url = f"/courses/{course_spec.slug}/review"

    # Every question wrong: nothing to review straight away, the page says when.
    page.goto(lesson_url(course_spec, first, "/quiz"))
    answer_quiz(page, first, wrong_choices)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Not passed yet")
    page.goto(review_url)
    expect(page.get_by_text(re.compile(r"^Your next question comes back on "))).to_be_visible()

    # Days later: the course page and /me/ say how many are due, and link to them.
    make_reviews_due(app)
    count = len(first.quiz)
    page.goto(f"/courses/{course_spec.slug}/")
    page.get_by_role("link", name=f"{count} questions to review").click()
    expect(page).to_have_url(re.compile(re.escape(review_url) + "$"))
    expect(page.get_by_role("group")).to_have_count(count)

    # Answered right this time: the same feedback as the quiz result, and nothing left for now.
    answer_review(page, course_spec, right_choices)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{count} of {count} right")
    for question in first.quiz:
        for choice in question.choices:
            if choice.correct:
                expect(page.get_by_text(choice.feedback, exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Nothing else to review now; next review on "))).to_be_visible()
    page.goto("/me/")
    expect(page.get_by_role("link", name=re.compile("questions? to review"))).to_have_count(0)
