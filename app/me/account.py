"""The account holder's own settings: a new password while logged in, a new e-mail address
(confirmed from a link sent to it), and the name the site uses."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth import guessing
from app.extensions import db, limiter
from app.forms import EmptyForm
from app.jobs.mail import (
    NOTICE_NOT_SENT,
    send_email_change_link,
    send_email_change_requested,
    send_email_changed,
    send_password_changed,
)
from app.jobs.queue import queued
from app.me import bp
from app.me.forms import ChangeEmailForm, ChangeNameForm, ChangePasswordForm
from app.services.accounts import DISPLAY_NAME_MAX_LENGTH, display_name_change, password_change
from app.services.certificates import certificates_issued_names
from app.services.contact_requests import contact_requests_emailing
from app.services.email_change import (
    EmailChangeTaken,
    email_change_address_free,
    email_change_check,
    email_change_confirm,
    email_change_from_link,
)
from app.services.errors import ValidationError


@bp.route("/me/password", methods=["GET", "POST"])
@login_required
# Guessing the current password from a session left open is counted with the guesses at login:
# per address, and per account whatever the address (app/auth/guessing.py).
@guessing.per_address
@guessing.per_account
def change_password():
    """Choose a new password after giving the current one; every other session of the account ends."""
    if not current_user.signs_in_with_password:
        # An account an LMS made has no password its owner knows: nothing to change here.
        return render_template("me/password.html", form=None), 400 if request.method == "POST" else 200
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            revoked = password_change(
                db.session,
                user=current_user,
                current_password=form.current_password.data,
                new_password=form.password.data,
                keep_session_token=current_user.session_token,
                hash_method=current_app.config["PASSWORD_HASH_METHOD"],
                min_password_length=current_app.config["PASSWORD_MIN_LENGTH"],
            )
        except ValidationError as error:
            form[error.field].errors.append(error.message)
        else:
            message = "Your password has been changed. Every other device logged in to your account was logged out."
            if not queued(send_password_changed, current_user.id):  # after the commit: the worker finds the change
                message += NOTICE_NOT_SENT
            if revoked:
                tokens = "your API token was" if revoked == 1 else f"your {revoked} API tokens were"
                message += f" For the same reason {tokens} revoked: make new ones below if you need them."
            flash(message, "success")
            return redirect(url_for("me.home"))
    return render_template("me/password.html", form=form), 400 if form.errors else 200


@bp.route("/me/name", methods=["GET", "POST"])
@login_required
def change_name():
    """Correct the name shown to counsellors one shares with, to the clinic's admins, and on new certificates."""
    form = ChangeNameForm()
    if request.method == "GET":
        # Filled in only for the page: a POST without the field must not keep the name by default.
        form.display_name.data = current_user.display_name
    if form.validate_on_submit():
        try:
            name = display_name_change(db.session, user=current_user, display_name=form.display_name.data)
        except ValidationError as error:
            form.display_name.errors.append(error.message)
        else:
            flash(f"Your name is now {name}.", "success")
            return redirect(url_for("me.home"))
    certificates = certificates_issued_names(db.session, learner_id=current_user.id)
    return render_template(
        "me/name.html", form=form, certificates=certificates, max_length=DISPLAY_NAME_MAX_LENGTH
    ), 400 if form.errors else 200


def _email_change_account() -> str:
    """Rate-limit key for the account asking to move, whatever address it asks from."""
    return f"email-change:user:{getattr(current_user, 'id', '')}"


def _email_change_target() -> str:
    """Rate-limit key for the address typed in (a keyed hash of it), whichever accounts ask."""
    return "email-change:" + guessing.account_key(request.form.get("new_email", ""))


@bp.route("/me/email", methods=["GET", "POST"])
@login_required
@guessing.per_address  # its password is counted with the guesses at login (app/auth/guessing.py)
@guessing.per_account
# Each request mails an address typed in, so an account may send only so many (only requests that
# send count: a mistyped password is the guessing limits' business).
@limiter.limit(
    lambda: current_app.config["RATELIMIT_EMAIL_CHANGE"],
    methods=["POST"],
    key_func=_email_change_account,
    deduct_when=lambda response: response.status_code == 302,
)
# And each address only so many, whichever accounts ask: several accounts must not be able to
# fill a stranger's inbox with links or "someone tried to use your address" (as /contact limits
# the acknowledgements each address gets).
@limiter.limit(
    lambda: current_app.config["RATELIMIT_EMAIL_CHANGE"],
    methods=["POST"],
    key_func=_email_change_target,
    deduct_when=lambda response: response.status_code == 302,
)
def change_email():
    """Ask to move the account to a new address, after giving the password; a link to finish goes there."""
    if not current_user.signs_in_with_password:
        # An account an LMS made has no address here: its LMS keeps it.
        return render_template("me/email.html", form=None), 400 if request.method == "POST" else 200
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            new_email = email_change_check(
                user=current_user, current_password=form.current_password.data, new_email=form.new_email.data
            )
        except ValidationError as error:
            form[error.field].errors.append(error.message)
        else:
            # The job looks the new address up and writes its mail (a link, or a note to the account
            # that has it): this request does the same work, and answers the same, either way.
            # Nothing is saved until the link is followed: a queue that cannot take the link is a 503.
            send_email_change_link(current_user.id, new_email)
            message = (
                "Check your new inbox: we have sent a message to the address you gave. Open the link in it within "
                "a day, while logged in here, to finish the change. Until then your address stays as it was."
            )
            if not queued(send_email_change_requested, current_user.id):
                message += NOTICE_NOT_SENT
            flash(message, "info")
            return redirect(url_for("me.home"))
    return render_template("me/email.html", form=form), 400 if form.errors else 200


@bp.route("/me/email/confirm/<token>", methods=["GET", "POST"])
@login_required
def confirm_email_change(token: str):
    """Show the change a link is for, and make it with the button; every other session of the account ends.

    Logging in is asked for first, so that a link mailed to a mistyped address moves nobody's account.
    """
    change = email_change_from_link(
        db.session,
        token=token,
        secret_key=current_app.config["SECRET_KEY"],
        max_age=current_app.config["EMAIL_CHANGE_MAX_AGE"],
    )
    if change is None or change.user.id != current_user.id:
        other_account = change is not None
        return render_template("me/email_invalid.html", other_account=other_account), 400
    if not email_change_address_free(db.session, change=change):
        # Said at once, rather than offer a button that can only be refused.
        return render_template("me/email_taken.html"), 409
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            moved = email_change_confirm(db.session, change=change, keep_session_token=current_user.session_token)
        except EmailChangeTaken:  # taken between this page and its button
            return render_template("me/email_taken.html"), 409
        message = (
            "Your e-mail address has been changed: log in with the new one from now on. Every other device "
            "logged in to your account was logged out."
        )
        message += _requests_moved(moved)
        # After the commit, so the worker finds the new address.
        told = [queued(send_email_changed, current_user.id, to) for to in (change.old_email, change.new_email)]
        if not all(told):
            message += NOTICE_NOT_SENT
        flash(message, "success")
        return redirect(url_for("me.home"))
    # The person's open requests to the clinic that will move with the address, said before the button.
    requests_moving = contact_requests_emailing(db.session, requester=current_user, email=change.old_email)
    return render_template(
        "me/email_confirm.html", form=form, change=change, requests_moving=requests_moving
    ), 400 if request.method == "POST" else 200


def _requests_moved(moved: int) -> str:
    """What the confirmation adds when the person's open requests to the clinic moved to the new address."""
    if moved == 0:
        return ""
    there = "so the clinic will write to you there."
    if moved == 1:
        return f" Your open request to the clinic now uses your new address too, {there}"
    return f" Your {moved} open requests to the clinic now use your new address too, {there}"
