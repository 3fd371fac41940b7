"""A lesson's live questions as plain values, read for grading a quiz submission.

A submission is graded against the live rows, never the page cache (an author's edit counts from
the moment it is saved). ``quizzes.quiz_questions`` reads them as models, which costs a transaction
(BEGIN, and a ROLLBACK or the write's commit) and the ORM's work for every question, choice and
misconception: about 1.3 ms of CPU on bench_1000. Grading only reads, so here the same rows are one
registered Read (app/services/reads.py: one round trip outside any transaction, about 0.1 ms),
turned into frozen values with the attributes grading, the stored versions and xAPI use.
``live_quiz`` reads the learner's review cards for the questions in the same query, so that the
submission can write them with its attempt (app/services/attempt_insert.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, case, func, null, select
from sqlalchemy.orm import Session

from app.models import Choice, Lesson, Misconception, Question, ReviewCard
from app.services.course_content import LessonView
from app.services.reads import Read, read_rows


@dataclass(frozen=True)
class LiveMisconception:
    """What an answer's record keeps of a choice's misconception."""

    code: str
    learner_text: str
    safety_critical: bool


@dataclass(frozen=True)
class LiveChoice:
    """A live choice of a question, as grading and the stored version read it."""

    id: int
    text: str
    is_correct: bool
    feedback: str
    safety_critical: bool
    misconception: LiveMisconception | None


@dataclass(frozen=True)
class LiveQuestion:
    """A live question with its live choices in the author's order (as ``Question.live_choices``)."""

    id: int
    kind: str
    prompt: str
    explanation: str
    shuffle: bool
    live_choices: tuple[LiveChoice, ...]


# Questions in position order, each with its live choices in position order (a question without
# one still comes, with no choices, as the models would have it).
_QUESTIONS = (
    select(
        Question.id,
        Question.kind,
        Question.prompt,
        Question.explanation,
        Question.shuffle,
        Choice.id,
        Choice.text,
        Choice.is_correct,
        Choice.feedback,
        Choice.safety_critical,
        Misconception.code,
        Misconception.learner_text,
        Misconception.safety_critical,
    )
    .outerjoin(Choice, and_(Choice.question_id == Question.id, Choice.retired_at.is_(None)))
    .outerjoin(Misconception, Misconception.id == Choice.misconception_id)
    .where(Question.lesson_id == bindparam("lesson_id"), Question.retired_at.is_(None))
    .order_by(Question.position, Choice.position)
)
_QUESTION_COLUMNS = len(_QUESTIONS.selected_columns)
_LIVE_QUESTIONS = Read(_QUESTIONS)
# The same, each question's first row carrying the learner's review card for it (NULLs for none,
# and on its other choices' rows: a card repeated on every choice's row cost 60% more CPU to read).
_CARD_KEYS = tuple(column.key for column in ReviewCard.__table__.columns)
_FIRST_ROW = func.row_number().over(partition_by=Question.id, order_by=Choice.position) == 1
_LIVE_QUESTIONS_AND_CARDS = Read(
    _QUESTIONS.add_columns(
        *(
            case((_FIRST_ROW, column), else_=null()).label(f"card_{column.key}")
            for column in ReviewCard.__table__.columns
        )
    ).outerjoin(ReviewCard, and_(ReviewCard.question_id == Question.id, ReviewCard.user_id == bindparam("user_id")))
)


@dataclass(frozen=True)
class LiveQuiz:
    """A lesson's live questions, and the learner's review cards for them (each a mapping of ReviewCard's columns)."""

    questions: list[LiveQuestion]
    card_rows: list[dict[str, Any]]


def _question(values: tuple, choices: list[LiveChoice]) -> LiveQuestion:
    """A question from its row's first five values (id, kind, prompt, explanation, shuffle)."""
    return LiveQuestion(values[0], values[1], values[2], values[3], values[4], tuple(choices))


def live_questions(session: Session, lesson: Lesson | LessonView) -> list[LiveQuestion]:
    """The lesson's live questions in order, with their live choices and misconceptions (1 query).

    The same content as ``quizzes.quiz_questions`` gives, as values: grading them, storing their
    versions and telling xAPI about them come out the same.
    """
    return _questions(read_rows(session, _LIVE_QUESTIONS, {"lesson_id": lesson.id}))


def live_quiz(session: Session, lesson: Lesson | LessonView, *, learner_id: int) -> LiveQuiz:
    """``live_questions`` and the learner's review cards for those questions, in the same query.

    Read before a submission's transaction, the cards are moved on in Python and written with the
    attempt (attempt_insert.py): one statement fewer than reading them with the attempt's insert.
    """
    rows = read_rows(session, _LIVE_QUESTIONS_AND_CARDS, {"lesson_id": lesson.id, "user_id": learner_id})
    cards: dict[int, dict[str, Any]] = {}
    for row in rows:
        card = row[_QUESTION_COLUMNS:]
        if card[0] is not None:
            cards[card[0]] = dict(zip(_CARD_KEYS, card, strict=True))
    return LiveQuiz(_questions(rows), list(cards.values()))


def _questions(rows: list[tuple]) -> list[LiveQuestion]:
    """The questions of the live questions' rows (one per question and live choice), in order.

    Only each row's first ``_QUESTION_COLUMNS`` values are read (``live_quiz``'s carry a card after them).
    """
    questions: list[LiveQuestion] = []
    current: tuple | None = None
    choices: list[LiveChoice] = []
    for row in rows:
        if current is None or row[0] != current[0]:
            if current is not None:
                questions.append(_question(current, choices))
            current, choices = row[:5], []
        if row[5] is not None:
            misconception = LiveMisconception(*row[10:13]) if row[10] is not None else None
            choices.append(LiveChoice(row[5], row[6], row[7], row[8], row[9], misconception))
    if current is not None:
        questions.append(_question(current, choices))
    return questions
