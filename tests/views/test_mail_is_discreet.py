"""Every e-mail the site sends a person is as discreet as the reminders: others may see an inbox
or a lock-screen preview, so no subject or body names the course, a medicine, alcohol or opioids.

Each message is made the way a user makes it (over HTTP, CSRF on) and read as the real SMTP
server on loopback received it.
"""

from __future__ import annotations

import inspect
import re

import pytest

from app.models import Role
from tests.conftest import PASSWORD, create_user, csrf_token, login
from tests.mail_server import body_of
from tests.services.test_reminders import FORBIDDEN_WORDS

# Words a preview of a message must not show, beyond FORBIDDEN_WORDS: the body's first characters
# are what an inbox list or a lock screen shows (about 100-150, by mail client).
PREVIEW_WORDS = ["clinic", "counsell", "session", "casey"]
PREVIEW_LENGTH = 150


def register_new(app, client) -> None:
    token = csrf_token(client, "/auth/register")
    data = {"email": "new@example.org", "display_name": "Nell New", "csrf_token": token}
    assert client.post("/auth/register", data=data).status_code == 302


def register_taken(app, client) -> None:
    create_user(app, "taken@example.org")
    token = csrf_token(client, "/auth/register")
    data = {"email": "taken@example.org", "display_name": "Tay", "csrf_token": token}
    assert client.post("/auth/register", data=data).status_code == 302


def password_reset(app, client) -> None:
    create_user(app, "lee@example.org")
    token = csrf_token(client, "/auth/reset")
    assert client.post("/auth/reset", data={"email": "lee@example.org", "csrf_token": token}).status_code == 302


def password_changed(app, client) -> None:
    create_user(app, "lee@example.org")
    assert login(client, "lee@example.org", PASSWORD).status_code == 302
    token = csrf_token(client, "/me/password")
    data = {
        "csrf_token": token,
        "current_password": PASSWORD,
        "password": "a new passphrase",
        "confirm": "a new passphrase",
    }
    assert client.post("/me/password", data=data).status_code == 302


def password_reset_by_link(app, client, inbox) -> int:
    """The link, then the notice that the password was changed."""
    password_reset(app, client)
    path = re.search(r"http://localhost(/auth/reset/\S+)", body_of(inbox.wait_for(1)[0])).group(1)
    data = {"csrf_token": csrf_token(client, path), "password": "a new passphrase", "confirm": "a new passphrase"}
    assert client.post(path, data=data).status_code == 302
    return 2


def email_changed(app, client, inbox) -> int:
    """The link and the notice, then the confirmations to the old address and the new."""
    email_change_asked(app, client)
    link = next(m for m in inbox.wait_for(2) if m["To"] == "lee.new@example.org")
    path = re.search(r"http://localhost(/me/email/confirm/\S+)", body_of(link)).group(1)
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 302
    return 4


def email_change_asked(app, client) -> int:
    """The link to the new address, the notice to the old one."""
    create_user(app, "lee@example.org")
    assert login(client, "lee@example.org", PASSWORD).status_code == 302
    token = csrf_token(client, "/me/email")
    data = {"csrf_token": token, "new_email": "lee.new@example.org", "current_password": PASSWORD}
    assert client.post("/me/email", data=data).status_code == 302
    return 2


def email_change_to_a_taken_address(app, client) -> int:
    """The note to the address's owner, the notice to the old address."""
    create_user(app, "taken@example.org")
    create_user(app, "lee@example.org")
    assert login(client, "lee@example.org", PASSWORD).status_code == 302
    token = csrf_token(client, "/me/email")
    data = {"csrf_token": token, "new_email": "taken@example.org", "current_password": PASSWORD}
    assert client.post("/me/email", data=data).status_code == 302
    return 2


def account_made_by_an_admin(app, client) -> None:
    create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    assert login(client, "ada@example.org", PASSWORD).status_code == 302
    token = csrf_token(client, "/author/users/new")
    data = {"csrf_token": token, "display_name": "Nia New", "email": "nia@example.org", "role": "learner"}
    assert client.post("/author/users/new", data=data).status_code == 302


def counsellors_invitation(app, client) -> None:
    create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    assert login(client, "casey@example.org", PASSWORD).status_code == 302
    token = csrf_token(client, "/counsel/invitations")
    data = {"csrf_token": token, "email": "client@example.org"}
    assert client.post("/counsel/invitations", data=data).status_code == 302


def link_made_for_the_learner(app, client) -> None:
    learner = create_user(app, "lee@example.org", name="Lee Learner")
    counsellor = create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    assert login(client, "ada@example.org", PASSWORD).status_code == 302
    token = csrf_token(client, f"/author/users/{learner}")
    data = {"csrf_token": token, "counsellor_id": str(counsellor), "confirm": "yes"}
    assert client.post(f"/author/users/{learner}/link", data=data).status_code == 302


@pytest.mark.parametrize(
    "send",
    [
        register_new,
        register_taken,
        password_reset,
        password_changed,
        password_reset_by_link,
        email_change_asked,
        email_changed,
        email_change_to_a_taken_address,
        account_made_by_an_admin,
        counsellors_invitation,
        link_made_for_the_learner,
    ],
)
def test_the_email_says_nothing_about_what_the_course_is_about(app, client, course, inbox, send):
    # A sender says how many messages it makes (one if it says nothing); one that follows a link
    # from an earlier message takes the inbox to read it.
    takes_inbox = "inbox" in inspect.signature(send).parameters
    count = (send(app, client, inbox) if takes_inbox else send(app, client)) or 1

    messages = inbox.wait_for(count)
    assert len(messages) == count
    for message in messages:
        subject, body = message["Subject"].lower(), body_of(message).lower()
        for word in FORBIDDEN_WORDS:
            assert word not in subject, f"{send.__name__}: the subject names {word!r}"
            assert word not in body, f"{send.__name__}: the body names {word!r}"
        # What a lock screen or an inbox list shows of the body: nothing of counselling or a clinic
        # (the counsellors here are named "Casey Counsellor", so their name is caught too).
        preview = " ".join(body.split())[:PREVIEW_LENGTH]
        for word in PREVIEW_WORDS:
            assert word not in subject, f"{send.__name__}: the subject names {word!r}"
            assert word not in preview, f"{send.__name__}: the preview names {word!r}: {preview!r}"
