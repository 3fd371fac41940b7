"""The signed-in user of a request, found from the login session its cookie names.

Every page needs this, so it is one read, outside the session's transaction when nothing is
under way (app/services/reads.py): the user's row and their login session's row together.
The user then joins the ORM session as if the session had loaded it, so views and services
can change and save it as usual. The rules on when a login session ends are
app/services/user_sessions.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, make_transient_to_detached, scoped_session

from app.models import User, UserSession
from app.services.reads import Read, read_rows
from app.services.user_sessions import (
    SessionLimits,
    session_token_hash,
    user_session_is_live,
    user_session_needs_touch,
    user_session_touch,
)

_USER_COLUMNS = [column.key for column in User.__table__.columns]
# Built once: every signed-in request runs it. Checking the login session costs no extra round trip.
_USER_BY_SESSION = Read(
    select(
        *User.__table__.columns,
        UserSession.id.label("login_session_id"),
        UserSession.remember,
        UserSession.last_seen_at,
        UserSession.expires_at,
    )
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class SignedIn:
    """The user of a live login session; ``touched``: its last-seen time was just written."""

    user: User
    touched: bool


def signed_in_user(
    session: Session | scoped_session, *, token: str, now: datetime, limits: SessionLimits
) -> SignedIn | None:
    """The active user whose live login session ``token`` names, or None.

    An ended, expired or idle session, or a deactivated account, gives None: the request is
    logged out. The session's last-seen time is written at most every ``limits.touch_every``;
    committed at once when the ORM session holds no other work, else saved with that work.
    """
    request_session = session() if isinstance(session, scoped_session) else session
    nothing_under_way = not (request_session.in_transaction() or request_session.new or request_session.dirty)
    rows = read_rows(request_session, _USER_BY_SESSION, {"token_hash": session_token_hash(token)})
    if not rows:
        return None
    *user_values, login_session_id, remember, last_seen_at, expires_at = rows[0]
    values = dict(zip(_USER_COLUMNS, user_values, strict=True))
    if not values["is_active"] or not user_session_is_live(
        remember=remember, last_seen_at=last_seen_at, expires_at=expires_at, now=now, limits=limits
    ):
        return None
    touched = user_session_needs_touch(last_seen_at=last_seen_at, now=now, limits=limits)
    if touched:
        user_session_touch(request_session, session_id=login_session_id, now=now, commit=nothing_under_way)
    user = User(**values)
    make_transient_to_detached(user)
    user = request_session.merge(user, load=False)
    user.session_token = token
    return SignedIn(user=user, touched=touched)
