"""Attempts at a lesson since removed from the course stay the learner's to read.

The learner completes lesson one of the three-lesson factory course and fails lesson two's
quiz twice; a re-import without lesson two retires it. Their attempts at it must still be
listed on /me/, and their attempts page and each result must still open, as they were shown,
for them and for no one else. Lesson two is no longer a lesson to take: no retake, no review.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Lesson, QuizAttempt, User
from app.services.attempt_history import removed_lesson, removed_lessons
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.progress import course_by_slug, lesson_record_completion
from app.services.quizzes import quiz_questions
from tests.conftest import count_queries, login
from tests.factories import write_course
from tests.services.test_retired_lessons import fail_quiz, without_lesson_two

TWO = "/courses/tiny/lessons/two/quiz/attempts"


@pytest.fixture
def removed(app, tmp_path, learner) -> dict:
    """Lesson one completed and lesson two failed twice, then two removed by a re-import without it.

    Returns the attempts' ids (newest first) and the prompts the learner was shown."""
    with app.app_context():
        session = db.session
        course_import(session, load_course(write_course(tmp_path / "v1")))
        user = session.get(User, learner)
        one = session.scalar(select(Lesson).where(Lesson.slug == "one"))
        lesson_record_completion(session, learner=user, lesson=one)
        two = session.scalar(select(Lesson).where(Lesson.slug == "two"))
        fail_quiz(session, user, two, times=2)
        session.commit()
        prompts = [q.prompt for q in quiz_questions(session, two)]
        newest_first = select(QuizAttempt.id).where(QuizAttempt.lesson_id == two.id).order_by(QuizAttempt.id.desc())
        ids = list(session.scalars(newest_first))
        assert course_import(session, load_course(without_lesson_two(tmp_path / "v2"))).retired["lessons"] == 1
        session.remove()
    return {"attempts": ids, "prompts": prompts}


def logged_in(app, email: str = "learner@example.org"):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def test_me_lists_the_removed_lessons_attempts_after_the_live_ones(app, removed):
    page = logged_in(app).get("/me/").get_data(as_text=True)

    assert "Lesson two (no longer in the course)" in re.sub(r"<[^>]+>", "", page)
    item = page[page.index("no longer in the course") :].split("</li>")[0]
    assert f'href="{TWO}/{removed["attempts"][0]}"' in item and "not passed" in item
    assert f'<a href="{TWO}">All 2 attempts at this lesson</a>' in item
    assert 'href="/courses/tiny/lessons/two"' not in page  # the lesson itself is gone


def test_the_removed_lessons_attempts_page_lists_them_with_nothing_to_retake(app, removed):
    response = logged_in(app).get(TWO)
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "“Lesson two” has been removed from the course" in page and "Your 2 attempts at its quiz are kept" in page
    for attempt_id in removed["attempts"]:
        assert f'href="{TWO}/{attempt_id}"' in page
    assert '/lessons/two/quiz"' not in page and "Take the quiz" not in page


def test_a_result_at_a_removed_lesson_shows_what_was_shown_and_no_retake(app, removed):
    response = logged_in(app).get(f"{TWO}/{removed['attempts'][-1]}")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Not passed yet" in page and "This lesson has since been removed from the course" in page
    for prompt in removed["prompts"]:
        assert prompt in page
    assert "Try the quiz again" not in page and "Read the lesson again" not in page
    assert "your review" not in page  # a removed lesson's questions never come back for review
    assert f'href="{TWO}"' in page and 'href="/me/"' in page


def test_no_one_else_sees_the_removed_lessons_attempts(app, removed, other_learner):
    other = logged_in(app, "fred@example.org")

    assert other.get(TWO).status_code == 404  # no attempts of their own: the lesson is gone
    assert other.get(f"{TWO}/{removed['attempts'][0]}").status_code == 404
    assert "no longer in the course" not in other.get("/me/").get_data(as_text=True)


def test_a_slug_that_never_was_is_still_404(app, removed):
    client = logged_in(app)
    assert client.get("/courses/tiny/lessons/nothing/quiz/attempts").status_code == 404
    assert client.get(f"/courses/tiny/lessons/nothing/quiz/attempts/{removed['attempts'][0]}").status_code == 404
    # An attempt at the removed lesson is not found under a live lesson's address either.
    assert client.get(f"/courses/tiny/lessons/one/quiz/attempts/{removed['attempts'][0]}").status_code == 404


def test_me_reads_the_removed_lessons_in_one_more_query_only_when_there_are_some(app, removed, other_learner):
    """The learner with removed attempts costs one query more than one without, whatever they are."""

    def queries(email: str) -> int:
        client = logged_in(app, email)
        client.get("/me/")  # anything done once per worker or session, done
        with app.app_context(), count_queries(db.engine) as counted:
            assert client.get("/me/").status_code == 200
        return counted()

    assert queries("learner@example.org") == queries("fred@example.org") + 1


def test_removed_lesson_finds_only_a_removed_lesson_of_that_course(session, removed):
    course = course_by_slug(session, "tiny")
    two = removed_lesson(session, course_id=course.id, slug="two")

    assert two is not None and two.retired_at is not None
    assert removed_lesson(session, course_id=course.id, slug="one") is None  # live
    assert removed_lesson(session, course_id=course.id + 1, slug="two") is None
    one = session.scalar(select(Lesson.id).where(Lesson.slug == "one"))
    assert [lesson.id for lesson in removed_lessons(session, lesson_ids={one, two.id})] == [two.id]
    assert removed_lessons(session, lesson_ids=set()) == []
