"""The admin actions audited besides those on accounts: LMS platforms registered and removed, lists of
learners downloaded, API tokens with staff scopes made and revoked. Each writes exactly one record,
ids and non-personal details only, in its own transaction; a refused one writes none."""

import pytest
from sqlalchemy import select

from app.models import ApiToken, AuditEvent, Course, Role, User
from app.services.api_tokens import token_create, token_revoke
from app.services.audit import audit_record
from app.services.dashboard import DashboardQuery, dashboard_export_audit
from app.services.errors import ValidationError
from app.services.lti.platforms import PlatformDetails, lti_platform_delete, lti_platform_register
from tests.conftest import create_user

ISSUER = "https://moodle.example.org"


@pytest.fixture
def people(app, session):
    return {
        role: session.get(User, create_user(app, f"{role.value}@example.org", role=role, name=f"Jo {role.value}"))
        for role in (Role.LEARNER, Role.COUNSELLOR, Role.ADMIN)
    }


@pytest.fixture
def admin(people) -> User:
    return people[Role.ADMIN]


def records(session) -> list[tuple]:
    session.expire_all()
    rows = session.execute(
        select(AuditEvent.actor_id, AuditEvent.subject_id, AuditEvent.action, AuditEvent.details).order_by(
            AuditEvent.id
        )
    )
    return [tuple(row) for row in rows]


def platform(**changes) -> PlatformDetails:
    values = {
        "name": "Moodle test",
        "issuer": ISSUER,
        "client_id": "tool-1",
        "auth_login_url": f"{ISSUER}/auth",
        "auth_token_url": f"{ISSUER}/token",
        "key_set_url": f"{ISSUER}/jwks",
        "deployment_ids": ["1"],
    }
    return PlatformDetails(**{**values, **changes})


def test_registering_a_platform_records_its_id_and_issuer_never_its_name(session, admin):
    registered = lti_platform_register(session, actor=admin, details=platform())
    assert records(session) == [
        (admin.id, None, "lti_platform_registered", {"platform_id": registered.id, "issuer": ISSUER})
    ]


@pytest.mark.parametrize("bad", [{"key_set_url": "not an address"}, {"deployment_ids": []}, {"name": " "}])
def test_a_refused_registration_records_nothing(session, admin, bad):
    lti_platform_register(session, actor=admin, details=platform(client_id="first"))
    with pytest.raises(ValidationError):
        lti_platform_register(session, actor=admin, details=platform(**bad))
    assert [row[2] for row in records(session)] == ["lti_platform_registered"]  # the first one only


def test_a_duplicate_registration_records_nothing_more(session, admin):
    lti_platform_register(session, actor=admin, details=platform())
    with pytest.raises(ValidationError, match="registered already"):
        lti_platform_register(session, actor=admin, details=platform(name="Again"))
    assert [row[2] for row in records(session)] == ["lti_platform_registered"]


def test_removing_a_platform_records_it_once_and_an_unknown_one_not_at_all(session, admin):
    registered = lti_platform_register(session, actor=admin, details=platform())
    platform_id = registered.id
    assert lti_platform_delete(session, actor=admin, platform_id=platform_id)
    assert not lti_platform_delete(session, actor=admin, platform_id=platform_id)  # gone already
    assert records(session)[1:] == [
        (admin.id, None, "lti_platform_removed", {"platform_id": platform_id, "issuer": ISSUER})
    ]


def test_an_admins_staff_token_is_recorded_when_made_and_revoked_by_id_and_scopes(session, admin):
    token, _ = token_create(session, user=admin, name="Jo's clinic dashboard", scopes=["write:draft", "read:clients"])
    token_id = token.id
    token_revoke(session, user=admin, token_id=token_id)
    details = {"token_id": token_id, "scopes": ["read:clients", "write:draft"]}
    assert records(session) == [
        (admin.id, None, "api_token_created", details),
        (admin.id, None, "api_token_revoked", details),
    ]
    assert "Jo's clinic dashboard" not in str(records(session))  # the name is free text: not kept


@pytest.mark.parametrize(
    ("name", "scopes"), [("", ["read:clients"]), ("Mine", []), ("Mine", ["read:progress"]), ("Mine", ["nope"])]
)
def test_a_refused_token_records_nothing(session, admin, name, scopes):
    token_create(session, user=admin, name="First", scopes=["read:course"])
    with pytest.raises(ValidationError):
        token_create(session, user=admin, name=name, scopes=scopes)
    assert [row[2] for row in records(session)] == ["api_token_created"]  # the first one only


def test_tokens_of_learners_and_counsellors_are_not_admin_actions(session, people, admin):
    mine, _ = token_create(session, user=people[Role.LEARNER], name="Mine", scopes=["read:progress"])
    clients, _ = token_create(session, user=people[Role.COUNSELLOR], name="Clients", scopes=["read:clients"])
    token_create(session, user=admin, name="Same scope, an admin's", scopes=["read:clients"])
    token_revoke(session, user=people[Role.LEARNER], token_id=mine.id)
    token_revoke(session, user=people[Role.COUNSELLOR], token_id=clients.id)
    assert [row[:3] for row in records(session)] == [(admin.id, None, "api_token_created")]


def test_revoking_a_token_that_is_not_yours_records_nothing(session, people, admin):
    theirs, _ = token_create(session, user=people[Role.COUNSELLOR], name="Clients", scopes=["read:clients"])
    mine, _ = token_create(session, user=admin, name="Mine", scopes=["read:clients"])
    with pytest.raises(LookupError):
        token_revoke(session, user=admin, token_id=theirs.id)
    assert [row[2] for row in records(session)] == ["api_token_created"]  # making the admin's own only
    assert session.get(ApiToken, theirs.id) is not None


@pytest.fixture
def course_row(session, course) -> Course:
    return session.scalar(select(Course).where(Course.slug == course))


def test_an_admins_download_of_learners_records_the_course_and_filter_never_the_search(session, admin, course_row):
    dashboard_export_audit(
        session, viewer=admin, course=course_row, query=DashboardQuery(search=" Jo ", flag="inactive")
    )
    dashboard_export_audit(session, viewer=admin, course=course_row, query=DashboardQuery())
    assert records(session) == [
        (admin.id, None, "learners_downloaded", {"course_id": course_row.id, "flag": "inactive", "searched": True}),
        (admin.id, None, "learners_downloaded", {"course_id": course_row.id}),
    ]


def test_a_counsellors_download_of_their_own_clients_is_not_an_admin_action(session, people, admin, course_row):
    dashboard_export_audit(session, viewer=people[Role.COUNSELLOR], course=course_row, query=DashboardQuery())
    dashboard_export_audit(session, viewer=admin, course=course_row, query=DashboardQuery())
    assert [row[:3] for row in records(session)] == [(admin.id, None, "learners_downloaded")]


def test_an_action_not_named_in_the_audit_module_is_refused(session, admin):
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit_record(session, actor=admin, action="looked_around")


def removed_meanwhile(session, table: str, row_id: int) -> None:
    """As another admin's (or tab's) removal committed while this session held the row loaded."""
    from sqlalchemy import text

    with session.get_bind().engine.begin() as other:
        other.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": row_id})  # noqa: S608 - a fixed name


def test_a_platform_two_admins_remove_at_once_is_recorded_once(session, admin):
    """The second removal found the platform loaded, deleted nothing, and recorded a removal too."""
    registered = lti_platform_register(session, actor=admin, details=platform())
    platform_id = registered.id
    assert session.get(type(registered), platform_id) is registered  # loaded in this session
    removed_meanwhile(session, "lti_platforms", platform_id)
    assert lti_platform_delete(session, actor=admin, platform_id=platform_id) is False
    assert [action for _, _, action, _ in records(session)] == ["lti_platform_registered"]


def test_a_token_revoked_in_two_tabs_at_once_is_recorded_once(session, admin):
    """The other tab's revocation commits between this one's finding the token and deleting it."""
    from sqlalchemy import event

    token, _ = token_create(session, user=admin, name="Dashboard", scopes=["read:clients"])
    token_id = token.id

    def the_other_tab_revokes_it_now(state):
        if state.is_select and state.statement.column_descriptions[0]["entity"] is ApiToken:
            found = state.invoke_statement().freeze()
            removed_meanwhile(session, "api_tokens", token_id)
            return found()  # a frozen result, called, gives the rows again

    event.listen(session, "do_orm_execute", the_other_tab_revokes_it_now)
    try:
        with pytest.raises(LookupError):
            token_revoke(session, user=admin, token_id=token_id)
    finally:
        event.remove(session, "do_orm_execute", the_other_tab_revokes_it_now)
    assert [action for _, _, action, _ in records(session)] == ["api_token_created"]
