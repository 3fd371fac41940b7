"""Where learners drop out: each lesson's funnel of learners who started it, passed it, gave up
on it, or are still on it.

Apart from the question statistics because it follows learners through lessons (opening one,
attempting its quiz, completing it), not their answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select, union_all
from sqlalchemy.orm import Session

from app.models import Lesson, LessonProgress, QuizAttempt
from app.models.types import utcnow
from app.services.analytics.counted_learners import learners_only
from app.services.analytics.date_ranges import RANGES, band_of, bands_upto

# Per lesson: started, not passed, nothing done on it for this long. Not the dashboard's
# INACTIVE_AFTER (services/dashboard.py), which is per person over the whole course.
GAVE_UP_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class LessonFunnel:
    """How many learners started a lesson, passed it, gave up, or are still on it."""

    started: int = 0
    passed: int = 0
    gave_up: int = 0

    @property
    def in_progress(self) -> int:
        return self.started - self.passed - self.gave_up

    def share(self, count: int) -> float | None:
        """``count`` as a share of those who started, or None when nobody has."""
        return count / self.started if self.started else None


def lesson_funnels(
    session: Session, *, lessons: list[Lesson], now: datetime | None = None
) -> dict[str, dict[int, LessonFunnel]]:
    """Started, passed and gave-up counts for each lesson: by range key, by lesson id (1 query).

    A range counts the learners who started the lesson in it, and where they are now.
    """
    lesson_ids = [lesson.id for lesson in lessons]
    empty = {date_range.key: {lesson_id: LessonFunnel() for lesson_id in lesson_ids} for date_range in RANGES}
    if not lesson_ids:
        return empty
    now = now or utcnow()
    cutoff = now - GAVE_UP_AFTER
    learners = learners_only()
    # Opening the lesson and attempting its quiz both count as starting it and as activity.
    activity = union_all(
        select(LessonProgress.user_id, LessonProgress.lesson_id, LessonProgress.opened_at.label("at")).where(
            LessonProgress.lesson_id.in_(lesson_ids), LessonProgress.user_id.in_(learners)
        ),
        select(QuizAttempt.user_id, QuizAttempt.lesson_id, QuizAttempt.submitted_at.label("at")).where(
            QuizAttempt.lesson_id.in_(lesson_ids), QuizAttempt.user_id.in_(learners)
        ),
    ).subquery()
    per_learner = (
        select(
            activity.c.user_id,
            activity.c.lesson_id,
            func.min(activity.c.at).label("first_at"),
            func.max(activity.c.at).label("last_at"),
        )
        .group_by(activity.c.user_id, activity.c.lesson_id)
        .subquery()
    )
    # The band is a column of its own, so the GROUP BY below names a column, not an expression
    # with parameters (which PostgreSQL would not match with the same expression in the SELECT).
    banded = select(
        per_learner.c.user_id,
        per_learner.c.lesson_id,
        per_learner.c.last_at,
        band_of(per_learner.c.first_at, now).label("band"),
    ).subquery()
    not_completed = LessonProgress.completed_at.is_(None)
    stmt = (
        select(
            banded.c.lesson_id,
            banded.c.band,
            func.count().label("started"),
            func.count(LessonProgress.completed_at).label("passed"),
            func.sum(case((and_(not_completed, banded.c.last_at < cutoff), 1), else_=0)).label("gave_up"),
        )
        .select_from(banded)
        .outerjoin(
            LessonProgress,
            and_(LessonProgress.user_id == banded.c.user_id, LessonProgress.lesson_id == banded.c.lesson_id),
        )
        .group_by(banded.c.lesson_id, banded.c.band)
    )
    by_lesson: dict[int, dict[int, Any]] = {}
    for row in session.execute(stmt):
        by_lesson.setdefault(row.lesson_id, {})[row.band] = row
    for index, date_range in enumerate(RANGES):
        for lesson_id, bands in by_lesson.items():
            rows = bands_upto(bands, index)
            empty[date_range.key][lesson_id] = LessonFunnel(
                started=sum(row.started for row in rows),
                passed=sum(row.passed for row in rows),
                gave_up=sum(row.gave_up or 0 for row in rows),
            )
    return empty
