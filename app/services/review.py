"""Spaced review of each learner's own mistakes, scheduled with FSRS (the ``fsrs`` package).

How answers feed the cards (one card per learner and question, ``app/models/review.py``):

- Quiz attempts: every answer of a new attempt moves its card on (``cards_moves``), saved in the
  attempt's own transaction and, on the quiz page's path, in the attempt's own statement
  (app/services/attempt_insert.py), so the attempt and the cards it moves are saved together or
  not at all: a key sent twice records the attempt once and moves no card twice. Without cards
  read beforehand, ``cards_record_answers`` reads them after the insert and writes them.
- Review answers: ``review_submit`` grades the review page's answers with the same grader
  (``app/question_kinds.py``), records them and moves their cards, in one commit.
- The rating of an answer: wrong is Again; right just after a wrong answer to the same
  question (a retry: in a later attempt or in review) is Hard; right when the answer before it
  was right too is Good. A wrong answer to a question with no card makes its card; a right
  answer to a question with no card (right first time) makes none: only mistakes are reviewed.
- A card whose question or lesson is retired, or that belongs to another course, is never
  shown or counted. Review answers never change lesson completion.

Times are aware UTC datetimes, as FSRS requires. The scheduler's learning and relearning
steps are a day rather than FSRS's minutes: the quiz result page has just given the feedback,
and the point of a review is to come back after some forgetting. Fuzzing is off: a learner
has a handful of cards, so spreading them over days gains nothing, and the schedule stays
testable with fixed datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from fsrs import Card, Rating, Scheduler, State
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.models import Choice, Course, Question, ReviewAnswer, ReviewCard, User
from app.models.types import utcnow
from app.question_kinds import KINDS
from app.services.card_write import CardChanges, cards_write
from app.services.errors import QuizInputError
from app.services.quizzes import SUBMISSION_KEY_PATTERN, check_answers, choices_snapshot, shown_order
from app.services.reads import Read, read_rows
from app.services.review_due import due_count_of, live_cards_of

SCHEDULER = Scheduler(
    learning_steps=(timedelta(days=1),),
    relearning_steps=(timedelta(days=1),),
    enable_fuzzing=False,
)
# At most this many due questions on one review page, the earliest due first.
REVIEW_BATCH = 10


def answer_rating(*, is_correct: bool, previous_rating: int | None) -> Rating:
    """The FSRS rating of one answer: wrong Again; right after a wrong one Hard; right after a right one Good."""
    if not is_correct:
        return Rating.Again
    if previous_rating is None or previous_rating == Rating.Again:
        return Rating.Hard
    return Rating.Good


def card_schedule(card: ReviewCard | CardRow, rating: Rating, when: datetime) -> None:
    """Move ``card`` on by one answer rated ``rating`` at ``when`` (aware UTC), as FSRS schedules it."""
    scheduled, _ = SCHEDULER.review_card(
        Card(
            card_id=card.id or 0,  # not used by the schedule; a given id also avoids fsrs's 1 ms sleep
            state=State(card.state),
            step=card.step,
            stability=card.stability,
            difficulty=card.difficulty,
            due=card.due,
            last_review=card.last_review,
        ),
        rating,
        review_datetime=when,
    )
    card.due = scheduled.due
    card.state = int(scheduled.state)
    card.step = scheduled.step
    card.stability = scheduled.stability
    card.difficulty = scheduled.difficulty
    card.last_review = scheduled.last_review
    card.last_rating = int(rating)


def _new_card_values(*, user_id: int, question_id: int, when: datetime) -> dict[str, Any]:
    """A new card's columns before its first answer is scheduled (``card_schedule`` sets the rest)."""
    return {
        "user_id": user_id,
        "question_id": question_id,
        "due": when,
        "state": int(State.Learning),
        "step": 0,
        "created_at": when,
        "last_rating": int(Rating.Again),
    }


def card_new(*, user_id: int, question_id: int, when: datetime) -> ReviewCard:
    """A card for a question just answered wrong at ``when``, already scheduled for its first review."""
    card = ReviewCard(**_new_card_values(user_id=user_id, question_id=question_id, when=when))
    card_schedule(card, Rating.Again, when)
    return card


def card_row_new(*, card_id: int, user_id: int, question_id: int, when: datetime) -> CardRow:
    """``card_new`` as a plain CardRow with the id given (made in bulk without the ORM: seeded histories)."""
    card = CardRow(
        id=card_id,
        stability=None,
        difficulty=None,
        last_review=None,
        **_new_card_values(user_id=user_id, question_id=question_id, when=when),
    )
    card_schedule(card, Rating.Again, when)
    return card


@dataclass
class CardRow:
    """A card's columns as plain values: the copies ``cards_record_answers`` moves on and writes back.

    A detached ReviewCard model would do as well, at the cost of the ORM's instrumentation on each
    of its attributes; ``card_schedule`` reads and sets the same attributes on either.
    """

    id: int
    user_id: int
    question_id: int
    due: datetime
    stability: float | None
    difficulty: float | None
    state: int
    step: int | None
    last_review: datetime | None
    last_rating: int
    created_at: datetime


# A card as a model or as plain values: card_schedule reads and sets the same attributes on either.
AnyCard = ReviewCard | CardRow


def cards_moves(
    *, user_id: int, results: Mapping[int, bool], when: datetime, card_rows: Iterable[Mapping[str, Any]]
) -> tuple[dict[int, Rating], CardChanges]:
    """What one attempt's answers ({question id: right?}) do to the learner's cards; nothing is written.

    ``card_rows``: the learner's cards for these questions (each a mapping of ReviewCard's
    columns). Returns the rating each answer gave and the cards to save: every card answered
    moved on, and a new card for each question answered wrong that had none.
    """
    cards = {card.question_id: card for card in (CardRow(**row) for row in card_rows)}
    ratings: dict[int, Rating] = {}
    new_cards: list[AnyCard] = []
    moved: list[AnyCard] = []
    for question_id, is_correct in results.items():
        existing = cards.get(question_id)
        card, rating = card_answered(
            existing,
            is_correct=is_correct,
            when=when,
            make=partial(card_new, user_id=user_id, question_id=question_id, when=when),
        )
        if card is None or rating is None:
            continue
        ratings[question_id] = rating
        if existing is None:
            new_cards.append(card)
        else:
            moved.append(card)
    return ratings, CardChanges(user_id, moved, new_cards)


def card_answered(
    card: AnyCard | None, *, is_correct: bool, when: datetime, make: Callable[[], AnyCard]
) -> tuple[AnyCard | None, Rating | None]:
    """One answer to a question, and the learner's card for it (None: they have none); the card after it and the rating.

    An existing card is moved on by every answer (``answer_rating``). A wrong answer to a question
    with no card makes one (``make``: card_new or card_row_new, scheduled already); a right
    answer to it makes none (None, None): only mistakes are reviewed.
    """
    if card is None:
        return (make(), Rating.Again) if not is_correct else (None, None)
    rating = answer_rating(is_correct=is_correct, previous_rating=card.last_rating)
    card_schedule(card, rating, when)
    return card, rating


def cards_record_answers(
    session: Session,
    *,
    user_id: int,
    results: Mapping[int, bool],
    when: datetime,
    card_rows: Iterable[Mapping[str, Any]] | None = None,
) -> dict[int, Rating]:
    """Feed one attempt's answers ({question id: right?}) to the learner's cards; return the ratings given.

    Adds to the session without committing (the caller commits with the attempt): makes a card
    for each question answered wrong that had none, and moves the existing cards on.
    ``card_rows``: the learner's cards for these questions (each a mapping of ReviewCard's
    columns) when the caller has read them in this transaction already (the quiz reads them with
    the attempt's insert, app/services/attempt_insert.py); otherwise they are read here (1 query).
    """
    if not results:
        return {}
    # The cards as plain rows, moved on as copies and written back in one statement: loaded
    # into the session, each card's flush would be an UPDATE of the columns that changed, so
    # cards that moved differently took one UPDATE statement each kind.
    if card_rows is None:
        table = ReviewCard.__table__
        card_rows = (
            cast(Mapping[str, Any], row._mapping)
            for row in session.execute(
                select(table).where(table.c.user_id == user_id, table.c.question_id.in_(list(results)))
            )
        )
    ratings, changes = cards_moves(user_id=user_id, results=results, when=when, card_rows=card_rows)
    cards_write(session, changes)
    return ratings


# Built once: the course overview and /me/ count on every request, as a Read (app/services/reads.py):
# one round trip outside any transaction, where the ORM's took three (BEGIN, the query, ROLLBACK).
_DUE_COUNT = Read(
    due_count_of(bindparam("user_id"), bindparam("course_id"), bindparam("now", type_=ReviewCard.due.type))
)


def reviews_due_count(session: Session, *, user_id: int, course_id: int, now: datetime | None = None) -> int:
    """How many of the learner's questions in this course are due for review now (1 query)."""
    rows = read_rows(session, _DUE_COUNT, {"user_id": user_id, "course_id": course_id, "now": now or utcnow()})
    return rows[0][0] or 0


def reviews_next_due(session: Session, *, user_id: int, course_id: int) -> datetime | None:
    """When the learner's next review in this course falls due, or None if they have no card (1 query)."""
    return session.scalar(live_cards_of(user_id, course_id).with_only_columns(func.min(ReviewCard.due)))


@dataclass(frozen=True)
class DueQuestion:
    """A question to review, with the learner's card for it."""

    card: ReviewCard
    question: Question

    # The quiz presentation (quizzes.quiz_presentation) reads these off the question.
    @property
    def id(self) -> int:
        return self.question.id

    @property
    def kind(self) -> str:
        return self.question.kind

    @property
    def prompt(self) -> str:
        return self.question.prompt

    @property
    def shuffle(self) -> bool:
        return self.question.shuffle

    @property
    def live_choices(self) -> list[Choice]:
        return self.question.live_choices


def _questions_with_cards(session: Session, statement) -> list[DueQuestion]:
    rows = session.execute(
        statement.add_columns(Question).options(joinedload(Question.live_choices).joinedload(Choice.misconception))
    ).unique()
    return [DueQuestion(card=card, question=question) for card, question in rows]


def reviews_due(
    session: Session, *, user_id: int, course_id: int, now: datetime | None = None, limit: int | None = REVIEW_BATCH
) -> list[DueQuestion]:
    """The learner's due questions in this course, the earliest due first, with their live choices (1 query)."""
    now = now or utcnow()
    card_ids = (
        live_cards_of(user_id, course_id)
        .where(ReviewCard.due <= now)
        .order_by(ReviewCard.due, ReviewCard.id)
        .limit(limit)
        .with_only_columns(ReviewCard.id)
        .scalar_subquery()
    )
    statement = (
        select(ReviewCard)
        .join(Question, Question.id == ReviewCard.question_id)
        .where(ReviewCard.id.in_(card_ids))
        .order_by(ReviewCard.due, ReviewCard.id)
    )
    return _questions_with_cards(session, statement)


def reviews_shown(session: Session, *, user_id: int, course_id: int, question_ids: list[int]) -> list[DueQuestion]:
    """The learner's live cards in this course for these questions, in the order given (1 query)."""
    found = {
        due.question.id: due
        for due in _questions_with_cards(
            session, live_cards_of(user_id, course_id).where(ReviewCard.question_id.in_(question_ids))
        )
    }
    return [found[question_id] for question_id in question_ids if question_id in found]


@dataclass(frozen=True)
class ReviewResult:
    submission_key: str
    newly_recorded: bool


def _already_recorded(session: Session, *, user_id: int, submission_key: str) -> bool:
    return (
        session.scalar(
            select(ReviewAnswer.id)
            .where(ReviewAnswer.user_id == user_id, ReviewAnswer.submission_key == submission_key)
            .limit(1)
        )
        is not None
    )


def review_submit(
    session: Session,
    *,
    learner: User,
    course: Course,
    shown_question_ids: list[int],
    answers: dict[int, list[int]],
    submission_key: str,
    now: datetime | None = None,
) -> ReviewResult:
    """Grade a review page's answers, record them and reschedule their cards; commit once.

    ``shown_question_ids`` are the questions the page showed, in order. Raises QuizInputError as
    the quiz does: tampered (400) for questions that are not the learner's cards in this course,
    foreign choices or several choices for a single-answer question; otherwise naming the
    questions left unanswered. Sending the same key again returns the answers already recorded.
    """
    if not SUBMISSION_KEY_PATTERN.fullmatch(submission_key or ""):
        raise QuizInputError("This submission is missing its form key; reload the page and try again.", tampered=True)
    if _already_recorded(session, user_id=learner.id, submission_key=submission_key):
        return ReviewResult(submission_key, newly_recorded=False)
    if (
        not shown_question_ids
        or len(shown_question_ids) > REVIEW_BATCH
        or len(set(shown_question_ids)) != len(shown_question_ids)
    ):
        raise QuizInputError("This submission does not list the questions it showed.", tampered=True)
    shown = reviews_shown(session, user_id=learner.id, course_id=course.id, question_ids=shown_question_ids)
    if len(shown) != len(shown_question_ids):
        raise QuizInputError("This submission names questions that are not yours to review.", tampered=True)
    chosen = check_answers([due.question for due in shown], answers)
    now = now or utcnow()
    for position, due in enumerate(shown, start=1):
        question = due.question
        chosen_ids = chosen[question.id]
        is_right = KINDS[question.kind].is_right(question.live_choices, chosen_ids)
        rating = answer_rating(is_correct=is_right, previous_rating=due.card.last_rating)
        card_schedule(due.card, rating, now)
        in_order = shown_order(
            question.live_choices, question_id=question.id, shuffle=question.shuffle, submission_key=submission_key
        )
        session.add(
            ReviewAnswer(
                user_id=learner.id,
                question_id=question.id,
                card_id=due.card.id,
                course_id=course.id,
                submission_key=submission_key,
                position=position,
                answered_at=now,
                kind=question.kind,
                prompt=question.prompt,
                explanation=question.explanation,
                is_correct=is_right,
                rating=int(rating),
                choices_shown=choices_snapshot(in_order, chosen_ids),
            )
        )
    try:
        session.commit()
    except IntegrityError:
        # The same key arrived twice at once: the answers that won the race stand.
        session.rollback()
        if not _already_recorded(session, user_id=learner.id, submission_key=submission_key):
            raise
        return ReviewResult(submission_key, newly_recorded=False)
    return ReviewResult(submission_key, newly_recorded=True)


def review_answers_for(session: Session, *, user_id: int, course_id: int, submission_key: str) -> list[ReviewAnswer]:
    """The learner's own answers sent with one review page, in the order shown (empty if none)."""
    return list(
        session.scalars(
            select(ReviewAnswer)
            .where(
                ReviewAnswer.user_id == user_id,
                ReviewAnswer.course_id == course_id,
                ReviewAnswer.submission_key == submission_key,
            )
            .order_by(ReviewAnswer.position)
        )
    )


def review_answers_of(
    session: Session, *, user_id: int, question_ids: Iterable[int] | None = None
) -> list[ReviewAnswer]:
    """The learner's review answers, oldest first (for reports and the personal-data export)."""
    statement = select(ReviewAnswer).where(ReviewAnswer.user_id == user_id)
    if question_ids is not None:
        statement = statement.where(ReviewAnswer.question_id.in_(list(question_ids)))
    return list(session.scalars(statement.order_by(ReviewAnswer.answered_at, ReviewAnswer.id)))
