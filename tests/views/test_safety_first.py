"""A result that holds an answer which could put someone at risk says so first.

A quiz can be passed with one wrong answer, and that answer can be a dangerous one (a choice
marked safety-critical). The result must not lead with "well done" and the next lesson while
the warning sits far down the page: a note at the top links to it. The review's result does
the same.
"""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.services.course_files import load_course
from app.services.course_import import course_import
from tests.conftest import COURSE_SLUG, lesson_slugs, login, quiz_form, submit_quiz
from tests.factories import COURSE, question_single, question_true_false, write_course
from tests.views.test_review import REVIEW, make_all_due, review_page

NOTE = "Please read this first"


def the_note_comes_first_and_links_to_the_warning(page: str, before: str) -> None:
    """The note is above ``before`` (the page's next step), and its links lead to dangerous answers."""
    assert NOTE in page and page.index(NOTE) < page.index(before)
    targets = re.findall(r'href="#(answer-\d+)"', page)
    assert targets
    for target in targets:
        answer = page.split(f'id="{target}"')[1].split("</li>\n  <li")[0]
        assert "Warning: this answer could be dangerous" in answer


def test_a_failed_quiz_with_a_dangerous_answer_says_so_before_the_retake(learner_client, app, course):
    first = lesson_slugs(app)[0]  # its true-or-false question's wrong choice is safety-critical
    result = submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    page = learner_client.get(result.headers["Location"]).get_data(as_text=True)
    assert "Not passed yet" in page
    the_note_comes_first_and_links_to_the_warning(page, "Try the quiz again")
    assert "could be dangerous if you acted on it." in page  # one such answer, said as one


def test_a_clean_pass_says_well_done_with_no_note(learner_client, app, course):
    first = lesson_slugs(app)[0]
    result = submit_quiz(learner_client, first, quiz_form(app, first, right=True))
    page = learner_client.get(result.headers["Location"]).get_data(as_text=True)
    assert "You passed" in page and "Well done." in page
    assert NOTE not in page and 'href="#answer-' not in page


@pytest.fixture
def lenient(app, tmp_path) -> str:
    """A course whose pass mark lets one wrong answer in three pass, that answer a dangerous one."""
    dangerous = question_true_false()
    dangerous["shuffle"] = False
    dangerous["choices"][1]["safety_critical"] = True
    quiz = [question_single(1), question_single(2), dangerous]
    lessons = {
        slug: {"front": {"title": f"Lesson {slug}", "minutes": 5, "quiz": quiz}, "body": "Plain words.\n"}
        for slug in ("one", "two", "three")
    }
    with app.app_context():
        course_import(db.session, load_course(write_course(tmp_path, {**COURSE, "pass_mark": 0.6}, lessons)))
        db.session.remove()
    return COURSE["slug"]


def test_a_pass_with_a_dangerous_answer_puts_the_note_before_well_done_and_the_next_lesson(app, lenient, learner):
    client = app.test_client()
    assert login(client, "learner@example.org").status_code == 302
    answers = quiz_form(app, "one", right=True, course_slug=lenient)
    wrong = quiz_form(app, "one", right=False, course_slug=lenient)
    dangerous_question = list(answers)[2]
    answers[dangerous_question] = wrong[dangerous_question]  # "False": the safety-critical choice
    result = submit_quiz(client, "one", answers, course_slug=lenient)
    page = client.get(result.headers["Location"]).get_data(as_text=True)
    assert "You passed: 2 of 3 right" in page
    the_note_comes_first_and_links_to_the_warning(page, "Next lesson")
    assert "Well done" not in page
    assert "The next lesson is now open." in page
    # A pass too: where to get help, and the clinic (app/services/result_help.py).
    assert "Where to get help" in page and '<a href="/contact">Ask the clinic to get in touch</a>' in page


def test_a_review_with_a_dangerous_answer_says_so_first(learner_client, app, course):
    first = lesson_slugs(app)[0]
    submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    make_all_due(app)
    _, fields = review_page(learner_client)
    wrong = quiz_form(app, first, right=False)  # the same wrong answers again, the dangerous one among them
    response = learner_client.post(REVIEW, data={**fields, **wrong})
    assert response.status_code == 302
    page = learner_client.get(response.headers["Location"]).get_data(as_text=True)
    the_note_comes_first_and_links_to_the_warning(page, "Back to the course")
    assert COURSE_SLUG in page
