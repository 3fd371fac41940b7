"""The job queue (Redis) not answering when a page queues its job: a 503 with Retry-After that says
to check before sending again, never a 500; a page whose action was saved before it queued its
e-mail says what was saved and what was not sent instead (the real Redis going down is
tests/test_redis_down.py)."""

from __future__ import annotations

import pytest
import redis

from app.extensions import db
from app.jobs.queue import queued
from app.models import Role, User
from tests.conftest import PASSWORD, create_user, csrf_token, login, visible_text
from tests.views.test_account_settings import post_password, stored
from tests.views.test_email_change import NEW, ask, confirm
from tests.views.test_email_change import link_from as change_link_from
from tests.views.test_password_reset import NEW_PASSWORD, choose, link_from, request_reset, wait_for

NOT_SENT = "We could not send the usual e-mail about this change: part of our system is not answering."


def refused(*args, **kwargs):
    raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.mark.parametrize("where", ["registration", "reset", "e-mail change link"])
def test_a_page_whose_job_cannot_be_queued_says_try_again_with_a_503(app, client, monkeypatch, where):
    import app.auth.routes as auth_routes
    import app.me.account as account_routes

    if where == "registration":
        monkeypatch.setattr(auth_routes, "send_registration", refused)
        url, data = "/auth/register", {"email": "new@example.org", "display_name": "Nell"}
    elif where == "reset":
        create_user(app, "lee@example.org")
        monkeypatch.setattr(auth_routes, "send_password_reset", refused)
        url, data = "/auth/reset", {"email": "lee@example.org"}
    else:  # nothing is saved until the link is followed, so nothing was done
        create_user(app, "lee@example.org")
        assert login(client, "lee@example.org", PASSWORD).status_code == 302
        monkeypatch.setattr(account_routes, "send_email_change_link", refused)
        url, data = "/me/email", {"new_email": "lee.new@example.org", "current_password": PASSWORD}

    response = client.post(url, data={**data, "csrf_token": csrf_token(client, url)})

    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    page = " ".join(response.get_data(as_text=True).split())
    assert "Part of our system is not answering" in page and "check whether it went through" in page


def test_queued_says_whether_the_queue_took_the_job_and_lets_other_errors_through():
    taken = []
    assert queued(lambda *args: taken.append(args), 7, "x") is True and taken == [(7, "x")]
    assert queued(refused, 7) is False

    def broken(*args):
        raise KeyError("a bug, not an outage")

    with pytest.raises(KeyError):
        queued(broken, 7)


def test_a_new_account_whose_welcome_cannot_be_queued_is_kept_and_the_admin_told_how_to_send_it(
    app, client, monkeypatch
):
    import app.author.users as user_routes

    create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    assert login(client, "ada@example.org", PASSWORD).status_code == 302
    monkeypatch.setattr(user_routes, "send_welcome", refused)
    url = "/author/users/new"
    data = {"display_name": "Nia", "email": "nia@example.org", "role": "learner", "csrf_token": csrf_token(client, url)}

    response = client.post(url, data=data)

    assert response.status_code == 302
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).where(User.email == "nia@example.org"))
    assert user_id is not None and response.headers["Location"].endswith(f"/author/users/{user_id}")
    page = visible_text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Account created for Nia, but the e-mail with a link to choose their password could not be sent" in page
    assert "E-mail a link to choose a password" in page.split("could not be sent", 1)[1]  # the button it names


def test_a_password_changed_while_the_queue_is_down_is_changed_and_the_missing_notice_said(
    app, client, learner, monkeypatch
):
    import app.me.account as account_routes

    assert login(client).status_code == 302
    monkeypatch.setattr(account_routes, "send_password_changed", refused)
    response = post_password(client)
    assert response.status_code == 302
    page = visible_text(client.get("/me/").get_data(as_text=True))
    assert "Your password has been changed." in page and NOT_SENT in page
    assert login(app.test_client(), password=NEW_PASSWORD).status_code == 302  # post_password's new one


def test_a_password_set_by_link_while_the_queue_is_down_is_set_and_the_missing_notice_said(
    app, client, inbox, learner, monkeypatch
):
    import app.auth.routes as auth_routes

    request_reset(client)
    path = link_from(wait_for(inbox)[0])
    monkeypatch.setattr(auth_routes, "send_password_changed", refused)
    response = choose(client, path)
    assert response.status_code == 302
    assert NOT_SENT in visible_text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert login(app.test_client(), password=NEW_PASSWORD).status_code == 302


def test_an_address_change_while_the_queue_is_down(app, client, inbox, learner, monkeypatch):
    """Asked: the link goes, the notice to the old address does not, and the page says so. Confirmed:
    the address is changed, and the page says its notices were not sent."""
    import app.me.account as account_routes

    assert login(client).status_code == 302
    with monkeypatch.context() as patched:
        patched.setattr(account_routes, "send_email_change_requested", refused)
        assert ask(client).status_code == 302
    assert NOT_SENT in visible_text(client.get("/me/").get_data(as_text=True))
    (link,) = inbox.wait_for(1)
    assert link["To"] == NEW
    path = change_link_from(link)

    monkeypatch.setattr(account_routes, "send_email_changed", refused)
    assert confirm(client, path).status_code == 302
    page = visible_text(client.get("/me/").get_data(as_text=True))
    assert "Your e-mail address has been changed" in page and NOT_SENT in page
    assert stored(app, learner).email == NEW
