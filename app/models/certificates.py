"""Certificates of completion, each with a code anyone can use to check it.

A learner who completes a course gets one certificate; asking for a fresh one revokes the old
and issues another, so a course can have several revoked rows but never more than one live one
per learner (a partial unique index, on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import NEVER_REUSED_IDS, UTCDateTime, utcnow


class NameDisplay(StrEnum):
    """What a certificate shows of its holder's name, as the learner chooses."""

    FULL = "full"
    INITIALS = "initials"
    NONE = "none"


# The one live certificate per learner and course: revoked rows are history and do not count.
_LIVE = text("revoked_at IS NULL")


class Certificate(Model):
    """One certificate of completion: its public code, its holder's choices, whether it is revoked."""

    __tablename__ = "certificates"
    __table_args__ = (
        CheckConstraint("name_display IN ('full', 'initials', 'none')", name="name_display_known"),
        Index(
            "uq_certificates_live_per_learner",
            "user_id",
            "course_id",
            unique=True,
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        ),
        # Never reused on SQLite: a credential's revocation bit is its certificate's id, so an
        # erased holder's credential would read as valid again once a new certificate took it.
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Erased with the account (ON DELETE CASCADE): a deleted account's code then verifies nothing.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"), index=True)
    # Kept as issued, not hashed: it is a public identifier the learner shares on purpose and must
    # be shown to them again (page, PDF, credential); it grants no power over the account.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The holder's name frozen when issued, as certificates are: a later change of display name
    # does not rewrite one already handed out (asking for a fresh one takes the new name).
    name_at_issue: Mapped[str] = mapped_column(String(80))
    name_display: Mapped[str] = mapped_column(
        String(10), default=NameDisplay.FULL, server_default=NameDisplay.FULL.value
    )
    # Private until the learner makes it public: until then its code verifies nothing.
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def __repr__(self) -> str:
        state = "revoked" if self.revoked_at else "live"
        return f"<Certificate {self.id} user {self.user_id} course {self.course_id} {state}>"
