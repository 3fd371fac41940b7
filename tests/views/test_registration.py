"""Registering: an address and a name, then a link by e-mail to choose a password and start.

Mail goes through a real SMTP server on loopback (the ``inbox`` fixture), sent by the mail job
(app/jobs/mail.py), which tests run inline when it is enqueued.
"""

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from tests.conftest import PASSWORD, csrf_token, login
from tests.mail_server import body_of, readable_forms


def register(client, email="new@example.org", name="New Person", next_url=None):
    """Fill in the registration form and send it; its mail job has run by the time it returns."""
    url = "/auth/register" + (f"?next={next_url}" if next_url else "")
    token = csrf_token(client, url)
    with client.post(url, data={"email": email, "display_name": name, "csrf_token": token}) as response:
        return response


def finish_link(message) -> str:
    return re.search(r"http://localhost(/auth/register/finish/\S+)", body_of(message)).group(1)


def choose_password(client, path, password=PASSWORD):
    token = csrf_token(client, path)
    return client.post(path, data={"password": password, "csrf_token": token})


def users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_registering_mails_a_link_that_makes_the_account_and_logs_in(client, app, inbox):
    response = register(client, email="New@Example.org ")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/register/sent"
    assert "Check your e-mail" in client.get("/auth/register/sent").get_data(as_text=True)
    assert users(app) == 0  # nothing is made until the link is opened
    message = inbox.wait_for(1)[0]
    assert message["To"] == "new@example.org" and message["Subject"] == "Finish creating your account"
    path = finish_link(message)
    assert "new@example.org" in client.get(path).get_data(as_text=True)
    response = choose_password(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new@example.org"))
        assert user.role == "learner" and user.display_name == "New Person"
        assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    page = client.get("/").get_data(as_text=True)
    assert "Welcome, New Person" in page and "Log out" in page


def test_the_mail_holds_nothing_the_sender_typed_but_the_address(client, app, inbox):
    """Anyone may register any address: a "name" that reads as a phishing line must not reach it."""
    lure = "your account is locked: sign in at https://evil.example/verify"
    register(client, email="victim@example.org", name=lure)
    body = body_of(inbox.wait_for(1)[0])
    assert body.splitlines()[0] == "Hello," and "evil.example" not in body and "locked" not in body


def test_a_mailbox_gets_few_registration_mails_whatever_its_tags_or_the_senders_address(app, database_url, inbox):
    from tests.views.test_rate_limits import limited_app

    limited = limited_app(database_url, RATELIMIT_REGISTER_MAILBOX="3 per hour;10 per day")
    client = limited.test_client()
    statuses = []
    for n, email in enumerate(
        ["victim@example.org", "victim+1@example.org", "Victim+two@Example.org", "victim+3@example.org"]
    ):
        token = csrf_token(client, "/auth/register")
        data = {"email": email, "display_name": "Someone", "csrf_token": token}
        statuses.append(
            client.post("/auth/register", data=data, environ_base={"REMOTE_ADDR": f"10.7.0.{n}"}).status_code
        )
    assert statuses == [302, 302, 302, 429]
    token = csrf_token(client, "/auth/register")  # another mailbox still may
    data = {"email": "someone.else@example.org", "display_name": "Someone", "csrf_token": token}
    assert client.post("/auth/register", data=data, environ_base={"REMOTE_ADDR": "10.7.0.9"}).status_code == 302
    # Refused forms mail nothing and count for nothing: a blank address is told what to mend, however often.
    for n in range(5):
        token = csrf_token(client, "/auth/register")
        blank = {"email": "", "display_name": "Someone", "csrf_token": token}
        assert client.post("/auth/register", data=blank, environ_base={"REMOTE_ADDR": f"10.8.0.{n}"}).status_code == 400
    with limited.app_context():
        db.engine.dispose()


def test_the_link_does_not_give_away_the_address_or_name(client, app, inbox):
    """Links end up in access logs and browser history: the address and name in one are
    encrypted, not just signed, so only the server can read them."""
    register(client, email="private.person@example.org", name="Private Person")
    path = finish_link(inbox.wait_for(1)[0])
    token = path.rsplit("/", 1)[1]
    for form in readable_forms(token):
        assert b"private.person" not in form.lower() and b"Private Person" not in form
    assert "private.person@example.org" in client.get(path).get_data(as_text=True)  # the server can


def test_an_altered_link_does_not_work(client, app, inbox):
    register(client)
    path = finish_link(inbox.wait_for(1)[0])
    head, token = path.rsplit("/", 1)
    middle = len(token) // 2
    altered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    response = client.get(f"{head}/{altered}")
    assert response.status_code == 400 and "This link no longer works" in response.get_data(as_text=True)
    assert client.get(f"{head}/{token[:-4]}").status_code == 400
    assert client.get(f"{head}/{token}\u00e9").status_code == 400


def test_the_link_leads_where_registering_began(client, app, inbox, course):
    register(client, next_url=f"/courses/{course}/continue")
    response = choose_password(client, finish_link(inbox.wait_for(1)[0]))
    assert response.headers["Location"] == f"/courses/{course}/continue"


def test_the_link_works_once(client, app, inbox):
    register(client)
    path = finish_link(inbox.wait_for(1)[0])
    assert choose_password(client, path).status_code == 302
    other = app.test_client()
    assert other.get(path).status_code == 400
    token = csrf_token(other, "/auth/login")
    assert other.post(path, data={"password": "another long passphrase", "csrf_token": token}).status_code == 400
    assert login(other, "new@example.org", PASSWORD).status_code == 302  # the first password stands


def test_a_short_password_is_refused_and_no_account_is_made(client, app, inbox):
    register(client)
    response = choose_password(client, finish_link(inbox.wait_for(1)[0]), "short")
    assert response.status_code == 400 and "Use at least 10 characters." in response.get_data(as_text=True)
    assert users(app) == 0


def test_forged_and_expired_links_do_not_work(client, app, inbox):
    assert client.get("/auth/register/finish/not-a-token").status_code == 400
    register(client)
    path = finish_link(inbox.wait_for(1)[0])
    app.config["REGISTRATION_MAX_AGE"] = -1
    response = client.get(path)
    assert response.status_code == 400 and "This link no longer works" in response.get_data(as_text=True)


def test_a_taken_address_gets_the_same_answer_and_its_owner_a_note(client, app, inbox, learner):
    response = register(client, email="LEARNER@example.org", name="Someone Else")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/register/sent"
    message = inbox.wait_for(1)[0]
    assert message["To"] == "learner@example.org"
    assert message["Subject"] == "Someone tried to register with your address"
    body = body_of(message)
    assert "http://localhost/auth/login" in body and "http://localhost/auth/reset" in body
    assert "/auth/register/finish/" not in body
    assert users(app) == 1


def test_the_owner_s_note_does_not_name_the_page_registering_began_on(client, app, inbox, learner, course):
    """Registering from a course page (or an invitation) with an address that has an account: the
    note's links are the plain log-in and reset pages, so the inbox does not show the course's path."""
    register(client, email="learner@example.org", next_url=f"/courses/{course}/continue")
    body = body_of(inbox.wait_for(1)[0]).replace("\r", "")
    assert "next=" not in body and "/courses/" not in body and course not in body
    assert "http://localhost/auth/login\n" in body and "http://localhost/auth/reset\n" in body


def test_a_next_off_the_site_is_never_put_in_the_owner_s_note(client, app, inbox, learner):
    register(client, email="learner@example.org", next_url="//evil.example/join")
    body = body_of(inbox.wait_for(1)[0])
    assert "evil.example" not in body and "next=" not in body
    assert "http://localhost/auth/login\n" in body.replace("\r", "")


def test_a_deactivated_account_is_not_mailed(client, app, inbox, learner):
    with app.app_context():
        db.session.get(User, learner).is_active = False
        db.session.commit()
    assert register(client, email="learner@example.org").status_code == 302
    assert inbox.wait_for(1, timeout=0.5) == []


def test_the_form_still_checks_its_input(client, app, inbox):
    token = csrf_token(client, "/auth/register")
    response = client.post("/auth/register", data={"email": "not an address", "display_name": "", "csrf_token": token})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter a valid e-mail address." in page and "Enter the name you would like us to use." in page
    response.close()
    assert inbox.wait_for(1, timeout=0.5) == []


def test_a_name_with_a_mark_that_reorders_text_is_refused_before_any_link_is_mailed(client, app, inbox):
    """The account is made only once the link is opened, too late to ask for the name again."""
    response = register(client, name="Casey\u202eCounsellor")
    assert response.status_code == 400
    assert "Take out the hidden character" in response.get_data(as_text=True)
    assert inbox.wait_for(1, timeout=0.5) == []


def test_the_form_says_a_first_name_or_nickname_will_do(client):
    """People wary of giving their name to an addiction service are told they need not, as /me/name says."""
    page = " ".join(client.get("/auth/register").get_data(as_text=True).split())
    assert "A first name or a nickname is fine." in page
    assert 'aria-describedby="display_name-hint"' in page  # read out with the field
