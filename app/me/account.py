"""The account holder's own settings: a new password while logged in, and the name the site uses."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth import guessing
from app.extensions import db
from app.jobs.mail import send_password_changed
from app.me import bp
from app.me.forms import ChangeNameForm, ChangePasswordForm
from app.services.accounts import DISPLAY_NAME_MAX_LENGTH, display_name_change, password_change
from app.services.certificates import certificates_issued_names
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
            send_password_changed(current_user.id)  # after the commit, so the worker finds the change
            message = "Your password has been changed. Every other device logged in to your account was logged out."
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
