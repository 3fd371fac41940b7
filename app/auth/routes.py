"""Views for accounts."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import make_transient_to_detached

from app.auth import bp
from app.auth.forms import LoginForm, NewPasswordForm, RegisterForm, ResetRequestForm
from app.extensions import db, limiter, login_manager
from app.models import User, UserSession
from app.models.types import utcnow
from app.services.accounts import (
    normalise_email,
    password_reset_token,
    password_reset_user,
    password_set,
    user_authenticate,
    user_by_email,
    user_create,
)
from app.services.errors import ValidationError
from app.services.mail import send_mail
from app.services.reads import read_rows
from app.services.user_sessions import (
    SessionLimits,
    session_token_hash,
    user_session_end,
    user_session_is_live,
    user_session_needs_touch,
    user_session_start,
    user_session_touch,
)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"


_USER_COLUMNS = [column.key for column in User.__table__.columns]
# The user and the login session in one read: checking the session costs no extra round trip.
_USER_BY_SESSION = (
    select(
        *User.__table__.columns,
        UserSession.id.label("login_session_id"),
        UserSession.remember,
        UserSession.last_seen_at,
        UserSession.expires_at,
    )
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Load the user of the login session the cookie names; an ended, expired or idle session,
    or a deactivated account, is logged out on its next request (app/services/user_sessions.py)."""
    if not token or len(token) > 100:
        return None
    # Every page needs this, so it is one autocommit read; the row then joins the session as
    # if the session had loaded it, so views and services can change and save it as usual.
    request_session = db.session()
    nothing_under_way = not (request_session.in_transaction() or request_session.new or request_session.dirty)
    rows = read_rows(db.session, _USER_BY_SESSION, {"token_hash": session_token_hash(token)})
    if not rows:
        return None
    *user_values, login_session_id, remember, last_seen_at, expires_at = rows[0]
    values = dict(zip(_USER_COLUMNS, user_values, strict=True))
    now = utcnow()
    limits = SessionLimits.from_config(current_app.config)
    if not values["is_active"] or not user_session_is_live(
        remember=remember, last_seen_at=last_seen_at, expires_at=expires_at, now=now, limits=limits
    ):
        return None
    if user_session_needs_touch(last_seen_at=last_seen_at, now=now, limits=limits):
        # At most every few minutes; re-signing the cookie then keeps Flask's own limit on its
        # age (PERMANENT_SESSION_LIFETIME, the idle time) counting from the last use too.
        user_session_touch(db.session, session_id=login_session_id, now=now, commit=nothing_under_way)
        session.modified = True
    user = User(**values)
    make_transient_to_detached(user)
    user = db.session.merge(user, load=False)
    user.session_token = token
    return user


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return None
    return target


def start_session(user: User, *, remember: bool = False) -> None:
    """Log in on a brand-new session, recorded on the server: nothing from before carries over."""
    session.clear()
    user.session_token = user_session_start(
        db.session, user=user, remember=remember, now=utcnow(), limits=SessionLimits.from_config(current_app.config)
    )
    login_user(user, remember=remember)


def _submitted_account() -> str:
    """Rate-limit key for the account being tried, whichever address it comes from."""
    return "account:" + normalise_email(request.form.get("email", ""))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"], methods=["POST"], key_func=_submitted_account)
def register():
    """Create a learner account and log it in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = user_create(
                db.session,
                email=form.email.data,
                display_name=form.display_name.data,
                password=form.password.data,
                hash_method=current_app.config["PASSWORD_HASH_METHOD"],
                min_password_length=current_app.config["PASSWORD_MIN_LENGTH"],
            )
        except ValidationError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            start_session(user)
            flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"], methods=["POST"], key_func=_submitted_account)
def login():
    """Log in with e-mail and password, optionally remembered on this device."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = user_authenticate(db.session, email=form.email.data, password=form.password.data)
        if user is None:
            form.password.errors.append("That e-mail and password do not match an account.")
        else:
            start_session(user, remember=form.remember.data)
            flash(f"Welcome back, {user.display_name}.", "success")
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
@login_required
def logout():
    """Log out (POST only, so a link elsewhere cannot log anyone out): this session ends on the
    server, so a copy of its cookies no longer works either."""
    # CSRFProtect has already checked the token of this POST.
    user_session_end(db.session, token=current_user.session_token)
    logout_user()
    flash("You have logged out.", "info")
    return redirect(url_for("main.index"))


RESET_SENT = (
    "If an account uses that address, we have sent it a link to choose a new password. "
    "The link works once, within an hour. Check your spam folder if it does not arrive."
)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_RESET"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_RESET_ACCOUNT"], methods=["POST"], key_func=_submitted_account)
def reset_request():
    """Ask for a reset link; the answer is the same whether or not the account exists."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = user_by_email(db.session, form.email.data)
        if user is not None and user.is_active:
            token = password_reset_token(user, secret_key=current_app.config["SECRET_KEY"])
            link = url_for("auth.reset_password", token=token, _external=True)
            body = render_template("auth/reset_email.txt", user=user, link=link)
            try:
                send_mail(current_app.config, to=user.email, subject="Choose a new password", body=body)
            except OSError:  # smtplib errors are OSErrors; say nothing that tells accounts apart
                current_app.logger.exception("Password reset e-mail could not be sent")
        flash(RESET_SENT, "info")
        return redirect(url_for("auth.reset_request"))
    return render_template("auth/reset_request.html", form=form), 400 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a reset link; every other session of the account ends."""
    user = password_reset_user(
        db.session,
        token=token,
        secret_key=current_app.config["SECRET_KEY"],
        max_age=current_app.config["PASSWORD_RESET_MAX_AGE"],
    )
    if user is None:
        return render_template("auth/reset_invalid.html"), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        password_set(
            db.session,
            user=user,
            password=form.password.data,
            hash_method=current_app.config["PASSWORD_HASH_METHOD"],
            min_password_length=current_app.config["PASSWORD_MIN_LENGTH"],
        )
        start_session(user)
        flash("Your password has been changed, and you have been logged out everywhere else.", "success")
        return redirect(url_for("main.index"))
    return render_template("auth/reset_password.html", form=form), 400 if form.errors else 200
