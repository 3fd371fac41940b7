"""A learner's past quiz attempts, as their lesson, quiz, attempts and /me/ pages list them.

The attempts come with the learner's progress, in the same read (``course_outline_by_slug``
with ``with_attempts=True`` in ``progress.py``): these are the shapes they take there and the
per-lesson summary /me/ shows. A lesson or quiz page reads only the ATTEMPTS_SHOWN latest, and
links to the lesson's attempts page, which lists them all a page at a time (``attempts_page``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Lesson, QuizAttempt

# How many of a lesson's attempts its lesson and quiz pages list, the latest; the rest are a link away.
ATTEMPTS_SHOWN = 10
# How many attempts a page of the lesson's attempts page lists.
ATTEMPTS_PER_PAGE = 50


def summary_columns() -> tuple:
    """The quiz_attempts columns an AttemptSummary is made of, in its fields' order."""
    return (
        QuizAttempt.id,
        QuizAttempt.lesson_id,
        QuizAttempt.submitted_at,
        QuizAttempt.correct_count,
        QuizAttempt.question_count,
        QuizAttempt.passed,
    )


@dataclass(frozen=True)
class AttemptSummary:
    """One past attempt as a history line shows it: when, the score, passed or not."""

    id: int
    lesson_id: int
    submitted_at: datetime
    correct_count: int
    question_count: int
    passed: bool


def attempts_by_lesson(attempts: Iterable[AttemptSummary]) -> dict[int, tuple[AttemptSummary, ...]]:
    """Group attempts by lesson, newest first (the later id first when two share a time)."""
    grouped: dict[int, list[AttemptSummary]] = {}
    for attempt in sorted(attempts, key=lambda a: (a.submitted_at, a.id), reverse=True):
        grouped.setdefault(attempt.lesson_id, []).append(attempt)
    return {lesson_id: tuple(history) for lesson_id, history in grouped.items()}


@dataclass(frozen=True)
class LessonAttemptsSummary:
    """How a learner's attempts at one lesson went, in brief: how many, the best, the latest."""

    count: int
    best: AttemptSummary
    latest: AttemptSummary


def _share_right(attempt: AttemptSummary) -> float:
    return attempt.correct_count / attempt.question_count if attempt.question_count else 0.0


def summarise(attempts: tuple[AttemptSummary, ...]) -> LessonAttemptsSummary | None:
    """Summarise one lesson's attempts (newest first); None when there are none.

    The best is the most right answers, as a share of the questions asked (a quiz can change
    length between attempts); of equal bests, the earliest, when the learner first got there.
    """
    if not attempts:
        return None
    best = max(reversed(attempts), key=_share_right)
    return LessonAttemptsSummary(count=len(attempts), best=best, latest=attempts[0])


@dataclass(frozen=True)
class AttemptsPage:
    """One page of a learner's attempts at a lesson (or lessons), newest first, and where it lies in them all."""

    attempts: tuple[AttemptSummary, ...]
    total: int  # attempts at the lessons in all
    number: int  # this page's, from 1
    pages: int  # how many pages there are (1 when there are no attempts)
    per_page: int = ATTEMPTS_PER_PAGE

    @property
    def first_number(self) -> int:
        """The attempt number of the first listed (attempts count from 1, the earliest)."""
        return self.total - (self.number - 1) * self.per_page


def attempts_page(
    session: Session,
    *,
    learner_id: int,
    lesson_ids: Collection[int],
    number: int,
    per_page: int = ATTEMPTS_PER_PAGE,
) -> AttemptsPage | None:
    """Page ``number`` (from 1) of the learner's attempts at these lessons, ``per_page`` newest first.

    One query, whatever the history: the page's rows with the count of all (taken before the
    LIMIT). None for a page past the last; page 1 always exists, empty before the first attempt.
    """
    if number < 1:
        return None
    rows = session.execute(
        select(*summary_columns(), func.count().over())
        .where(QuizAttempt.user_id == learner_id, QuizAttempt.lesson_id.in_(lesson_ids))
        .order_by(QuizAttempt.submitted_at.desc(), QuizAttempt.id.desc())
        .limit(per_page)
        .offset((number - 1) * per_page)
    ).all()
    if not rows:
        # Past the last page, or no attempts at all: page 1 is the empty list, any other is none.
        return AttemptsPage(attempts=(), total=0, number=1, pages=1, per_page=per_page) if number == 1 else None
    total = rows[0][-1]
    return AttemptsPage(
        attempts=tuple(AttemptSummary(*row[:-1]) for row in rows),
        total=total,
        number=number,
        pages=-(-total // per_page),
        per_page=per_page,
    )


def removed_lesson(session: Session, *, course_id: int, slug: str) -> Lesson | None:
    """The course's lesson of this slug when it has been removed from the course, else None.

    A removed lesson is retired, not deleted, while anyone has history with it: its learners'
    attempts at it stay theirs to read, at the lesson's own addresses (app/learn/routes.py).
    """
    return session.execute(
        select(Lesson).where(Lesson.course_id == course_id, Lesson.slug == slug, Lesson.retired_at.is_not(None))
    ).scalar_one_or_none()


def removed_lessons(session: Session, *, lesson_ids: Collection[int]) -> list[Lesson]:
    """Those of these lessons that have been removed from their course, the latest removed first
    (one query; none when given no ids)."""
    if not lesson_ids:
        return []
    return list(
        session.execute(
            select(Lesson)
            .where(Lesson.id.in_(lesson_ids), Lesson.retired_at.is_not(None))
            .order_by(Lesson.retired_at.desc(), Lesson.id.desc())
        ).scalars()
    )
