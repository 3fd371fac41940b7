"""'Since you last looked' on the client page: what changed after this counsellor's previous view."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import CounsellorLink, LessonProgress, ProgressView, QuizAttempt, Role, User
from app.services.client_report import client_report
from app.services.counselling import VISIT_GAP, client_view, previous_look
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


def test_new_attempts_are_grouped_a_lesson_at_a_time_in_course_order(session, course, lessons, learner):
    """A client who retook a quiz is one lesson named with its tries, not the lesson named once a try."""
    first = attempt(session, learner, lessons["two"], {"Q3?": "Boost"}, at=AFTER)
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, at=AFTER + timedelta(minutes=1))
    second = attempt(session, learner, lessons["two"], {"Q3?": "Boost"}, at=AFTER + timedelta(minutes=2))
    third = attempt(session, learner, lessons["two"], {}, at=AFTER + timedelta(minutes=3))
    found = since(session, learner, course, LOOKED)
    grouped = [(lesson.slug, [a.id for a in tries]) for lesson, tries in found.attempts_by_lesson]
    assert grouped[0][0] == "one" and len(grouped[0][1]) == 1
    assert grouped[1] == ("two", [first.id, second.id, third.id])  # in time order
    assert len(grouped) == 2


def test_a_talking_point_is_new_when_it_first_showed_after_the_last_look(session, course, lessons, learner):
    """The page marks it "New" in "What to talk about", so the printed summary names it once."""
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, at=BEFORE)  # code-a, already seen
    attempt(session, learner, lessons["one"], {"Q1?": "Boost", "Q2?": "Month"}, at=AFTER)  # code-b new
    report = client_report(session, learner=session.get(User, learner), course=course, previous_look=LOOKED)
    assert {i.code: report.since_last_look.is_newly_shown(i) for i in report.misconceptions} == {
        "code-a": False,
        "code-b": True,
    }
    first_look = client_report(session, learner=session.get(User, learner), course=course, previous_look=None)
    assert not any(first_look.since_last_look.is_newly_shown(i) for i in first_look.misconceptions)


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
    # That look is now recorded, but a reload a moment later is the same visit: the same list.
    again = look(session, casey, learner, course)
    assert again.previous == LOOKED and [i.code for i in again.newly_shown] == ["code-b"]
    assert look(session, kim, learner, course).previous == AFTER


def record_views(session, viewer_id: int, learner_id: int, *times: datetime) -> None:
    session.add_all(
        ProgressView(viewer_id=viewer_id, learner_id=learner_id, viewer_role="counsellor", viewed_at=at) for at in times
    )
    session.commit()


def previous(session, viewer_id: int, learner_id: int, now: datetime) -> datetime | None:
    return previous_look(session, viewer=session.get(User, viewer_id), learner=session.get(User, learner_id), now=now)


# The next day's visit, and a little under and over the gap that ends a visit.
NEXT_DAY = LOOKED + timedelta(days=1)
WITHIN = VISIT_GAP - timedelta(minutes=1)
BEYOND = VISIT_GAP + timedelta(minutes=1)


def test_the_previous_look_is_the_last_view_before_this_visit_began(session, learner, counsellors):
    casey, _ = counsellors
    record_views(session, casey, learner, BEFORE, LOOKED)
    # A visit the next day: its first view, a reload, the attempts page, back to the client page,
    # each less than the gap after the one before (the visit lasts longer than the gap in all).
    visit = [NEXT_DAY, NEXT_DAY + timedelta(minutes=1), NEXT_DAY + WITHIN, NEXT_DAY + WITHIN + WITHIN]
    for now in visit:
        assert previous(session, casey, learner, now) == LOOKED, now
        record_views(session, casey, learner, now)
    # An hour and more with no look: a new visit, which compares against the last view of the one before.
    assert previous(session, casey, learner, visit[-1] + BEYOND) == visit[-1]


def test_a_first_visit_stays_a_first_look_however_often_the_page_is_opened(session, learner, counsellors):
    casey, _ = counsellors
    assert previous(session, casey, learner, LOOKED) is None
    record_views(session, casey, learner, LOOKED, LOOKED + WITHIN)
    assert previous(session, casey, learner, LOOKED + WITHIN + timedelta(minutes=5)) is None
    assert previous(session, casey, learner, LOOKED + WITHIN + BEYOND) == LOOKED + WITHIN


def test_views_by_others_or_of_others_neither_join_nor_split_a_visit(session, learner, other_learner, counsellors):
    casey, kim = counsellors
    record_views(session, casey, learner, BEFORE, LOOKED)
    # Kim's views and Casey's views of another client fill the gap after Casey's look: still a gap for Casey.
    record_views(session, kim, learner, LOOKED + WITHIN, LOOKED + 2 * WITHIN)
    record_views(session, casey, other_learner, LOOKED + WITHIN, LOOKED + 2 * WITHIN)
    assert previous(session, casey, learner, LOOKED + 2 * WITHIN + timedelta(minutes=5)) == LOOKED
    # Kim's visit began at their first view; their previous look was none.
    assert previous(session, kim, learner, LOOKED + 2 * WITHIN + timedelta(minutes=5)) is None
    assert previous(session, kim, learner, LOOKED + 2 * WITHIN + BEYOND) == LOOKED + 2 * WITHIN
