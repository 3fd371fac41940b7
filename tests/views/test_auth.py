"""Accounts over HTTP with CSRF on: log in (remember me), log out, safe redirects."""

from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User
from tests.conftest import PASSWORD, create_user, csrf_token, login

# Registering, by a link sent by e-mail, is in test_registration.py.


def test_register_without_csrf_token_is_refused(client, app):
    response = client.post("/auth/register", data={"email": "a@example.org", "display_name": "A", "password": PASSWORD})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_login_with_wrong_password_shows_a_message(client, learner):
    response = login(client, password="not the password")
    assert response.status_code == 400
    assert "do not match an account" in response.get_data(as_text=True)


def test_login_without_remember_sets_no_remember_cookie(client, learner):
    response = login(client)
    assert response.status_code == 302
    assert "remember_token" not in response.headers.get("Set-Cookie", "")


def test_login_with_remember_me_sets_a_lasting_httponly_cookie(client, learner):
    response = login(client, remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "Expires=" in remember and "HttpOnly" in remember


def test_deactivated_account_cannot_log_in(client, app, learner):
    with app.app_context():
        db.session.get(User, learner).is_active = False
        db.session.commit()
    assert login(client).status_code == 400


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_cannot_redirect_off_site(client, learner, target):
    token = csrf_token(client, "/auth/login")
    response = client.post(
        f"/auth/login?next={target}", data={"email": "learner@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_on_site_is_followed(client, learner, course):
    token = csrf_token(client, "/auth/login")
    response = client.post(
        f"/auth/login?next=/courses/{course}/",
        data={"email": "learner@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == f"/courses/{course}/"


def test_logout_is_post_only_and_needs_csrf(client, learner):
    login(client)
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 400
    token = csrf_token(client, "/")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_logged_in_user_visiting_login_goes_home(client, learner):
    login(client)
    assert client.get("/auth/login").headers["Location"] == "/"


def test_email_is_case_insensitive_at_login(client, app):
    create_user(app, "mixed@example.org")
    assert login(client, email="MIXED@example.org").status_code == 302


def test_a_deactivated_account_is_logged_out_on_its_next_request(client, app, learner, course):
    login(client)
    assert client.get("/me/").status_code == 200
    with app.app_context():
        db.session.get(User, learner).is_active = False
        db.session.commit()
    response = client.get("/me/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize(
    ("role", "landing"),
    [(Role.LEARNER, "/"), (Role.COUNSELLOR, "/counsel/"), (Role.ADMIN, "/author/")],
)
def test_login_lands_each_role_where_it_works(client, app, course, role, landing):
    create_user(app, "someone@example.org", role=role)
    response = login(client, email="someone@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == landing
    assert client.get(landing).status_code == 200


@pytest.mark.parametrize("role", [Role.LEARNER, Role.COUNSELLOR, Role.ADMIN])
def test_a_safe_next_wins_over_the_landing_of_any_role(client, app, course, role):
    create_user(app, "someone@example.org", role=role)
    token = csrf_token(client, "/auth/login")
    response = client.post(
        f"/auth/login?next=/courses/{course}/",
        data={"email": "someone@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == f"/courses/{course}/"


@pytest.mark.parametrize(("role", "landing"), [(Role.COUNSELLOR, "/counsel/"), (Role.ADMIN, "/author/")])
def test_an_unsafe_next_falls_back_to_the_landing_of_the_role(client, app, role, landing):
    create_user(app, "someone@example.org", role=role)
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login?next=https://evil.example/",
        data={"email": "someone@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == landing


def test_a_login_carries_on_from_a_new_address_and_browser_without_rewriting_the_cookie(
    client, app, learner, course, monkeypatch
):
    """Flask-Login's session protection is off (app/extensions.py): moving between networks
    keeps the login as it is, and no page works out the address-and-browser hash it would use."""
    assert login(client).status_code == 302
    client.get(f"/courses/{course}/")  # the first page after logging in may still write the cookie

    def hashed():
        raise AssertionError("a page worked out Flask-Login's session identifier")

    monkeypatch.setattr(app.login_manager, "_session_identifier_generator", hashed)
    moved = {"REMOTE_ADDR": "203.0.113.9", "HTTP_USER_AGENT": "Another browser/1.0"}
    response = client.get(f"/courses/{course}/", environ_overrides=moved)

    assert response.status_code == 200 and "Log out" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_the_session_cookie_carries_no_hash_of_the_address_and_browser(client, app, learner):
    """Flask-Login writes one for session protection, which is off: the login leaves it out."""
    assert login(client).status_code == 302

    with app.test_request_context():
        serializer = app.session_interface.get_signing_serializer(app)
    values = serializer.loads(client.get_cookie("session").value)
    assert values["_user_id"] and "_id" not in values


@pytest.mark.parametrize("area", ["/me/", "/counsel/", "/author/"])
def test_every_area_sends_a_visitor_to_log_in_saying_why_and_back(client, app, course, area):
    response = client.get(area)
    assert response.status_code == 302
    login_page = client.get(response.headers["Location"])
    assert "Please log in to continue." in login_page.get_data(as_text=True)
    assert response.headers["Location"] == f"/auth/login?next={quote(area, safe='')}"
