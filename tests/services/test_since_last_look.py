"""'Since you last looked' on the client page: what changed after this counsellor's previous view."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import CounsellorLink, LessonProgress, ProgressView, QuizAttempt, Role, User
from app.services.client_report import client_report
from app.services.counselling import client_view
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from tests.conftest import create_user
from tests.services.test_client_report import course, lessons  # noqa: F401 - fixtures
from tests.services.test_counselling import the_view

__all__ = ["course", "lessons"]

# Fixed times: the counsellor looked at 10:00 on 2 March; things happen before, at and after it.
LOOKED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BEFORE = LOOKED - timedelta(days=1)
AFTER = LOOKED + timedelta(hours=3)


def attempt(session, learner_id: int, lesson, picks: dict[str, str], *, at: datetime) -> QuizAttempt:
    """Submit the quiz picking choices by text (prompt -> choice text; "Right" by default), at a fixed time."""
    questions = quiz_questions(session, lesson)
    answers = {q.id: [next(c.id for c in q.choices if c.text == picks.get(q.prompt, "Right"))] for q in questions}
    result = quiz_submit_attempt(
        session,
        learner=session.get(User, learner_id),
        lesson=lesson,
        questions=questions,
        answers=answers,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    result.attempt.submitted_at = at
    mine = (LessonProgress.user_id == learner_id, LessonProgress.lesson_id == lesson.id)
    session.execute(update(LessonProgress).where(*mine, LessonProgress.opened_at > at).values(opened_at=at))
    if result.attempt.passed:
        session.execute(update(LessonProgress).where(*mine).values(completed_at=at))
    session.commit()
    return result.attempt


def since(session, learner_id: int, course, previous: datetime | None):  # noqa: F811 - the fixture's name
    return client_report(
        session, learner=session.get(User, learner_id), course=course, previous_look=previous
    ).since_last_look


def test_a_first_look_lists_nothing_as_new(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, at=BEFORE)
    found = since(session, learner, course, None)
    assert found.first_look and found.previous is None
    assert (found.attempts, found.lessons_finished, found.newly_shown, found.corrected) == ([], [], [], [])


def test_attempts_and_lessons_finished_after_the_last_look_are_listed(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {}, at=BEFORE)  # passed before: already seen
    at_the_look = attempt(session, learner, lessons["two"], {"Q3?": "Boost"}, at=LOOKED)  # seen at that very moment
    failed = attempt(session, learner, lessons["two"], {"Q3?": "Boost"}, at=AFTER)
    passed = attempt(session, learner, lessons["three"], {}, at=AFTER + timedelta(minutes=5))
    found = since(session, learner, course, LOOKED)
    assert not found.first_look and found.previous == LOOKED
    assert [(new.lesson.slug, new.attempt.id) for new in found.attempts] == [("two", failed.id), ("three", passed.id)]
    assert at_the_look.id not in [new.attempt.id for new in found.attempts]
    assert [lesson.slug for lesson in found.lessons_finished] == ["three"]


def test_a_misconception_first_shown_after_the_last_look_is_newly_shown(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, at=BEFORE)  # code-a, already seen
    attempt(session, learner, lessons["one"], {"Q1?": "Boost", "Q2?": "Month"}, at=AFTER)  # code-a again, code-b new
    found = since(session, learner, course, LOOKED)
    assert [i.code for i in found.newly_shown] == ["code-b"]
    assert found.corrected == []


def test_a_misconception_corrected_after_the_last_look_is_listed_as_corrected(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost", "Q2?": "Month"}, at=BEFORE)
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, at=BEFORE + timedelta(hours=1))  # code-b corrected
    attempt(session, learner, lessons["one"], {}, at=AFTER)  # code-a corrected; code-b only confirmed
    report = client_report(session, learner=session.get(User, learner), course=course, previous_look=LOOKED)
    assert {i.code: i.corrected_at for i in report.misconceptions} == {
        "code-a": AFTER,
        "code-b": BEFORE + timedelta(hours=1),
    }
    assert [i.code for i in report.since_last_look.corrected] == ["code-a"]
    assert report.since_last_look.newly_shown == []


def test_a_misconception_still_open_on_one_question_is_not_corrected(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, at=BEFORE)
    attempt(session, learner, lessons["two"], {"Q3?": "Boost"}, at=BEFORE)
    attempt(session, learner, lessons["one"], {}, at=AFTER)  # Q1 right, Q3 still wrong: code-a stays
    found = since(session, learner, course, LOOKED)
    assert found.corrected == []
    assert found.nothing_new is False  # the attempt itself is new


def test_nothing_after_the_last_look_says_nothing_new(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, at=BEFORE)
    found = since(session, learner, course, LOOKED)
    assert found.nothing_new and not found.first_look


@pytest.fixture
def counsellors(app, learner) -> tuple[int, int]:
    """Two counsellors who both see the learner."""
    ids = tuple(create_user(app, f"{name}@example.org", role=Role.COUNSELLOR) for name in ("casey", "kim"))
    with app.app_context():
        db.session.add_all(CounsellorLink(counsellor_id=c, learner_id=learner) for c in ids)
        db.session.commit()
        db.session.remove()
    return ids


def look(session, viewer_id: int, learner_id: int, course):  # noqa: F811 - the fixture's name
    view = client_view(
        session, viewer=session.get(User, viewer_id), learner_id=learner_id, course_slug=course.slug, draw=the_view
    )
    assert view is not None
    return view.report.since_last_look


def test_client_view_uses_this_counsellors_view_before_the_current_one(session, course, lessons, learner, counsellors):
    casey, kim = counsellors
    assert look(session, casey, learner, course).first_look  # never looked: a first look, then recorded
    session.add_all(
        [
            ProgressView(viewer_id=casey, learner_id=learner, viewer_role="counsellor", viewed_at=BEFORE),
            ProgressView(viewer_id=casey, learner_id=learner, viewer_role="counsellor", viewed_at=LOOKED),
            # Another counsellor's later look is not Casey's: it does not move Casey's "since".
            ProgressView(viewer_id=kim, learner_id=learner, viewer_role="counsellor", viewed_at=AFTER),
        ]
    )
    # The first look above was recorded at the real time, after these fixed ones: move it to the past.
    session.execute(update(ProgressView).where(ProgressView.viewed_at > AFTER).values(viewed_at=BEFORE))
    session.commit()
    attempt(session, learner, lessons["one"], {"Q2?": "Month"}, at=AFTER - timedelta(hours=1))

    found = look(session, casey, learner, course)
    assert found.previous == LOOKED
    assert [i.code for i in found.newly_shown] == ["code-b"]
    # That look is now recorded: the next one starts from it, and sees nothing new.
    again = look(session, casey, learner, course)
    assert again.previous > AFTER and again.nothing_new
    assert look(session, kim, learner, course).previous == AFTER
