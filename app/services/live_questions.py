"""A lesson's live questions as plain values, read for grading a quiz submission.

A submission is graded against the live rows, never the page cache (an author's edit counts from
the moment it is saved). ``quizzes.quiz_questions`` reads them as models, which costs a transaction
(BEGIN, and a ROLLBACK or the write's commit) and the ORM's work for every question, choice and
misconception: about 1.3 ms of CPU on bench_1000. Grading only reads, so here the same rows are one
registered Read (app/services/reads.py: one round trip outside any transaction, about 0.1 ms),
turned into frozen values with the attributes grading, the stored versions and xAPI use.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from app.models import Choice, Lesson, Misconception, Question
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
_LIVE_QUESTIONS = Read(
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


def _question(values: tuple, choices: list[LiveChoice]) -> LiveQuestion:
    """A question from its row's first five values (id, kind, prompt, explanation, shuffle)."""
    return LiveQuestion(values[0], values[1], values[2], values[3], values[4], tuple(choices))


def live_questions(session: Session, lesson: Lesson | LessonView) -> list[LiveQuestion]:
    """The lesson's live questions in order, with their live choices and misconceptions (1 query).

    The same content as ``quizzes.quiz_questions`` gives, as values: grading them, storing their
    versions and telling xAPI about them come out the same.
    """
    questions: list[LiveQuestion] = []
    current: tuple | None = None
    choices: list[LiveChoice] = []
    for row in read_rows(session, _LIVE_QUESTIONS, {"lesson_id": lesson.id}):
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
