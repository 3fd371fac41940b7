"""Accounts: creating users and checking passwords."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import Role, User
from app.services.errors import EmailTaken, ValidationError

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
