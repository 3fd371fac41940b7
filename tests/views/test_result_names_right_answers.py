"""A wrong answer on a result names the right one; a partly right answer of several says what was missed.

Before, only a question with several right answers listed them; a wrong one-answer or
true-or-false question left the learner to work the right answer out from the explanation.
"""

from __future__ import annotations

import pytest
from markupsafe import escape

from app.extensions import db
from app.services.course_files import load_course
from app.services.course_import import course_import
from tests.conftest import login, quiz_form, submit_quiz
from tests.factories import COURSE, question_multiple, question_single, question_true_false, write_course


@pytest.fixture
def tiny(app, tmp_path, learner) -> str:
    """The factory's tiny course: each lesson a one-answer, a several-answer and a true-or-false question."""
    with app.app_context():
        course_import(db.session, load_course(write_course(tmp_path)))
        db.session.remove()
    return COURSE["slug"]


def result_of(app, slug: str, pick) -> str:
    """Submit lesson one's quiz with ``pick(right, wrong)`` per question; return the result page."""
    client = app.test_client()
    assert login(client, "learner@example.org").status_code == 302
    right, wrong = (quiz_form(app, "one", right=flag, course_slug=slug) for flag in (True, False))
    answers = {name: pick(name, right[name], wrong[name]) for name in right}
    response = submit_quiz(client, "one", answers, course_slug=slug)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def feedback_for(page: str, prompt: str) -> str:
    return page.split(str(escape(prompt)))[1].split('<p class="explanation">')[0]


def test_a_wrong_one_answer_or_true_false_question_names_its_right_answer(app, tiny):
    page = result_of(app, tiny, lambda name, right, wrong: wrong)
    single = feedback_for(page, question_single()["prompt"])
    assert '<p class="right-answer">The right answer was: <strong>Right answer</strong></p>' in single
    true_false = feedback_for(page, question_true_false()["prompt"])
    assert "The right answer was: <strong>True</strong>" in true_false


def test_a_right_answer_names_nothing_more(app, tiny):
    page = result_of(app, tiny, lambda name, right, wrong: right)
    assert "The right answer was" not in page and "You missed" not in page


def test_a_partly_right_answer_of_several_says_which_right_ones_were_missed(app, tiny):
    multiple_prompt = question_multiple()["prompt"]

    def only_a(name, right, wrong):
        return right[:1] if len(right) > 1 else right  # the several-answer question: one of its two

    page = result_of(app, tiny, only_a)
    shown = feedback_for(page, multiple_prompt)
    assert "The right answers were: A; B." in shown or "The right answers were: B; A." in shown  # as shuffled
    assert "You missed: B." in shown or "You missed: A." in shown
    # Chose none of the right ones: the list of right answers says it all, no "missed" line.
    page = result_of(app, tiny, lambda name, right, wrong: wrong)
    assert "You missed" not in feedback_for(page, multiple_prompt)
