"""Personal access tokens for the JSON API: making, listing, revoking and checking them.

A token is ``nlt_`` and 43 URL-safe characters (32 random bytes); the prefix lets a person, a
log filter or a secret scanner recognise one. Only its SHA-256 is stored, like the login
sessions' tokens (app/services/user_sessions.py), and for the same reason: with 256 random bits
nothing can be guessed, so a slow hash (bcrypt, scrypt) would add nothing but its cost, paid on
every API request; and a salted slow hash could not be looked up by index, as this one is. It is
not keyed with SECRET_KEY either (invitation codes are, being short): a leaked table is useless
without the tokens, and a new key would otherwise end every token.

What a token may do is the intersection of its scopes and what its owner may do now, checked
on every request (``token_allows``): each scope names the permission rule of app/permissions.py
it needs, so a counsellor made a learner, or an admin made a counsellor, loses those scopes at
once, and a deactivated account's tokens stop working at once (``token_authenticate``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager

from app.models import ApiToken, User
from app.models.types import utcnow
from app.permissions import can_author, can_counsel, is_learner
from app.services.audit import audit_record, deleted_by_this
from app.services.errors import DomainError, ValidationError

TOKEN_PREFIX = "nlt_"  # noqa: S105 - the public prefix of every token, not a secret
TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters of [A-Za-z0-9_-]; anything else is not one of ours.
_TOKEN_LENGTH = len(TOKEN_PREFIX) + 43
_TOKEN_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
NAME_MAX_LENGTH = 80
# Enough for every script and dashboard a person runs; a list of hundreds helps nobody revoke the right one.
TOKENS_PER_ACCOUNT = 20
# "Last used" is written at most this often, not on every request.
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Scope:
    """One thing a token may be allowed to do, and who may give a token that power."""

    name: str
    label: str
    allowed: Callable[[User], bool]
    # Reads or changes more than its holder's own data: an admin's token with one is audited.
    staff: bool = True


SCOPES: dict[str, Scope] = {
    scope.name: scope
    for scope in (
        Scope("read:progress", "Read my own progress and quiz attempts", is_learner, staff=False),
        # An admin may read every learner (sharing.visible_learner_ids): the label says so, not "consent only".
        Scope(
            "read:clients",
            "Read learners' progress: a counsellor's clients who share it with them, or every learner for an admin",
            can_counsel,
        ),
        Scope("read:course", "Read the course draft and what publishing it would change", can_author),
        Scope("read:analytics", "Read the question and lesson analytics", can_author),
        Scope("write:draft", "Change the course draft and publish it", can_author),
    )
}


def scopes_for(user: User) -> list[Scope]:
    """The scopes this person may put on a token, in the order the page lists them."""
    return [scope for scope in SCOPES.values() if scope.allowed(user)]


def _audited(user: User, scopes: str) -> bool:
    """Whether making or revoking this token is an admin action the audit log keeps: an admin's
    token with a staff scope (one that reaches learners' data or the course)."""
    return can_author(user) and any(SCOPES[name].staff for name in scopes.split() if name in SCOPES)


def _token_details(token: ApiToken) -> dict[str, Any]:
    """What an audit record keeps of a token: its id and scopes, never its name (free text) nor hash."""
    return {"token_id": token.id, "scopes": token.scopes.split()}


def token_hash(token: str) -> str:
    """What the table stores for a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(text: str) -> bool:
    """Whether ``text`` has a token's shape (prefix, length, characters): anything else is refused unread."""
    return (
        len(text) == _TOKEN_LENGTH
        and text.startswith(TOKEN_PREFIX)
        and _TOKEN_CHARACTERS.issuperset(text[len(TOKEN_PREFIX) :])
    )


def _made_from(session: Session, user: User, form_key: str) -> bool:
    """Whether the form with this key has made one of ``user``'s tokens."""
    made = select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.form_key == form_key)
    return session.scalar(made) is not None


class TokenAlreadyMade(DomainError):
    """The form with this key made a token already (a reload, or a second click before the first answer)."""


def token_create(
    session: Session, *, user: User, name: str, scopes: list[str], form_key: str | None = None
) -> tuple[ApiToken, str]:
    """Make a token for ``user`` with a name and scopes, and commit; return it with the token itself.

    The token is returned only now: only its hash is kept. An admin's token with a staff scope
    is audited as ``api_token_created``. Raises ValidationError (``name`` or ``scopes``) for an
    empty or long name, no scope, or a scope this person may not give; nothing is recorded then.
    ``form_key`` is the key of the form that asked: a second request with the same key, even one
    racing the first, raises TokenAlreadyMade and records nothing.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError("name", "Give the token a name, such as the program that will use it.")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError("name", f"Keep the name to {NAME_MAX_LENGTH} characters or fewer.")
    chosen = list(dict.fromkeys(scopes))
    if not chosen:
        raise ValidationError("scopes", "Choose at least one thing the token may do.")
    allowed = {scope.name for scope in scopes_for(user)}
    if any(scope not in allowed for scope in chosen):
        raise ValidationError("scopes", "Your account cannot give a token that permission.")
    if form_key is not None and _made_from(session, user, form_key):
        raise TokenAlreadyMade()
    held = session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id)) or 0
    if held >= TOKENS_PER_ACCOUNT:
        raise ValidationError("name", f"You have {TOKENS_PER_ACCOUNT} tokens already: revoke one you no longer use.")
    text = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken(
        user_id=user.id,
        name=name,
        # In SCOPES order, so the page and the data download list them alike.
        scopes=" ".join(scope for scope in SCOPES if scope in chosen),
        token_hash=token_hash(text),
        created_at=utcnow(),
        form_key=form_key,
    )
    session.add(token)
    try:
        if _audited(user, token.scopes):
            session.flush()  # the id, for the audit record
            audit_record(session, actor=user, action="api_token_created", details=_token_details(token))
        session.commit()
    except IntegrityError:
        session.rollback()
        # The check above passed for both of two requests sent together; the unique key let one
        # in. Anything else (the account erased meanwhile, say) is not that, and is raised as it is.
        if form_key is not None and _made_from(session, user, form_key):
            raise TokenAlreadyMade() from None
        raise
    return token, text


def tokens_of(session: Session, *, user: User) -> list[ApiToken]:
    """The person's tokens, newest first."""
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def token_revoke(session: Session, *, user: User, token_id: int) -> ApiToken:
    """Delete one of the person's tokens, and commit: it stops working at once. An admin's token
    with a staff scope is audited as ``api_token_revoked``.

    Raises LookupError when the token is not theirs (callers answer 404, so ids cannot be probed).
    Returns the deleted token (its name, for the message).
    """
    token = session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if token is None:
        raise LookupError(token_id)
    if not deleted_by_this(session, delete(ApiToken).where(ApiToken.id == token.id)):
        session.rollback()  # revoked meanwhile, in another tab: as if unknown, and recorded once
        raise LookupError(token_id)
    if _audited(user, token.scopes):
        audit_record(session, actor=user, action="api_token_revoked", details=_token_details(token))
    session.expunge(token)  # gone: its name stays readable for the caller's message
    session.commit()
    return token


def tokens_revoke_all(session: Session, *, user: User) -> int:
    """Delete every token of the account, as part of the caller's change (it does not commit);
    how many there were.

    For a new password and for deactivation: a token someone else made while they had the
    account must not outlive the password that let them in, nor come back with a reactivation.
    """
    # A DELETE's result is a CursorResult (it has rowcount); Session.execute is typed for any statement.
    deleted = cast("CursorResult[Any]", session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)))
    return deleted.rowcount or 0


def token_authenticate(session: Session, *, text: str, now: datetime | None = None) -> ApiToken | None:
    """The token ``text`` is, with its owner loaded, or None if it is unknown or its owner is deactivated.

    One query; and, at most every LAST_USED_EVERY, a conditional UPDATE of its last use, committed.
    """
    if not looks_like_token(text):
        return None
    token = session.scalar(
        select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(text), User.is_active.is_(True))
        .options(contains_eager(ApiToken.user))
    )
    if token is None:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        stale = ApiToken.last_used_at.is_(None) | (ApiToken.last_used_at <= now - LAST_USED_EVERY)
        # Conditional, so two requests at once write it once. The commit expires the loaded
        # token and owner, read again when next used: a cost paid once a minute at most.
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == token.id, stale)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return token


def token_allows(token: ApiToken, scope: str) -> bool:
    """Whether the token has ``scope`` and its owner may still do what the scope allows."""
    known = SCOPES.get(scope)
    return known is not None and scope in token.scope_set and known.allowed(token.user)
