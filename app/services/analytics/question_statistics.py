"""How each live question performs: answers, first tries, % right, discrimination, the picks of
each choice, and the flags that ask an author to review it.

Apart from the funnels because these come from the answers of every attempt (2 queries), grouped
by question and band.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session, selectinload

from app.models import AttemptAnswer, Choice, Lesson, Question, QuizAttempt, ShownQuestion
from app.models.progress import text_indexes
from app.models.types import utcnow
from app.services.analytics.counted_learners import learners_only
from app.services.analytics.date_ranges import RANGES, band_of, bands_upto
from app.services.analytics.discrimination import discrimination_from_sums

# Below this many first tries a question's % right and discrimination are shown with a caution,
# "too few to judge", and never flagged for review. Why 30: with n first tries one learner more
# or less moves % right by up to 100/n points (17 points at 6, 3 at 30), and the usual error of
# a share is up to 50/sqrt(n) points (20 at 6, 9 at 30); a discrimination index near zero has a
# standard error of about 1/sqrt(n) (41 points at 6, 18 at 30), so below 30 it cannot tell a
# weak question (under 20%) from a good one. 30 is also where classical item analysis usually
# starts; more is better, and the figures say how many there were.
MIN_ANSWERS_TO_JUDGE = 30
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


# The additive figures of one question (per band in SQL, per range once summed).
_SUMS = ("answers", "first_attempts", "first_right", "pairs", "sum_x", "sum_y", "sum_xy", "sum_yy")


def _sum_rows(rows: Iterable[Any]) -> dict[str, float]:
    """Add up the per-band rows of one question into its range's sums."""
    totals: dict[str, float] = dict.fromkeys(_SUMS, 0)
    for row in rows:
        for name in _SUMS:
            totals[name] += float(getattr(row, name) or 0)  # PostgreSQL may sum integers as numeric
    return totals


def _question_rows(
    session: Session, lesson_ids: list[int], question_ids: list[int], now: datetime
) -> dict[tuple[int, int], Any]:
    """One row of sums per question and band: answers, first-try counts, correlation sums (1 query)."""
    ranked = (
        select(
            QuizAttempt.id.label("attempt_id"),
            QuizAttempt.correct_count,
            QuizAttempt.question_count,
            band_of(QuizAttempt.submitted_at, now).label("band"),
            func.row_number()
            .over(
                partition_by=(QuizAttempt.user_id, QuizAttempt.lesson_id),
                order_by=(QuizAttempt.submitted_at, QuizAttempt.id),
            )
            .label("attempt_number"),
        )
        .where(QuizAttempt.lesson_id.in_(lesson_ids), QuizAttempt.user_id.in_(learners_only()))
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
            band_of(QuizAttempt.submitted_at, now).label("band"),
        )
        .join(QuizAttempt, QuizAttempt.id == AttemptAnswer.attempt_id)
        .where(AttemptAnswer.question_id.in_(question_ids), QuizAttempt.user_id.in_(learners_only()))
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
    discrimination, note = discrimination_from_sums(sums)
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
            sums = _sum_rows(bands_upto(rows_by_question.get(question.id, {}), index))
            range_picks = {
                choice.id: sum(bands_upto(picks_by_choice.get(choice.id, {}), index))
                for choice in question.live_choices
            }
            in_lesson = by_lesson[question.lesson_id]
            in_lesson.append(_question_stats(question, len(in_lesson) + 1, sums, range_picks))
        result[date_range.key] = by_lesson
    return result
