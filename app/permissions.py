"""Who may do what, written once and used by views, templates and tests."""

from __future__ import annotations

from typing import TypeGuard

from app.models import COUNSELLING_ROLES, Role, User


def is_authenticated(user: object) -> TypeGuard[User]:
    """A signed-in account, as opposed to None or Flask-Login's anonymous user."""
    return bool(user is not None and getattr(user, "is_authenticated", False))


def can_author(user: User | None) -> bool:
    """Admins author and publish the course and manage users."""
    return is_authenticated(user) and user.role == Role.ADMIN


def is_learner(user: User | None) -> bool:
    """Learners have progress of their own to share with a counsellor or read through the API."""
    return is_authenticated(user) and user.role == Role.LEARNER


def can_counsel(user: User | None) -> bool:
    """Counsellors (and admins) can open the counsellor area."""
    return is_authenticated(user) and user.role in COUNSELLING_ROLES


def has_own_clients(user: User | None) -> bool:
    """Counsellors see the learners who share with them, and may stop seeing one; an admin sees every
    learner without a link of their own, so has none to end."""
    return is_authenticated(user) and user.role == Role.COUNSELLOR


TEMPLATE_GLOBALS = {
    "can_author": can_author,
    "can_counsel": can_counsel,
    "is_learner": is_learner,
    "has_own_clients": has_own_clients,
}
