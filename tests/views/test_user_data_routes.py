"""An admin downloads a person's data for them from the account's page, over HTTP with CSRF on:
the file the person gets on /me/data.json, uncached, recorded once and shown in words; only a
POST with its token, only by an admin, and a 404 for an account that is not there."""

import html
import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Role
from tests.conftest import create_user, csrf_token, lesson_slugs, login, quiz_form, submit_quiz, visible_text

ADMIN = "ada@example.org"


@pytest.fixture
def admin(app) -> int:
    return create_user(app, ADMIN, role=Role.ADMIN, name="Ada Admin")


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    assert login(client, ADMIN).status_code == 302
    return client


def download(client, user_id: int, *, token: str | None = None):
    """POST the account page's button, with the CSRF token that page carries."""
    token = token or csrf_token(client, f"/author/users/{user_id}")
    return client.post(f"/author/users/{user_id}/data.json", data={"csrf_token": token})


def audit(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.actor_id, AuditEvent.subject_id, AuditEvent.action, AuditEvent.details)
        )
        return [tuple(row) for row in rows]


def said(client, url: str) -> str:
    return visible_text(html.unescape(client.get(url).get_data(as_text=True)))


def test_the_accounts_page_has_the_button_and_says_the_download_is_recorded(admin_client, learner):
    page = admin_client.get(f"/author/users/{learner}").get_data(as_text=True)
    assert f'<form method="post" action="/author/users/{learner}/data.json"' in page
    assert "Download their data (JSON)</button>" in page
    text = visible_text(html.unescape(page))
    assert "Their data" in text and "The download is recorded in the activity log" in text


def test_the_file_is_the_one_the_person_downloads_and_is_recorded_once(
    app, learner_client, admin_client, admin, learner
):
    first = lesson_slugs(app)[0]
    submit_quiz(learner_client, first, quiz_form(app, first))
    response = download(admin_client, learner)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="user-{learner}-data.json"'
    assert response.headers["Cache-Control"] == "no-store"
    assert audit(app) == [(admin, learner, "data_downloaded", {})]
    own = learner_client.get("/me/data.json")
    assert json.loads(response.data) == json.loads(own.data)
    assert response.data == own.data  # the same file, byte for byte
    data = json.loads(response.data)
    assert data["quiz_attempts"][0]["passed"] is True
    assert [a["action"] for a in data["admin_actions_on_my_account"]] == ["data_downloaded"]


def test_the_download_is_in_words_on_the_log_the_account_page_and_the_persons_data(
    app, learner_client, admin_client, learner
):
    assert download(admin_client, learner).status_code == 200
    assert "Ada Admin downloaded everything held about Lee Learner (JSON)." in said(admin_client, "/author/activity")
    assert "downloaded everything" in said(admin_client, "/author/activity?kind=accounts")
    assert "Everything held about them downloaded (JSON) Ada Admin" in said(admin_client, f"/author/users/{learner}")
    assert "Everything held about the account downloaded for its owner (JSON)" in said(learner_client, "/me/data")


def test_an_admin_may_download_their_own(app, admin_client, admin):
    response = download(admin_client, admin)
    assert response.status_code == 200
    assert json.loads(response.data)["profile"]["email"] == ADMIN
    assert audit(app) == [(admin, admin, "data_downloaded", {})]


def test_only_a_post_with_its_token_downloads(app, admin_client, learner):
    assert admin_client.get(f"/author/users/{learner}/data.json").status_code == 405
    assert admin_client.post(f"/author/users/{learner}/data.json").status_code == 400  # no CSRF token
    assert audit(app) == []


def test_an_unknown_account_is_not_found(app, admin_client, learner):
    token = csrf_token(admin_client, "/author/users")
    assert download(admin_client, 999999, token=token).status_code == 404
    assert audit(app) == []
    assert download(admin_client, learner, token=token).status_code == 200  # the same request, for one that is


def test_only_admins_download(app, learner_client, learner, other_learner):
    assert download(learner_client, other_learner, token=csrf_token(learner_client, "/me/")).status_code == 403
    create_user(app, "casey@example.org", role=Role.COUNSELLOR)
    counsellor = app.test_client()
    assert login(counsellor, "casey@example.org").status_code == 302
    assert download(counsellor, learner, token=csrf_token(counsellor, "/me/")).status_code == 403
    anonymous = app.test_client()
    response = download(anonymous, learner, token=csrf_token(anonymous, "/auth/login"))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert audit(app) == []
