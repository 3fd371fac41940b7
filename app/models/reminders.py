"""A learner's choice of e-mail reminders, and when the last one went out.

One row per person who has ever opened the reminder settings; no row means no reminders
(they are off by default). A later kind of reminder (review questions due, issue 14) is one
more boolean column here and one more checkbox on the settings page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, false
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import UTCDateTime, utcnow


class ReminderSettings(Model):
    """Which reminders a person asked for, and when they were last reminded."""

    __tablename__ = "reminder_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # "E-mail me when I have been away a week with lessons left."
    away_reminders: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # "E-mail me when I have questions to review" (spaced review of mistakes, app/services/review.py).
    review_reminders: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set in the same transaction that queues the e-mail: at most one reminder a week.
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ReminderSettings user {self.user_id} away={self.away_reminders}>"
