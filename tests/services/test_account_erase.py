"""An admin erases an account on request: the owner's own erasure (what it removes is tested in
test_personal_data.py), audited with the role only, and refused for one's own account and the
last active admin."""

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.models import AuditEvent, Lesson, LessonProgress, LtiIdentity, Role, User
from app.models.types import utcnow
from app.services.lti.platforms import PlatformDetails, lti_platform_delete, lti_platform_register
from app.services.user_admin import (
    AccountGone,
    LastAdminRefused,
    NotAllowed,
    OwnAccountRefused,
    user_erase,
)
from tests.conftest import create_user
from tests.row_locks import owner_deletes_while_admin_acts


@pytest.fixture
def admin(app) -> int:
    return create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")


def audit_rows(session) -> list[tuple]:
    return [
        tuple(row)
        for row in session.execute(
            select(AuditEvent.actor_id, AuditEvent.subject_id, AuditEvent.action, AuditEvent.details).order_by(
                AuditEvent.id
            )
        )
    ]


def lms_account(session, admin: User) -> int:
    """An account an LMS made (no e-mail, no password anyone knows), its platform removed since."""
    platform = lti_platform_register(
        session,
        actor=admin,
        details=PlatformDetails(
            name="Moodle",
            issuer="https://lms.example.org",
            client_id="c",
            auth_login_url="https://lms.example.org/auth",
            auth_token_url="https://lms.example.org/token",
            key_set_url="https://lms.example.org/jwks",
            deployment_ids=["1"],
        ),
    )
    person = User(email=None, display_name="Pat From Moodle", password_hash="!", role=Role.LEARNER.value)
    session.add(person)
    session.flush()
    session.add(LtiIdentity(platform_id=platform.id, subject="moodle-7", user_id=person.id))
    session.commit()
    assert lti_platform_delete(session, actor=admin, platform_id=platform.id)
    return person.id


def test_an_lms_account_left_by_its_removed_platform_can_be_erased(session, admin, course):
    actor = session.get(User, admin)
    person_id = lms_account(session, actor)
    session.add(LessonProgress(user_id=person_id, lesson_id=session.scalar(select(Lesson.id)), opened_at=utcnow()))
    session.commit()
    assert session.scalar(select(LtiIdentity.id)) is None  # the platform's removal took the link, not the account

    user_erase(session, actor=actor, user=session.get(User, person_id))

    session.expire_all()
    assert session.get(User, person_id) is None
    assert session.scalar(select(func.count()).where(LessonProgress.user_id == person_id)) == 0
    erased = audit_rows(session)[-1]
    # The record outlives the account: unlinked from it, naming nothing but its role.
    assert erased == (admin, None, "account_erased", {"role": "learner"})


def test_erasing_records_the_role_only(session, admin, learner):
    user_erase(session, actor=session.get(User, admin), user=session.get(User, learner))
    assert audit_rows(session) == [(admin, None, "account_erased", {"role": "learner"})]
    stored = " ".join(str(details) for details in session.scalars(select(AuditEvent.details)))
    assert "@" not in stored and "Lee" not in stored


def test_one_admin_may_erase_another(app, session, admin):
    other = create_user(app, "bo@example.org", role=Role.ADMIN)
    user_erase(session, actor=session.get(User, admin), user=session.get(User, other))
    assert session.get(User, other) is None
    assert audit_rows(session) == [(admin, None, "account_erased", {"role": "admin"})]


def test_an_admin_cannot_erase_their_own_account_here(session, admin):
    actor = session.get(User, admin)
    with pytest.raises(OwnAccountRefused, match="Delete my account") as refused:
        user_erase(session, actor=actor, user=actor)
    assert refused.value.field == "erase"
    assert session.get(User, admin) is not None and audit_rows(session) == []


def test_the_last_active_admin_cannot_be_erased(app, session, admin):
    """Even when the acting admin lost their own rights a moment ago (a race between two admins)."""
    other = create_user(app, "bo@example.org", role=Role.ADMIN)
    actor = session.get(User, admin)
    session.expunge(actor)  # as the acting admin's request loaded it, before the other change landed
    session.execute(update(User).where(User.id == admin).values(is_active=False))
    session.commit()
    with pytest.raises(LastAdminRefused):
        user_erase(session, actor=actor, user=session.get(User, other))
    assert session.get(User, other) is not None and audit_rows(session) == []


def test_only_admins_erase_accounts(app, session, learner):
    counsellor = session.get(User, create_user(app, "casey@example.org", role=Role.COUNSELLOR))
    with pytest.raises(NotAllowed):
        user_erase(session, actor=counsellor, user=session.get(User, learner))
    assert session.get(User, learner) is not None and audit_rows(session) == []


def test_an_account_erased_meanwhile_is_gone_and_nothing_is_recorded(session, admin, learner):
    person = session.get(User, learner)  # loaded by the admin's request before the other erasure
    with Session(session.get_bind()) as other:
        other.execute(delete(User).where(User.id == learner))
        other.commit()
    with pytest.raises(AccountGone):
        user_erase(session, actor=session.get(User, admin), user=person)
    assert audit_rows(session) == []


def test_an_owner_deleting_their_account_while_an_admin_erases_it_leaves_nothing_to_erase(session, admin, learner):
    """PostgreSQL: the admin's erasure waits on the account's row, then finds it gone (not a
    broken foreign key on its audit record)."""
    owner_deletes_while_admin_acts(session, user_erase, admin=admin, learner=learner)
    assert audit_rows(session) == []
