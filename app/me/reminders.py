"""Views for e-mail reminders: the learner's settings, and the one-click unsubscribe link.

The unsubscribe link is in every reminder and works without logging in. Opening it (GET) only
shows a button, since mail scanners open links; the button, or a mail client's one-click POST
(RFC 8058, which carries no CSRF token, so the route is exempt), turns reminders off.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.extensions import csrf, db
from app.me import bp
from app.me.forms import ReminderSettingsForm
from app.services.reminders import (
    UNSUBSCRIBE_LINK_LIFETIME,
    reminder_settings_of,
    reminder_settings_save,
    reminders_turn_off,
    unsubscribe_account,
)


@bp.route("/me/reminders", methods=["GET", "POST"])
@login_required
def reminders():
    """Let the learner turn e-mail reminders on or off (off until they choose)."""
    if not current_user.signs_in_with_password:
        # An account an LMS made has no e-mail address here: reminders could never reach it.
        return render_template("me/reminders.html", form=None), 400 if request.method == "POST" else 200
    settings = reminder_settings_of(db.session, user_id=current_user.id)
    form = ReminderSettingsForm(
        data={"away_reminders": settings.away_reminders, "review_reminders": settings.review_reminders}
    )
    if form.validate_on_submit():
        reminder_settings_save(
            db.session,
            user_id=current_user.id,
            away_reminders=form.away_reminders.data,
            review_reminders=form.review_reminders.data,
        )
        when = [
            *(["after a week away"] if form.away_reminders.data else []),
            *(["when you have questions to review"] if form.review_reminders.data else []),
        ]
        if when:
            flash(f"Reminders are on: {' and '.join(when)}, we will e-mail you, at most once a week.", "success")
        else:
            flash("Reminders are off: we will not e-mail you reminders.", "success")
        return redirect(url_for("me.reminders"))
    return render_template("me/reminders.html", form=form), 400 if form.errors else 200


@bp.route("/reminders/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def reminders_unsubscribe(token: str):
    """Turn reminders off for the person the link names: GET asks, POST does it (no login needed)."""
    user_id = unsubscribe_account(db.session, token, secret_key=current_app.config["SECRET_KEY"])
    if user_id is None:
        days = UNSUBSCRIBE_LINK_LIFETIME.days
        return render_template("me/reminders_unsubscribe_invalid.html", days=days), 400
    if request.method == "POST":
        reminders_turn_off(db.session, user_id=user_id)
        return render_template("me/reminders_unsubscribe.html", done=True, token=token)
    return render_template("me/reminders_unsubscribe.html", done=False, token=token)
