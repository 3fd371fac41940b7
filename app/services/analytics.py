"""Question and lesson analytics for admins: which questions work, where learners drop out.

Every figure is an SQL aggregate (GROUP BY, COUNT, SUM, ROW_NUMBER and COUNT windows), so
``course_analytics`` runs the same number of queries for 10 learners as for 10,000.
Only accounts with the learner role are counted: admins trying a quiz and counsellors
looking round do not skew the numbers.

Definitions (also shown on the page):

- **Date range** (``RANGES``): the last 30 days, 90 days, 12 months, or all time, counted back
  from when the figures were computed. Answers and choice picks count when the attempt was
  made in the range; first tries when the learner's first attempt at the quiz was; a lesson's
  funnel counts the learners who started it in the range (and follows them to now).
- **Answers**: every answer to the question, over every attempt.
- **First try**: a learner's earliest attempt at the lesson's quiz. % right (facility) and
  discrimination use first tries only, before feedback and retries teach the answer, as
  Moodle's quiz statistics do by default. A learner whose first attempt came before the
  question was added is left out of both.
- **% right** (facility): the share of those first tries that got the question right.
- **Discrimination index**: the Pearson correlation, over first tries, between the score on
  this question (1 right, 0 wrong) and the score on the rest of the quiz (the share of the other
  questions right). It runs from -100% to 100%: high means learners who do well on the rest of
  the quiz also get this one right. It is left out (None, with the reason) when there are fewer
  than two first tries, when the quiz has no other question, or when either score does not vary.
- **Too few to judge**: fewer than ``MIN_ANSWERS_TO_JUDGE`` first tries. The figures are shown
  with that caution and the question is never flagged for review on them (why 30: see the
  constant).
- **Picks**: how often each choice was picked, over every attempt; the share is of all
  answers to the question (a multiple-answer question's shares can add up to over 100%).
- **Funnel**: started = opened the lesson or attempted its quiz; passed = completed the
  lesson; gave up = started, not completed, and no activity on the lesson (opening it or
  attempting its quiz) for ``GAVE_UP_AFTER``.

The report is aggregated over every attempt, which takes seconds at scale, so it is never
computed in a web request: a job (app/jobs/analytics.py, hourly and on "Recalculate now") or
`flask analytics refresh` computes it with ``snapshot_refresh`` and keeps its figures as data
(``report_data``, every date range at once) in the course's ``AnalyticsSnapshot``; the page
rebuilds one range's report from that data (``snapshot_report``) and renders it on every request.
A refresh first claims the snapshot row (``refreshing_since``), so two refreshes of a course never
compute at the same time.

The date ranges are nested, so each query groups its rows by *band* (the narrowest range an
event falls in: the last 30 days, 30 to 90 days ago, 90 to 365 days ago, older) and a range's
figures are the sums of its bands: one scan of the attempts serves all four ranges. Every figure
kept is a count or a sum for that reason; discrimination is worked out from a range's sums.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Float, and_, case, cast, func, literal, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.models import (
    AnalyticsSnapshot,
    AttemptAnswer,
    Choice,
    Course,
    Lesson,
    LessonProgress,
    Question,
    QuizAttempt,
    Role,
    ShownQuestion,
    User,
)
from app.models.progress import text_indexes
from app.models.types import utcnow
from app.services.authoring.draft import draft_get
from app.services.progress import course_outline, live_lesson_ids

# Below this many first tries a question's % right and discrimination are shown with a caution,
# "too few to judge", and never flagged for review. Why 30: with n first tries one learner more
# or less moves % right by up to 100/n points (17 points at 6, 3 at 30), and the usual error of
# a share is up to 50/sqrt(n) points (20 at 6, 9 at 30); a discrimination index near zero has a
# standard error of about 1/sqrt(n) (41 points at 6, 18 at 30), so below 30 it cannot tell a
# weak question (under 20%) from a good one. 30 is also where classical item analysis usually
# starts; more is better, and the figures say how many there were.
MIN_ANSWERS_TO_JUDGE = 30
# Per lesson: started, not passed, nothing done on it for this long. Not the dashboard's
# INACTIVE_AFTER (services/dashboard.py), which is per person over the whole course.
GAVE_UP_AFTER = timedelta(days=7)
# Review thresholds, as shares: outside them a question may be too hard, too easy or not telling.
HARD_BELOW = 0.30
EASY_ABOVE = 0.95
DISCRIMINATION_BELOW = 0.20


# --- date ranges --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    """A span of time the figures can be limited to, counted back from when they were computed."""

    key: str
    label: str
    days: int | None  # None: all time

    def since(self, now: datetime) -> datetime | None:
        """The start of the range for figures computed at ``now``; None for all time."""
        return None if self.days is None else now - timedelta(days=self.days)


# Narrowest first, all time last: an event's band is the first range that holds it (see _band).
RANGES = (
    DateRange("30d", "Last 30 days", 30),
    DateRange("90d", "Last 90 days", 90),
    DateRange("12m", "Last 12 months", 365),
    DateRange("all", "All time", None),
)
RANGES_BY_KEY = {date_range.key: date_range for date_range in RANGES}
DEFAULT_RANGE = RANGES_BY_KEY["all"]


def date_range_for(key: str | None) -> DateRange | None:
    """The range a query string names (the default when it names none), or None for an unknown one."""
    if not key:
        return DEFAULT_RANGE
    return RANGES_BY_KEY.get(key)


def _band(column, now: datetime):
    """SQL for the index (in RANGES) of the narrowest range that holds the time in ``column``."""
    whens = [
        (column >= now - timedelta(days=date_range.days), index)
        for index, date_range in enumerate(RANGES)
        if date_range.days is not None
    ]
    return case(*whens, else_=len(RANGES) - 1)


def _upto(by_band: dict[int, Any], range_index: int) -> list[Any]:
    """The rows of the bands a range is made of: its own and every narrower one."""
    return [by_band[band] for band in range(range_index + 1) if band in by_band]


# --- the report ---------------------------------------------------------------------------------


def whole_percent(share: float | None) -> int | None:
    """A share as a whole percentage, rounded half away from zero (0.625 -> 63), or None when unknown.

    The page and the CSV both round with this, so they give the same numbers.
    """
    if share is None:
        return None
    value = 100 * share
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


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
    answers: int
    first_attempts: int
    first_right: int
    discrimination: float | None
    discrimination_note: str | None
    choices: list[ChoiceStats]

    @property
    def facility(self) -> float | None:
        """Share of learners right on their first try, or None before anyone tried."""
        return self.first_right / self.first_attempts if self.first_attempts else None

    @property
    def too_few(self) -> bool:
        """Whether there are too few first tries to judge the question (``MIN_ANSWERS_TO_JUDGE``)."""
        return self.first_attempts < MIN_ANSWERS_TO_JUDGE

    @property
    def caution(self) -> str | None:
        """The caution shown beside figures from too few first tries, or None when there are enough."""
        if not self.too_few:
            return None
        tries = "first try" if self.first_attempts == 1 else "first tries"
        return f"Too few to judge: {self.first_attempts} {tries}, fewer than {MIN_ANSWERS_TO_JUDGE}"

    @property
    def correct_letters(self) -> list[str]:
        return [choice.letter for choice in self.choices if choice.is_correct]

    @property
    def flags(self) -> list[ReviewFlag]:
        """The reasons this question may need review; judged only on enough first tries."""
        facility = self.facility  # None only when nobody has tried, which too_few already rules out
        if self.too_few or facility is None:
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


# --- computing the figures ----------------------------------------------------------------------


def pearson(n: int, sum_x: float, sum_y: float, sum_xy: float, sum_xx: float, sum_yy: float) -> float | None:
    """Return Pearson's r from the sums SQL aggregated, or None when either variable is constant."""
    covariance = n * sum_xy - sum_x * sum_y
    spread_x = n * sum_xx - sum_x * sum_x
    spread_y = n * sum_yy - sum_y * sum_y
    # Float sums of identical values can miss zero by a rounding error; treat that as zero.
    if spread_x <= 1e-9 * max(1.0, n * sum_xx) or spread_y <= 1e-9 * max(1.0, n * sum_yy):
        return None
    return max(-1.0, min(1.0, covariance / math.sqrt(spread_x * spread_y)))


# The additive figures of one question (per band in SQL, per range once summed).
_SUMS = ("answers", "first_attempts", "first_right", "pairs", "sum_x", "sum_y", "sum_xy", "sum_yy")


def _sum_rows(rows: Iterable[Any]) -> dict[str, float]:
    """Add up the per-band rows of one question into its range's sums."""
    totals: dict[str, float] = dict.fromkeys(_SUMS, 0)
    for row in rows:
        for name in _SUMS:
            totals[name] += float(getattr(row, name) or 0)  # PostgreSQL may sum integers as numeric
    return totals


def _discrimination(sums: dict[str, float]) -> tuple[float | None, str | None]:
    """The discrimination index from one range's sums, or None and why not."""
    first, pairs = int(sums["first_attempts"]), int(sums["pairs"])
    if first == 0:
        return None, "No first tries yet."
    if pairs < 2:
        if first >= 2:
            return None, "The quiz has no other questions to compare with."
        return None, "Needs at least 2 first tries; has 1."
    sum_x, sum_y = float(sums["sum_x"]), float(sums["sum_y"])
    if sum_x in (0, pairs):
        everyone = "right" if sum_x else "wrong"
        return None, f"Every first try got it {everyone}, so it cannot separate learners."
    r = pearson(pairs, sum_x, sum_y, float(sums["sum_xy"]), sum_x, float(sums["sum_yy"]))
    if r is None:
        return None, "Every first try scored the same on the rest of the quiz."
    return r, None


def _learners_only():
    return select(User.id).where(User.role == Role.LEARNER)


def _question_rows(
    session: Session, lesson_ids: list[int], question_ids: list[int], now: datetime
) -> dict[tuple[int, int], Any]:
    """One row of sums per question and band: answers, first-try counts, correlation sums (1 query)."""
    ranked = (
        select(
            QuizAttempt.id.label("attempt_id"),
            QuizAttempt.correct_count,
            QuizAttempt.question_count,
            _band(QuizAttempt.submitted_at, now).label("band"),
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
            ranked.c.band,
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
        .group_by(AttemptAnswer.question_id, ranked.c.band)
    )
    return {(row.question_id, row.band): row for row in session.execute(stmt)}


def _choice_picks(
    session: Session, question_ids: list[int], choice_ids: list[int], now: datetime
) -> dict[tuple[int, int], int]:
    """How many times each choice was picked in each band, over every learner attempt (1 query).

    Answers keep their picks as indexes into their question's shown version: they are counted
    per (version, picks, band) in SQL, a few rows per question, and each group's count is then
    credited to the choices its picks name.
    """
    picked = (
        select(
            AttemptAnswer.shown_question_id,
            AttemptAnswer.chosen,
            _band(QuizAttempt.submitted_at, now).label("band"),
        )
        .join(QuizAttempt, QuizAttempt.id == AttemptAnswer.attempt_id)
        .where(AttemptAnswer.question_id.in_(question_ids), QuizAttempt.user_id.in_(_learners_only()))
        .subquery()
    )
    groups = (
        select(picked.c.shown_question_id, picked.c.chosen, picked.c.band, func.count().label("picks"))
        .group_by(picked.c.shown_question_id, picked.c.chosen, picked.c.band)
        .subquery()
    )
    stmt = select(groups.c.chosen, groups.c.band, groups.c.picks, ShownQuestion.choices).join(
        ShownQuestion, ShownQuestion.id == groups.c.shown_question_id
    )
    wanted = set(choice_ids)
    picks: dict[tuple[int, int], int] = {}
    for row in session.execute(stmt):
        for index in text_indexes(row.chosen):
            # Choices deleted since (or missing from an old version) are not among the live ones.
            choice_id = row.choices[index].get("choice_id")
            if choice_id in wanted:
                picks[(choice_id, row.band)] = picks.get((choice_id, row.band), 0) + row.picks
    return picks


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


def _question_stats(question: Question, number: int, sums: dict[str, float], picks: dict[int, int]) -> QuestionStats:
    answers = int(sums["answers"])
    discrimination, note = _discrimination(sums)
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
        answers=answers,
        first_attempts=int(sums["first_attempts"]),
        first_right=int(sums["first_right"]),
        discrimination=discrimination,
        discrimination_note=note,
        choices=choices,
    )


def question_statistics(
    session: Session, *, lessons: list[Lesson], now: datetime | None = None
) -> dict[str, dict[int, list[QuestionStats]]]:
    """Statistics for the live questions of these lessons: by range key, by lesson id, in quiz order (5 queries)."""
    now = now or utcnow()
    lesson_ids = [lesson.id for lesson in lessons]
    questions = _live_questions(session, lesson_ids) if lesson_ids else []
    question_ids = [question.id for question in questions]
    choice_ids = [choice.id for question in questions for choice in question.live_choices]
    rows = _question_rows(session, lesson_ids, question_ids, now) if question_ids else {}
    picks = _choice_picks(session, question_ids, choice_ids, now) if choice_ids else {}
    rows_by_question: dict[int, dict[int, Any]] = {}
    for (question_id, band), row in rows.items():
        rows_by_question.setdefault(question_id, {})[band] = row
    picks_by_choice: dict[int, dict[int, int]] = {}
    for (choice_id, band), count in picks.items():
        picks_by_choice.setdefault(choice_id, {})[band] = count
    result: dict[str, dict[int, list[QuestionStats]]] = {}
    for index, date_range in enumerate(RANGES):
        by_lesson: dict[int, list[QuestionStats]] = {lesson_id: [] for lesson_id in lesson_ids}
        for question in questions:
            sums = _sum_rows(_upto(rows_by_question.get(question.id, {}), index))
            range_picks = {
                choice.id: sum(_upto(picks_by_choice.get(choice.id, {}), index)) for choice in question.live_choices
            }
            in_lesson = by_lesson[question.lesson_id]
            in_lesson.append(_question_stats(question, len(in_lesson) + 1, sums, range_picks))
        result[date_range.key] = by_lesson
    return result


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
        _band(per_learner.c.first_at, now).label("band"),
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
            rows = _upto(bands, index)
            empty[date_range.key][lesson_id] = LessonFunnel(
                started=sum(row.started for row in rows),
                passed=sum(row.passed for row in rows),
                gave_up=sum(row.gave_up or 0 for row in rows),
            )
    return empty


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


# --- links to the editor ------------------------------------------------------------------------


@dataclass(frozen=True)
class EditorPlace:
    """Where the editor has a question now: its lesson and position in the draft, or why nowhere."""

    lesson_slug: str | None = None
    position: int | None = None
    missing: str | None = None  # "Retired" or "Removed in the draft": shown instead of a link


RETIRED = EditorPlace(missing="Retired")
REMOVED_IN_DRAFT = EditorPlace(missing="Removed in the draft")


def question_editor_places(session: Session, *, course: Course, question_ids: Iterable[int]) -> dict[int, EditorPlace]:
    """Where each question is in the course's editor now (2 queries).

    The editor names a question by its lesson and position in the draft, which can differ from
    the published course, and the figures may be an hour old: a question may have moved, been
    taken out of the draft, or been retired since. Without a draft the editor starts from the
    published course, where a live question's position is its place among its lesson's live ones.
    """
    live = session.execute(
        select(Question.id, Lesson.slug)
        .join(Lesson, Lesson.id == Question.lesson_id)
        .where(Question.lesson_id.in_(live_lesson_ids(course.id)), Question.retired_at.is_(None))
        .order_by(Lesson.id, Question.position, Question.id)
    ).all()
    draft = draft_get(session, course)
    places: dict[int, EditorPlace] = {}
    if draft is None:
        counts: dict[str, int] = {}
        for question_id, lesson_slug in live:
            counts[lesson_slug] = counts.get(lesson_slug, 0) + 1
            places[question_id] = EditorPlace(lesson_slug=lesson_slug, position=counts[lesson_slug])
    else:
        for lesson_slug, lesson in draft.data.get("lessons", {}).items():
            for position, question in enumerate(lesson.get("front", {}).get("quiz", []), start=1):
                if "id" in question:
                    places[question["id"]] = EditorPlace(lesson_slug=lesson_slug, position=position)
    live_ids = {question_id for question_id, _ in live}
    return {
        question_id: places.get(question_id) or (REMOVED_IN_DRAFT if question_id in live_ids else RETIRED)
        for question_id in question_ids
    }


# --- the CSV ------------------------------------------------------------------------------------


def report_table(report: CourseAnalytics) -> tuple[list[str], list[list[str | int | None]]]:
    """The report's per-question figures as a header and rows, for the CSV download.

    The same figures as the page, rounded by the same rule (``whole_percent``): one row per
    question, in course order, with a share column per choice letter.
    """
    letters = [chr(ord("A") + index) if index < 26 else str(index + 1) for index in range(report.most_choices)]
    header = [
        "Lesson",
        "Lesson title",
        "Question",
        "Prompt",
        "Kind",
        "Answers",
        "First tries",
        "Right first time",
        "% right",
        "Discrimination (%)",
        "Correct choices",
        *(f"{letter} picked (% of answers)" for letter in letters),
        "Review flags",
        "Caution",
    ]
    rows: list[list[str | int | None]] = []
    for item, question in report.questions:
        shares = [whole_percent(choice.share) for choice in question.choices]
        rows.append(
            [
                item.number,
                item.lesson.title,
                question.number,
                question.prompt,
                question.kind,
                question.answers,
                question.first_attempts,
                question.first_right,
                whole_percent(question.facility),
                whole_percent(question.discrimination),
                " ".join(question.correct_letters),
                *shares,
                *([None] * (len(letters) - len(shares))),
                "; ".join(flag.label for flag in question.flags),
                question.caution,
            ]
        )
    return header, rows


# --- the stored snapshot ------------------------------------------------------------------------

# The shape of ``report_data``; a snapshot stored in another shape is ignored until recomputed,
# except format 1 (before date ranges), whose figures are read as all time.
DATA_FORMAT = 2
# A refresh that has not finished in this long is taken to have died with its worker, so another
# may start (one takes seconds, 4.5 s at 100,000 learners).
REFRESH_TIMEOUT = timedelta(minutes=15)
# A question's figures per range, as a snapshot keeps them (with the picks of each choice).
_FIGURE_KEYS = ("answers", "first_attempts", "first_right", "discrimination", "discrimination_note")


def report_data(reports: dict[str, CourseAnalytics]) -> dict:
    """Every range's figures as JSON-serialisable data, what a snapshot keeps.

    The lessons, questions and choices are kept once, with each range's counts beside them.
    Only counts and the texts shown beside them are kept; shares, flags, cautions and charts are
    worked out again from them when the page renders, so they follow the current thresholds.
    """
    keys = [date_range.key for date_range in RANGES if date_range.key in reports]
    shape = reports[keys[-1]]
    by_range = {key: {item.lesson.id: item for item in reports[key].lessons} for key in keys}
    return {
        "format": DATA_FORMAT,
        "ranges": keys,
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
                    key: {
                        "started": by_range[key][item.lesson.id].funnel.started,
                        "passed": by_range[key][item.lesson.id].funnel.passed,
                        "gave_up": by_range[key][item.lesson.id].funnel.gave_up,
                    }
                    for key in keys
                },
                "questions": [
                    {
                        "question_id": q.question_id,
                        "number": q.number,
                        "prompt": q.prompt,
                        "kind": q.kind,
                        "choices": [
                            {
                                "choice_id": c.choice_id,
                                "letter": c.letter,
                                "text": c.text,
                                "is_correct": c.is_correct,
                                "misconception_code": c.misconception_code,
                                "misconception_text": c.misconception_text,
                            }
                            for c in q.choices
                        ],
                        "figures": {key: _figures(by_range[key][item.lesson.id].questions[index]) for key in keys},
                    }
                    for index, q in enumerate(item.questions)
                ],
            }
            for item in shape.lessons
        ],
    }


def _figures(question: QuestionStats) -> dict:
    return {
        "answers": question.answers,
        "first_attempts": question.first_attempts,
        "first_right": question.first_right,
        "discrimination": question.discrimination,
        "discrimination_note": question.discrimination_note,
        "picks": [choice.picks for choice in question.choices],
    }


def _format_1_as_2(data: dict) -> dict:
    """A snapshot from before date ranges, read as the all-time figures it holds."""
    return {
        "format": DATA_FORMAT,
        "ranges": [DEFAULT_RANGE.key],
        "lessons": [
            {
                **item,
                "funnel": {DEFAULT_RANGE.key: item["funnel"]},
                "questions": [
                    {
                        **{key: q[key] for key in ("question_id", "number", "prompt", "kind")},
                        "choices": [{k: v for k, v in c.items() if k != "picks"} for c in q["choices"]],
                        "figures": {
                            DEFAULT_RANGE.key: {
                                **{key: q[key] for key in _FIGURE_KEYS},
                                "picks": [c["picks"] for c in q["choices"]],
                            }
                        },
                    }
                    for q in item["questions"]
                ],
            }
            for item in data["lessons"]
        ],
    }


def _question_from_data(data: dict, key: str) -> QuestionStats:
    figures = data["figures"][key]
    answers = figures["answers"]
    choices = [
        ChoiceStats(**choice, picks=picks, share=picks / answers if answers else None)
        for choice, picks in zip(data["choices"], figures["picks"], strict=True)
    ]
    return QuestionStats(
        question_id=data["question_id"],
        number=data["number"],
        prompt=data["prompt"],
        kind=data["kind"],
        choices=choices,
        **{name: figures[name] for name in _FIGURE_KEYS},
    )


def report_from_data(
    data: dict, *, course: Course, computed_at: datetime, date_range: DateRange = DEFAULT_RANGE
) -> CourseAnalytics | None:
    """Rebuild one range's report from what ``report_data`` stored (no query); None if it holds no such range."""
    if data.get("format") == 1:
        data = _format_1_as_2(data)
    if data.get("format") != DATA_FORMAT or date_range.key not in data.get("ranges", []):
        return None
    key = date_range.key
    return CourseAnalytics(
        course=course,
        lessons=[
            LessonStats(
                lesson=LessonInfo(**item["lesson"]),
                number=item["number"],
                funnel=LessonFunnel(**item["funnel"][key]),
                questions=[_question_from_data(question, key) for question in item["questions"]],
            )
            for item in data["lessons"]
        ],
        computed_at=computed_at,
        date_range=date_range,
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


def snapshot_report(
    snapshot: AnalyticsSnapshot | None, *, course: Course, date_range: DateRange = DEFAULT_RANGE
) -> CourseAnalytics | None:
    """The range's report the snapshot keeps, or None when it has no figures for it yet.

    None too for a snapshot in an unknown format, or from before date ranges (format 1) for any
    range but all time: the page then asks for a recalculation.
    """
    if snapshot is None or snapshot.computed_at is None or not snapshot.data:
        return None
    return report_from_data(snapshot.data, course=course, computed_at=snapshot.computed_at, date_range=date_range)


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
    """Compute the course's report for every date range and keep its figures as the course's snapshot; commits.

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
        reports = course_analytics_by_range(session, course=course, now=now)
        snapshot = session.scalar(select(AnalyticsSnapshot).where(AnalyticsSnapshot.course_id == course_id))
        if snapshot is None:  # claimed above: only deleting the course since removes it
            raise LookupError(f"course {course_id} was deleted during its analytics refresh")
        snapshot.data, snapshot.computed_at, snapshot.refreshing_since = report_data(reports), now, None
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
