"""A learner's past attempts, read with their progress (app/services/attempt_history.py, progress.py)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import LessonProgress, QuizAttempt, User
from app.services.attempt_history import (
    ATTEMPTS_PER_PAGE,
    ATTEMPTS_SHOWN,
    AttemptSummary,
    attempts_by_lesson,
    attempts_page,
    summarise,
)
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.progress import course_by_slug, course_outline, course_outline_by_slug
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from tests.attempt_factories import quiz_attempts
from tests.factories import write_course

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def attempt(session, user_id: int, lesson_id: int, *, at: datetime, right: int, of: int = 5) -> int:
    row = QuizAttempt(
        user_id=user_id,
        lesson_id=lesson_id,
        submission_key=uuid.uuid4().hex,
        submitted_at=at,
        question_count=of,
        correct_count=right,
        score=right / of,
        pass_mark=0.8,
        passed=right / of >= 0.8,
    )
    session.add(row)
    session.commit()
    return row.id


def lesson_ids(session, slug: str) -> list[int]:
    outline = course_outline(session, course=course_by_slug(session, slug), learner=None)
    return [entry.lesson.id for entry in outline.entries]


def history(session, slug: str | None, user_id: int):
    outline = course_outline_by_slug(session, slug=slug, learner=session.get(User, user_id), with_attempts=True)
    return {entry.lesson.id: [a.id for a in entry.attempts] for entry in outline.entries}


def test_each_lesson_lists_its_attempts_newest_first(session, course, learner):
    first, second, _ = lesson_ids(session, course)
    oldest = attempt(session, learner, first, at=T0, right=1)
    newest = attempt(session, learner, first, at=T0 + timedelta(days=2), right=5)
    middle = attempt(session, learner, first, at=T0 + timedelta(days=1), right=3)
    other_lesson = attempt(session, learner, second, at=T0, right=2)

    got = history(session, course, learner)

    assert got[first] == [newest, middle, oldest]
    assert got[second] == [other_lesson]


def test_attempts_at_the_same_instant_list_the_later_recorded_first(session, course, learner):
    first = lesson_ids(session, course)[0]
    earlier = attempt(session, learner, first, at=T0, right=1)
    later = attempt(session, learner, first, at=T0, right=2)
    assert history(session, course, learner)[first] == [later, earlier]


def test_an_attempt_keeps_its_time_score_and_result(session, course, learner):
    first = lesson_ids(session, course)[0]
    attempt_id = attempt(session, learner, first, at=T0, right=4)
    outline = course_outline_by_slug(session, slug=course, learner=session.get(User, learner), with_attempts=True)
    assert outline.entries[0].attempts == (
        AttemptSummary(id=attempt_id, lesson_id=first, submitted_at=T0, correct_count=4, question_count=5, passed=True),
    )


def test_another_learners_attempts_are_never_included(session, course, learner, other_learner):
    first = lesson_ids(session, course)[0]
    attempt(session, other_learner, first, at=T0, right=5)
    mine = attempt(session, learner, first, at=T0, right=1)
    assert history(session, course, learner)[first] == [mine]
    assert all(ids == [] for lesson, ids in history(session, course, learner).items() if lesson != first)


def test_attempts_in_another_course_are_not_included(session, course, learner, tmp_path):
    course_import(session, load_course(write_course(tmp_path)))
    elsewhere = lesson_ids(session, "tiny")[0]
    attempt(session, learner, elsewhere, at=T0, right=5)
    assert all(ids == [] for ids in history(session, course, learner).values())
    assert history(session, "tiny", learner)[elsewhere] != []


def test_the_first_course_by_default_and_its_progress_alongside(session, course, learner):
    first, second, _ = lesson_ids(session, course)
    session.add(LessonProgress(user_id=learner, lesson_id=first, opened_at=T0, completed_at=T0))
    session.commit()
    passed = attempt(session, learner, first, at=T0, right=5)
    outline = course_outline_by_slug(session, slug=None, learner=session.get(User, learner), with_attempts=True)
    assert outline.course.slug == course
    assert [a.id for a in outline.entries[0].attempts] == [passed]
    assert outline.completed_count == 1 and outline.entries[0].opened_at == T0
    assert outline.entries[1].attempts == () and outline.entries[1].opened_at is None


def test_without_asking_no_attempts_are_loaded(session, course, learner):
    first = lesson_ids(session, course)[0]
    attempt(session, learner, first, at=T0, right=5)
    outline = course_outline_by_slug(session, slug=course, learner=session.get(User, learner))
    assert all(entry.attempts == () for entry in outline.entries)
    visitor = course_outline_by_slug(session, slug=course, learner=None, with_attempts=True)
    assert all(entry.attempts == () for entry in visitor.entries)


def summary(id_: int, *, at: datetime, right: int, of: int = 5) -> AttemptSummary:
    return AttemptSummary(id_, 1, at, right, of, right / of >= 0.8)


def test_the_summary_counts_and_picks_the_earliest_best_and_the_latest():
    attempts = attempts_by_lesson(
        [
            summary(1, at=T0, right=2),
            summary(2, at=T0 + timedelta(hours=1), right=4),
            summary(3, at=T0 + timedelta(hours=2), right=4),
            summary(4, at=T0 + timedelta(hours=3), right=1),
        ]
    )[1]
    got = summarise(attempts)
    assert (got.count, got.best.id, got.latest.id) == (4, 2, 4)


def test_the_best_is_the_highest_share_right_when_a_quiz_changed_length():
    attempts = attempts_by_lesson(
        [summary(1, at=T0, right=4, of=6), summary(2, at=T0 + timedelta(hours=1), right=3, of=4)]
    )
    assert summarise(attempts[1]).best.id == 2
    assert summarise(()) is None


def test_a_submission_alone_opens_its_lesson(session, course, learner):
    """Before: a failed attempt sent without the lesson page left the lesson "not opened yet"."""
    user = session.get(User, learner)
    outline = course_outline(session, course=course_by_slug(session, course), learner=user)
    lesson = outline.entries[0].lesson
    questions = quiz_questions(session, lesson)
    wrong = {q.id: [next(c.id for c in q.live_choices if not c.is_correct)] for q in questions}
    result = quiz_submit_attempt(
        session,
        learner=user,
        lesson=lesson,
        questions=questions,
        answers=wrong,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    progress = session.scalar(select(LessonProgress).where(LessonProgress.user_id == learner))
    assert progress.opened_at == result.attempt.submitted_at and progress.completed_at is None
    staff_view = course_outline(session, course=course_by_slug(session, course), learner=user)
    assert staff_view.entries[0].opened_at is not None  # what the counsellor's client page reads


@pytest.mark.parametrize("first_opened", [True, False])
def test_a_submission_keeps_the_first_opening(session, course, learner, first_opened):
    user = session.get(User, learner)
    lesson = course_outline(session, course=course_by_slug(session, course), learner=user).entries[0].lesson
    if first_opened:
        session.add(LessonProgress(user_id=learner, lesson_id=lesson.id, opened_at=T0))
        session.commit()
    questions = quiz_questions(session, lesson)
    wrong = {q.id: [next(c.id for c in q.live_choices if not c.is_correct)] for q in questions}
    quiz_submit_attempt(
        session,
        learner=user,
        lesson=lesson,
        questions=questions,
        answers=wrong,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    rows = session.scalars(select(LessonProgress)).all()
    assert len(rows) == 1
    assert (rows[0].opened_at == T0) is first_opened


def many_attempts(session, user_id: int, lesson_id: int, n: int) -> list[int]:
    """``n`` attempts a minute apart from T0, committed together; their ids, oldest first."""
    rows = quiz_attempts(user_id, lesson_id, n, start=T0)
    session.add_all(rows)
    session.commit()
    return [row.id for row in rows]


def one_lessons_outline(session, slug: str, user_id: int, lesson_slug: str):
    """The outline as a lesson or quiz page reads it: only the attempts at ``lesson_slug``."""
    user = session.get(User, user_id)
    return course_outline_by_slug(session, slug=slug, learner=user, with_attempts=True, attempts_of=lesson_slug)


def test_a_lesson_page_reads_only_the_latest_attempts_and_how_many_there_are(session, course, learner):
    first, second, _ = lesson_ids(session, course)
    made = many_attempts(session, learner, first, ATTEMPTS_SHOWN + 7)
    many_attempts(session, learner, second, 3)
    first_slug = course_outline(session, course=course_by_slug(session, course), learner=None).entries[0].lesson.slug

    entry = one_lessons_outline(session, course, learner, first_slug).entries[0]

    assert [a.id for a in entry.attempts] == made[::-1][:ATTEMPTS_SHOWN]  # the latest, newest first
    assert entry.attempt_count == entry.attempts_in_all == ATTEMPTS_SHOWN + 7
    with pytest.raises(ValueError, match="latest"):
        entry.attempts_summary  # noqa: B018 - a summary of the latest alone would be wrong


def test_a_short_history_is_read_whole_with_its_count(session, course, learner):
    first, *_ = lesson_ids(session, course)
    made = many_attempts(session, learner, first, 2)
    first_slug = course_outline(session, course=course_by_slug(session, course), learner=None).entries[0].lesson.slug

    entry = one_lessons_outline(session, course, learner, first_slug).entries[0]

    assert [a.id for a in entry.attempts] == made[::-1]
    assert entry.attempts_in_all == 2
    # Read for every lesson (the API's), the count is of what was read, and the summary is there.
    every = course_outline_by_slug(session, slug=course, learner=session.get(User, learner), with_attempts=True)
    assert every.entries[0].attempt_count is None and every.entries[0].attempts_in_all == 2
    assert every.entries[0].attempts_summary.count == 2


def test_the_attempts_page_lists_every_attempt_a_page_at_a_time(session, course, learner, other_learner):
    first, second, _ = lesson_ids(session, course)
    made = many_attempts(session, learner, first, ATTEMPTS_PER_PAGE + 3)
    many_attempts(session, other_learner, first, 4)  # never theirs to list
    many_attempts(session, learner, second, 2)  # another lesson's

    page_one = attempts_page(session, learner_id=learner, lesson_ids=[first], number=1)
    page_two = attempts_page(session, learner_id=learner, lesson_ids=[first], number=2)

    assert page_one.total == page_two.total == ATTEMPTS_PER_PAGE + 3 and page_one.pages == 2
    assert [a.id for a in page_one.attempts] == made[::-1][:ATTEMPTS_PER_PAGE]
    assert [a.id for a in page_two.attempts] == made[::-1][ATTEMPTS_PER_PAGE:]
    # Attempts are numbered from the earliest: the newest is the last number, page two goes on from page one.
    assert page_one.first_number == ATTEMPTS_PER_PAGE + 3 and page_two.first_number == 3
    assert attempts_page(session, learner_id=learner, lesson_ids=[first], number=3) is None
    assert attempts_page(session, learner_id=learner, lesson_ids=[first], number=0) is None


def test_before_the_first_attempt_the_attempts_page_is_one_empty_page(session, course, learner):
    first, *_ = lesson_ids(session, course)
    empty = attempts_page(session, learner_id=learner, lesson_ids=[first], number=1)
    assert empty.attempts == () and empty.total == 0 and empty.pages == 1
    assert attempts_page(session, learner_id=learner, lesson_ids=[first], number=2) is None
