"""The newly audited admin actions through their pages, with CSRF on: each done writes one record
(and shows in the activity log); each refused, or only asked about, writes none."""

import html

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, AuditEvent, Course, Role
from tests.conftest import create_user, csrf_token, login, visible_text

ADMIN = "sam@example.org"
ISSUER = "https://moodle.example.org"
PLATFORM = {
    "name": "Moodle test",
    "issuer": ISSUER,
    "client_id": "abc",
    "auth_login_url": f"{ISSUER}/auth",
    "auth_token_url": f"{ISSUER}/token",
    "key_set_url": f"{ISSUER}/jwks",
    "deployment_ids": "1",
}


@pytest.fixture
def admin(app) -> int:
    return create_user(app, ADMIN, role=Role.ADMIN, name="Sam Admin")


@pytest.fixture
def admin_client(client, admin):
    assert login(client, ADMIN).status_code == 302
    return client


def records(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.actor_id, AuditEvent.subject_id, AuditEvent.action, AuditEvent.details).order_by(
                AuditEvent.id
            )
        )
        return [tuple(row) for row in rows]


def test_registering_and_removing_a_platform_are_recorded_once_each(app, admin_client, admin):
    token = csrf_token(admin_client, "/author/lti")
    assert admin_client.post("/author/lti", data={**PLATFORM, "csrf_token": token}).status_code == 302
    [(actor, subject, action, details)] = records(app)
    assert (actor, subject, action) == (admin, None, "lti_platform_registered")
    assert details == {"platform_id": details["platform_id"], "issuer": ISSUER}
    remove = f"/author/lti/{details['platform_id']}/delete"
    assert admin_client.post(remove, data={"csrf_token": token}).status_code == 200  # only asks
    assert len(records(app)) == 1
    assert admin_client.post(remove, data={"csrf_token": token, "confirm": "yes"}).status_code == 302
    assert records(app)[1] == (admin, None, "lti_platform_removed", details)
    said = visible_text(admin_client.get("/author/activity?kind=lms").get_data(as_text=True))
    assert f"Sam Admin removed the LMS platform at {ISSUER}." in said
    assert f"Sam Admin registered the LMS platform at {ISSUER} (since removed)." in said


@pytest.mark.parametrize("bad", [{"key_set_url": "http://moodle.example.org/jwks"}, {"name": ""}])
def test_a_refused_registration_records_nothing(app, admin_client, bad):
    token = csrf_token(admin_client, "/author/lti")
    assert admin_client.post("/author/lti", data={**PLATFORM, **bad, "csrf_token": token}).status_code == 400
    assert admin_client.post("/author/lti", data=PLATFORM).status_code == 400  # no CSRF token
    assert admin_client.post("/author/lti", data={**PLATFORM, "csrf_token": token}).status_code == 302
    assert [row[2] for row in records(app)] == ["lti_platform_registered"]  # the last one only


def test_an_admins_download_of_learners_is_recorded_and_a_counsellors_is_not(app, client, admin, course):
    with app.app_context():
        course_id = db.session.scalar(select(Course.id).where(Course.slug == course))
    login(client, ADMIN)
    response = client.get(f"/counsel/clients.csv?course={course}&flag=inactive&q=Lee")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbfName,")
    assert records(app) == [
        (admin, None, "learners_downloaded", {"course_id": course_id, "flag": "inactive", "searched": True})
    ]
    assert client.get("/counsel/clients.csv?course=no-such-course").status_code == 404
    assert len(records(app)) == 1
    said = visible_text(client.get("/author/activity?kind=downloads").get_data(as_text=True))
    assert "Sam Admin downloaded the list of learners of" in said and "only those flagged inactive" in said
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    create_user(app, "cas@example.org", role=Role.COUNSELLOR)
    login(client, "cas@example.org")
    assert client.get(f"/counsel/clients.csv?course={course}").status_code == 200
    assert len(records(app)) == 1


def test_an_admins_token_is_recorded_when_made_and_revoked_and_a_refused_one_not(app, admin_client, admin):
    token = csrf_token(admin_client, "/me/tokens")
    refused = admin_client.post("/me/tokens", data={"csrf_token": token, "name": "", "scopes": ["read:clients"]})
    assert refused.status_code == 400
    made = admin_client.post("/me/tokens", data={"csrf_token": token, "name": "Reports", "scopes": ["read:clients"]})
    assert made.status_code == 201
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    assert admin_client.post(f"/me/tokens/{token_id}/revoke", data={"csrf_token": token}).status_code == 302
    details = {"token_id": token_id, "scopes": ["read:clients"]}
    assert records(app) == [
        (admin, None, "api_token_created", details),
        (admin, None, "api_token_revoked", details),
    ]
    said = html.unescape(visible_text(admin_client.get("/author/activity?kind=tokens").get_data(as_text=True)))
    assert "Sam Admin revoked an API token that could read every learner's progress." in said
