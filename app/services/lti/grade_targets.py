"""Where a launch's scores go: the line item it names, recorded for the person it signs in.

Apart because the score passback (app/jobs/lti.py) reads these rows long after the launch: a
launch only records them, here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Course, Lesson, LtiGradeTarget
from app.services.lti.claims import AGS_ENDPOINT_CLAIM, AGS_SCORE_SCOPE


def _grade_target(session: Session, identity_id: int, lineitem: str) -> LtiGradeTarget | None:
    """Where this person's scores for the line item go, if a launch recorded it before."""
    return session.scalar(
        select(LtiGradeTarget).where(LtiGradeTarget.identity_id == identity_id, LtiGradeTarget.lineitem_url == lineitem)
    )


def record_grade_target(
    session: Session,
    identity_id: int,
    claims: dict[str, Any],
    course_slug: str,
    lesson_slug: str | None,
) -> None:
    """Record the line item the launch's scores go to.

    Two launches of one person to one line item at once both find none: the second insert, in a
    savepoint, breaks the unique (identity, line item), and the row the other made is updated. The
    caller has flushed the launch's account and link, so the savepoint runs inside the launch's
    transaction (see ``_new_identity`` in identities.py).
    """
    endpoint = claims.get(AGS_ENDPOINT_CLAIM) or {}
    lineitem = endpoint.get("lineitem")
    if not lineitem or AGS_SCORE_SCOPE not in (endpoint.get("scope") or []):
        return
    course_id = session.scalar(select(Course.id).where(Course.slug == course_slug))
    lesson_id = (
        session.scalar(select(Lesson.id).where(Lesson.course_id == course_id, Lesson.slug == lesson_slug))
        if lesson_slug
        else None
    )
    target = _grade_target(session, identity_id, lineitem)
    if target is None:
        try:
            with session.begin_nested():
                session.add(
                    LtiGradeTarget(
                        identity_id=identity_id, course_id=course_id, lesson_id=lesson_id, lineitem_url=lineitem
                    )
                )
                session.flush()
            return
        except IntegrityError:
            target = _grade_target(session, identity_id, lineitem)
            if target is None:  # not the line item's uniqueness: a fault of another kind
                raise
    target.course_id, target.lesson_id = course_id, lesson_id  # type: ignore[assignment]
