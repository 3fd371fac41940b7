"""Login sessions kept on the server, so that logging out really ends them.

Each login adds a ``user_sessions`` row. The browser's session cookie (and the remember-me
cookie, when asked for) carries a random token; the table keeps only its SHA-256, so a copy
of the table cannot be turned back into cookies. A request is signed in only while the row
for its token exists, the account is active and the session is live
(``user_session_is_live``). Ending a session deletes its row, so a cookie saved earlier
stops working on its very next request.

What ends sessions:

- logging out ends that session, as does an LMS's deep-linking launch for a session the LMS framed
  (its picker signs nobody in, app/lti/routes.py; a login made on this site keeps its Lax cookie
  out of the LMS's cross-site POST, and is only replaced in that browser);
- "Log out everywhere", a new password by a reset link, deactivation and reactivation end
  every session of the account (reactivation too, so no cookie from before the deactivation
  comes back); a password changed while logged in (/me/password) and a new e-mail address
  (/me/email) end every other one;
- a session that is not remembered ends after ``idle`` with no request; no session
  outlives ``lifetime`` from its login (the remember-me cookie lasts as long).

The row is read with the user, in the same query, on every request (app/auth/routes.py);
its last-seen time is written at most every ``touch_every``, not on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session, scoped_session

from app.models import User, UserSession

TOKEN_BYTES = 32  # 256 random bits: a fast hash is enough, nothing can be guessed


@dataclass(frozen=True)
class SessionLimits:
    """How long sessions last: idle (not remembered), lifetime (any), and how often to touch."""

    idle: timedelta
    lifetime: timedelta
    touch_every: timedelta

    @classmethod
    def from_config(cls, config: Any) -> SessionLimits:
        """The limits set by SESSION_IDLE_DAYS, REMEMBER_DAYS and SESSION_TOUCH_SECONDS."""
        # Read on every signed-in request: the same settings give the same (frozen) limits.
        return _limits(config["SESSION_IDLE_DAYS"], config["REMEMBER_DAYS"], config["SESSION_TOUCH_SECONDS"])


@lru_cache(maxsize=8)
def _limits(idle_days: float, remember_days: float, touch_seconds: float) -> SessionLimits:
    return SessionLimits(
        idle=timedelta(days=idle_days),
        lifetime=timedelta(days=remember_days),
        touch_every=timedelta(seconds=touch_seconds),
    )


def session_token_hash(token: str) -> str:
    """What the table stores for a cookie's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def user_session_is_live(
    *, remember: bool, last_seen_at: datetime, expires_at: datetime, now: datetime, limits: SessionLimits
) -> bool:
    """Whether a session may still be used: before its end, and not idle too long unless remembered."""
    if now >= expires_at:
        return False
    return remember or now < last_seen_at + limits.idle


def user_session_needs_touch(*, last_seen_at: datetime, now: datetime, limits: SessionLimits) -> bool:
    """Whether the session's last-seen time is stale enough to be written again."""
    return now - last_seen_at >= limits.touch_every


def _ended(user_id: int, now: datetime, limits: SessionLimits):
    return (UserSession.user_id == user_id) & or_(
        UserSession.expires_at <= now,
        UserSession.remember.is_(False) & (UserSession.last_seen_at <= now - limits.idle),
    )


def user_session_start(
    session: Session | scoped_session, *, user: User, remember: bool, now: datetime, limits: SessionLimits
) -> str:
    """Record a new login for the account, commit, and return the token for its cookies.

    The account's sessions that have already ended are cleared out on the way, so the table
    holds little more than the sessions in use.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.execute(delete(UserSession).where(_ended(user.id, now, limits)))
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=session_token_hash(token),
            remember=remember,
            created_at=now,
            last_seen_at=now,
            expires_at=now + limits.lifetime,
        )
    )
    user.last_login_at = now
    session.commit()
    return token


def user_session_touch(session: Session | scoped_session, *, session_id: int, now: datetime, commit: bool) -> None:
    """Note that the session was used now.

    With ``commit`` (the caller knows ``session`` holds no other work and nothing loaded that
    a commit would expire) this is its own small transaction. Without it the change joins the
    work in progress and is saved with it; a touch lost to a rollback is simply made later.
    """
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
    if commit:
        session.commit()


def user_session_end(session: Session | scoped_session, *, token: str) -> None:
    """End one session (logging out): its cookies stop working at once. Commits."""
    session.execute(delete(UserSession).where(UserSession.token_hash == session_token_hash(token)))
    session.commit()


def user_sessions_end_all(session: Session | scoped_session, *, user: User) -> None:
    """End every session of the account, as part of the caller's change (it does not commit).

    For a new password, deactivation and reactivation, which commit this with their change.
    """
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def user_sessions_end_others(session: Session | scoped_session, *, user: User, keep_token: str | None) -> None:
    """End every session of the account but the one ``keep_token`` names, as part of the caller's
    change (it does not commit). For a password changed while logged in: the browser that changed
    it stays logged in, every other one is logged out. With no token, every session ends."""
    ending = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_token is not None:
        ending = ending.where(UserSession.token_hash != session_token_hash(keep_token))
    session.execute(ending)


def user_log_out_everywhere(session: Session | scoped_session, *, user: User) -> None:
    """End every session of the account, on every device, this one included, and spend every
    link already mailed about it (a reset, a change of address: their session version moves on).
    Commits."""
    user_sessions_end_all(session, user=user)
    # Someone who fears another has their account must not be let back in by a link in a mailbox.
    user.session_version += 1
    session.commit()
