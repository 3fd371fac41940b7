"""User administration: search, roles, deactivation, links made for a learner, and the audit."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (
    AttemptAnswer,
    AuditEvent,
    CounsellorLink,
    Lesson,
    LessonProgress,
    QuizAttempt,
    Role,
    ShownQuestion,
    User,
)
from app.models.types import utcnow
from app.services.accounts import user_authenticate
from app.services.errors import ValidationError
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from app.services.sharing import (
    active_link,
    invitation_create,
    invitation_respond,
    link_end_by_counsellor,
    link_revoke,
)
from app.services.user_admin import (
    EmailInUse,
    LastAdminRefused,
    LinkRefused,
    NotAllowed,
    OwnAccountRefused,
    ResetLinkRefused,
    UserQuery,
    is_last_active_admin,
    is_last_active_admin_locked,
    learner_link_counsellor,
    password_not_chosen,
    user_audit_events,
    user_deactivate,
    user_onboard,
    user_reactivate,
    user_reset_link_audit,
    user_role_change,
    users_search,
)
from tests.conftest import PASSWORD, count_queries, create_user, lesson_slugs
from tests.row_locks import wait_until_blocked


@pytest.fixture
def admin(app) -> int:
    return create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")


@pytest.fixture
def counsellor(app) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


@pytest.fixture
def other_counsellor(app) -> int:
    return create_user(app, "dana@example.org", role=Role.COUNSELLOR, name="Dana Counsellor")


def audit_rows(session, subject_id: int) -> list[tuple[str, dict, int]]:
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.details, AuditEvent.actor_id)
        .where(AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.id)
    )
    return [tuple(row) for row in rows]


def add_users(session, n: int, *, role: Role = Role.LEARNER, prefix: str = "person") -> None:
    """Insert many accounts at once (no password hashing: these never log in)."""
    session.add_all(
        User(
            email=f"{prefix}{i:03d}@example.org", display_name=f"{prefix.title()} {i:03d}", password_hash="x", role=role
        )
        for i in range(n)
    )
    session.commit()


def test_search_matches_name_or_email_in_any_case(session, admin, learner, other_learner):
    by_name = users_search(session, query=UserQuery(search="lee LEARNER"))
    by_email = users_search(session, query=UserQuery(search="FRED@EXAMPLE"))
    assert [u.id for u in by_name.users] == [learner]
    assert [u.id for u in by_email.users] == [other_learner]
    assert by_name.total == 1


def test_search_treats_wildcards_as_text(session, learner, other_learner):
    assert users_search(session, query=UserQuery(search="%")).total == 0
    assert users_search(session, query=UserQuery(search="_")).total == 0


def test_role_filter_and_unknown_role(session, admin, counsellor, learner):
    assert [u.id for u in users_search(session, query=UserQuery(role="counsellor")).users] == [counsellor]
    assert [u.id for u in users_search(session, query=UserQuery(search="example", role="admin")).users] == [admin]
    assert users_search(session, query=UserQuery(role="wizard")).total == 3  # ignored, not an error


def test_pages_hold_fifty_sorted_by_name(session):
    add_users(session, 120)
    first = users_search(session, query=UserQuery())
    last = users_search(session, query=UserQuery(page=99))
    assert (first.total, first.pages, len(first.users)) == (120, 3, 50)
    assert [u.display_name for u in first.users][:2] == ["Person 000", "Person 001"]
    assert (last.page, len(last.users)) == (3, 20)  # a page past the end shows the last one
    assert users_search(session, query=UserQuery(page=0)).page == 1


def test_search_runs_the_same_queries_for_10_or_200_users(app, session):
    def queries_for(query: UserQuery) -> int:
        session.expunge_all()
        with count_queries(session.get_bind()) as counted:
            users_search(session, query=query)
        return counted()

    add_users(session, 10, prefix="few")
    few = [queries_for(UserQuery()), queries_for(UserQuery(search="few", role="learner", page=2))]
    add_users(session, 190, prefix="many")
    many = [queries_for(UserQuery()), queries_for(UserQuery(search="many", role="learner", page=2))]
    assert few == many == [3, 3]  # the course (none here), the count and the page


def test_role_change_is_audited_with_from_and_to(session, admin, learner):
    actor, user = session.get(User, admin), session.get(User, learner)
    assert user_role_change(session, actor=actor, user=user, role=Role.COUNSELLOR) is True
    assert session.get(User, learner).role == Role.COUNSELLOR
    assert audit_rows(session, learner) == [("role_changed", {"from": "learner", "to": "counsellor"}, admin)]


def test_same_role_changes_nothing(session, admin, learner):
    actor, user = session.get(User, admin), session.get(User, learner)
    assert user_role_change(session, actor=actor, user=user, role="learner") is False
    assert audit_rows(session, learner) == []


def test_unknown_role_is_refused(session, admin, learner):
    with pytest.raises(ValidationError) as refused:
        user_role_change(session, actor=session.get(User, admin), user=session.get(User, learner), role="wizard")
    assert refused.value.field == "role"


def test_admin_cannot_demote_or_deactivate_themselves(session, admin):
    me = session.get(User, admin)
    with pytest.raises(OwnAccountRefused) as demote:
        user_role_change(session, actor=me, user=me, role=Role.LEARNER)
    with pytest.raises(OwnAccountRefused) as deactivate:
        user_deactivate(session, actor=me, user=me)
    assert (demote.value.field, deactivate.value.field) == ("role", "active")
    assert (me.role, me.is_active) == (Role.ADMIN, True)
    assert audit_rows(session, admin) == []


def test_one_admin_may_demote_another(app, session, admin):
    other = create_user(app, "bo@example.org", role=Role.ADMIN)
    assert user_role_change(session, actor=session.get(User, admin), user=session.get(User, other), role="learner")
    assert audit_rows(session, other) == [("role_changed", {"from": "admin", "to": "learner"}, admin)]


def test_the_last_active_admin_cannot_be_removed(app, session, admin):
    """Even when the acting admin lost their own rights a moment ago (a race between two admins)."""
    other = create_user(app, "bo@example.org", role=Role.ADMIN)
    actor = session.get(User, admin)
    session.expunge(actor)  # as the acting admin's request loaded it, before the other change landed
    session.execute(update(User).where(User.id == admin).values(is_active=False))
    session.commit()
    with pytest.raises(LastAdminRefused):
        user_role_change(session, actor=actor, user=session.get(User, other), role="learner")
    with pytest.raises(LastAdminRefused):
        user_deactivate(session, actor=actor, user=session.get(User, other))
    assert session.scalar(select(func.count()).where(User.role == "admin", User.is_active.is_(True))) == 1


@pytest.mark.parametrize(
    ("role", "active", "active_admins", "last"),
    [
        (Role.ADMIN, True, [1], True),
        (Role.ADMIN, True, [1, 2], False),
        (Role.ADMIN, False, [2], False),
        (Role.COUNSELLOR, True, [2], False),
        (Role.ADMIN, True, [2], False),  # the committed state says another is the only one
    ],
)
def test_the_last_active_admin_rule(role, active, active_admins, last):
    user = User(id=1, role=role, is_active=active)
    assert is_last_active_admin(user, active_admins) is last


def test_only_an_active_admin_waits_on_the_admins_lock(app, session, admin, learner):
    person = session.get(User, learner)
    with count_queries(db.engine) as counted:
        assert not is_last_active_admin_locked(session, person)
    assert counted() == 0
    assert is_last_active_admin_locked(session, session.get(User, admin))
    session.rollback()
    create_user(app, "bo@example.org", role=Role.ADMIN)
    assert not is_last_active_admin_locked(session, session.get(User, admin))
    session.rollback()


def test_only_admins_manage_accounts(session, counsellor, learner):
    with pytest.raises(NotAllowed):
        user_deactivate(session, actor=session.get(User, counsellor), user=session.get(User, learner))
    assert session.get(User, learner).is_active


def test_deactivated_account_cannot_log_in_until_reactivated(session, admin, learner):
    actor, user = session.get(User, admin), session.get(User, learner)
    assert user_authenticate(session, email="learner@example.org", password=PASSWORD) is not None
    assert user_deactivate(session, actor=actor, user=user) is True
    assert user_deactivate(session, actor=actor, user=user) is False  # already done: no second audit row
    assert user_authenticate(session, email="learner@example.org", password=PASSWORD) is None
    assert user_reactivate(session, actor=actor, user=user) is True
    assert user_reactivate(session, actor=actor, user=user) is False
    assert user_authenticate(session, email="learner@example.org", password=PASSWORD).id == learner
    assert [row[0] for row in audit_rows(session, learner)] == ["deactivated", "reactivated"]


def test_deactivation_leaves_history_untouched(app, session, admin, learner, counsellor, course):
    user = session.get(User, learner)
    lesson = session.scalar(select(Lesson).where(Lesson.slug == lesson_slugs(app)[0]))
    questions = quiz_questions(session, lesson)
    for pick in (0, -1):
        quiz_submit_attempt(
            session,
            learner=user,
            lesson=lesson,
            questions=questions,
            answers={q.id: [q.choices[pick].id] for q in questions},
            submission_key=uuid.uuid4().hex,
            pass_mark=0.8,
        )
    session.add(CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_by_id=learner))
    session.commit()

    def history():
        session.expire_all()
        return [
            sorted(tuple(row) for row in session.execute(select(*model.__table__.columns)))
            for model in (LessonProgress, QuizAttempt, AttemptAnswer, ShownQuestion, CounsellorLink)
        ]

    before = history()
    assert before[1] and before[2] and before[4]
    user_deactivate(session, actor=session.get(User, admin), user=session.get(User, learner))
    assert history() == before


def test_link_on_learners_behalf_is_audited_and_idempotent(session, admin, learner, counsellor):
    actor, user = session.get(User, admin), session.get(User, learner)
    link, created = learner_link_counsellor(session, actor=actor, learner=user, counsellor_id=counsellor)
    assert created is True
    assert (link.counsellor_id, link.learner_id, link.created_by_id, link.revoked_at) == (
        counsellor,
        learner,
        admin,
        None,
    )
    again, created_again = learner_link_counsellor(session, actor=actor, learner=user, counsellor_id=counsellor)
    assert (again.id, created_again) == (link.id, False)
    assert audit_rows(session, learner) == [("link_created", {"counsellor_id": counsellor}, admin)]


def test_an_admin_cannot_undo_a_learners_choice_to_stop_sharing(session, admin, learner, counsellor, other_counsellor):
    """Stopping is the learner's choice: only they can share with that counsellor again (an invitation)."""
    actor, user = session.get(User, admin), session.get(User, learner)
    link, _ = learner_link_counsellor(session, actor=actor, learner=user, counsellor_id=counsellor)
    link_revoke(session, learner=user, link_id=link.id)

    with pytest.raises(LinkRefused) as refused:
        learner_link_counsellor(session, actor=actor, learner=user, counsellor_id=counsellor)

    assert refused.value.field == "counsellor_id"
    assert "Lee Learner stopped sharing with Casey Counsellor, so only they can share again" in refused.value.message
    assert active_link(session, counsellor_id=counsellor, learner_id=learner) is None
    assert [row[0] for row in audit_rows(session, learner)] == ["link_created"]  # the refusal wrote nothing
    # Another counsellor, whom the learner never stopped sharing with, can still be linked.
    assert learner_link_counsellor(session, actor=actor, learner=user, counsellor_id=other_counsellor)[1] is True


def test_a_link_the_counsellor_ended_can_be_made_again_for_the_learner(session, admin, learner, counsellor):
    """A client the counsellor stopped seeing (discharged) never said no: linking them again, when
    they ask at the clinic, is no undoing of their choice."""
    actor, user = session.get(User, admin), session.get(User, learner)
    learner_link_counsellor(session, actor=actor, learner=user, counsellor_id=counsellor)
    link_end_by_counsellor(session, counsellor=session.get(User, counsellor), learner_id=learner)

    again, created = learner_link_counsellor(session, actor=actor, learner=user, counsellor_id=counsellor)

    assert created is True and active_link(session, counsellor_id=counsellor, learner_id=learner).id == again.id


@pytest.mark.parametrize("case", ["learner is a counsellor", "counsellor is a learner", "no such account"])
def test_link_refuses_wrong_roles(session, admin, learner, other_learner, counsellor, case):
    learner_id, counsellor_id = {
        "learner is a counsellor": (counsellor, counsellor),
        "counsellor is a learner": (learner, other_learner),
        "no such account": (learner, 999999),
    }[case]
    with pytest.raises(LinkRefused) as refused:
        learner_link_counsellor(
            session, actor=session.get(User, admin), learner=session.get(User, learner_id), counsellor_id=counsellor_id
        )
    assert refused.value.field == "counsellor_id"
    assert session.scalar(select(func.count()).select_from(CounsellorLink)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_link_refuses_a_deactivated_counsellor(session, admin, learner, counsellor):
    actor = session.get(User, admin)
    user_deactivate(session, actor=actor, user=session.get(User, counsellor))
    with pytest.raises(LinkRefused):
        learner_link_counsellor(session, actor=actor, learner=session.get(User, learner), counsellor_id=counsellor)


def test_audit_trail_newest_first_with_names_and_ids_only(session, admin, learner, counsellor):
    actor, user = session.get(User, admin), session.get(User, learner)
    learner_link_counsellor(session, actor=actor, learner=user, counsellor_id=counsellor)
    user_deactivate(session, actor=actor, user=user)
    events = user_audit_events(session, user=session.get(User, learner))
    assert [e.action for e in events] == ["deactivated", "link_created"]
    assert {e.actor_name for e in events} == {"Ada Admin"}
    assert events[1].counsellor_name == "Casey Counsellor"
    stored = " ".join(str(details) for details in session.scalars(select(AuditEvent.details)))
    assert "@" not in stored and "Lee" not in stored and "Casey" not in stored


def test_two_admins_demoting_each_other_at_once_leave_one(app, session, admin):
    """PostgreSQL: the second change waits for the first's row locks, then sees it and is refused."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the row locks matter on PostgreSQL")
    other = create_user(app, "bo@example.org", role=Role.ADMIN)
    engine = session.get_bind()
    with Session(engine) as first, Session(engine) as second, ThreadPoolExecutor(1) as pool:
        # The other admin's request has loaded both accounts before the first change commits.
        actor, target = second.get(User, other), second.get(User, admin)
        second.commit()
        first.scalars(select(User.id).where(User.role == "admin").order_by(User.id).with_for_update()).all()
        first.execute(update(User).where(User.id == other).values(role="learner"))
        waiting = pool.submit(user_role_change, second, actor=actor, user=target, role="learner")
        wait_until_blocked(engine, waiting, behind=first, what="the other admin's change")
        first.commit()
        with pytest.raises(LastAdminRefused):
            waiting.result(timeout=10)
    assert session.scalar(select(func.count()).where(User.role == "admin")) == 1


# Onboarding: accounts an admin creates, reset links, and the list's extra columns and orders.


def test_admin_creates_an_account_without_a_password(session, admin):
    actor = session.get(User, admin)
    user = user_onboard(
        session, actor=actor, email="  New.Person@Example.org ", display_name=" Nia New ", role="counsellor"
    )
    assert (user.email, user.display_name, user.role, user.is_active) == (
        "new.person@example.org",
        "Nia New",
        Role.COUNSELLOR,
        True,
    )
    assert password_not_chosen(user)
    assert user_authenticate(session, email="new.person@example.org", password="") is None
    assert user_authenticate(session, email="new.person@example.org", password="!no-password-yet") is None
    assert audit_rows(session, user.id) == [("created", {"role": "counsellor"}, admin)]


def test_an_address_in_use_is_refused_beside_the_email_field(session, admin, learner):
    actor = session.get(User, admin)
    with pytest.raises(EmailInUse) as refused:
        user_onboard(session, actor=actor, email="LEARNER@example.org", display_name="Twin", role="learner")
    assert refused.value.field == "email"
    assert session.scalar(select(func.count()).select_from(User)) == 2
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize(
    ("email", "name", "role", "field"),
    [
        ("no-at-sign", "Nia", "learner", "email"),
        ("n@example.org", "  ", "learner", "display_name"),
        ("n@example.org", "Nia\u202eCasey", "learner", "display_name"),  # reorders the text around it
        ("n@example.org", "Nia", "wizard", "role"),
    ],
)
def test_bad_input_is_refused(session, admin, email, name, role, field):
    with pytest.raises(ValidationError) as refused:
        user_onboard(session, actor=session.get(User, admin), email=email, display_name=name, role=role)
    assert refused.value.field == field


def test_only_an_admin_creates_accounts_or_sends_links(session, learner, counsellor):
    actor = session.get(User, counsellor)
    with pytest.raises(NotAllowed):
        user_onboard(session, actor=actor, email="n@example.org", display_name="Nia", role="admin")
    with pytest.raises(NotAllowed):
        user_reset_link_audit(session, actor=actor, user=session.get(User, learner))


def test_a_reset_link_is_audited_and_refused_for_a_deactivated_account(session, admin, learner):
    actor, user = session.get(User, admin), session.get(User, learner)
    user_reset_link_audit(session, actor=actor, user=user)
    assert audit_rows(session, learner) == [("reset_link_sent", {}, admin)]
    assert not password_not_chosen(user)
    user_deactivate(session, actor=actor, user=user)
    with pytest.raises(ResetLinkRefused) as refused:
        user_reset_link_audit(session, actor=actor, user=user)
    assert refused.value.field == "reset"
    assert [row[0] for row in audit_rows(session, learner)] == ["reset_link_sent", "deactivated"]


def test_status_filter_and_sorts(session, admin, learner, other_learner, counsellor):
    user_deactivate(session, actor=session.get(User, admin), user=session.get(User, other_learner))
    names = lambda **q: [u.display_name for u in users_search(session, query=UserQuery(**q)).users]  # noqa: E731
    assert "Fred Other" not in names(status="active") and names(status="deactivated") == ["Fred Other"]
    assert names(sort="role") == ["Ada Admin", "Casey Counsellor", "Fred Other", "Lee Learner"]
    now = utcnow()
    session.get(User, counsellor).last_login_at = now - timedelta(days=3)
    session.get(User, learner).last_login_at = now - timedelta(days=1)
    session.commit()
    assert names(sort="last_login") == ["Lee Learner", "Casey Counsellor", "Ada Admin", "Fred Other"]  # never last
    rows = {row.user.id: row for row in users_search(session, query=UserQuery(sort="last_login")).rows}
    assert rows[learner].last_login == now - timedelta(days=1)
    assert rows[admin].last_login is None


def test_progress_counts_completed_live_lessons_of_the_default_course(app, session, course, admin, learner):
    lessons = list(session.scalars(select(Lesson).order_by(Lesson.id)))
    now = utcnow()
    session.add_all(
        [
            LessonProgress(user_id=learner, lesson_id=lessons[0].id, opened_at=now, completed_at=now),
            LessonProgress(user_id=learner, lesson_id=lessons[1].id, opened_at=now, completed_at=now),
            LessonProgress(user_id=learner, lesson_id=lessons[2].id, opened_at=now),  # opened only
        ]
    )
    session.commit()
    page = users_search(session, query=UserQuery())
    assert page.live_lessons == len(lessons)
    progress = {row.user.id: row.completed for row in page.rows}
    assert progress == {admin: 0, learner: 2}
    session.execute(
        update(Lesson).where(Lesson.id == lessons[0].id).values(retired_at=now, position=None, module_id=None)
    )
    session.commit()
    session.expunge_all()
    page = users_search(session, query=UserQuery())
    assert page.live_lessons == len(lessons) - 1
    assert {row.user.id: row.completed for row in page.rows}[learner] == 1  # a retired lesson no longer counts


def test_search_with_a_course_runs_the_same_queries_for_10_or_200_users(app, session, course):
    def queries_for(query: UserQuery) -> int:
        session.expunge_all()
        with count_queries(session.get_bind()) as counted:
            users_search(session, query=query)
        return counted()

    add_users(session, 10, prefix="few")
    few = queries_for(UserQuery(sort="last_login", status="active"))
    add_users(session, 190, prefix="many")
    assert few == queries_for(UserQuery(sort="last_login", status="active")) == 4


def test_an_admin_cannot_undo_a_learners_no_to_an_invitation(
    app, session, admin, learner, counsellor, other_counsellor
):
    """Declining promised the counsellor would see nothing of their progress: an admin's link
    would break that, so only the learner can change it (by accepting a new invitation)."""
    actor, user = session.get(User, admin), session.get(User, learner)
    secret = app.config["SECRET_KEY"]
    _, code = invitation_create(session, counsellor=session.get(User, counsellor), secret_key=secret)
    invitation_respond(session, code=code, learner=user, accept=False, secret_key=secret)

    with pytest.raises(LinkRefused) as refused:
        learner_link_counsellor(session, actor=actor, learner=user, counsellor_id=counsellor)

    assert "Lee Learner declined sharing with Casey Counsellor, so only they can share again" in refused.value.message
    assert active_link(session, counsellor_id=counsellor, learner_id=learner) is None
    assert audit_rows(session, learner) == []  # the refusal wrote nothing
    # Another counsellor, whose invitation the learner never declined, can still be linked.
    assert learner_link_counsellor(session, actor=actor, learner=user, counsellor_id=other_counsellor)[1] is True
    # Accepting a new invitation from the first counsellor is the learner's own way back.
    _, again = invitation_create(session, counsellor=session.get(User, counsellor), secret_key=secret)
    assert invitation_respond(session, code=again, learner=user, accept=True, secret_key=secret) is not None
