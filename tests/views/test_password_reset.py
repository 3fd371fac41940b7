"""Password reset by e-mail, through a real SMTP server on loopback (aiosmtpd)."""

import re
import time

from itsdangerous import URLSafeTimedSerializer

from app.extensions import db
from app.models import User
from app.models.types import as_utc
from app.services.accounts import RESET_SALT
from tests.conftest import PASSWORD, csrf_token, login
from tests.mail_server import body_of, readable_forms

NEW_PASSWORD = "a brand new passphrase"


def wait_for(inbox, count=1):
    return inbox.wait_for(count)


def request_reset(client, email="learner@example.org"):
    token = csrf_token(client, "/auth/reset")
    return client.post("/auth/reset", data={"email": email, "csrf_token": token}, follow_redirects=True)


def link_from(message) -> str:
    return re.search(r"http://localhost(/auth/reset/\S+)", body_of(message)).group(1)


def invalid_page_text(response) -> str:
    """What the page for a link that no longer works says, its words on one line."""
    assert response.status_code == 400
    section = re.search(r'<section class="panel narrow">(.*?)</section>', response.get_data(as_text=True), re.S)
    return " ".join(section.group(1).split())


USED_OR_NOT = (
    "If you have already used this one, your password is the one you chose then: log in with it. "
    "If not, this link has changed nothing: ask for a new one."
)


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


def test_a_used_link_does_not_say_that_nothing_was_changed(client, app, inbox, learner):
    """Whoever reopens the e-mail after choosing a password must not think it did not take; the
    page cannot tell them from someone with an expired link, so it says what is true of both."""
    request_reset(client)
    path = link_from(wait_for(inbox)[0])
    assert choose(client, path).status_code == 302
    said = invalid_page_text(app.test_client().get(path))
    assert "This link no longer works" in said and USED_OR_NOT in said
    assert "Nothing has been changed" not in said
    assert 'href="/auth/login"' in said and 'href="/auth/reset"' in said


def test_the_link_does_not_give_away_the_account(client, app, inbox, learner):
    """Links end up in access logs and browser history: the account's id and when it was made
    are sealed in the token (encrypted), not just signed, so only the server can read them."""
    request_reset(client)
    path = link_from(wait_for(inbox)[0])
    token = path.rsplit("/", 1)[1].split("?")[0]
    with app.app_context():
        made = db.session.get(User, learner).created_at
    for form in readable_forms(token):
        for field in (b'"user"', b'"since"', b'"version"', f"{made:%Y-%m-%d}".encode(), f"{made:%H:%M:%S}".encode()):
            assert field not in form
    assert client.get(path).status_code == 200  # the server can


def test_a_link_works_within_the_hour_and_not_after(client, app, inbox, learner, monkeypatch):
    request_reset(client)
    path = link_from(wait_for(inbox)[0])
    sent = time.time()
    monkeypatch.setattr("time.time", lambda: sent + 59 * 60)
    assert client.get(path).status_code == 200
    monkeypatch.setattr("time.time", lambda: sent + 61 * 60)
    said = invalid_page_text(client.get(path))
    assert "This link no longer works" in said and USED_OR_NOT in said
    monkeypatch.undo()
    assert choose(client, path).status_code == 302  # it was the clock: the link had not been spent


def test_an_expired_link_does_not_work(client, app, inbox, learner):
    request_reset(client)
    path = link_from(wait_for(inbox)[0])
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    response = client.get(path)
    assert response.status_code == 400 and "This link no longer works" in response.get_data(as_text=True)


def test_a_forged_token_does_not_work(client, learner):
    assert client.get("/auth/reset/not-a-real-token").status_code == 400


def test_an_altered_link_shows_the_page_for_links_that_do_not_work(client, app, inbox, learner):
    request_reset(client)
    path = link_from(wait_for(inbox)[0])
    head, token = path.rsplit("/", 1)
    middle = len(token) // 2
    altered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    for wrong in (altered, token[:-4], f"{token}\u00e9", "x" * 400):
        assert "This link no longer works" in invalid_page_text(client.get(f"{head}/{wrong}"))
    assert client.get(path).status_code == 200  # the real one still works


def test_a_signed_link_mailed_before_links_were_sealed_is_refused_as_expired(client, app, learner):
    """Such a link lasted an hour: whoever holds one gets the ordinary page, and asks again."""
    with app.app_context():
        user = db.session.get(User, learner)
        payload = {"user": user.id, "since": as_utc(user.created_at).isoformat(), "version": user.session_version}
        db.session.remove()
    signed = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=RESET_SALT).dumps(payload)
    said = invalid_page_text(client.get(f"/auth/reset/{signed}"))
    assert "This link no longer works" in said and USED_OR_NOT in said


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


def test_a_password_set_by_link_mails_the_notice_a_change_while_logged_in_sends(client, app, inbox, learner):
    """Whoever else reads the mailbox could have used the link: the owner hears of it."""
    request_reset(client)
    path = link_from(wait_for(inbox)[0])
    assert choose(client, path).status_code == 302
    notice = wait_for(inbox, 2)[1]
    assert notice["To"] == "learner@example.org" and notice["Subject"] == "Your password was changed"
    body = " ".join(body_of(notice).split())
    assert "with a link to choose a new one that was sent to this address" in body
    assert "by someone logged in" not in body
    assert "http://localhost/auth/reset" in body and "/auth/reset/" not in body  # the form, no link that sets one


def test_a_first_password_chosen_from_an_admins_welcome_link_sends_no_notice(client, app, inbox, learner):
    from sqlalchemy import update

    from app.services.user_admin import NO_PASSWORD_YET

    with app.app_context():  # as an admin makes an account: no password chosen yet
        db.session.execute(update(User).where(User.id == learner).values(password_hash=NO_PASSWORD_YET))
        db.session.commit()
    request_reset(client)
    path = link_from(wait_for(inbox)[0])
    assert choose(client, path).status_code == 302
    assert len(inbox.wait_for(2, timeout=0.5)) == 1
