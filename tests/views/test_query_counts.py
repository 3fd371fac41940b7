"""Pages run a fixed number of SQL queries, whatever the learner's history."""

import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Lesson, User
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from tests.conftest import count_queries, learner_page_urls, lesson_slugs, quiz_form, submit_quiz


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


LEARNER_PAGES = ["landing", "overview", "lesson", "quiz page", "quiz result", "attempts", "my page", "certificate"]


@pytest.mark.parametrize("page", LEARNER_PAGES)
def test_learner_pages_run_a_fixed_few_queries_whatever_the_history(learner_client, app, learner, page, course):
    first = lesson_slugs(app)[0]
    result = submit_quiz(learner_client, first, quiz_form(app, first, right=False)).headers["Location"]
    url = {
        **learner_page_urls(course, first),
        "quiz result": result,
        "attempts": f"/courses/{course}/lessons/{first}/quiz/attempts",
        "certificate": f"/courses/{course}/certificate",  # not finished yet: a redirect
    }[page]
    learner_client.get(url)  # a lesson's first visit also records that it was opened
    before = queries_for(app, lambda: learner_client.get(url))
    add_failed_attempts(app, learner, first, 50)
    after = queries_for(app, lambda: learner_client.get(url))
    assert before == after
    assert after <= MOST_QUERIES[page], after


# One query loads the signed-in user with the course version and the learner's progress on the
# learner's pages (app/learn/page_reads.py), and the course content comes from the cache; the
# overview's and /me/'s count of questions due for review comes with it. Then a page's own data:
# the result's reads the attempt, the attempts page reads a page of them with their count, the
# certificate's reads the certificate, and /me/'s reads the rest of the page together (whom the
# learner shares with, their requests to the clinic, their attempts summed up per lesson:
# app/services/my_page.py). The landing page's outline comes with the user too.
MOST_QUERIES = {
    "landing": 1,
    "overview": 1,
    "lesson": 1,
    "quiz page": 1,
    "quiz result": 2,
    "attempts": 2,
    "my page": 2,
    "certificate": 2,
}


def test_opening_a_lesson_for_the_first_time_adds_one_write(learner_client, app, course):
    first = lesson_slugs(app)[0]
    url = f"/courses/{course}/lessons/{first}"
    learner_client.get(f"/courses/{course}/")  # this worker has now cached the course content
    first_visit = queries_for(app, lambda: learner_client.get(url))
    later_visit = queries_for(app, lambda: learner_client.get(url))
    assert first_visit == later_visit + 1


def test_opening_a_quiz_for_the_first_time_adds_one_write(learner_client, app, course):
    """Opening a quiz opens its lesson: one INSERT, then nothing more on later visits."""
    first = lesson_slugs(app)[0]
    url = f"/courses/{course}/lessons/{first}/quiz"
    learner_client.get(f"/courses/{course}/")  # this worker has now cached the course content
    first_visit = queries_for(app, lambda: learner_client.get(url))
    later_visit = queries_for(app, lambda: learner_client.get(url))
    assert first_visit == later_visit + 1


def test_quiz_submission_queries_do_not_grow_with_attempts(learner_client, app, learner, course):
    first = lesson_slugs(app)[0]
    wrong = quiz_form(app, first, right=False)
    learner_client.get(f"/courses/{course}/")  # the course content is cached from here on
    learner_client.get(f"/courses/{course}/lessons/{first}/quiz")  # its first visit records the lesson opened
    # The first answers to a question store its version as shown (app/services/quizzes.py); later ones find it.
    submit_quiz(learner_client, first, wrong)
    before = queries_for(app, lambda: submit_quiz(learner_client, first, wrong))
    add_failed_attempts(app, learner, first, 50)
    after = queries_for(app, lambda: submit_quiz(learner_client, first, wrong))
    assert before == after
    with app.app_context():
        dialect = db.engine.dialect.name
    # The quiz page's GET (1), then the POST: the user with the outline and the learner's cards (the
    # questions graded against are kept per content version since the first submission), and on
    # PostgreSQL one statement for the attempt, its answers and the cards moved on
    # (app/services/attempt_insert.py); SQLite takes four for what that one does.
    assert after == (3 if dialect == "postgresql" else 6), after
