"""A learner's history: what they did, in order. Plans are data; the writer turns them into the
rows a real learner's submissions would have left, exactly as ``quiz_submit_attempt`` records
them: an AttemptAnswer per live question pointing at its shown version, with the order that
attempt's key shows and the picks, a LessonProgress row completed at the first passing
attempt, and a ReviewCard for each question they ever answered wrong, moved on by each of
their answers to it since, as FSRS schedules it (app/services/review.py). Reviews themselves
are not planned: no ReviewAnswer rows."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.devdata.rows import Sink, sink_for
from app.devdata.shape import CourseShape, LessonShape, QuizQuestion, course_shape
from app.models import AttemptAnswer, Course, LessonProgress, QuizAttempt, ReviewCard
from app.models.progress import indexes_text
from app.services.pass_rule import is_pass
from app.services.quizzes import shown_order
from app.services.review import AnyCard, CardRow, card_answered, card_row_new


@dataclass(frozen=True)
class PlannedAttempt:
    """A quiz attempt: when, and per question in quiz order an index into its variants (0 = right)."""

    at: datetime
    variants: tuple[int, ...]


@dataclass
class LessonVisit:
    """A lesson opened, and the attempts at its quiz."""

    lesson: LessonShape
    opened_at: datetime
    attempts: list[PlannedAttempt] = field(default_factory=list)
    # Only for a lesson without a quiz (marked done); a quiz lesson completes at its first pass.
    done_at: datetime | None = None


@dataclass
class HistoryCounts:
    """Rows written so far."""

    attempts: int = 0
    answers: int = 0
    progress_rows: int = 0
    completions: int = 0
    cards: int = 0


def _answer_columns(sink: Sink, question: QuizQuestion, variant_index: int, order: tuple[int, ...]) -> dict:
    """The columns of an answer that depend only on the question, the variant and the order
    shown: millions of answers share a few thousand of these, so each is prepared once."""
    key = ("answer", question.id, variant_index, order)
    columns = sink.memo.get(key)
    if columns is None:
        variant = question.variants[variant_index]
        columns = sink.memo[key] = {
            "shown_question_id": question.version_id,
            "is_correct": variant.is_correct,
            "choice_order": None if order == tuple(range(len(order))) else indexes_text(order),
            "chosen": variant.chosen_text,
        }
    return columns


def write_history(
    sink: Sink,
    rng: random.Random,
    shape: CourseShape,
    learner_id: int,
    visits: Iterable[LessonVisit],
    counts: HistoryCounts,
) -> None:
    """Queue the rows of one learner's planned visits on ``sink``, counting them in ``counts``."""
    cards: dict[int, AnyCard] = {}  # by question: made at its first wrong answer, then moved on by each
    for visit in visits:
        completed_at = visit.done_at if not visit.lesson.questions else None
        questions = visit.lesson.questions
        for attempt in visit.attempts:
            attempt_id = sink.take_id(QuizAttempt)
            submission_key = f"{rng.getrandbits(128):032x}"
            correct = 0
            for position, (question, variant_index) in enumerate(zip(questions, attempt.variants, strict=True), 1):
                is_correct = question.variants[variant_index].is_correct
                correct += is_correct
                _card_answered(sink, cards, learner_id, question.id, is_correct, attempt.at)
                # The order quiz_submit_attempt would have shown for this key.
                order = tuple(
                    shown_order(
                        range(question.choice_count),
                        question_id=question.id,
                        shuffle=question.shuffle,
                        submission_key=submission_key,
                    )
                )
                sink.add(
                    AttemptAnswer,
                    {
                        "id": sink.take_id(AttemptAnswer),
                        "attempt_id": attempt_id,
                        "question_id": question.id,
                        "position": position,
                        **_answer_columns(sink, question, variant_index, order),
                    },
                )
            passed = is_pass(correct, len(questions), shape.pass_mark)
            sink.add(
                QuizAttempt,
                {
                    "id": attempt_id,
                    "user_id": learner_id,
                    "lesson_id": visit.lesson.id,
                    "submission_key": submission_key,
                    "submitted_at": attempt.at,
                    "question_count": len(questions),
                    "correct_count": correct,
                    "score": correct / len(questions),
                    "pass_mark": shape.pass_mark,
                    "passed": passed,
                },
            )
            counts.attempts += 1
            counts.answers += len(questions)
            if passed and completed_at is None:
                completed_at = attempt.at
        sink.add(
            LessonProgress,
            {
                "id": sink.take_id(LessonProgress),
                "user_id": learner_id,
                "lesson_id": visit.lesson.id,
                "opened_at": visit.opened_at,
                "completed_at": completed_at,
            },
        )
        counts.progress_rows += 1
        counts.completions += completed_at is not None
    for card in cards.values():
        sink.add(ReviewCard, {column: getattr(card, column) for column in _CARD_COLUMNS})
    counts.cards += len(cards)


_CARD_COLUMNS = tuple(column.key for column in ReviewCard.__table__.columns)


def _card_answered(
    sink: Sink, cards: dict[int, AnyCard], learner_id: int, question_id: int, is_correct: bool, at: datetime
) -> None:
    """What one answer does to the learner's card for its question (review.card_answered, as a quiz does it)."""

    def new_card() -> CardRow:
        return card_row_new(card_id=sink.take_id(ReviewCard), user_id=learner_id, question_id=question_id, when=at)

    card, _ = card_answered(cards.get(question_id), is_correct=is_correct, when=at, make=new_card)
    if card is not None:
        cards[question_id] = card


def histories_write(
    session: Session,
    *,
    course: Course,
    histories: list[tuple[int, list[LessonVisit]]],
    seed: int | None = None,
    shape: CourseShape | None = None,
) -> HistoryCounts:
    """Write the planned histories of existing learners, as real submissions would, in the
    session's transaction; the caller commits.

    ``seed`` makes the submission keys reproducible; by default they are random."""
    shape = shape or course_shape(session, course)
    rng = random.Random(seed)  # noqa: S311 - submission keys of synthetic data, not secrets
    sink = sink_for(session)
    counts = HistoryCounts()
    for learner_id, visits in histories:
        write_history(sink, rng, shape, learner_id, visits, counts)
    sink.flush()
    return counts


def scripted_history(
    shape: CourseShape, *, passed: int, failures_on_next: int, open_next: bool, last_active: datetime
) -> list[LessonVisit]:
    """A simple history: pass the first ``passed`` lessons first time, then fail the next one's quiz
    ``failures_on_next`` times (every answer wrong, misconception-revealing where possible), or
    only open it when ``open_next``. The steps are a minute apart, the last at ``last_active``."""
    steps: list[tuple[LessonShape, bool]] = [(lesson, True) for lesson in shape.lessons[:passed]]
    following = shape.lessons[passed] if passed < len(shape.lessons) else None
    if following is not None:
        steps += [(following, False)] * failures_on_next
    opened_only = following is not None and not failures_on_next and open_next
    times = [last_active - timedelta(minutes=len(steps) - index) for index in range(len(steps) + 1)]
    visits: dict[int, LessonVisit] = {}
    for (lesson, right), at in zip(steps, times[1:], strict=True):
        visit = visits.get(lesson.id)
        if visit is None:
            visit = visits[lesson.id] = LessonVisit(lesson, opened_at=at - timedelta(seconds=30))
        if lesson.questions:
            variants = tuple(0 if right or len(q.variants) == 1 else 1 for q in lesson.questions)
            visit.attempts.append(PlannedAttempt(at, variants))
        else:
            visit.done_at = at
    if opened_only and following is not None:
        visits[following.id] = LessonVisit(following, opened_at=last_active)
    return list(visits.values())
