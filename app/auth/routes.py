"""Views for accounts."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp, guessing
from app.auth.forms import FinishRegistrationForm, LoginForm, NewPasswordForm, RegisterForm, ResetRequestForm
from app.extensions import db, limiter, login_manager
from app.framed_session import FRAME_KEY, clear_session_keeping_frame
from app.jobs.mail import NOTICE_NOT_SENT, send_password_changed, send_password_reset, send_registration
from app.jobs.queue import queued
from app.learn.page_reads import outline_wanted, outline_was_read
from app.models import User
from app.models.types import utcnow
from app.permissions import can_author, can_counsel
from app.services.accounts import (
    password_reset_opened,
    password_set,
    registration_from_token,
    user_authenticate,
    user_create,
)
from app.services.errors import EmailTaken, ValidationError
from app.services.signed_in_user import signed_in_user
from app.services.user_admin import password_not_chosen
from app.services.user_sessions import SessionLimits, user_session_end, user_session_start
from app.urls import safe_next

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Load the user of the login session the cookie names; an ended, expired or idle session,
    or a deactivated account, is logged out on its next request (app/services/signed_in_user.py)."""
    if not token or len(token) > 100:
        return None
    # A learner page asks for its course rows with the user: one query for both (app/learn/page_reads.py).
    wanted = outline_wanted()
    signed_in = signed_in_user(
        db.session,
        token=token,
        now=utcnow(),
        limits=SessionLimits.from_config(current_app.config),
        outline=wanted,
        # A learner page (shown, or a lesson done or a quiz submitted) only reads the user: it
        # need not join the ORM session. Every other view may change the user and save it.
        attach=wanted is None,
    )
    if signed_in is None:
        return None
    if wanted is not None and signed_in.outline_rows is not None:
        outline_was_read(wanted, signed_in.outline_rows, signed_in.own_rows)
    if signed_in.touched:
        # Re-signing the cookie when the session's last-seen time is written keeps Flask's own
        # limit on its age (PERMANENT_SESSION_LIFETIME, the idle time) counting from the last use too.
        session.modified = True
    return signed_in.user


def landing_url(user: User) -> str:
    """Where someone lands after logging in with no ``next``: the area they work in."""
    if can_author(user):
        return url_for("author.index")
    if can_counsel(user):
        return url_for("counsel.dashboard")
    return url_for("main.index")


def start_session(user: User, *, remember: bool = False) -> None:
    """Log in on a brand-new session, recorded on the server: nothing from before carries over."""
    session.clear()
    user.session_token = user_session_start(
        db.session, user=user, remember=remember, now=utcnow(), limits=SessionLimits.from_config(current_app.config)
    )
    login_user(user, remember=remember)
    # Flask-Login keeps a hash of the address and browser for its session protection, which is
    # off (app/extensions.py): not kept in the cookie, which then carries nothing unused.
    session.pop("_id", None)


def end_session(*, keep_frame: bool) -> bool:
    """Log out whoever is logged in in this browser, if anyone: their session ends on the server,
    so a copy of its cookies no longer works either. The session is cleared, so nothing of the
    account's stays in the cookie (an invitation's code, messages); with ``keep_frame``, but for an
    LMS's framing (app/framed_session.py). Returns whether an LMS framed the session."""
    if current_user.is_authenticated:
        user_session_end(db.session, token=current_user.session_token)
    framed = bool(session.get(FRAME_KEY))
    if keep_frame:
        clear_session_keeping_frame()
    else:
        session.clear()
    # After clearing: logout_user marks the remember-me cookie for deletion in the session.
    logout_user()
    return framed


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"], methods=["POST"])
# Each registration mails the address given, which nobody has shown is theirs: a mailbox gets few.
# Only a form that mails counts (its redirect): refused forms would otherwise share one count (a
# blank address's key) and lock everyone out of being told what to mend.
@limiter.limit(
    lambda: current_app.config["RATELIMIT_REGISTER_MAILBOX"],
    methods=["POST"],
    key_func=guessing.submitted_mailbox,
    deduct_when=lambda response: response.status_code == 302,
)
def register():
    """Ask for an address and a name, and mail a link to finish; every address gets the same answer."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        # The job looks the address up and writes the mail: this request does the same work,
        # and sends nothing itself, whether or not the address has an account.
        send_registration(form.email.data, form.display_name.data, safe_next(request.args.get("next")))
        return redirect(url_for("auth.register_sent"))
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


@bp.get("/register/sent")
def register_sent():
    """Say that a link is on its way (what everyone is told, whatever the address)."""
    return render_template("auth/register_sent.html")


@bp.route("/register/finish/<token>", methods=["GET", "POST"])
def register_finish(token: str):
    """Choose a password from the link in the e-mail; the account is made and logged in."""
    registration = registration_from_token(
        db.session,
        token=token,
        secret_key=current_app.config["SECRET_KEY"],
        max_age=current_app.config["REGISTRATION_MAX_AGE"],
    )
    if registration is None:
        return render_template("auth/register_invalid.html"), 400
    form = FinishRegistrationForm()
    if form.validate_on_submit():
        try:
            user = user_create(
                db.session,
                email=registration.email,
                display_name=registration.display_name,
                password=form.password.data,
                hash_method=current_app.config["PASSWORD_HASH_METHOD"],
                min_password_length=current_app.config["PASSWORD_MIN_LENGTH"],
            )
        except EmailTaken:  # the link was opened twice and the other one finished first
            return render_template("auth/register_invalid.html"), 400
        except ValidationError as error:
            form.password.errors.append(error.message)
        else:
            start_session(user)
            flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
            return redirect(safe_next(registration.next_url) or url_for("main.index"))
    return render_template("auth/register_finish.html", form=form, registration=registration), (
        400 if form.errors else 200
    )


@bp.route("/login", methods=["GET", "POST"])
@guessing.per_address
@guessing.per_account
def login():
    """Log in with e-mail and password, optionally remembered on this device."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = user_authenticate(
            db.session,
            email=form.email.data,
            password=form.password.data,
            hash_method=current_app.config["PASSWORD_HASH_METHOD"],
        )
        if user is None:
            form.password.errors.append("That e-mail and password do not match an account.")
        else:
            start_session(user, remember=form.remember.data)
            flash(f"Welcome back, {user.display_name}.", "success")
            return redirect(safe_next(request.args.get("next")) or landing_url(user))
    framed = bool(session.get(FRAME_KEY))  # a session an LMS framed, whose log-in has ended
    return render_template("auth/login.html", form=form, framed=framed), 400 if form.errors else 200


@bp.post("/logout")
@login_required
def logout():
    """Log out (POST only, so a link elsewhere cannot log anyone out): this session ends on the
    server, so a copy of its cookies no longer works either."""
    # CSRFProtect has already checked the token of this POST.
    framed = end_session(keep_frame=True)
    # An LMS's account has no password to log in with here: the way back is its link in the LMS.
    flash("You have logged out." + (LMS_WAY_BACK if framed else ""), "info")
    return redirect(url_for("main.index"))


# Said to a session an LMS framed when it ends: the way back in is through the LMS.
LMS_WAY_BACK = " To open the course again, use its link in your LMS."

RESET_SENT = (
    "If an account uses that address, we have sent it a link to choose a new password. "
    "The link works once, within an hour. Check your spam folder if it does not arrive."
)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_RESET"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["RATELIMIT_RESET_ACCOUNT"], methods=["POST"], key_func=guessing.submitted_account
)
def reset_request():
    """Ask for a reset link; the answer is the same whether or not the account exists."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        # The same job with the address as typed, known or not: the job looks the account up, so
        # neither this request's work nor its answer says whether the account exists.
        send_password_reset(form.email.data, safe_next(request.args.get("next")))
        flash(RESET_SENT, "info")
        return redirect(url_for("auth.reset_request"))
    return render_template("auth/reset_request.html", form=form), 400 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a reset link; every other session of the account ends."""
    reset = password_reset_opened(
        db.session,
        token=token,
        secret_key=current_app.config["SECRET_KEY"],
        max_age=current_app.config["PASSWORD_RESET_MAX_AGE"],
    )
    if reset is None:
        return render_template("auth/reset_invalid.html"), 400
    user = reset.user
    # An account an admin created has no password yet: its owner chooses a first one, not a new one.
    first = password_not_chosen(user)
    form = NewPasswordForm()
    if form.validate_on_submit():
        revoked = password_set(
            db.session,
            user=user,
            password=form.password.data,
            hash_method=current_app.config["PASSWORD_HASH_METHOD"],
            min_password_length=current_app.config["PASSWORD_MIN_LENGTH"],
        )
        start_session(user)
        message = "Your password has been changed, and you have been logged out everywhere else."
        # The notice /me/password sends, so that a reset by someone else who reads the mailbox is noticed.
        if not first and not queued(send_password_changed, user.id, True):
            message += NOTICE_NOT_SENT
        if revoked:
            tokens = "your API token was" if revoked == 1 else f"your {revoked} API tokens were"
            message += f" For the same reason {tokens} revoked: make new ones on your page if you need them."
        flash(message, "success")
        # Back to where the learner was going when they found they had forgotten it (an invitation),
        # as sealed in the link: a ``next`` beside the token (links mailed before) is not followed.
        return redirect(safe_next(reset.next_url) or url_for("main.index"))
    return render_template("auth/reset_password.html", form=form, first=first), 400 if form.errors else 200
