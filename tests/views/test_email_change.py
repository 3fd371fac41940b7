"""Changing one's e-mail address (/me/email, then the link sent to the new address), over HTTP with
CSRF on, the mail read as a real SMTP server on loopback received it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import User
from tests.conftest import PASSWORD, create_user, csrf_token, login, visible_text
from tests.mail_server import body_of, readable_forms
from tests.queued_jobs import enqueued, queued, run_enqueued
from tests.views.test_account_settings import post_password, signed_in, stored
from tests.views.test_rate_limits import limited_app

OLD = "learner@example.org"
NEW = "lee.new@example.org"
TAKEN = "fred@example.org"  # the other_learner fixture's


def ask(client, new_email: str = NEW, password: str = PASSWORD):
    token = csrf_token(client, "/me/email")
    return client.post("/me/email", data={"new_email": new_email, "current_password": password, "csrf_token": token})


def confirm(client, path: str):
    return client.post(path, data={"csrf_token": csrf_token(client, path)})


def link_from(message) -> str:
    return re.search(r"http://localhost(/me/email/confirm/\S+)", body_of(message)).group(1)


def mail_for(inbox, count: int) -> dict[str, object]:
    """The ``count`` messages received, by recipient (each address gets one here)."""
    messages = inbox.wait_for(count)
    assert len(messages) == count, [(m["To"], m["Subject"]) for m in messages]
    return {message["To"]: message for message in messages}


def asked(client, inbox) -> str:
    """Ask to move to NEW; the link's path from the mail that went there."""
    assert ask(client).status_code == 302
    return link_from(mail_for(inbox, 2)[NEW])


def test_the_page_links_to_it_for_a_password_account_and_not_for_an_lms_one(app, learner_client, learner):
    assert 'href="/me/email">Change my e-mail address' in learner_client.get("/me/").get_data(as_text=True)
    with app.app_context():  # as an LTI launch makes them: no address, no password the person knows
        db.session.execute(update(User).where(User.id == learner).values(email=None))
        db.session.commit()
    # /me/ is a page kept per state: the LMS account's is not the one drawn for a password account.
    home = learner_client.get("/me/").get_data(as_text=True)
    assert 'href="/me/email"' not in home and "your e-mail address is managed in your LMS" in home
    page = learner_client.get("/me/email")
    assert page.status_code == 200
    assert "managed in your learning platform" in page.get_data(as_text=True)
    assert 'name="new_email"' not in page.get_data(as_text=True)
    token = csrf_token(learner_client, "/me/name")
    data = {"csrf_token": token, "new_email": NEW, "current_password": PASSWORD}
    assert learner_client.post("/me/email", data=data).status_code == 400


@pytest.mark.parametrize("url", ["/me/email", "/me/email/confirm/not-a-token"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    token = csrf_token(client, "/auth/login")
    for response in (client.get(url), client.post(url, data={"csrf_token": token})):
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_asking_changes_nothing_yet_and_mails_a_link_to_the_new_address_and_a_notice_to_the_old(
    app, learner_client, learner, inbox
):
    response = ask(learner_client, new_email="  Lee.New@Example.ORG ")

    assert response.status_code == 302 and response.headers["Location"].endswith("/me/")
    assert "Check your new inbox" in visible_text(learner_client.get("/me/").get_data(as_text=True))
    assert stored(app, learner).email == OLD
    mail = mail_for(inbox, 2)
    assert set(mail) == {NEW, OLD}  # the typed address, normalised as registration does
    assert mail[NEW]["Subject"] == "Confirm your new e-mail address"
    # Not confirmed yet, and perhaps mistyped: the link's mail names nobody.
    assert body_of(mail[NEW]).startswith("Hello,\r\n") and "Lee" not in body_of(mail[NEW])
    path = link_from(mail[NEW])
    token = path.rsplit("/", 1)[1]
    for form in readable_forms(token):  # sealed: neither address nor the account readable in the link
        for secret in (OLD.encode(), NEW.encode(), b'"user"', b'"version"'):
            assert secret not in form
    notice = body_of(mail[OLD])
    assert mail[OLD]["Subject"] == "A change of e-mail address was asked for"
    assert "/me/email/confirm" not in notice and token not in notice and NEW not in notice.lower()
    assert "http://localhost/auth/reset" in notice  # what to do if it was not them


def test_the_link_asks_first_then_changes_the_address_ends_other_sessions_and_mails_both(app, client, learner, inbox):
    other_device = app.test_client()
    assert login(other_device).status_code == 302
    assert login(client).status_code == 302
    path = asked(client, inbox)
    inbox.messages.clear()

    page = client.get(path)
    assert page.status_code == 200
    assert f"will use {NEW} instead of {OLD}" in visible_text(page.get_data(as_text=True))
    assert stored(app, learner).email == OLD  # opening the link changes nothing
    assert client.post(path).status_code == 400  # nor does a POST without the form token
    assert stored(app, learner).email == OLD and signed_in(other_device)

    response = confirm(client, path)

    assert response.status_code == 302 and response.headers["Location"].endswith("/me/")
    assert "Your e-mail address has been changed" in visible_text(client.get("/me/").get_data(as_text=True))
    assert stored(app, learner).email == NEW
    assert signed_in(client) and not signed_in(other_device)
    mail = mail_for(inbox, 2)
    assert set(mail) == {OLD, NEW}
    assert {message["Subject"] for message in mail.values()} == {"Your e-mail address was changed"}
    assert "no longer receives" in body_of(mail[OLD]) and "now uses this e-mail address" in body_of(mail[NEW])
    assert "http://localhost/contact" in body_of(mail[OLD])  # what to do if it was not them
    assert login(app.test_client(), OLD).status_code == 400
    assert login(app.test_client(), NEW).status_code == 302


def test_a_wrong_password_is_a_400_beside_the_field_and_sends_nothing(app, learner_client, learner, inbox):
    response = ask(learner_client, password="not my password at all")
    assert response.status_code == 400
    assert 'id="current_password-error">That is not your current password.<' in response.get_data(as_text=True)
    assert inbox.wait_for(1, timeout=0.5) == []


@pytest.mark.parametrize(
    ("new_email", "message"),
    [
        ("not an address", "Enter an e-mail address, like name@example.org."),
        ("", "Enter your new e-mail address."),
        (" Learner@Example.org ", "That is your address already."),
    ],
)
def test_a_bad_new_address_is_a_400_beside_the_field(app, learner_client, learner, inbox, new_email, message):
    response = ask(learner_client, new_email=new_email)
    assert response.status_code == 400
    assert f'id="new_email-error">{message}<' in response.get_data(as_text=True)
    assert inbox.wait_for(1, timeout=0.3) == []


def test_a_taken_address_gets_the_same_answer_and_its_owner_a_note_instead_of_a_link(
    app, learner, other_learner, inbox, tmp_path
):
    """The form cannot tell anyone whether an address has an account: the same answer, the same
    jobs with the same arguments; only the mailbox of the address learns which."""
    answers, jobs = [], []
    with queued(app, tmp_path):
        for address in (NEW, TAKEN):
            client = app.test_client()
            assert login(client).status_code == 302
            response = ask(client, new_email=address)
            page = visible_text(client.get("/me/").get_data(as_text=True))
            answers.append((response.status_code, response.headers["Location"], page))
            jobs.append([(name, [a if a != address else "NEW" for a in args], kw) for name, args, kw in enqueued()])
            assert run_enqueued() == 2
    assert answers[0] == answers[1] and "Check your new inbox" in answers[0][2]
    assert jobs[0] == jobs[1]
    mail = mail_for(inbox, 4)
    note = body_of(mail[TAKEN])
    assert mail[TAKEN]["Subject"] == "Someone tried to use your address"
    assert "/me/email/confirm" not in note and "already has an account" in note
    assert stored(app, learner).email == OLD


def test_an_address_taken_after_the_link_was_sent_is_a_409_and_changes_nothing(app, learner_client, learner, inbox):
    path = asked(learner_client, inbox)
    token = csrf_token(learner_client, path)  # the page was open when someone else took the address
    create_user(app, NEW)

    for response in (learner_client.get(path), learner_client.post(path, data={"csrf_token": token})):
        assert response.status_code == 409
        assert "That address is taken" in visible_text(response.get_data(as_text=True))
    assert stored(app, learner).email == OLD
    assert login(app.test_client(), OLD).status_code == 302


def invalid_page_text(response) -> str:
    assert response.status_code == 400
    return visible_text(response.get_data(as_text=True))


def test_a_used_link_no_longer_works(app, learner_client, inbox):
    path = asked(learner_client, inbox)
    assert confirm(learner_client, path).status_code == 302
    assert "This link no longer works" in invalid_page_text(learner_client.get(path))
    assert "This link no longer works" in invalid_page_text(confirm(learner_client, path))


def test_a_link_works_for_a_day_and_not_after(app, learner_client, learner, inbox, monkeypatch):
    import time

    path = asked(learner_client, inbox)
    sent = time.time()
    monkeypatch.setattr("time.time", lambda: sent + 23 * 3600)
    assert learner_client.get(path).status_code == 200
    monkeypatch.setattr("time.time", lambda: sent + 25 * 3600)
    assert "This link no longer works" in invalid_page_text(learner_client.get(path))
    assert stored(app, learner).email == OLD


def test_an_altered_or_forged_link_shows_the_page_for_links_that_do_not_work(learner_client, inbox):
    path = asked(learner_client, inbox)
    head, token = path.rsplit("/", 1)
    middle = len(token) // 2
    altered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    for wrong in (altered, token[:-4], f"{token}\u00e9", "x" * 400, "not-a-token"):
        assert "This link no longer works" in invalid_page_text(learner_client.get(f"{head}/{wrong}"))
    assert learner_client.get(path).status_code == 200  # the real one still works


def test_a_password_reset_link_is_not_an_address_link(app, learner_client, inbox):
    """Each link is sealed for its own purpose: a reset token does not open the change page."""
    token = csrf_token(learner_client, "/auth/reset")
    learner_client.post("/auth/reset", data={"email": OLD, "csrf_token": token})
    reset = re.search(r"/auth/reset/(\S+)", body_of(inbox.wait_for(1)[0])).group(1)
    assert "This link no longer works" in invalid_page_text(learner_client.get(f"/me/email/confirm/{reset}"))


def test_a_link_is_superseded_by_a_new_password_or_another_change(app, learner_client, learner, inbox):
    first = asked(learner_client, inbox)
    inbox.messages.clear()
    assert post_password(learner_client).status_code == 302  # a new password voids the pending link
    assert "This link no longer works" in invalid_page_text(learner_client.get(first))
    inbox.messages.clear()
    assert ask(learner_client, new_email="other@example.org", password="a brand new passphrase").status_code == 302
    second = link_from(mail_for(inbox, 2)["other@example.org"])
    inbox.messages.clear()
    assert ask(learner_client, password="a brand new passphrase").status_code == 302
    third = link_from(mail_for(inbox, 2)[NEW])
    assert confirm(learner_client, third).status_code == 302
    assert "This link no longer works" in invalid_page_text(learner_client.get(second))  # the address moved on
    assert stored(app, learner).email == NEW


def test_a_link_opened_in_another_account_says_so_and_changes_nothing(app, client, learner, other_learner, inbox):
    assert login(client).status_code == 302
    path = asked(client, inbox)
    fred = app.test_client()
    assert login(fred, TAKEN).status_code == 302
    said = invalid_page_text(fred.get(path))
    assert "sent for another account than the one logged in here" in said
    assert invalid_page_text(confirm(fred, path)) and stored(app, learner).email == OLD
    assert stored(app, other_learner).email == TAKEN


def test_a_link_opened_when_logged_out_leads_through_the_login_back_to_it(app, client, learner, inbox):
    assert login(client).status_code == 302
    path = asked(client, inbox)
    browser = app.test_client()
    response = browser.get(path)
    assert response.status_code == 302 and "/auth/login?next=" in response.headers["Location"]
    token = csrf_token(browser, response.headers["Location"])
    data = {"email": OLD, "password": PASSWORD, "csrf_token": token}
    back = browser.post(response.headers["Location"], data=data)
    assert back.status_code == 302 and back.headers["Location"] == path
    assert confirm(browser, path).status_code == 302
    assert stored(app, learner).email == NEW


def test_wrong_passwords_count_with_the_guesses_at_login(app, database_url, learner, course):
    """The login that opened this session is one attempt; two guesses here make three, then 429."""
    limited = limited_app(database_url, RATELIMIT_LOGIN="50 per minute", RATELIMIT_LOGIN_ACCOUNT="3 per minute")
    client = limited.test_client()
    assert login(client).status_code == 302
    assert [ask(client, password=f"guess number {n}").status_code for n in range(3)] == [400, 400, 429]
    assert client.get("/me/email").status_code == 200  # only the attempts count
    assert login(limited.test_client()).status_code == 429  # the account's own login is held too
    with limited.app_context():
        db.engine.dispose()


def test_requests_that_send_mail_are_limited_per_account(app, database_url, learner, course):
    """Each request mails an address typed in: an account may send only so many."""
    limited = limited_app(database_url, RATELIMIT_EMAIL_CHANGE="2 per hour")
    client = limited.test_client()
    assert login(client).status_code == 302
    assert ask(client, password="a wrong one").status_code == 400  # not counted: nothing was sent
    statuses = [ask(client, new_email=f"n{n}@example.org").status_code for n in range(3)]
    assert statuses == [302, 302, 429]
    with limited.app_context():
        db.engine.dispose()


def test_requests_for_one_address_are_limited_whichever_accounts_ask(app, database_url, learner, course):
    """Several accounts must not fill a stranger's inbox with links or "someone tried to use your address"."""
    limited = limited_app(database_url, RATELIMIT_EMAIL_CHANGE="2 per hour")
    statuses = []
    for n in range(3):
        email = f"asker{n}@example.org"
        create_user(limited, email, name=f"Asker {n}")
        client = limited.test_client()
        assert login(client, email).status_code == 302
        statuses.append(ask(client, new_email="Stranger@Example.org").status_code)
    assert statuses == [302, 302, 429]
    with limited.app_context():
        db.engine.dispose()
