"""The accounts LTI launches sign in to: one per platform user (``sub``), made on their first
launch, following the name the LMS gives them; and what the personal data download says of them.

Apart from the launch because these are the person's own data, kept after the launch is over.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.models import Course, Lesson, LtiGradeTarget, LtiIdentity, LtiPlatform, Role, User
from app.models.types import utcnow
from app.services.accounts import name_without_hidden_marks
from app.services.lti.refusals import LtiLaunchError


def _lms_name(claims: dict[str, Any]) -> str | None:
    """The name the launch gives the person (``name``, else ``given_name``), as a name here may be;
    None when it gives none (a platform may keep names to itself)."""
    return name_without_hidden_marks(str(claims.get("name") or claims.get("given_name") or ""))[:80] or None


def _follow_lms_name(identity: LtiIdentity, claims: dict[str, Any]) -> None:
    """Take a name changed in the LMS (a learner's new name, a typo mended) as the account's name,
    unless the person has chosen another name here since the LMS last gave one: theirs stays.

    A link made before the LMS's name was kept (``lms_name`` NULL) keeps its account's name: it
    cannot tell a name changed in the LMS from one chosen here. It follows from the next change on.
    """
    given = _lms_name(claims)
    if given is None or given == identity.lms_name:
        return
    if identity.lms_name is not None and identity.user.display_name == identity.lms_name:
        identity.user.display_name = given
    identity.lms_name = given


def _identity(session: Session, platform_id: int, subject: str) -> LtiIdentity | None:
    """The link of a platform's user (``sub``) to an account here, if they have launched before."""
    return session.scalar(
        select(LtiIdentity).where(LtiIdentity.platform_id == platform_id, LtiIdentity.subject == subject)
    )


def account_for(
    session: Session, platform: LtiPlatform, subject: str, claims: dict[str, Any], hash_method: str
) -> LtiIdentity:
    """The link, with its account, that this launch signs in to: found (following a name changed in
    the LMS), or made the first time."""
    identity = _identity(session, platform.id, subject)
    if identity is None:
        identity = _new_identity(session, platform, subject, claims, hash_method)
    if not identity.user.is_active:
        raise LtiLaunchError("This account is deactivated on this site; ask the site's administrator.")
    identity.last_launch_at = utcnow()
    _follow_lms_name(identity, claims)
    return identity


def _new_identity(
    session: Session, platform: LtiPlatform, subject: str, claims: dict[str, Any], hash_method: str
) -> LtiIdentity:
    """A new person: an account with no e-mail and no usable password (the platform vouches for
    them), linked to their ``sub``.

    Two first launches of one person at once (a double click in the LMS, two tabs) both find no
    link, and the second link breaks the unique (platform, subject): it is inserted in a
    savepoint, so only it is undone, and the link the other launch made is used with its account.
    """
    user = User(
        email=None,
        display_name=_lms_name(claims) or "Learner",
        password_hash=generate_password_hash(secrets.token_urlsafe(32), method=hash_method),
        role=Role.LEARNER.value,
    )
    session.add(user)
    # Flushed before the savepoint, which then runs inside the launch's transaction: on SQLite a
    # savepoint that opens the transaction commits it when released, outside the launch's commit.
    session.flush()
    identity = LtiIdentity(platform_id=platform.id, subject=subject, user_id=user.id, lms_name=_lms_name(claims))
    try:
        with session.begin_nested():
            session.add(identity)
            session.flush()
    except IntegrityError:
        theirs = _identity(session, platform.id, subject)
        if theirs is None:  # not the link's uniqueness: a fault of another kind, not a race
            raise
        session.delete(user)  # made for nobody: the other launch's account is this person's
        return theirs
    return identity


def lti_export(session: Session, *, user_id: int) -> dict[str, Any]:
    """The person's links to LMS platforms, for the data download: which platform, the id and name
    it gives them, when, and where their scores go (two queries)."""
    identities = session.execute(
        select(LtiIdentity, LtiPlatform.name, LtiPlatform.issuer)
        .join(LtiPlatform, LtiPlatform.id == LtiIdentity.platform_id)
        .where(LtiIdentity.user_id == user_id)
        .order_by(LtiIdentity.id)
    ).all()
    targets = session.execute(
        select(
            LtiGradeTarget.identity_id,
            Course.title,
            Lesson.title,
            LtiGradeTarget.lineitem_url,
            LtiGradeTarget.sent_score,
            LtiGradeTarget.sent_at,
        )
        .join(LtiIdentity, LtiIdentity.id == LtiGradeTarget.identity_id)
        .join(Course, Course.id == LtiGradeTarget.course_id)
        .outerjoin(Lesson, Lesson.id == LtiGradeTarget.lesson_id)
        .where(LtiIdentity.user_id == user_id)
        .order_by(LtiGradeTarget.id)
    ).all()
    return {
        "lms_links": [
            {
                "platform": name,
                "issuer": issuer,
                "your_id_there": identity.subject,
                "your_name_there": identity.lms_name,
                "first_launch": identity.created_at.isoformat(),
                "last_launch": identity.last_launch_at.isoformat(),
                "scores_sent_to": [
                    {
                        "course": course,
                        "lesson": lesson,
                        "line_item": url,
                        "last_score_sent": sent_score,
                        "sent_at": sent_at.isoformat() if sent_at else None,
                    }
                    for identity_id, course, lesson, url, sent_score, sent_at in targets
                    if identity_id == identity.id
                ],
            }
            for identity, name, issuer in identities
        ]
    }
