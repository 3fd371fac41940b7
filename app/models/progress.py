"""A learner's history: lessons opened and completed, quiz attempts and their answers.

Attempts are snapshots: each answer points at the version of its question as the learner saw
it (a ShownQuestion, stored once however many answers share it) and keeps the order shown and
the choices picked, so editing or re-importing the course never rewrites what an earlier
attempt recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow


class LessonProgress(Model):
    """When a learner first opened a lesson and when they completed it."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="RESTRICT"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class QuizAttempt(Model):
    """One graded submission of a lesson's quiz."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        # The form's one-time key: a double click records one attempt, not two.
        UniqueConstraint("user_id", "submission_key"),
        CheckConstraint("score >= 0 AND score <= 1", name="score_range"),
        CheckConstraint("correct_count >= 0 AND correct_count <= question_count", name="counts"),
        # Covers the analytics refresh's reads of every attempt (ranked first attempts, who made
        # each one) as index-only scans; see bench/PLANS.md.
        Index(
            "ix_quiz_attempts_user_lesson",
            "user_id",
            "lesson_id",
            "submitted_at",
            postgresql_include=["id", "correct_count", "question_count"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="RESTRICT"), index=True)
    submission_key: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    question_count: Mapped[int] = mapped_column(Integer)
    correct_count: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    pass_mark: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)

    answers: Mapped[list[AttemptAnswer]] = relationship(
        back_populates="attempt", order_by="AttemptAnswer.position", cascade="all, delete-orphan"
    )


# An answer's choices are stored as canonical indexes: index i (0-based, into the shown version's
# ``choices``) is the one character chr(ORDER_BASE + i), so "0" is the first choice, "1" the second,
# and any number of choices fits. A short string costs a byte or two in a PostgreSQL row, where an
# integer costs four and an array at least two dozen.
ORDER_BASE = ord("0")


def indexes_text(indexes: Iterable[int]) -> str:
    """Canonical choice indexes as stored in ``choice_order`` and ``chosen``."""
    return "".join(chr(ORDER_BASE + index) for index in indexes)


def text_indexes(text: str) -> list[int]:
    """The canonical choice indexes a ``choice_order`` or ``chosen`` string holds."""
    return [ord(character) - ORDER_BASE for character in text]


class ShownQuestion(Model):
    """One version of a question exactly as learners were shown it, stored once for every answer to it.

    ``choices`` holds the choices in the version's canonical order (the author's order for versions
    recorded by quizzes; the choice ids' order for versions converted from old snapshots), each as
    the snapshot format without "chosen": {"choice_id", "text", "correct", "feedback", "misconception",
    "misconception_text", "safety_critical"}. Versions converted from attempts recorded before a key
    existed lack that key, as their snapshots did. ``content_hash`` identifies the whole content
    (question id included), so identical content is stored once however many answers point at it.
    """

    __tablename__ = "shown_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The live question may later be edited or removed; this version stays true.
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[dict]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def with_chosen(choice: dict, chosen: bool) -> dict:
    """A stored choice as the answer's snapshot shows it: "chosen" placed after "correct", as recorded."""
    shown: dict = {}
    for key, value in choice.items():
        shown[key] = value
        if key == "correct":
            shown["chosen"] = chosen
    shown.setdefault("chosen", chosen)
    return shown


class AttemptAnswer(Model):
    """The learner's answer to one question in an attempt, pointing at the question as shown.

    The question's version (prompt, explanation, kind, choices) is a ShownQuestion shared by every
    answer to it; the answer keeps only what was its own: the order its choices were shown in and
    which were chosen, as canonical indexes (see ``indexes_text``).
    """

    __tablename__ = "attempt_answers"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        # The analytics refresh reads every answer's question, attempt, result and picks: from
        # this index alone (bench/PLANS.md).
        Index(
            "ix_attempt_answers_question_id",
            "question_id",
            postgresql_include=["attempt_id", "is_correct", "id", "shown_question_id", "chosen"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    # The live question may later be edited or removed; the shown version stays true.
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"), nullable=True)
    position: Mapped[int] = mapped_column(Integer)
    shown_question_id: Mapped[int] = mapped_column(ForeignKey("shown_questions.id", ondelete="RESTRICT"))
    is_correct: Mapped[bool] = mapped_column(Boolean)
    # The canonical indexes in the order shown, or NULL when shown in the canonical order.
    choice_order: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The canonical indexes of the chosen choices, ascending.
    chosen: Mapped[str] = mapped_column(String(255))

    attempt: Mapped[QuizAttempt] = relationship(back_populates="answers")
    # Loaded in the same query as the answers, so reading an attempt costs no extra query.
    shown_question: Mapped[ShownQuestion] = relationship(lazy="joined", innerjoin=True)

    @property
    def kind(self) -> str:
        """The question's kind as shown."""
        return self.shown_question.kind

    @property
    def prompt(self) -> str:
        """The prompt as shown."""
        return self.shown_question.prompt

    @property
    def explanation(self) -> str:
        """The explanation as shown."""
        return self.shown_question.explanation

    @property
    def shown_indexes(self) -> list[int]:
        """The canonical indexes of the choices in the order this learner saw them."""
        if self.choice_order is None:
            return list(range(len(self.shown_question.choices)))
        return text_indexes(self.choice_order)

    @property
    def choices_shown(self) -> list[dict]:
        """The snapshot: [{"choice_id", "text", "correct", "chosen", "feedback", "misconception",
        "misconception_text", "safety_critical"}] in the order shown (older versions lack the keys
        their snapshots lacked). Rebuilt on each read; a new list each time."""
        choices = self.shown_question.choices
        chosen = set(text_indexes(self.chosen))
        return [with_chosen(choices[index], index in chosen) for index in self.shown_indexes]
