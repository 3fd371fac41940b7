"""Question and lesson analytics for admins: which questions work, where learners drop out.

Every figure is an SQL aggregate (GROUP BY, COUNT, SUM, a ROW_NUMBER window), so
``course_analytics`` runs the same number of queries for 10 learners as for 10,000.
Only accounts with the learner role are counted: admins trying a quiz and counsellors
looking round do not skew the numbers.

Definitions (also shown on the page):

- **Answered**: learners who answered the question in any attempt.
- **First attempt**: a learner's earliest attempt at the lesson's quiz. Facility and
  discrimination use first attempts only, before feedback and retries teach the answer,
  as Moodle's quiz statistics do by default. A learner whose first attempt came before the
  question was added is left out of both.
- **Facility**: the share of those first attempts that got the question right.
- **Discrimination index**: the Pearson correlation, over first attempts, between the
  score on this question (1 right, 0 wrong) and the score on the rest of the quiz (the
  share of the other questions right). It runs from -100% to 100%: high means learners who
  do well on the rest of the quiz also get this one right. It is left out (None, with the
  reason) when there are fewer than ``MIN_ATTEMPTS`` first attempts, when the quiz has no
  other question, or when either score does not vary.
- **Picks**: how often each choice was picked, over every attempt; the share is of all
  answers to the question (a multiple-answer question's shares can add up to over 100%).
- **Funnel**: started = opened the lesson or attempted its quiz; passed = completed the
  lesson; gave up = started, not completed, and no activity on the lesson (opening it or
  attempting its quiz) for ``GAVE_UP_AFTER``.

The report is aggregated over every attempt, which takes seconds at scale, so the page serves
the course's last computed snapshot (``course_report``) and recalculates it when it is older
than the page's maximum age, or when asked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Float, and_, case, cast, distinct, func, literal, select, union_all
from sqlalchemy.orm import Session, selectinload

from app.models import (
    AnalyticsSnapshot,
    AnswerSelection,
    AttemptAnswer,
    Choice,
    Course,
    Lesson,
    LessonProgress,
    Question,
    QuizAttempt,
    Role,
    User,
)
from app.models.types import utcnow
from app.services.progress import course_outline

MIN_ATTEMPTS = 5
# Per lesson: started, not passed, nothing done on it for this long. Not the dashboard's
# INACTIVE_AFTER (services/dashboard.py), which is per person over the whole course.
GAVE_UP_AFTER = timedelta(days=7)
# Review thresholds, as shares: outside them a question may be too hard, too easy or not telling.
HARD_BELOW = 0.30
EASY_ABOVE = 0.95
DISCRIMINATION_BELOW = 0.20


@dataclass(frozen=True)
class ReviewFlag:
    """Why a question may need an author's attention."""

    code: str
    label: str
    reason: str


@dataclass(frozen=True)
class ChoiceStats:
    """How often one live choice was picked, and the misconception it reveals."""

    choice_id: int
    letter: str
    text: str
    is_correct: bool
    picks: int
    share: float | None
    misconception_code: str | None
    misconception_text: str | None


@dataclass(frozen=True)
class QuestionStats:
    """How one live question performs."""

    question_id: int
    number: int
    prompt: str
    kind: str
    answered: int
    answers: int
    first_attempts: int
    first_right: int
    discrimination: float | None
    discrimination_note: str | None
    choices: list[ChoiceStats]

    @property
    def facility(self) -> float | None:
        """Share of learners right on their first attempt, or None before anyone tried."""
        return self.first_right / self.first_attempts if self.first_attempts else None

    @property
    def flags(self) -> list[ReviewFlag]:
        """The reasons this question may need review; judged only on enough first attempts."""
        facility = self.facility  # None only when nobody has tried, which MIN_ATTEMPTS already rules out
        if self.first_attempts < MIN_ATTEMPTS or facility is None:
            return []
        flags = []
        if facility < HARD_BELOW:
            flags.append(ReviewFlag("hard", "Hard", f"under {HARD_BELOW:.0%} right first time"))
        elif facility > EASY_ABOVE:
            flags.append(ReviewFlag("easy", "Easy", f"over {EASY_ABOVE:.0%} right first time"))
        if self.discrimination is not None and self.discrimination < 0:
            flags.append(
                ReviewFlag(
                    "negative",
                    "Negative discrimination",
                    "learners who do well on the rest of the quiz get this one wrong more often: check the answer",
                )
            )
        elif self.discrimination is not None and self.discrimination < DISCRIMINATION_BELOW:
            flags.append(
                ReviewFlag(
                    "weak",
                    "Weak discrimination",
                    f"under {DISCRIMINATION_BELOW:.0%}: it barely separates stronger from weaker learners",
                )
            )
        return flags


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


@dataclass(frozen=True)
class LessonStats:
    """One live lesson in course order, with its funnel and its questions' statistics."""

    lesson: Lesson
    number: int
    funnel: LessonFunnel
    questions: list[QuestionStats] = field(default_factory=list)

    @property
    def flagged_count(self) -> int:
        return sum(1 for question in self.questions if question.flags)


@dataclass(frozen=True)
class CourseAnalytics:
    course: Course
    lessons: list[LessonStats]
    computed_at: datetime

    @property
    def flagged(self) -> list[tuple[LessonStats, QuestionStats]]:
        """Every question that may need review, with its lesson, in course order."""
        return [(item, question) for item in self.lessons for question in item.questions if question.flags]


def pearson(n: int, sum_x: float, sum_y: float, sum_xy: float, sum_xx: float, sum_yy: float) -> float | None:
    """Return Pearson's r from the sums SQL aggregated, or None when either variable is constant."""
    covariance = n * sum_xy - sum_x * sum_y
    spread_x = n * sum_xx - sum_x * sum_x
    spread_y = n * sum_yy - sum_y * sum_y
    # Float sums of identical values can miss zero by a rounding error; treat that as zero.
    if spread_x <= 1e-9 * max(1.0, n * sum_xx) or spread_y <= 1e-9 * max(1.0, n * sum_yy):
        return None
    return max(-1.0, min(1.0, covariance / math.sqrt(spread_x * spread_y)))


def _discrimination(row) -> tuple[float | None, str | None]:
    """The discrimination index for one question's aggregate row, or None and why not."""
    if row is None or row.first_attempts < MIN_ATTEMPTS:
        have = 0 if row is None else row.first_attempts
        return None, f"Needs at least {MIN_ATTEMPTS} first attempts; has {have}."
    if row.pairs < MIN_ATTEMPTS:
        return None, "The quiz has no other questions to compare with."
    sum_x, sum_y = float(row.sum_x), float(row.sum_y)
    if row.sum_x in (0, row.pairs):
        everyone = "right" if row.sum_x else "wrong"
        return None, f"Every first attempt got it {everyone}, so it cannot separate learners."
    r = pearson(row.pairs, sum_x, sum_y, float(row.sum_xy), sum_x, float(row.sum_yy))
    if r is None:
        return None, "Every first attempt scored the same on the rest of the quiz."
    return r, None


def _learners_only():
    return select(User.id).where(User.role == Role.LEARNER)


def _question_rows(session: Session, lesson_ids: list[int], question_ids: list[int]) -> dict[int, object]:
    """One aggregate row per question: answered, first-attempt counts and correlation sums (1 query)."""
    ranked = (
        select(
            QuizAttempt.id.label("attempt_id"),
            QuizAttempt.user_id,
            QuizAttempt.correct_count,
            QuizAttempt.question_count,
            func.row_number()
            .over(
                partition_by=(QuizAttempt.user_id, QuizAttempt.lesson_id),
                order_by=(QuizAttempt.submitted_at, QuizAttempt.id),
            )
            .label("attempt_number"),
        )
        .where(QuizAttempt.lesson_id.in_(lesson_ids), QuizAttempt.user_id.in_(_learners_only()))
        .subquery()
    )
    first = ranked.c.attempt_number == 1
    # A pair (this question's score, rest-of-quiz score) exists only when the quiz had other questions.
    paired = and_(first, ranked.c.question_count > 1)
    x = case((AttemptAnswer.is_correct, 1), else_=0)
    rest = cast(ranked.c.correct_count - x, Float) / (ranked.c.question_count - 1)
    zero = literal(0.0, Float)
    stmt = (
        select(
            AttemptAnswer.question_id,
            func.count(distinct(ranked.c.user_id)).label("answered"),
            func.count().label("answers"),
            func.sum(case((first, 1), else_=0)).label("first_attempts"),
            func.sum(case((and_(first, AttemptAnswer.is_correct), 1), else_=0)).label("first_right"),
            func.sum(case((paired, 1), else_=0)).label("pairs"),
            func.sum(case((paired, x), else_=0)).label("sum_x"),
            func.sum(case((paired, rest), else_=zero)).label("sum_y"),
            func.sum(case((paired, x * rest), else_=zero)).label("sum_xy"),
            func.sum(case((paired, rest * rest), else_=zero)).label("sum_yy"),
        )
        .join(ranked, ranked.c.attempt_id == AttemptAnswer.attempt_id)
        .where(AttemptAnswer.question_id.in_(question_ids))
        .group_by(AttemptAnswer.question_id)
    )
    return {row.question_id: row for row in session.execute(stmt)}


def _choice_picks(session: Session, choice_ids: list[int]) -> dict[int, int]:
    """How many times each choice was picked, over every learner attempt (1 query)."""
    stmt = (
        select(AnswerSelection.choice_id, func.count().label("picks"))
        .join(AttemptAnswer, AttemptAnswer.id == AnswerSelection.answer_id)
        .join(QuizAttempt, QuizAttempt.id == AttemptAnswer.attempt_id)
        .where(AnswerSelection.choice_id.in_(choice_ids), QuizAttempt.user_id.in_(_learners_only()))
        .group_by(AnswerSelection.choice_id)
    )
    # The IN filter leaves no None choice_id (the column is nullable for choices deleted since).
    return {choice_id: picks for choice_id, picks in session.execute(stmt) if choice_id is not None}


def _live_questions(session: Session, lesson_ids: list[int]) -> list[Question]:
    """Live questions of these lessons with live choices and misconceptions (3 queries)."""
    return list(
        session.scalars(
            select(Question)
            .where(Question.lesson_id.in_(lesson_ids), Question.retired_at.is_(None))
            .order_by(Question.lesson_id, Question.position)
            .options(selectinload(Question.live_choices).selectinload(Choice.misconception))
        )
    )


def _question_stats(question: Question, number: int, row, picks: dict[int, int]) -> QuestionStats:
    answers = row.answers if row else 0
    discrimination, note = _discrimination(row)
    choices = [
        ChoiceStats(
            choice_id=choice.id,
            letter=chr(ord("A") + index) if index < 26 else str(index + 1),
            text=choice.text,
            is_correct=choice.is_correct,
            picks=picks.get(choice.id, 0),
            share=picks.get(choice.id, 0) / answers if answers else None,
            misconception_code=choice.misconception.code if choice.misconception else None,
            misconception_text=choice.misconception.counsellor_text if choice.misconception else None,
        )
        for index, choice in enumerate(question.live_choices)
    ]
    return QuestionStats(
        question_id=question.id,
        number=number,
        prompt=question.prompt,
        kind=question.kind,
        answered=row.answered if row else 0,
        answers=answers,
        first_attempts=row.first_attempts if row else 0,
        first_right=row.first_right if row else 0,
        discrimination=discrimination,
        discrimination_note=note,
        choices=choices,
    )


def question_statistics(session: Session, *, lessons: list[Lesson]) -> dict[int, list[QuestionStats]]:
    """Statistics for the live questions of these lessons, by lesson id, in quiz order (5 queries)."""
    lesson_ids = [lesson.id for lesson in lessons]
    questions = _live_questions(session, lesson_ids) if lesson_ids else []
    question_ids = [question.id for question in questions]
    choice_ids = [choice.id for question in questions for choice in question.live_choices]
    rows = _question_rows(session, lesson_ids, question_ids) if question_ids else {}
    picks = _choice_picks(session, choice_ids) if choice_ids else {}
    by_lesson: dict[int, list[QuestionStats]] = {lesson_id: [] for lesson_id in lesson_ids}
    for question in questions:
        in_lesson = by_lesson[question.lesson_id]
        in_lesson.append(_question_stats(question, len(in_lesson) + 1, rows.get(question.id), picks))
    return by_lesson


def lesson_funnels(session: Session, *, lessons: list[Lesson], now: datetime | None = None) -> dict[int, LessonFunnel]:
    """Started, passed and gave-up counts for each lesson, by lesson id (1 query)."""
    lesson_ids = [lesson.id for lesson in lessons]
    if not lesson_ids:
        return {}
    cutoff = (now or utcnow()) - GAVE_UP_AFTER
    learners = _learners_only()
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
        select(activity.c.user_id, activity.c.lesson_id, func.max(activity.c.at).label("last_at"))
        .group_by(activity.c.user_id, activity.c.lesson_id)
        .subquery()
    )
    not_completed = LessonProgress.completed_at.is_(None)
    stmt = (
        select(
            per_learner.c.lesson_id,
            func.count().label("started"),
            func.count(LessonProgress.completed_at).label("passed"),
            func.sum(case((and_(not_completed, per_learner.c.last_at < cutoff), 1), else_=0)).label("gave_up"),
        )
        .select_from(per_learner)
        .outerjoin(
            LessonProgress,
            and_(
                LessonProgress.user_id == per_learner.c.user_id,
                LessonProgress.lesson_id == per_learner.c.lesson_id,
            ),
        )
        .group_by(per_learner.c.lesson_id)
    )
    funnels = {lesson_id: LessonFunnel() for lesson_id in lesson_ids}
    for row in session.execute(stmt):
        funnels[row.lesson_id] = LessonFunnel(started=row.started, passed=row.passed, gave_up=row.gave_up or 0)
    return funnels


def _read_through_indexes(session: Session) -> None:
    """On PostgreSQL, plan the rest of this transaction's reads through indexes (1 query).

    The aggregates below read every attempt, answer and selection; the covering indexes on
    those tables hold all the columns they need, a fraction of the bytes of the tables
    (answers carry a snapshot each). Left alone, the planner still picks some sequential scans
    of the narrower tables; measured at 100,000 learners, reading through the indexes is as
    fast and no longer grows with the size of the snapshots (bench/PLANS.md). JIT compiling
    costs more here than it saves. Both settings end with the transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.set_config("enable_seqscan", "off", True), func.set_config("jit", "off", True)))


def course_analytics(session: Session, *, course: Course, now: datetime | None = None) -> CourseAnalytics:
    """Funnels and question statistics for every live lesson of a course, in course order.

    Runs a fixed number of queries (8, and one more on PostgreSQL), whatever the number of
    learners or attempts.
    """
    now = now or utcnow()
    _read_through_indexes(session)
    outline = course_outline(session, course=course, learner=None)
    lessons = [entry.lesson for entry in outline.entries]
    questions = question_statistics(session, lessons=lessons)
    funnels = lesson_funnels(session, lessons=lessons, now=now)
    return CourseAnalytics(
        course=course,
        lessons=[
            LessonStats(
                lesson=entry.lesson,
                number=entry.number,
                funnel=funnels[entry.lesson.id],
                questions=questions[entry.lesson.id],
            )
            for entry in outline.entries
        ],
        computed_at=now,
    )


# --- the stored snapshot ------------------------------------------------------------------------


def analytics_courses(session: Session) -> list[Course]:
    """The courses the analytics page offers, oldest first (the first is shown by default)."""
    return list(session.scalars(select(Course).order_by(Course.id)))


def snapshot_get(session: Session, *, course: Course) -> AnalyticsSnapshot | None:
    """The course's last computed report, if it has one."""
    return session.scalar(select(AnalyticsSnapshot).where(AnalyticsSnapshot.course_id == course.id))


def snapshot_is_fresh(snapshot: AnalyticsSnapshot | None, *, max_age: float, now: datetime | None = None) -> bool:
    """Whether there is a snapshot and it was computed at most ``max_age`` seconds ago."""
    return snapshot is not None and snapshot.computed_at >= (now or utcnow()) - timedelta(seconds=max_age)


def snapshot_refresh(
    session: Session,
    *,
    course: Course,
    snapshot: AnalyticsSnapshot | None,
    render: Callable[[CourseAnalytics], str],
) -> AnalyticsSnapshot:
    """Compute the course's report, render it with ``render`` and keep it as the course's snapshot.

    ``snapshot`` is the course's current one (None if it has none). The caller commits.
    """
    report = course_analytics(session, course=course)
    if snapshot is None:
        snapshot = AnalyticsSnapshot(course_id=course.id)
        session.add(snapshot)
    snapshot.html, snapshot.computed_at = render(report), report.computed_at
    return snapshot


def course_report(
    session: Session,
    *,
    course: Course,
    max_age: float,
    render: Callable[[CourseAnalytics], str],
    refresh: bool = False,
) -> tuple[str, datetime]:
    """The course's report as rendered HTML, and when it was computed.

    Served from the snapshot while it is fresh; recalculated (and kept) when it is missing,
    older than ``max_age`` seconds, or ``refresh`` is asked. The caller commits.
    """
    snapshot = snapshot_get(session, course=course)
    if snapshot is None or refresh or not snapshot_is_fresh(snapshot, max_age=max_age):
        snapshot = snapshot_refresh(session, course=course, snapshot=snapshot, render=render)
    return snapshot.html, snapshot.computed_at
