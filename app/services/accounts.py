"""Accounts: creating users and checking passwords."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import Role, User
from app.services.errors import EmailTaken, ValidationError
from app.services.user_sessions import user_sessions_end_all

# Checked against when no account matches, so a wrong e-mail costs as long as a wrong password.
_NO_SUCH_USER_HASH = generate_password_hash("no such user", method="scrypt:1024:8:1")


def normalise_email(email: str) -> str:
    """Compare e-mail addresses without regard to case or surrounding spaces."""
    return email.strip().lower()


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
    display_name = display_name.strip()
    if not email or "@" not in email:
        raise ValidationError("email", "Enter a valid e-mail address.")
    if not display_name:
        raise ValidationError("display_name", "Enter the name you would like us to use.")
    if len(password) < min_password_length:
        raise ValidationError("password", f"Use at least {min_password_length} characters.")
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


def user_authenticate(session: Session, *, email: str, password: str) -> User | None:
    """Return the active user with this e-mail and password, or None."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        check_password_hash(_NO_SUCH_USER_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    return user


RESET_SALT = "password-reset"


def password_reset_token(user: User, *, secret_key: str) -> str:
    """A signed token for a reset link; it names the account and its current session version."""
    return URLSafeTimedSerializer(secret_key, salt=RESET_SALT).dumps({"user": user.id, "version": user.session_version})


def password_reset_user(session: Session, *, token: str, secret_key: str, max_age: int) -> User | None:
    """Return the account a reset token is for, or None if it is forged, expired or used.

    A token works once: resetting the password bumps the session version it was made with.
    """
    try:
        data = URLSafeTimedSerializer(secret_key, salt=RESET_SALT).loads(token, max_age=max_age)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        return None
    user = session.get(User, data["user"])
    if user is None or not user.is_active or user.session_version != data.get("version"):
        return None
    return user


def password_set(
    session: Session, *, user: User, password: str, hash_method: str = "scrypt", min_password_length: int = 10
) -> None:
    """Set a new password, end every session of the account (remember-me cookies too), commit.

    Bumping the session version also makes the reset link used for this one work only once.
    """
    if len(password) < min_password_length:
        raise ValidationError("password", f"Use at least {min_password_length} characters.")
    user.password_hash = generate_password_hash(password, method=hash_method)
    user.session_version += 1
    user_sessions_end_all(session, user=user)
    session.commit()


def user_by_email(session: Session, email: str) -> User | None:
    """The account with this e-mail address, if any."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))
