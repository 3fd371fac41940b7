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

The report is aggregated over every attempt, which takes seconds at scale, so it is never
computed in a web request: a job (app/jobs/analytics.py, hourly and on "Recalculate now") or
`flask analytics refresh` computes it with ``snapshot_refresh`` and keeps its figures as data
(``report_data``) in the course's ``AnalyticsSnapshot``; the page rebuilds the report from that
data (``snapshot_report``) and renders it on every request. A refresh first claims the snapshot
row (``refreshing_since``), so two refreshes of a course never compute at the same time.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Float, and_, case, cast, distinct, func, literal, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
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
                lesson=LessonInfo(
                    id=entry.lesson.id,
                    slug=entry.lesson.slug,
                    title=entry.lesson.title,
                    module_title=entry.lesson.module.title if entry.lesson.module else "",
                ),
                number=entry.number,
                funnel=funnels[entry.lesson.id],
                questions=questions[entry.lesson.id],
            )
            for entry in outline.entries
        ],
        computed_at=now,
    )


# --- the stored snapshot ------------------------------------------------------------------------

# The shape of ``report_data``; a snapshot stored in another shape is ignored until recomputed.
DATA_FORMAT = 1
# A refresh that has not finished in this long is taken to have died with its worker, so another
# may start (one takes seconds, 4.5 s at 100,000 learners).
REFRESH_TIMEOUT = timedelta(minutes=15)


def report_data(report: CourseAnalytics) -> dict:
    """The report's figures as JSON-serialisable data, what a snapshot keeps.

    Only counts and the texts shown beside them are kept; shares, flags and charts are worked
    out again from them when the page renders, so they follow the current thresholds.
    """
    return {
        "format": DATA_FORMAT,
        "lessons": [
            {
                "lesson": {
                    "id": item.lesson.id,
                    "slug": item.lesson.slug,
                    "title": item.lesson.title,
                    "module_title": item.lesson.module_title,
                },
                "number": item.number,
                "funnel": {
                    "started": item.funnel.started,
                    "passed": item.funnel.passed,
                    "gave_up": item.funnel.gave_up,
                },
                "questions": [
                    {
                        "question_id": q.question_id,
                        "number": q.number,
                        "prompt": q.prompt,
                        "kind": q.kind,
                        "answered": q.answered,
                        "answers": q.answers,
                        "first_attempts": q.first_attempts,
                        "first_right": q.first_right,
                        "discrimination": q.discrimination,
                        "discrimination_note": q.discrimination_note,
                        "choices": [
                            {
                                "choice_id": c.choice_id,
                                "letter": c.letter,
                                "text": c.text,
                                "is_correct": c.is_correct,
                                "picks": c.picks,
                                "misconception_code": c.misconception_code,
                                "misconception_text": c.misconception_text,
                            }
                            for c in q.choices
                        ],
                    }
                    for q in item.questions
                ],
            }
            for item in report.lessons
        ],
    }


def _question_from_data(data: dict) -> QuestionStats:
    answers = data["answers"]
    choices = [
        ChoiceStats(**choice, share=choice["picks"] / answers if answers else None) for choice in data["choices"]
    ]
    return QuestionStats(**{**data, "choices": choices})


def report_from_data(data: dict, *, course: Course, computed_at: datetime) -> CourseAnalytics:
    """Rebuild the report ``report_data`` stored: the same figures, no query."""
    return CourseAnalytics(
        course=course,
        lessons=[
            LessonStats(
                lesson=LessonInfo(**item["lesson"]),
                number=item["number"],
                funnel=LessonFunnel(**item["funnel"]),
                questions=[_question_from_data(question) for question in item["questions"]],
            )
            for item in data["lessons"]
        ],
        computed_at=computed_at,
    )


def analytics_courses(session: Session) -> list[Course]:
    """The courses the analytics page offers, oldest first (the first is shown by default)."""
    return list(session.scalars(select(Course).order_by(Course.id)))


def snapshot_get(session: Session, *, course: Course, reload: bool = False) -> AnalyticsSnapshot | None:
    """The course's snapshot row, if it has one (1 query).

    ``reload``: overwrite the row this session already holds with what the database has now
    (after a refresh that ran in another session).
    """
    stmt = select(AnalyticsSnapshot).where(AnalyticsSnapshot.course_id == course.id)
    if reload:
        stmt = stmt.execution_options(populate_existing=True)
    return session.scalar(stmt)


def snapshot_report(snapshot: AnalyticsSnapshot | None, *, course: Course) -> CourseAnalytics | None:
    """The report the snapshot keeps, or None when there are no figures yet (or only an older format)."""
    if snapshot is None or snapshot.computed_at is None or not snapshot.data:
        return None
    if snapshot.data.get("format") != DATA_FORMAT:
        return None
    return report_from_data(snapshot.data, course=course, computed_at=snapshot.computed_at)


def snapshot_is_refreshing(snapshot: AnalyticsSnapshot | None, *, now: datetime | None = None) -> bool:
    """Whether a refresh of this snapshot has started and is not yet overdue (``REFRESH_TIMEOUT``)."""
    if snapshot is None or snapshot.refreshing_since is None:
        return False
    return snapshot.refreshing_since > (now or utcnow()) - REFRESH_TIMEOUT


def _claim(session: Session, *, course_id: int, now: datetime) -> bool:
    """Mark the course's snapshot as being refreshed since ``now``, unless a live refresh has; commits.

    The conditional UPDATE is the guard: on PostgreSQL a second UPDATE of the row waits for the
    first to commit and then finds ``refreshing_since`` set; SQLite runs one writer at a time.
    """
    if session.scalar(select(AnalyticsSnapshot.id).where(AnalyticsSnapshot.course_id == course_id)) is None:
        try:
            with session.begin_nested():
                session.add(AnalyticsSnapshot(course_id=course_id))
        except IntegrityError:
            pass  # another refresh created the row a moment ago; the UPDATE below decides
    # An UPDATE's result is a CursorResult (it has rowcount); Session.execute is typed for any statement.
    claimed = typing.cast(
        "CursorResult[Any]",
        session.execute(
            update(AnalyticsSnapshot)
            .where(
                AnalyticsSnapshot.course_id == course_id,
                or_(
                    AnalyticsSnapshot.refreshing_since.is_(None),
                    AnalyticsSnapshot.refreshing_since <= now - REFRESH_TIMEOUT,
                ),
            )
            .values(refreshing_since=now)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    session.commit()
    return claimed == 1


def snapshot_refresh(session: Session, *, course_id: int, now: datetime | None = None) -> bool:
    """Compute the course's report and keep its figures as the course's snapshot; commits.

    Returns False, computing nothing, when the course is gone or another refresh of it is
    running (its claim is younger than ``REFRESH_TIMEOUT``). A failed computation gives its
    claim back, so the next try is not kept waiting, and raises.
    """
    now = now or utcnow()
    session.commit()  # end the caller's transaction: the claim must be seen by other refreshes at once
    course = session.get(Course, course_id)
    if course is None or not _claim(session, course_id=course_id, now=now):
        session.rollback()
        return False
    try:
        report = course_analytics(session, course=course, now=now)
        snapshot = session.scalar(select(AnalyticsSnapshot).where(AnalyticsSnapshot.course_id == course_id))
        if snapshot is None:  # claimed above: only deleting the course since removes it
            raise LookupError(f"course {course_id} was deleted during its analytics refresh")
        snapshot.data, snapshot.computed_at, snapshot.refreshing_since = report_data(report), now, None
        session.commit()
    except Exception:
        session.rollback()
        _release(session, course_id=course_id, claimed_at=now)
        raise
    return True


def _release(session: Session, *, course_id: int, claimed_at: datetime) -> None:
    """Give back a claim this refresh made (only its own: a later one may have taken over); commits."""
    session.execute(
        update(AnalyticsSnapshot)
        .where(AnalyticsSnapshot.course_id == course_id, AnalyticsSnapshot.refreshing_since == claimed_at)
        .values(refreshing_since=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
