"""A lesson's live questions as plain values, for grading a quiz submission.

A submission is graded against the live questions as they are in the version of the course the
request read, with its learner's state, in its first query: ``Course.content_version``, which
every change to the live questions bumps (an import or a publication: course_import.py). Read
as models (``quizzes.quiz_questions``) they cost a transaction and the ORM's work for every
question, choice and misconception (about 1.3 ms of CPU on bench_1000); read per submission as
values, one round trip and 0.13 ms of PostgreSQL's time. So each worker keeps every course's
live questions for the version it last read (``graded_questions``: one query per worker per
version, with the version read in the same statement, so rows are never kept under another
version), as course_content.py keeps what learners see, which leaves out what grading needs
(which choices are right, the feedback, the misconceptions).

``learner_cards`` reads a learner's review cards for a lesson's questions, which the submission
moves on in Python and writes with its attempt (app/services/attempt_insert.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, bindparam, select
from sqlalchemy.orm import Session

from app.models import Choice, Course, Lesson, Misconception, Question, ReviewCard
from app.services.course_content import KeptPerVersion, LessonView
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


# What grading reads of a live question and each live choice (a question without one still
# comes, once, with NULL choice columns, as the models would have it).
_GRADED = (
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
_LIVE_CHOICE = and_(Choice.question_id == Question.id, Choice.retired_at.is_(None))
# One lesson's, in position order.
_LIVE_QUESTIONS = Read(
    select(*_GRADED)
    .outerjoin(Choice, _LIVE_CHOICE)
    .outerjoin(Misconception, Misconception.id == Choice.misconception_id)
    .where(Question.lesson_id == bindparam("lesson_id"), Question.retired_at.is_(None))
    .order_by(Question.position, Choice.position)
)
# A whole course's (its live lessons'), lesson by lesson, after the course's content version: a
# course whose lessons have no questions still gives its version (with NULLs for the rest).
_COURSE_QUESTIONS = Read(
    select(Course.content_version, Lesson.id, *_GRADED)
    .select_from(Course)
    .outerjoin(Lesson, and_(Lesson.course_id == Course.id, Lesson.retired_at.is_(None)))
    .outerjoin(Question, and_(Question.lesson_id == Lesson.id, Question.retired_at.is_(None)))
    .outerjoin(Choice, _LIVE_CHOICE)
    .outerjoin(Misconception, Misconception.id == Choice.misconception_id)
    .where(Course.id == bindparam("course_id"))
    .order_by(Lesson.id, Question.position, Choice.position)
)
_CARD_KEYS = tuple(column.key for column in ReviewCard.__table__.columns)


def learner_cards_select(learner_id: ColumnElement[int], lesson_id: ColumnElement[int]) -> Select:
    """The SELECT of a learner's review cards for a lesson's live questions, ReviewCard's columns
    in the table's order (each argument a bound parameter or an expression: signed_in_user.py
    reads them with the user, for a quiz submission)."""
    return (
        select(*ReviewCard.__table__.columns)
        .join(Question, Question.id == ReviewCard.question_id)
        .where(ReviewCard.user_id == learner_id, Question.lesson_id == lesson_id, Question.retired_at.is_(None))
    )


_LEARNER_CARDS = Read(learner_cards_select(bindparam("user_id"), bindparam("lesson_id")))

GRADING_CACHE_KEY = "graded_questions"


def _question(values: tuple, choices: list[LiveChoice]) -> LiveQuestion:
    """A question from its row's first five values (id, kind, prompt, explanation, shuffle)."""
    return LiveQuestion(values[0], values[1], values[2], values[3], values[4], tuple(choices))


def live_questions(session: Session, lesson: Lesson | LessonView) -> list[LiveQuestion]:
    """The lesson's live questions in order, with their live choices and misconceptions, read now (1 query).

    The same content as ``quizzes.quiz_questions`` gives, as values: grading them, storing their
    versions and telling xAPI about them come out the same.
    """
    return _questions(read_rows(session, _LIVE_QUESTIONS, {"lesson_id": lesson.id}))


def graded_questions(session: Session, *, course_id: int, version: int, lesson_id: int) -> tuple[LiveQuestion, ...]:
    """The lesson's live questions, as in the course's content ``version`` (kept per worker; 1 query on a miss)."""
    cache = current_app.extensions.setdefault(GRADING_CACHE_KEY, KeptPerVersion(_course_questions))
    by_lesson = cache.get(session, course_id, version)
    return by_lesson.get(lesson_id, ()) if by_lesson is not None else ()


def _course_questions(session: Session, course_id: int) -> tuple[int, dict[int, tuple[LiveQuestion, ...]]] | None:
    """The course's content version and its live lessons' live questions by lesson id (None: no such course).

    Kept under the version read with them: if an author's change has landed since the caller
    read its version, these are the newer questions, as a read of the live rows would give.
    """
    rows = read_rows(session, _COURSE_QUESTIONS, {"course_id": course_id})
    if not rows:
        return None
    by_lesson: dict[int, list[tuple]] = {}
    for row in rows:
        if row[2] is not None:  # a lesson without questions has one row of NULLs
            by_lesson.setdefault(row[1], []).append(row[2:])
    # Tuples: every submission of this version shares them.
    return rows[0][0], {lesson_id: tuple(_questions(lesson_rows)) for lesson_id, lesson_rows in by_lesson.items()}


def learner_cards(session: Session, *, lesson_id: int, learner_id: int) -> list[dict[str, Any]]:
    """The learner's review cards for the lesson's live questions, each a mapping of ReviewCard's columns (1 query)."""
    return learner_cards_from_rows(read_rows(session, _LEARNER_CARDS, {"user_id": learner_id, "lesson_id": lesson_id}))


def learner_cards_from_rows(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """``learner_cards`` from the rows of ``learner_cards_select``, already read."""
    return [dict(zip(_CARD_KEYS, row, strict=True)) for row in rows]


def _questions(rows: list[tuple]) -> list[LiveQuestion]:
    """The questions of the live questions' rows (one per question and live choice, ``_GRADED``), in order."""
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
