"""LMS platforms and the people they launched, made straight in the database for the LTI job tests."""

from __future__ import annotations

import uuid

from app.extensions import db
from app.models import LtiGradeTarget, LtiIdentity, LtiPlatform, User
from tests.serving import free_port


def down_platform(name: str = "Clinic LMS") -> LtiPlatform:
    """A registered platform whose every address is on a closed port: nothing there answers."""
    base = f"http://127.0.0.1:{free_port()}"
    platform = LtiPlatform(
        name=name,
        issuer=base,
        client_id="c",
        auth_login_url=f"{base}/auth",
        auth_token_url=f"{base}/token",
        key_set_url=f"{base}/jwks",
        deployment_ids="1",
    )
    db.session.add(platform)
    db.session.commit()
    return platform


def linked_person(platform: LtiPlatform, course_id: int, *, lesson_id: int | None = None) -> tuple[int, int]:
    """A person the platform launched, with one line item: the course's, or one lesson's.
    Returns their user id and the line item's id."""
    user = User(email=None, display_name="Pat", password_hash="!", role="learner")
    db.session.add(user)
    db.session.flush()
    identity = LtiIdentity(platform_id=platform.id, subject=uuid.uuid4().hex, user_id=user.id)
    db.session.add(identity)
    db.session.flush()
    target = LtiGradeTarget(
        identity_id=identity.id,
        course_id=course_id,
        lesson_id=lesson_id,
        lineitem_url=f"{platform.issuer}/lineitems/{uuid.uuid4().hex[:8]}",
    )
    db.session.add(target)
    db.session.commit()
    return user.id, target.id
