"""Ending a session ends it on the server: a copy of its cookies, saved before, no longer works.

Each test saves the session and remember-me cookies from a browser's cookie jar before the
action, then replays them on fresh clients, over HTTP with CSRF on.
"""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models import Role, User, UserSession
from app.services.accounts import password_reset_token
from tests.api_support import bearer, make_token
from tests.conftest import create_user, csrf_token, login

COOKIES = ("session", "remember_token")
ADMIN = "ada@example.org"
NEW_PASSWORD = "a brand new passphrase"


def saved_cookies(client) -> dict[str, str]:
    """The browser's session and remember-me cookies, as they are now."""
    return {name: cookie.value for name in COOKIES if (cookie := client.get_cookie(name)) is not None}


def replayed(app, cookies: dict[str, str]):
    """A fresh browser holding exactly these cookies."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def signed_in(client) -> bool:
    response = client.get("/me/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def any_copy_works(app, cookies: dict[str, str]) -> bool:
    """Whether the cookies still sign anyone in: together, or each on its own."""
    assert set(cookies) == set(COOKIES)  # remembered logins: both cookies were saved
    copies = [cookies, *({name: value} for name, value in cookies.items())]
    return any(signed_in(replayed(app, copy)) for copy in copies)


def logged_in_browser(app, email="learner@example.org"):
    client = app.test_client()
    assert login(client, email, remember="y").status_code == 302
    assert signed_in(client)
    return client


def sessions_of(app, user_id: int) -> int:
    with app.app_context():
        count = len(db.session.scalars(select(UserSession.id).where(UserSession.user_id == user_id)).all())
        db.session.remove()
        return count


def test_logging_out_ends_this_session_only(app, learner, course):
    browser = logged_in_browser(app)
    other_device = logged_in_browser(app)
    cookies = saved_cookies(browser)
    assert any_copy_works(app, cookies)

    response = browser.post("/auth/logout", data={"csrf_token": csrf_token(browser, "/")})

    assert response.status_code == 302
    assert not any_copy_works(app, cookies)
    assert signed_in(other_device)


def test_log_out_everywhere_ends_every_device(app, learner, other_learner, course):
    phone = logged_in_browser(app)
    laptop = logged_in_browser(app)
    someone_else = logged_in_browser(app, "fred@example.org")
    phone_cookies, laptop_cookies = saved_cookies(phone), saved_cookies(laptop)
    page = phone.get("/me/").get_data(as_text=True)
    assert 'action="/me/logout-everywhere"' in page and "Log out everywhere" in page

    response = phone.post("/me/logout-everywhere", data={"csrf_token": csrf_token(phone, "/me/")})

    assert response.status_code == 302
    assert "You have logged out everywhere" in phone.get("/").get_data(as_text=True)
    assert not signed_in(phone) and not signed_in(laptop)
    assert not any_copy_works(app, phone_cookies) and not any_copy_works(app, laptop_cookies)
    assert signed_in(someone_else)
    assert login(phone).status_code == 302 and signed_in(phone)  # logging in again works


def test_log_out_everywhere_leaves_api_tokens_working_and_says_so(app, learner, course):
    """Tokens are for programs, managed on /me/tokens; the page tells the person before they press."""
    token = make_token(app, learner, "read:progress")
    phone = logged_in_browser(app)
    page = phone.get("/me/").get_data(as_text=True)
    assert "API tokens you made for programs keep working until you revoke them" in page

    assert phone.post("/me/logout-everywhere", data={"csrf_token": csrf_token(phone, "/me/")}).status_code == 302

    assert not signed_in(phone)
    assert app.test_client().get("/api/v1/me/progress", headers=bearer(token)).status_code == 200


def test_log_out_everywhere_needs_the_csrf_token(app, learner, course):
    browser = logged_in_browser(app)
    assert browser.post("/me/logout-everywhere").status_code == 400
    assert signed_in(browser)


def test_a_quiz_sent_after_the_session_ended_says_so_and_leads_back_through_the_login(app, learner, course):
    from tests.conftest import lesson_slugs, quiz_form

    client = app.test_client()
    assert login(client).status_code == 302
    url = f"/courses/{course}/lessons/{lesson_slugs(app)[0]}/quiz"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]*)"', page).group(1)
    client.delete_cookie("session")  # logged out meanwhile (another tab, an idle day)
    form = {**quiz_form(app, lesson_slugs(app)[0]), "csrf_token": token, "submission_key": key}

    refused = client.post(url, data=form, headers={"Referer": f"http://localhost{url}"})

    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "This form was not sent" in text and "You may need to log in first" in text
    assert f'<a class="button" href="{url}">Back to the page</a>' in text
    back = client.get(url)
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/auth/login?next={quote(url, safe='')}")
    # A Referer from elsewhere is no page to send anyone back to.
    elsewhere = client.post(url, data=form, headers={"Referer": f"https://elsewhere.example{url}"})
    assert elsewhere.status_code == 400 and "Back to the page" not in elsewhere.get_data(as_text=True)


def test_a_password_reset_ends_every_earlier_session(app, learner, course):
    other_device = logged_in_browser(app)
    cookies = saved_cookies(other_device)
    with app.app_context():
        token = password_reset_token(db.session.get(User, learner), secret_key=app.config["SECRET_KEY"])
        db.session.remove()
    resetter = app.test_client()
    path = f"/auth/reset/{token}"
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf_token(resetter, path)}

    assert resetter.post(path, data=data).status_code == 302

    assert not any_copy_works(app, cookies)
    assert signed_in(resetter)
    assert sessions_of(app, learner) == 1  # only the resetter's new session is left on the server


@pytest.fixture
def admin_browser(app):
    create_user(app, ADMIN, role=Role.ADMIN, name="Ada Admin")
    return logged_in_browser(app, ADMIN)


def admin_action(admin_browser, user_id: int, action: str):
    token = csrf_token(admin_browser, f"/author/users/{user_id}")
    response = admin_browser.post(f"/author/users/{user_id}/{action}", data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 302
    return response


def test_deactivation_ends_every_session_on_the_server(app, admin_browser, learner, course):
    cookies = saved_cookies(logged_in_browser(app))

    admin_action(admin_browser, learner, "deactivate")

    assert not any_copy_works(app, cookies)
    assert sessions_of(app, learner) == 0


def test_reactivation_does_not_bring_old_cookies_back(app, admin_browser, learner, course):
    cookies = saved_cookies(logged_in_browser(app))
    admin_action(admin_browser, learner, "deactivate")

    admin_action(admin_browser, learner, "reactivate")

    assert not any_copy_works(app, cookies)
    assert signed_in(logged_in_browser(app))  # the person logs in afresh


class Clock:
    """The time the login code sees, set by the test."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    monkeypatch.setattr("app.auth.routes.utcnow", clock)
    return clock


def test_a_session_ends_after_14_idle_days(app, clock, learner, course):
    browser = app.test_client()
    assert login(browser).status_code == 302  # not remembered
    cookies = saved_cookies(browser)
    clock.now += timedelta(days=13, hours=23)
    assert signed_in(replayed(app, cookies))  # used: idle from here on
    clock.now += timedelta(days=13, hours=23)
    assert signed_in(replayed(app, cookies))

    clock.now += timedelta(days=14, minutes=1)

    assert not signed_in(replayed(app, cookies))


def test_a_remembered_session_survives_idle_days_but_ends_after_30(app, clock, learner, course):
    cookies = saved_cookies(logged_in_browser(app))
    remember_only = {"remember_token": cookies["remember_token"]}  # the browser was closed
    clock.now += timedelta(days=20)
    assert signed_in(replayed(app, remember_only))

    clock.now += timedelta(days=10, minutes=1)

    assert not any_copy_works(app, cookies)


def updates_of_sessions(app, request) -> int:
    with app.app_context():
        engine = db.engine
    updates = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE USER_SESSIONS"):
            updates.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert request().status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(updates)


def test_last_seen_is_written_at_most_every_five_minutes(app, clock, learner, course):
    browser = logged_in_browser(app)
    clock.now += timedelta(minutes=4)
    assert updates_of_sessions(app, lambda: browser.get("/me/")) == 0
    clock.now += timedelta(minutes=2)
    assert updates_of_sessions(app, lambda: browser.get("/me/")) == 1
    assert updates_of_sessions(app, lambda: browser.get("/me/")) == 0
    with app.app_context():
        last_seen = db.session.scalar(select(UserSession.last_seen_at).where(UserSession.user_id == learner))
        db.session.remove()
    assert last_seen == clock.now
