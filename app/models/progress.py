"""A learner's history: lessons opened and completed, quiz attempts and their answers.

Attempts are snapshots: each answer keeps the prompt and choices as the learner saw them,
so editing or re-importing the course never rewrites what an earlier attempt recorded.
"""

from __future__ import annotations

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


class AttemptAnswer(Model):
    """The learner's answer to one question in an attempt, with the question as shown."""

    __tablename__ = "attempt_answers"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        # The analytics refresh reads every answer's question, attempt and result: from this
        # index alone instead of rows that carry a whole snapshot each (bench/PLANS.md).
        Index("ix_attempt_answers_question_id", "question_id", postgresql_include=["attempt_id", "is_correct", "id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    # The live question may later be edited or removed; the snapshot below stays true.
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"), nullable=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool] = mapped_column(Boolean)
    # [{"choice_id", "text", "correct", "chosen", "feedback", "misconception"}] in display order
    choices_shown: Mapped[list[dict]] = mapped_column(JSON)

    attempt: Mapped[QuizAttempt] = relationship(back_populates="answers")
    selections: Mapped[list[AnswerSelection]] = relationship(back_populates="answer", cascade="all, delete-orphan")


class AnswerSelection(Model):
    """A choice the learner picked, kept as a row so analytics can count it in SQL."""

    __tablename__ = "answer_selections"
    __table_args__ = (
        UniqueConstraint("answer_id", "position"),
        Index("ix_answer_selections_choice_id", "choice_id", postgresql_include=["answer_id"]),  # analytics' picks
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("attempt_answers.id", ondelete="CASCADE"))
    choice_id: Mapped[int | None] = mapped_column(ForeignKey("choices.id", ondelete="SET NULL"), nullable=True)
    position: Mapped[int] = mapped_column(Integer)
    is_correct: Mapped[bool] = mapped_column(Boolean)
    misconception_code: Mapped[str | None] = mapped_column(String(80), nullable=True)

    answer: Mapped[AttemptAnswer] = relationship(back_populates="selections")
