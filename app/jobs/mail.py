"""The jobs that send the app's e-mails: every message goes from a worker, never from a request.

A request only checks its input and enqueues one of these; the job looks up what it needs, writes
the message and hands it to SMTP (app/services/mail.py). So an SMTP server that is slow, down or
never answers delays no page, and the job raises and is retried with backoff (app/jobs/queue.py).

The reset and registration jobs take the address as typed and do the lookup themselves: the
request enqueues the same job with the same arguments whether or not the address has an account,
so neither its work nor its timing can tell which.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, render_template

from app.extensions import db
from app.jobs.queue import job
from app.models import User
from app.services.accounts import password_reset_token, registration_request, user_by_email
from app.services.email_change import email_change_offer
from app.services.mail import Mail, send_mail
from app.urls import external_url, safe_next


def _send(mail: Mail) -> None:
    send_mail(current_app.config, to=mail.to, subject=mail.subject, body=mail.body, headers=mail.headers)


@job()
def send_email(to: str, subject: str, body: str, headers: Mapping[str, str] | None = None) -> None:
    """Send one message already written (an invitation, a reminder); raises, and so is retried, if
    the SMTP server fails."""
    _send(Mail(to=to, subject=subject, body=body, headers=dict(headers or {})))


def password_reset_mail(email: str, next_url: str | None = None) -> Mail | None:
    """The reset link for the active account using ``email``, or None: nobody else is mailed.

    ``next_url``: where to go once the password is chosen (a path on this site; anything else is dropped).
    """
    user = user_by_email(db.session, email)
    if user is None or not user.is_active or user.email is None:
        return None
    # Where to go next is sealed in the token: beside it, a course page's path would say in the
    # inbox what the course is about (the reminders keep it out for the same reason).
    token = password_reset_token(user, secret_key=current_app.config["SECRET_KEY"], next_url=safe_next(next_url))
    link = external_url("auth.reset_password", token=token)
    body = render_template("auth/reset_email.txt", user=user, link=link)
    return Mail(to=user.email, subject="Choose a new password", body=body)


@job()
def send_password_reset(email: str, next_url: str | None = None) -> None:
    """Mail a reset link if an active account uses ``email`` (as typed); otherwise send nothing."""
    mail = password_reset_mail(email, next_url)
    if mail is not None:
        _send(mail)


def registration_mail(email: str, display_name: str, next_url: str | None) -> Mail | None:
    """A link to finish for a free address, a note to the owner of a taken one, nothing for a
    deactivated account."""
    started = registration_request(
        db.session,
        email=email,
        display_name=display_name,
        next_url=next_url,
        secret_key=current_app.config["SECRET_KEY"],
    )
    if started.token:
        link = external_url("auth.register_finish", token=started.token)
        # No name: it is whatever the sender typed, going to an address nobody has shown is theirs.
        body = render_template("auth/register_email.txt", link=link)
        return Mail(to=started.email, subject="Finish creating your account", body=body)
    if started.owner and started.owner.email:
        # Plain links, without the page registering began on: its path (a course page, an
        # invitation's code) would be readable in the inbox, and the log-in and reset-request
        # pages take it only in the clear. An invitation's own e-mail still holds its link.
        body = render_template(
            "auth/register_taken_email.txt",
            user=started.owner,
            login=external_url("auth.login"),
            reset=external_url("auth.reset_request"),
        )
        return Mail(to=started.owner.email, subject="Someone tried to register with your address", body=body)
    return None


def welcome_mail(user_id: int) -> Mail | None:
    """The set-password link for an account an admin created, or None once it is gone or deactivated."""
    user = db.session.get(User, user_id)
    # An account an LTI launch made has no address: its platform signs it in.
    if user is None or not user.is_active or user.email is None:
        return None
    token = password_reset_token(user, secret_key=current_app.config["SECRET_KEY"])
    link = external_url("auth.reset_password", token=token)
    body = render_template("author/user_welcome_email.txt", user=user, link=link, login=external_url("auth.login"))
    return Mail(to=user.email, subject="Your course account: choose your password", body=body)


@job()
def send_welcome(user_id: int) -> None:
    """Mail an account an admin created the link to choose its password (by id: the admin knows it exists)."""
    mail = welcome_mail(user_id)
    if mail is not None:
        _send(mail)


@job()
def send_registration(email: str, display_name: str, next_url: str | None) -> None:
    """Mail whoever reads ``email`` what registering with it means (see ``registration_mail``)."""
    mail = registration_mail(email, display_name, next_url)
    if mail is not None:
        _send(mail)


# Added to a page's message when the change is saved but the notice of it could not be queued.
NOTICE_NOT_SENT = (
    " We could not send the usual e-mail about this change: part of our system is not answering. "
    "Nothing else is needed from you."
)


def password_changed_mail(user_id: int, by_link: bool = False) -> Mail | None:
    """A notice that the account's password was changed (``by_link``: through a reset link, else
    while logged in), or None for an account with no address (an LMS signs it in), one deleted or
    one deactivated since."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.email is None:
        return None
    reset = external_url("auth.reset_request")
    body = render_template("me/password_changed_email.txt", user=user, reset=reset, by_link=by_link)
    return Mail(to=user.email, subject="Your password was changed", body=body)


@job()
def send_password_changed(user_id: int, by_link: bool = False) -> None:
    """Tell the account's address that its password was changed, while logged in or through a
    reset link, so that a change its owner did not make does not go unnoticed (by id: the account
    asked for it)."""
    mail = password_changed_mail(user_id, by_link)
    if mail is not None:
        _send(mail)


def email_change_mail(user_id: int, new_email: str) -> Mail | None:
    """For the new address: the link that finishes the change when it is free, a note to its owner
    when an account uses it; nothing for a deactivated account's address (see ``email_change_offer``)."""
    offer = email_change_offer(
        db.session, user_id=user_id, new_email=new_email, secret_key=current_app.config["SECRET_KEY"]
    )
    if offer is None:
        return None
    if offer.token:
        link = external_url("me.confirm_email_change", token=offer.token)
        body = render_template("me/email_change_email.txt", user=offer.user, link=link)
        return Mail(to=offer.new_email, subject="Confirm your new e-mail address", body=body)
    if offer.owner and offer.owner.email:
        body = render_template(
            "me/email_change_taken_email.txt",
            user=offer.owner,
            login=external_url("auth.login"),
            reset=external_url("auth.reset_request"),
        )
        return Mail(to=offer.owner.email, subject="Someone tried to use your address", body=body)
    return None


@job()
def send_email_change_link(user_id: int, new_email: str) -> None:
    """Mail whoever reads ``new_email`` what moving the account there means (see ``email_change_mail``).

    Enqueued alike whether or not the address has an account: only that mailbox learns which.
    """
    mail = email_change_mail(user_id, new_email)
    if mail is not None:
        _send(mail)


def email_change_requested_mail(user_id: int) -> Mail | None:
    """A notice to the account's address now that a move to another was asked for; no link that
    changes anything, nor the other address. None once the account is gone or deactivated."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.email is None:
        return None
    body = render_template("me/email_change_requested_email.txt", user=user, reset=external_url("auth.reset_request"))
    return Mail(to=user.email, subject="A change of e-mail address was asked for", body=body)


@job()
def send_email_change_requested(user_id: int) -> None:
    """Tell the account's address that someone logged in asked to move the account to another,
    so that a request its owner did not make does not go unnoticed."""
    mail = email_change_requested_mail(user_id)
    if mail is not None:
        _send(mail)


def email_changed_mail(user_id: int, to: str) -> Mail | None:
    """A confirmation that the account moved, for ``to``: its new address, or the old one, which
    is told it no longer receives the account's mail. None once the account is gone or deactivated."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.email is None:
        return None
    to_new = to == user.email
    contact = external_url("contact.request_form")
    body = render_template("me/email_changed_email.txt", user=user, to_new=to_new, contact=contact)
    return Mail(to=to, subject="Your e-mail address was changed", body=body)


@job()
def send_email_changed(user_id: int, to: str) -> None:
    """Confirm to ``to`` (the old or the new address) that the account's address was changed."""
    mail = email_changed_mail(user_id, to)
    if mail is not None:
        _send(mail)
