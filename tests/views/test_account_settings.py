"""Changing one's password and name while logged in (/me/password, /me/name), over HTTP with CSRF on."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import CounsellorLink, Role, User
from tests.conftest import PASSWORD, create_user, csrf_token, login, visible_text
from tests.mail_server import body_of
from tests.views.test_rate_limits import limited_app

NEW = "a brand new passphrase"


def post_password(client, *, current=PASSWORD, new=NEW, confirm=None):
    token = csrf_token(client, "/me/password")
    data = {"current_password": current, "password": new, "confirm": new if confirm is None else confirm}
    return client.post("/me/password", data={**data, "csrf_token": token})


def post_name(client, name: str):
    token = csrf_token(client, "/me/name")
    return client.post("/me/name", data={"display_name": name, "csrf_token": token})


def stored(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        db.session.remove()
        return user


def signed_in(client) -> bool:
    """Whether the client's session still opens the learner's own page."""
    return client.get("/me/").status_code == 200


@pytest.mark.parametrize("url", ["/me/password", "/me/name"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    token = csrf_token(client, "/auth/login")
    for response in (client.get(url), client.post(url, data={"csrf_token": token})):
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_learners_page_links_to_both(learner_client):
    page = learner_client.get("/me/").get_data(as_text=True)
    assert 'href="/me/password"' in page and 'href="/me/name"' in page
    assert "choosing a new password revokes them all" not in page


def test_a_new_password_keeps_this_session_ends_the_others_and_mails_a_notice(app, client, learner, course, inbox):
    other_device = app.test_client()
    assert login(other_device).status_code == 302
    assert login(client).status_code == 302
    before = stored(app, learner).password_hash

    response = post_password(client)

    assert response.status_code == 302 and response.headers["Location"].endswith("/me/")
    page = client.get("/me/").get_data(as_text=True)
    assert "Your password has been changed" in page
    user = stored(app, learner)
    assert user.password_hash != before and check_password_hash(user.password_hash, NEW)
    assert user.password_hash.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    assert signed_in(client)  # this browser stays logged in
    assert not signed_in(other_device)  # the other is logged out on its next request
    [message] = inbox.wait_for(1)
    assert message["To"] == "learner@example.org"
    assert message["Subject"] == "Your password was changed"
    assert "/auth/reset" in body_of(message)
    # The old password no longer logs in; the new one does.
    assert login(app.test_client()).status_code == 400
    assert login(app.test_client(), password=NEW).status_code == 302


def test_a_wrong_current_password_is_a_400_beside_the_field_and_changes_nothing(app, client, learner, course, inbox):
    other_device = app.test_client()
    assert login(other_device).status_code == 302
    assert login(client).status_code == 302
    before = stored(app, learner)

    response = post_password(client, current="not my password at all")

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="current_password-error">That is not your current password.<', html)
    assert 'aria-describedby="current_password-error"' in html
    after = stored(app, learner)
    assert (after.password_hash, after.session_version) == (before.password_hash, before.session_version)
    assert signed_in(client) and signed_in(other_device)
    assert inbox.wait_for(1, timeout=0.5) == []


@pytest.mark.parametrize(
    ("new", "confirm", "field", "message"),
    [
        ("short", "short", "password", "Use at least 10 characters."),
        (NEW, "something else entirely", "confirm", "The two new passwords differ."),
        ("", "", "password", "Choose a new password."),
    ],
)
def test_a_new_password_that_breaks_a_rule_is_a_400_with_its_message(
    app, learner_client, learner, new, confirm, field, message
):
    before = stored(app, learner).password_hash
    response = post_password(learner_client, new=new, confirm=confirm)
    assert response.status_code == 400
    assert f'id="{field}-error">{message}<' in response.get_data(as_text=True)
    assert stored(app, learner).password_hash == before


def test_a_post_without_the_form_token_is_refused(app, learner_client, learner):
    before = stored(app, learner).password_hash
    data = {"current_password": PASSWORD, "password": NEW, "confirm": NEW}
    assert learner_client.post("/me/password", data=data).status_code == 400
    assert stored(app, learner).password_hash == before


def test_an_account_an_lms_signs_in_is_told_so_and_shown_no_form(app, learner_client, learner):
    before = learner_client.get("/me/").get_data(as_text=True)
    assert 'href="/me/password">Change my password' in before and "Scores sent to your learning platform" not in before
    assert "Scores already sent to your learning platform" not in learner_client.get("/me/delete").get_data(
        as_text=True
    )
    with app.app_context():  # as an LTI launch makes them: no address, no password the person knows
        db.session.execute(update(User).where(User.id == learner).values(email=None))
        db.session.commit()
    # /me/ (a page kept per state) offers no password to change, not the one drawn for the other kind.
    home = learner_client.get("/me/").get_data(as_text=True)
    assert "Change my password" not in home and "no password of its own to change" in home
    # What goes to the LMS is said where the person looks after their data, and what deleting leaves there.
    said = visible_text(home)
    assert "Scores sent to your learning platform" in said and "It sends nothing else: not your answers" in said
    leaving = visible_text(learner_client.get("/me/delete").get_data(as_text=True))
    assert "Scores already sent to your learning platform (LMS) stay there" in leaving
    page = learner_client.get("/me/password")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "You sign in through your learning platform" in html
    assert 'name="current_password"' not in html
    token = csrf_token(learner_client, "/me/name")
    response = learner_client.post("/me/password", data={"csrf_token": token, "current_password": PASSWORD})
    assert response.status_code == 400


def test_wrong_current_passwords_count_with_the_guesses_at_login(app, database_url, learner, course):
    """One count per account for every form that checks its password: the login that opened this
    session is one attempt, two guesses here make three, and then neither form takes another."""
    limited = limited_app(database_url, RATELIMIT_LOGIN="50 per minute", RATELIMIT_LOGIN_ACCOUNT="3 per minute")
    client = limited.test_client()
    assert login(client).status_code == 302
    statuses = [post_password(client, current=f"guess number {n}").status_code for n in range(3)]
    assert statuses == [400, 400, 429]
    assert client.get("/me/password").status_code == 200  # only the attempts count
    elsewhere = limited.test_client()  # the account's own login, from another device, is held too
    assert login(elsewhere).status_code == 429
    with limited.app_context():
        db.engine.dispose()


def test_guesses_from_one_address_count_once_across_login_and_the_password_page(app, database_url, learner, course):
    limited = limited_app(database_url, RATELIMIT_LOGIN="3 per minute", RATELIMIT_LOGIN_ACCOUNT="50 per minute")
    client = limited.test_client()
    assert login(client).status_code == 302
    assert [post_password(client, current=f"guess {n}").status_code for n in range(2)] == [400, 400]
    other_account = limited.test_client()  # the same address (the test client's), another account
    assert login(other_account, "someone@example.org").status_code == 429
    with limited.app_context():
        db.engine.dispose()


def test_a_new_name_shows_on_the_learners_page(app, learner_client, learner):
    assert 'value="Lee Learner"' in learner_client.get("/me/name").get_data(as_text=True)

    response = post_name(learner_client, "  Lee Corrected  ")

    assert response.status_code == 302 and response.headers["Location"].endswith("/me/")
    text = visible_text(learner_client.get("/me/").get_data(as_text=True))
    assert "Your name is now Lee Corrected." in text
    assert "Hello, Lee Corrected" in visible_text(learner_client.get("/me/").get_data(as_text=True))
    assert stored(app, learner).display_name == "Lee Corrected"


def test_a_new_name_shows_on_the_dashboard_of_a_counsellor_the_learner_shares_with(app, client, learner, course):
    counsellor = create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_by_id=learner))
        db.session.commit()
        db.session.remove()
    counsellor_client = app.test_client()
    assert login(counsellor_client, "casey@example.org").status_code == 302
    assert "Lee Learner" in counsellor_client.get("/counsel/").get_data(as_text=True)
    assert login(client).status_code == 302

    assert post_name(client, "Lee Corrected").status_code == 302

    dashboard = counsellor_client.get("/counsel/").get_data(as_text=True)
    assert "Lee Corrected" in dashboard and "Lee Learner" not in dashboard
    with app.app_context():
        key = db.session.scalar(select(CounsellorLink.client_name_key).where(CounsellorLink.learner_id == learner))
        assert key == "lee corrected"


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "Enter the name you would like us to use."), ("x" * 81, "Keep the name to 80 characters or fewer.")],
)
def test_a_bad_name_is_a_400_with_its_message_and_changes_nothing(app, learner_client, learner, name, message):
    response = post_name(learner_client, name)
    assert response.status_code == 400
    assert f'id="display_name-error">{message}<' in response.get_data(as_text=True)
    assert stored(app, learner).display_name == "Lee Learner"


def test_the_name_page_says_an_issued_certificate_keeps_its_name(app, learner_client, learner, course):
    from app.models import Certificate, Course

    with app.app_context():
        course_id = db.session.scalar(select(Course.id))
        db.session.add(Certificate(user_id=learner, course_id=course_id, code="c" * 32, name_at_issue="Lee Learner"))
        db.session.commit()
        db.session.remove()
    assert post_name(learner_client, "Lee Corrected").status_code == 302
    text = visible_text(learner_client.get("/me/name").get_data(as_text=True))
    assert "A certificate keeps the name it was issued with" in text
    assert "was issued to “Lee Learner”." in text


def test_the_name_page_says_what_of_the_issued_name_a_certificate_shows(app, learner_client, learner, course):
    """It said a certificate "shows" its name when the learner had chosen to show only initials, or none."""
    from app.models import Certificate, Course

    with app.app_context():
        course_id = db.session.scalar(select(Course.id))
        db.session.add(
            Certificate(
                user_id=learner, course_id=course_id, code="c" * 32, name_at_issue="Lee Learner", name_display="none"
            )
        )
        db.session.commit()
        db.session.remove()
    text = visible_text(learner_client.get("/me/name").get_data(as_text=True))
    assert "was issued to “Lee Learner”, though it shows no name." in text
    with app.app_context():
        db.session.execute(update(Certificate).values(name_display="initials"))
        db.session.commit()
    text = visible_text(learner_client.get("/me/name").get_data(as_text=True))
    assert "was issued to “Lee Learner” and shows its initials." in text
