"""Pages run a fixed number of SQL queries, whatever the learner's history."""

import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Lesson, User
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from tests.conftest import count_queries, lesson_slugs, quiz_form, submit_quiz


def add_failed_attempts(app, user_id: int, lesson_slug: str, n: int) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == lesson_slug))
        questions = quiz_questions(db.session, lesson)
        answers = {q.id: [next(c.id for c in q.choices if not c.is_correct)] for q in questions}
        for _ in range(n):
            quiz_submit_attempt(
                db.session,
                learner=user,
                lesson=lesson,
                questions=questions,
                answers=answers,
                submission_key=uuid.uuid4().hex,
                pass_mark=0.8,
            )
        db.session.remove()


def queries_for(app, request) -> int:
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as counted:
        response = request()
    assert response.status_code in (200, 302)
    return counted()


@pytest.mark.parametrize("page", ["overview", "lesson", "quiz page", "landing"])
def test_page_queries_do_not_grow_with_attempts(learner_client, app, learner, page):
    first = lesson_slugs(app)[0]
    url = {
        "overview": "/courses/naltrexone/",
        "lesson": f"/courses/naltrexone/lessons/{first}",
        "quiz page": f"/courses/naltrexone/lessons/{first}/quiz",
        "landing": "/",
    }[page]
    learner_client.get(url)  # the first visit records the lesson as opened
    before = queries_for(app, lambda: learner_client.get(url))
    add_failed_attempts(app, learner, first, 50)
    after = queries_for(app, lambda: learner_client.get(url))
    assert before == after
    assert after <= 8, after


def test_quiz_submission_queries_do_not_grow_with_attempts(learner_client, app, learner):
    first = lesson_slugs(app)[0]
    wrong = quiz_form(app, first, right=False)
    before = queries_for(app, lambda: submit_quiz(learner_client, first, wrong))
    add_failed_attempts(app, learner, first, 50)
    after = queries_for(app, lambda: submit_quiz(learner_client, first, wrong))
    assert before == after
    assert after <= 30, after
