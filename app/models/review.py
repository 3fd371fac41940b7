"""Spaced review of a learner's own mistakes: one review card per question they got wrong, and its answers.

A card holds the FSRS scheduler's state for one learner and one question (``app/services/review.py``
says when cards are made and how answers move them). Review answers are history like attempt
answers: each keeps the question and its choices as shown, so a later edit of the course never
rewrites what the learner saw, and none of them changes lesson completion.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow


class ReviewCard(Model):
    """When a learner should next see a question they once got wrong, as FSRS scheduled it."""

    __tablename__ = "review_cards"
    __table_args__ = (
        UniqueConstraint("user_id", "question_id"),
        # "N questions to review": the learner's cards due by now, read from the index alone.
        Index("ix_review_cards_user_due", "user_id", "due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # A question someone answered is retired rather than deleted, so this only cascades for
    # a question removed by hand; a retired question's card is kept but never shown.
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    # FSRS's Card, field for field (fsrs.Card): state 1 learning, 2 review, 3 relearning.
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    stability: Mapped[float | None] = mapped_column(Float, nullable=True)
    difficulty: Mapped[float | None] = mapped_column(Float, nullable=True)
    state: Mapped[int] = mapped_column(SmallInteger)
    step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The rating of the last answer (fsrs.Rating: 1 again ... 4 easy): a right answer right
    # after a wrong one is rated Hard, one after a right one Good.
    last_rating: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ReviewCard user {self.user_id} question {self.question_id} due {self.due:%Y-%m-%d %H:%M}>"


class ReviewAnswer(Model):
    """One answer given on the review page, with the question as shown (like an attempt answer)."""

    __tablename__ = "review_answers"
    __table_args__ = (
        # The review form's one-time key: a double click records the answers once.
        UniqueConstraint("user_id", "submission_key", "position"),
        Index("ix_review_answers_user_answered", "user_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The live question and card may go later; the snapshot below stays true.
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"), nullable=True)
    card_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_cards.id", ondelete="SET NULL"), nullable=True, index=True
    )
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    submission_key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool] = mapped_column(Boolean)
    rating: Mapped[int] = mapped_column(SmallInteger)
    # The same snapshot as attempt answers keep (quizzes.choices_snapshot), in display order.
    choices_shown: Mapped[list[dict]] = mapped_column(JSON)
