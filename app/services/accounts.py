"""Accounts: creating users, checking and changing passwords, and the account holder's own name."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import Role, User
from app.models.types import as_utc
from app.services.api_tokens import tokens_revoke_all
from app.services.errors import EmailTaken, ValidationError
from app.services.sealing import seal, unseal
from app.services.user_sessions import user_sessions_end_all, user_sessions_end_others

# What registration allows (the form's Length and the users.display_name column).
DISPLAY_NAME_MAX_LENGTH = 80


@functools.cache
def _no_such_user_hash(method: str) -> str:
    """A hash to check when no account matches, so a wrong e-mail costs as long as a wrong password.

    It must use the method real passwords use: a cheaper one made unknown addresses answer ten
    times faster than known ones. Made once per method and process (see ``password_check_prepare``).
    """
    return generate_password_hash("no such user", method=method)


def password_check_prepare(hash_method: str) -> None:
    """Make the hash unknown addresses are checked against now, when the app starts.

    Made on first use instead, the first unknown address to log in would cost a hash more than
    a known one (making it, then checking it), and so stand out.
    """
    _no_such_user_hash(hash_method)


def normalise_email(email: str) -> str:
    """Compare e-mail addresses without regard to case or surrounding spaces."""
    return email.strip().lower()


def password_problem(password: str, *, min_password_length: int) -> str | None:
    """Why a new password is refused, or None: the one rule registration, reset and change share."""
    if len(password) < min_password_length:
        return f"Use at least {min_password_length} characters."
    return None


def _check_new_password(password: str, min_password_length: int) -> None:
    problem = password_problem(password, min_password_length=min_password_length)
    if problem is not None:
        raise ValidationError("password", problem)


# Characters that are no text (controls, line breaks) or that reorder the text around them
# (bidirectional embeddings, overrides and isolates): a name holding one could show on a
# counsellor's list or an admin's page as if it were someone else's, or split a CSV's row.
_HIDDEN_MARKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
HIDDEN_MARKS_MESSAGE = "Take out the hidden character: a name cannot hold line breaks or marks that reorder text."


def name_has_hidden_marks(name: str) -> bool:
    """Whether ``name`` holds a control character or a mark that reorders text (see _HIDDEN_MARKS)."""
    return _HIDDEN_MARKS.search(name) is not None


def name_without_hidden_marks(name: str) -> str:
    """``name`` with those characters taken out: for a name another system sent (an LMS's), which
    must not stop its owner signing in."""
    return " ".join(_HIDDEN_MARKS.sub(" ", name).split())


def display_name_checked(display_name: str) -> str:
    """The name as it will be kept (trimmed); ValidationError if it is empty, too long or holds hidden marks."""
    name = display_name.strip()
    if not name:
        raise ValidationError("display_name", "Enter the name you would like us to use.")
    if len(name) > DISPLAY_NAME_MAX_LENGTH:
        raise ValidationError("display_name", f"Keep the name to {DISPLAY_NAME_MAX_LENGTH} characters or fewer.")
    if name_has_hidden_marks(name):
        raise ValidationError("display_name", HIDDEN_MARKS_MESSAGE)
    return name


def user_create(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    role: Role | str = Role.LEARNER,
    hash_method: str = "scrypt",
    min_password_length: int = 10,
) -> User:
    """Create an account and commit; raise EmailTaken or ValidationError on bad input."""
    email = normalise_email(email)
    if not email or "@" not in email:
        raise ValidationError("email", "Enter a valid e-mail address.")
    display_name = display_name_checked(display_name)
    _check_new_password(password, min_password_length)
    if role not in set(Role):
        raise ValidationError("role", f"Role must be one of {', '.join(Role)}.")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken()
    user = User(
        email=email,
        display_name=display_name,
        password_hash=generate_password_hash(password, method=hash_method),
        role=Role(role).value,
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise EmailTaken() from None
    return user


def user_authenticate(session: Session, *, email: str, password: str, hash_method: str = "scrypt") -> User | None:
    """Return the active user with this e-mail and password, or None.

    An unknown address costs one password check too, with ``hash_method`` (the method new
    passwords are hashed with), so the time taken does not tell whether an account exists.
    So does an account with no password to check: an admin-created one whose owner has not
    chosen one yet stores a marker, not a hash, and checking a marker takes no time at all,
    which would tell anyone that the address belongs to a client the clinic enrolled.
    """
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not _is_a_hash(user.password_hash):
        check_password_hash(_no_such_user_hash(hash_method), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    return user


def _is_a_hash(stored: str) -> bool:
    """Whether ``stored`` is a password hash (werkzeug's ``method$salt$hash``), not a marker
    such as user_admin.NO_PASSWORD_YET, which starts with "!" and matches no password."""
    return not stored.startswith("!") and stored.count("$") == 2


REGISTRATION_SALT = "registration"


@dataclass(frozen=True)
class RegistrationRequest:
    """A request to register an address: who to mail, and what.

    ``owner`` is the active account that already uses the address, if any; otherwise ``token``
    is for the link that finishes registering.
    """

    email: str
    display_name: str
    owner: User | None
    token: str | None


@dataclass(frozen=True)
class Registration:
    """What a link to finish registering was made for."""

    email: str
    display_name: str
    next_url: str | None


def registration_request(
    session: Session, *, email: str, display_name: str, next_url: str | None, secret_key: str
) -> RegistrationRequest:
    """Start registering an address; nothing is written until the link in the e-mail is opened.

    Called by the registration mail job (app/jobs/mail.py), never by the request, which answers
    the same whatever the address: the job mails either a link to finish (a free address) or a
    note to the owner (a taken one), so only whoever reads that mailbox learns which.
    """
    email = normalise_email(email)
    display_name = display_name.strip()
    # Sealed, not just signed: the link carries the address and name (nothing is stored before
    # the account is made), and a signed link could be read wherever the URL lands.
    payload = json.dumps({"email": email, "name": display_name, "next": next_url})
    token = seal(payload, secret_key=secret_key, purpose=REGISTRATION_SALT)
    user = user_by_email(session, email)
    owner = user if user is not None and user.is_active else None
    return RegistrationRequest(email=email, display_name=display_name, owner=owner, token=None if user else token)


def registration_from_token(session: Session, *, token: str, secret_key: str, max_age: int) -> Registration | None:
    """The registration a link is for, or None if it is forged, expired or its address now has an account.

    Once the account is made the address is taken, so a link works once.
    """
    opened = unseal(token, secret_key=secret_key, purpose=REGISTRATION_SALT, max_age=max_age)
    try:
        data = json.loads(opened) if opened is not None else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(key), str) for key in ("email", "name")):
        return None
    if user_by_email(session, data["email"]) is not None:
        return None
    next_url = data.get("next") if isinstance(data.get("next"), str) else None
    return Registration(email=data["email"], display_name=data["name"], next_url=next_url)


RESET_SALT = "password-reset"


def password_reset_token(user: User, *, secret_key: str, next_url: str | None = None) -> str:
    """The token of a reset link: it names the account (its id and when it was made) and its
    current session version, sealed (app/services/sealing.py) so that only the server can read it,
    with ``next_url``, where to go once the password is chosen.

    Sealed, not just signed: the link travels in e-mail, access logs and browser history, and a
    signed token is merely base64 there, giving away the account's id and when it was made. The
    page to go on to is sealed in it too, never put beside it: a course page's path names what
    the course is about, in an inbox that others may see.
    """
    extra = {"next": next_url} if next_url else {}
    return account_link_token(user, purpose=RESET_SALT, secret_key=secret_key, **extra)


def account_link_token(user: User, *, purpose: str, secret_key: str, **extra: str | None) -> str:
    """The sealed token of a link mailed about ``user`` for ``purpose`` (a reset, a change of
    address): the account's id, when it was made and its session version, with ``extra`` values.
    ``account_link_opened`` reads it back while all three still hold."""
    payload = {"user": user.id, "since": _made_at(user), "version": user.session_version, **extra}
    return seal(json.dumps(payload), secret_key=secret_key, purpose=purpose)


def account_link_opened(
    session: Session, *, token: str, secret_key: str, purpose: str, max_age: int
) -> tuple[User, dict[str, Any]] | None:
    """The active account an ``account_link_token`` names, with the token's values, or None if
    the token is forged, expired, for another purpose, or spent: the account's session version
    has moved on (a new password, a new address, being logged out everywhere) or its id now
    names a later account."""
    opened = unseal(token, secret_key=secret_key, purpose=purpose, max_age=max_age)
    try:
        data = json.loads(opened) if opened is not None else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        return None
    user = session.get(User, data["user"])
    if user is None or not user.is_active or user.session_version != data.get("version"):
        return None
    if data.get("since") != _made_at(user):  # a deleted account's link, its id now another's
        return None
    return user, data


def _made_at(user: User) -> str:
    """When the account was made, as a token records it: with its id, this names one account for
    good. An id alone can name a later one: SQLite gives a deleted account's id to the next."""
    return as_utc(user.created_at).isoformat()


@dataclass(frozen=True)
class PasswordReset:
    """What a reset link was made for: the account, and where to go once its password is chosen."""

    user: User
    next_url: str | None


def password_reset_opened(session: Session, *, token: str, secret_key: str, max_age: int) -> PasswordReset | None:
    """Return what a reset token is for, or None if it is forged, expired or used.

    A token works once: resetting the password bumps the session version it was made with.
    ``next_url`` is as sealed, not yet checked: the caller passes it through ``safe_next``.
    """
    # A signed link mailed before links were sealed is refused like an expired one (it would have
    # lasted an hour at most): whoever holds it asks for a new link.
    found = account_link_opened(session, token=token, secret_key=secret_key, purpose=RESET_SALT, max_age=max_age)
    if found is None:
        return None
    user, data = found
    next_url = data.get("next")
    return PasswordReset(user=user, next_url=next_url if isinstance(next_url, str) else None)


def password_set(
    session: Session, *, user: User, password: str, hash_method: str = "scrypt", min_password_length: int = 10
) -> int:
    """Set a new password, end every session of the account (remember-me cookies too) and revoke
    its API tokens, commit; how many tokens were revoked.

    A new password is what someone does who fears another got in: whatever that other made with
    the old one (a session, a token) ends with it. Bumping the session version also makes the
    reset link used for this one work only once.
    """
    _check_new_password(password, min_password_length)
    user.password_hash = generate_password_hash(password, method=hash_method)
    user.session_version += 1
    user_sessions_end_all(session, user=user)
    revoked = tokens_revoke_all(session, user=user)
    session.commit()
    return revoked


class PasswordNotChangeable(ValidationError):
    """The account has no password its owner knows: an LMS signs it in (LTI)."""


def password_change(
    session: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    keep_session_token: str | None,
    hash_method: str = "scrypt",
    min_password_length: int = 10,
) -> int:
    """Change a signed-in account's password after checking its current one; commit; how many API
    tokens were revoked.

    As a reset does (``password_set``), every other login session of the account ends and its API
    tokens are revoked: someone who changes their password fears another knows the old one. The
    session ``keep_session_token`` names (the browser that asked) stays logged in. Bumping the
    session version makes any reset link mailed before the change stop working.

    Raises PasswordNotChangeable (field ``current_password``) for an account an LMS signs in,
    ValidationError on ``current_password`` when it is wrong and on ``password`` when the new one
    breaks the rule; nothing is changed then.
    """
    if not user.signs_in_with_password:
        raise PasswordNotChangeable(
            "current_password", "You sign in through your learning platform (LMS): this site has no password for you."
        )
    if not check_password_hash(user.password_hash, current_password):
        raise ValidationError("current_password", "That is not your current password.")
    _check_new_password(new_password, min_password_length)
    user.password_hash = generate_password_hash(new_password, method=hash_method)
    user.session_version += 1
    user_sessions_end_others(session, user=user, keep_token=keep_session_token)
    revoked = tokens_revoke_all(session, user=user)
    session.commit()
    return revoked


def display_name_change(session: Session, *, user: User, display_name: str) -> str:
    """Set the account holder's name (the rules registration uses), commit; the name as kept.

    Counsellors' caseloads follow at once: the database copies the name into each counsellor link
    (app/models/caseload_names.py). Certificates already issued keep the name they were issued with.
    Raises ValidationError (field ``display_name``) for an empty or too long name, or one with
    hidden marks (control characters, marks that reorder text).
    """
    user.display_name = display_name_checked(display_name)
    session.commit()
    return user.display_name


def user_by_email(session: Session, email: str) -> User | None:
    """The account with this e-mail address, if any."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))
