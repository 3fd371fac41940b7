"""Password reset by e-mail, through a real SMTP server on loopback (aiosmtpd)."""

import re

from tests.conftest import PASSWORD, csrf_token, login
from tests.mail_server import body_of

NEW_PASSWORD = "a brand new passphrase"


def wait_for(inbox, count=1):
    return inbox.wait_for(count)


def request_reset(client, email="learner@example.org"):
    token = csrf_token(client, "/auth/reset")
    return client.post("/auth/reset", data={"email": email, "csrf_token": token}, follow_redirects=True)


def link_from(message) -> str:
    return re.search(r"http://localhost(/auth/reset/\S+)", body_of(message)).group(1)


def choose(client, path, password=NEW_PASSWORD):
    token = csrf_token(client, path)
    return client.post(path, data={"password": password, "confirm": password, "csrf_token": token})


def test_the_answer_is_the_same_whether_or_not_the_account_exists(client, app, inbox, learner):
    known = request_reset(client).get_data(as_text=True)
    unknown = request_reset(client, "nobody@example.org").get_data(as_text=True)
    message = "If an account uses that address, we have sent it a link"
    assert message in known and message in unknown
    assert len(wait_for(inbox)) == 1
    assert inbox.messages[0]["To"] == "learner@example.org"


def test_the_link_from_the_email_sets_a_new_password_once(client, app, inbox, learner):
    request_reset(client)
    path = link_from(wait_for(inbox)[0])
    assert client.get(path).status_code == 200
    response = choose(client, path)
    assert response.status_code == 302
    assert "logged out everywhere else" in client.get("/").get_data(as_text=True)
    assert client.get(path).status_code == 400  # used
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    assert login(client, password=PASSWORD).status_code == 400
    assert login(client, password=NEW_PASSWORD).status_code == 302


def test_an_expired_link_does_not_work(client, app, inbox, learner):
    request_reset(client)
    path = link_from(wait_for(inbox)[0])
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    response = client.get(path)
    assert response.status_code == 400 and "This link no longer works" in response.get_data(as_text=True)


def test_a_forged_token_does_not_work(client, learner):
    assert client.get("/auth/reset/not-a-real-token").status_code == 400


def test_a_new_password_ends_every_other_session_and_remember_cookie(app, inbox, learner):
    other = app.test_client()
    assert login(other, remember="y").status_code == 302
    other.delete_cookie("session")  # the browser was closed: only the remember cookie is left
    assert other.get("/me/").status_code == 200
    resetter = app.test_client()
    request_reset(resetter)
    choose(resetter, link_from(wait_for(inbox)[0]))
    response = other.get("/me/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert resetter.get("/me/").status_code == 200


def test_mismatched_or_short_passwords_are_refused(client, app, inbox, learner):
    request_reset(client)
    path = link_from(wait_for(inbox)[0])
    token = csrf_token(client, path)
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": "different", "csrf_token": token})
    assert response.status_code == 400 and "The two passwords differ." in response.get_data(as_text=True)
    assert choose(client, path, "short").status_code == 400
    assert login(client, password=PASSWORD).status_code == 302  # unchanged


def test_without_smtp_the_email_is_written_to_the_log(client, app, learner, caplog):
    app.config["MAIL_SERVER"] = ""
    with caplog.at_level("INFO", logger="app.services.mail"):
        request_reset(client)
    assert "/auth/reset/" in caplog.text and "learner@example.org" in caplog.text


def test_a_deleted_accounts_link_never_opens_the_account_that_gets_its_id(client, app, inbox, learner):
    """SQLite gives a deleted account's id to the next one made: the old link must not open it."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    from app.services.personal_data import account_delete
    from tests.conftest import create_user

    request_reset(client)
    path = link_from(wait_for(inbox)[0])
    with app.app_context():
        account_delete(db.session, user=db.session.get(User, learner), password=PASSWORD)
        db.session.remove()
    newcomer = create_user(app, "newcomer@example.org")
    with app.app_context():  # on PostgreSQL, whose ids are never reused, give it the id as SQLite would
        db.session.execute(User.__table__.update().where(User.id == newcomer).values(id=learner))
        db.session.commit()
        assert db.session.scalar(select(User.email).where(User.id == learner)) == "newcomer@example.org"
        db.session.remove()

    assert client.get(path).status_code == 400  # the page for a link that does not work
    token = csrf_token(client, "/auth/reset")
    sent = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token})
    assert sent.status_code == 400
    assert login(client, "newcomer@example.org", NEW_PASSWORD).status_code != 302


def test_a_new_password_revokes_the_accounts_api_tokens_and_says_so(client, app, inbox, learner):
    """Someone who got in with the old password may have made a token: it must not outlive it."""
    from app.extensions import db
    from app.models import User
    from app.services.api_tokens import token_create

    with app.app_context():
        user = db.session.get(User, learner)
        texts = [token_create(db.session, user=user, name=f"T{n}", scopes=["read:progress"])[1] for n in range(2)]
        db.session.remove()
    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {texts[0]}"}).status_code == 200

    request_reset(client)
    assert choose(client, link_from(wait_for(inbox)[0])).status_code == 302

    said = " ".join(client.get("/").get_data(as_text=True).split())
    assert "your 2 API tokens were revoked" in said
    for text in texts:
        assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"}).status_code == 401


def test_a_reset_begun_on_the_way_to_an_invitation_ends_there(client, app, inbox, learner):
    """The log-in page's "Forgotten your password?" keeps its next, through the e-mail, to the end."""
    join = "/join/ABCD-EFGH"
    login_page = client.get(f"/auth/login?next={join}").get_data(as_text=True)
    forgot = re.search(r'href="(/auth/reset[^"]*)">Forgotten your password', login_page).group(1)
    assert forgot == f"/auth/reset?next={join}"
    token = csrf_token(client, forgot)
    assert client.post(forgot, data={"email": "learner@example.org", "csrf_token": token}).status_code == 302
    path = link_from(wait_for(inbox)[0])
    assert path.endswith(f"?next={join}")
    assert choose(client, path).headers["Location"] == join


def test_a_next_off_the_site_is_dropped_from_the_reset_link(client, app, inbox, learner):
    asked = "/auth/reset?next=https://evil.example/"
    token = csrf_token(client, asked)
    assert client.post(asked, data={"email": "learner@example.org", "csrf_token": token}).status_code == 302
    body = body_of(wait_for(inbox)[0])
    assert "evil.example" not in body and "next=" not in body
    assert choose(client, link_from(wait_for(inbox)[0])).headers["Location"] == "/"
