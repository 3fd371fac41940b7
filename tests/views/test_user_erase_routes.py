"""An admin erases an account from its page, over HTTP with CSRF on: asked first on a page that
says what goes and what stays, refused (400, nothing changed) for one's own account and the
last active admin, and "Already erased" (404) once it is gone."""

import html

import pytest
from sqlalchemy import select, update

import app.author.users as user_views
from app.extensions import db
from app.models import AuditEvent, LtiIdentity, LtiPlatform, Role, User
from app.services.user_admin import user_erase
from tests.conftest import create_user, csrf_token, login, visible_text

ADMIN = "ada@example.org"


@pytest.fixture
def admin(app) -> int:
    return create_user(app, ADMIN, role=Role.ADMIN, name="Ada Admin")


@pytest.fixture
def admin_client(client, admin):
    assert login(client, ADMIN).status_code == 302
    return client


def erase(client, user_id: int, *, confirm: bool = True, token: str | None = None):
    """POST the confirmation page's button, with the CSRF token that page carries."""
    url = f"/author/users/{user_id}/erase"
    data = {"csrf_token": token or csrf_token(client, f"/author/users/{user_id}")}
    return client.post(url, data={**data, "confirm": "yes"} if confirm else data)


def exists(app, user_id: int) -> bool:
    with app.app_context():
        return db.session.get(User, user_id) is not None


def audit(app) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(select(AuditEvent.action, AuditEvent.details))]


def said(response) -> str:
    return visible_text(html.unescape(response.get_data(as_text=True)))


def test_the_accounts_page_leads_to_a_page_that_asks_first(app, admin_client, learner):
    page = admin_client.get(f"/author/users/{learner}").get_data(as_text=True)
    assert f'href="/author/users/{learner}/erase"' in page
    confirm = admin_client.get(f"/author/users/{learner}/erase")
    assert confirm.status_code == 200
    text = said(confirm)
    assert "Erase the account of Lee Learner?" in text and "learner@example.org" in text
    # The owner's own deletion page's words, for what goes and what stays.
    for words in (
        "every quiz attempt and answer",
        "Counsellors they shared with will no longer see anything.",
        "Their certificate goes too",
        "A request for the clinic to contact them is withdrawn",
        "Records that someone viewed their progress are kept without their name",
        "with the account's role and nothing else",
        "It cannot be undone.",
    ):
        assert words in text, words
    body = confirm.get_data(as_text=True)
    assert 'name="confirm" value="yes"' in body and 'name="csrf_token"' in body
    assert "Erase the account</button>" in body and "Keep the account" in body
    assert exists(app, learner) and audit(app) == []


def test_a_bare_post_only_asks_and_a_post_without_its_token_is_refused(app, admin_client, learner):
    assert erase(admin_client, learner, confirm=False).status_code == 200  # a page from before this step
    no_token = admin_client.post(f"/author/users/{learner}/erase", data={"confirm": "yes"})
    assert no_token.status_code == 400
    assert exists(app, learner) and audit(app) == []


def test_confirmed_the_account_is_erased_and_the_log_says_so_with_its_role_only(app, admin_client, learner):
    response = erase(admin_client, learner)
    assert response.status_code == 302 and response.headers["Location"].endswith("/author/users")
    users = said(admin_client.get("/author/users"))
    assert "The account is erased, with everything in it." in users and "Lee Learner" not in users
    assert not exists(app, learner)
    assert audit(app) == [("account_erased", {"role": "learner"})]
    assert "Ada Admin erased the account of a learner, with everything in it." in said(
        admin_client.get("/author/activity")
    )
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.subject_id)) is None
    # The person's login is gone with the account.
    admin_client.post("/auth/logout", data={"csrf_token": csrf_token(admin_client, "/me/")})
    assert login(admin_client).status_code == 400


def test_erased_already_or_never_there_is_404(app, admin_client, learner):
    token = csrf_token(admin_client, f"/author/users/{learner}")
    assert erase(admin_client, learner, token=token).status_code == 302
    again = erase(admin_client, learner, token=token)  # another tab, or another admin, first
    assert again.status_code == 404
    assert "Already erased" in said(again) and "Nothing was erased" in said(again)
    assert admin_client.get(f"/author/users/{learner}/erase").status_code == 404
    assert erase(admin_client, 999999, token=token).status_code == 404
    assert audit(app) == [("account_erased", {"role": "learner"})]


def test_an_admin_cannot_erase_their_own_account_here(app, admin_client, admin):
    own = said(admin_client.get(f"/author/users/{admin}"))
    assert "This is your own account: to erase it, use Delete my account on your own page." in own
    page = admin_client.get(f"/author/users/{admin}/erase")
    assert page.status_code == 200 and "Erase the account</button>" not in page.get_data(as_text=True)
    assert "Delete my account on your own page" in said(page)
    refused = erase(admin_client, admin, token=csrf_token(admin_client, "/me/"))
    assert refused.status_code == 400
    assert "You cannot erase your own account here." in said(refused)
    assert exists(app, admin) and audit(app) == []


def test_the_last_active_admin_is_not_erased(app, admin_client, admin, monkeypatch):
    """A race: another admin's change took this admin's rights as they pressed the button."""
    other = create_user(app, "bo@example.org", role=Role.ADMIN, name="Bo Admin")

    def after_losing_admin_rights(session, *, actor, user):
        session.execute(
            update(User).where(User.id == actor.id).values(is_active=False).execution_options(synchronize_session=False)
        )
        user_erase(session, actor=actor, user=user)

    monkeypatch.setattr(user_views, "user_erase", after_losing_admin_rights)
    refused = erase(admin_client, other)
    assert refused.status_code == 400
    assert "This is the only active admin. Make another account an admin first." in said(refused)
    assert exists(app, other) and audit(app) == []
    with app.app_context():
        assert db.session.get(User, admin).is_active  # the refusal rolled everything back


def test_an_account_an_lms_made_can_be_erased_once_its_platform_is_removed(app, admin_client):
    with app.app_context():
        platform = LtiPlatform(
            name="Moodle",
            issuer="https://lms.example.org",
            client_id="c",
            auth_login_url="https://lms.example.org/auth",
            auth_token_url="https://lms.example.org/token",
            key_set_url="https://lms.example.org/jwks",
            deployment_ids="1",
        )
        person = User(email=None, display_name="Pat From Moodle", password_hash="!", role="learner")
        db.session.add_all([platform, person])
        db.session.flush()
        db.session.add(LtiIdentity(platform_id=platform.id, subject="s", user_id=person.id))
        db.session.commit()
        platform_id, person_id = platform.id, person.id
        db.session.remove()
    removal = admin_client.get(f"/author/lti/{platform_id}/delete")
    assert "an admin can erase any of them, with everything in it, from its page under Users" in said(removal)
    token = csrf_token(admin_client, "/author/lti")
    admin_client.post(f"/author/lti/{platform_id}/delete", data={"csrf_token": token, "confirm": "yes"})
    assert "None (its LMS was removed: nobody can sign in to this account)" in said(
        admin_client.get(f"/author/users/{person_id}/erase")
    )
    assert erase(admin_client, person_id).status_code == 302
    assert not exists(app, person_id)
