"""People who use the platform and the role that decides what they may do."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Role(StrEnum):
    """What a user is on the platform for."""

    LEARNER = "learner"
    COUNSELLOR = "counsellor"
    ADMIN = "admin"


class User(UserMixin, db.Model):
    """An account: a learner, a counsellor or an admin."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('learner', 'counsellor', 'admin')",
            name="role_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.LEARNER, server_default="learner")
    # Flask-Login refuses inactive accounts; deactivation keeps the person's history.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session and remember-me cookie; bumping it (a password reset) ends them all.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session and the remember cookie."""
        return f"{self.id}.{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
