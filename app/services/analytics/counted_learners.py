"""Whose work the figures count: accounts with the learner role only, so that admins trying a quiz
and counsellors looking round do not skew the numbers.

Apart because every figure's query takes it, the questions' and the funnels' alike.
"""

from __future__ import annotations

from sqlalchemy import select

from app.models import Role, User


def learners_only():
    """The ids of the learner accounts, as a subquery to filter attempts and progress by."""
    return select(User.id).where(User.role == Role.LEARNER)
