"""People who use the platform and the role that decides what they may do."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.types import NEVER_REUSED_IDS, UTCDateTime, utcnow


class Role(StrEnum):
    """What a user is on the platform for."""

    LEARNER = "learner"
    COUNSELLOR = "counsellor"
    ADMIN = "admin"


# Who may open the counsellor area and invite clients: admins counsel too.
COUNSELLING_ROLES = frozenset({Role.COUNSELLOR, Role.ADMIN})


class User(UserMixin, Model):
    """An account: a learner, a counsellor or an admin."""

    __tablename__ = "users"
    # Never reused on SQLite: audit records name a counsellor by id in their details, so an erased
    # counsellor's id given to a new account would put that account's name on the old record.
    __table_args__ = (
        CheckConstraint(f"role IN ({', '.join(repr(role.value) for role in Role)})", name="role_known"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for an account an LTI launch made (app/services/lti/identities.py): the platform vouches for it.
    email: Mapped[str | None] = mapped_column(String(254), unique=True, nullable=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.LEARNER, server_default=Role.LEARNER.value)
    # Flask-Login refuses inactive accounts; deactivation keeps the person's history.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set at each login. Kept on the account because login sessions are deleted at logout and
    # expiry, and the admins' user list must still know when someone last came in.
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Part of every password-reset link; a new password bumps it, so each link works once.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # The login session this object was loaded for (the cookie's token, see UserSession);
    # set by the login code, never stored on the row.
    if TYPE_CHECKING:  # declared for the type checker only: SQLAlchemy would map an annotated attribute
        session_token: str | None
    session_token = None

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session and the remember cookie: the session's token."""
        if self.session_token is None:
            raise RuntimeError("Log users in through start_session, which creates their session record.")
        return self.session_token

    @property
    def signs_in_with_password(self) -> bool:
        """Whether the person logs in with an e-mail and a password they know.

        An account an LTI launch made has neither: its LMS signs it in (app/services/lti/identities.py).
        """
        return self.email is not None

    def __eq__(self, other: object) -> bool:
        # UserMixin compares get_id(), which is now per login session: compare accounts instead.
        return isinstance(other, User) and other.id == self.id

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class UserSession(Model):
    """One login on one browser, from logging in until it ends.

    The session and remember-me cookies carry a random token; only its SHA-256 is stored, so
    the table cannot be replayed as cookies. Deleting the row ends the session at once:
    every request looks its row up (app/services/user_sessions.py).
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "Keep me logged in on this device": no idle limit, only the absolute one.
    remember: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written at most every SESSION_TOUCH_SECONDS, not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<UserSession {self.id} user {self.user_id}>"
