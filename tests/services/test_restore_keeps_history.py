"""Rolling back never rewrites a past attempt: each keeps what its learner saw.

A learner fails the first quiz on version 1. Version 2 rewords the question and drops the
choice they picked (retired: they used it); restoring version 1 brings both back. Before and
after each step, the attempt's rows are the same and its result page shows the same thing,
answer by answer. A second attempt made on version 2 keeps version 2's wording after the restore.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.services import authoring
from app.services.progress import course_by_slug
from tests.conftest import COURSE_SLUG, create_user, login, quiz_form, submit_quiz
from tests.services.test_history_stays_true import FIRST, as_input, delete_picked, history_rows, reword


@pytest.fixture
def learner_client(app, client, course):
    create_user(app, "learner@example.org")
    assert login(client).status_code == 302
    return client


def fail_quiz(app, client) -> str:
    """Fail the first quiz (the first wrong choice each time); return the result page's URL."""
    response = submit_quiz(client, FIRST, quiz_form(app, FIRST, right=False))
    assert response.status_code == 302
    return response.headers["Location"]


def rendered_answers(client, url: str) -> list[str]:
    """The result page's answers, one string each: the question as shown, the pick, the feedback."""
    response = client.get(url)
    assert response.status_code == 200
    feedback = re.search(r'<ol class="feedback-list">(.*?)</ol>', response.get_data(as_text=True), re.S).group(1)
    # One <li class="feedback ..."> an answer (the choices inside are <li>s of their own).
    return [item.strip() for item in re.split(r'(?=<li class="feedback )', feedback) if item.strip()]


def publish_first_question(app, change, body: str) -> int:
    """Publish a new lesson body and, with ``change``, an edit of the first question; return the publication id."""
    with app.app_context():
        course = course_by_slug(db.session, COURSE_SLUG)
        lesson = authoring.draft_lesson(authoring.draft_data(db.session, course), FIRST)["front"]
        authoring.lesson_update(
            db.session, course=course, lesson_slug=FIRST, title=lesson["title"], minutes=lesson["minutes"], body=body
        )
        if change is not None:
            question = authoring.draft_question(authoring.draft_data(db.session, course), FIRST, 1)
            authoring.question_update(
                db.session, course=course, lesson_slug=FIRST, position=1, question=change(as_input(question))
            )
        publication_id = authoring.publish(db.session, course=course).id
        db.session.remove()
        return publication_id


def restore(app, publication_id: int) -> None:
    with app.app_context():
        course = course_by_slug(db.session, COURSE_SLUG)
        publication = authoring.publication_get(db.session, course=course, publication_id=publication_id)
        authoring.publication_restore(
            db.session, course=course, publication=publication, user_id=None, zone=ZoneInfo("Europe/London")
        )
        db.session.remove()


def both(change):
    return lambda question: delete_picked(change(question))


def test_restoring_leaves_every_past_attempt_as_its_learner_saw_it(app, learner_client):
    version_one = publish_first_question(app, None, "Version one.")
    on_one = fail_quiz(app, learner_client)
    answers_on_one, rows = rendered_answers(learner_client, on_one), history_rows(app)
    assert len(answers_on_one) == 3 and all("You chose" in answer for answer in answers_on_one)

    publish_first_question(app, both(reword), "Version two.")
    assert rendered_answers(learner_client, on_one) == answers_on_one
    on_two = fail_quiz(app, learner_client)
    answers_on_two = rendered_answers(learner_client, on_two)
    assert "Reworded prompt?" in answers_on_two[0] and "Reworded prompt?" not in answers_on_one[0]
    rows_on_two = history_rows(app)

    restore(app, version_one)

    # The quiz shows version 1 again...
    quiz = learner_client.get(f"/courses/{COURSE_SLUG}/lessons/{FIRST}/quiz").get_data(as_text=True)
    assert "Reworded prompt?" not in quiz and "Version one." in learner_client.get(
        f"/courses/{COURSE_SLUG}/lessons/{FIRST}"
    ).get_data(as_text=True)
    # ...while each attempt shows, answer by answer, what it showed before, and its rows are untouched.
    assert rendered_answers(learner_client, on_one) == answers_on_one
    assert rendered_answers(learner_client, on_two) == answers_on_two
    assert history_rows(app) == rows_on_two
    # The first attempt's rows were already the same after version 2 as on version 1.
    for table, before in rows.items():
        assert [row for row in rows_on_two[table] if row in before] == before, table
