"""One course's report: every live lesson in course order, with its funnel and its questions'
statistics, computed for every date range at once.

Apart because it only puts together what question_statistics.py and drop_out.py compute, in the
shape the page, the CSV and the snapshot read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Course
from app.models.types import utcnow
from app.services.analytics.date_ranges import DEFAULT_RANGE, RANGES, DateRange
from app.services.analytics.drop_out import LessonFunnel, lesson_funnels
from app.services.analytics.question_statistics import QuestionStats, ReviewFlag, question_statistics
from app.services.progress import course_outline


def whole_percent(share: float | None) -> int | None:
    """A share as a whole percentage, rounded half away from zero (0.625 -> 63), or None when unknown.

    The page and the CSV both round with this, so they give the same numbers.
    """
    if share is None:
        return None
    value = 100 * share
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


@dataclass(frozen=True)
class LessonInfo:
    """What the report shows of a lesson, as it was when the figures were computed."""

    id: int
    slug: str
    title: str
    module_title: str


@dataclass(frozen=True)
class LessonStats:
    """One live lesson in course order, with its funnel and its questions' statistics."""

    lesson: LessonInfo
    number: int
    funnel: LessonFunnel
    questions: list[QuestionStats] = field(default_factory=list)

    @property
    def flagged_count(self) -> int:
        return sum(1 for question in self.questions if question.flags)


@dataclass(frozen=True)
class CourseAnalytics:
    """One date range's figures for a course, as computed at ``computed_at``."""

    course: Course
    lessons: list[LessonStats]
    computed_at: datetime
    date_range: DateRange = DEFAULT_RANGE

    @property
    def since(self) -> datetime | None:
        """When the range starts (None for all time)."""
        return self.date_range.since(self.computed_at)

    @property
    def questions(self) -> list[tuple[LessonStats, QuestionStats]]:
        """Every question with its lesson, in course order."""
        return [(item, question) for item in self.lessons for question in item.questions]

    @property
    def flagged(self) -> list[tuple[LessonStats, QuestionStats]]:
        """Every question that may need review, with its lesson, in course order."""
        return [(item, question) for item, question in self.questions if question.flags]

    @property
    def flag_kinds(self) -> list[ReviewFlag]:
        """Each kind of flag raised on some question, once, in the order first met."""
        kinds: dict[str, ReviewFlag] = {}
        for _, question in self.flagged:
            for flag in question.flags:
                kinds.setdefault(flag.code, flag)
        return list(kinds.values())

    @property
    def too_few_count(self) -> int:
        """How many questions have too few first tries to judge."""
        return sum(1 for _, question in self.questions if question.too_few)

    @property
    def most_choices(self) -> int:
        """The largest number of choices of any question (the CSV's choice columns)."""
        return max((len(question.choices) for _, question in self.questions), default=0)


def _read_through_indexes(session: Session) -> None:
    """On PostgreSQL, plan the rest of this transaction's reads through indexes (1 query).

    The aggregates (question_statistics.py, drop_out.py) read every attempt, answer and
    selection; the covering indexes on those tables hold all the columns they need, a fraction
    of the bytes of the tables (answers carry a snapshot each). Left alone, the planner still
    picks some sequential scans of the narrower tables; measured at 100,000 learners, reading
    through the indexes is as fast and no longer grows with the size of the snapshots
    (bench/PLANS.md). JIT compiling costs more here than it saves. Both settings end with the
    transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.set_config("enable_seqscan", "off", True), func.set_config("jit", "off", True)))


def course_analytics_by_range(
    session: Session, *, course: Course, now: datetime | None = None
) -> dict[str, CourseAnalytics]:
    """Funnels and question statistics for every live lesson of a course, for every date range.

    Runs a fixed number of queries (8, and one more on PostgreSQL), whatever the number of
    learners or attempts, and reads the attempts once for all the ranges.
    """
    now = now or utcnow()
    _read_through_indexes(session)
    outline = course_outline(session, course=course, learner=None)
    lessons = [entry.lesson for entry in outline.entries]
    questions = question_statistics(session, lessons=lessons, now=now)
    funnels = lesson_funnels(session, lessons=lessons, now=now)
    infos = {
        entry.lesson.id: LessonInfo(
            id=entry.lesson.id,
            slug=entry.lesson.slug,
            title=entry.lesson.title,
            module_title=entry.lesson.module.title if entry.lesson.module else "",
        )
        for entry in outline.entries
    }
    return {
        date_range.key: CourseAnalytics(
            course=course,
            lessons=[
                LessonStats(
                    lesson=infos[entry.lesson.id],
                    number=entry.number,
                    funnel=funnels[date_range.key][entry.lesson.id],
                    questions=questions[date_range.key][entry.lesson.id],
                )
                for entry in outline.entries
            ],
            computed_at=now,
            date_range=date_range,
        )
        for date_range in RANGES
    }


def course_analytics(
    session: Session, *, course: Course, now: datetime | None = None, date_range: DateRange = DEFAULT_RANGE
) -> CourseAnalytics:
    """One date range's report (all time unless told), computed as ``course_analytics_by_range`` does."""
    return course_analytics_by_range(session, course=course, now=now)[date_range.key]


def analytics_courses(session: Session) -> list[Course]:
    """The courses the analytics page offers, oldest first (the first is shown by default)."""
    return list(session.scalars(select(Course).order_by(Course.id)))
