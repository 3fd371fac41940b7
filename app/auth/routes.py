"""Views for accounts."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import make_transient_to_detached

from app.auth import bp
from app.auth.forms import FinishRegistrationForm, LoginForm, NewPasswordForm, RegisterForm, ResetRequestForm
from app.extensions import db, limiter, login_manager
from app.models import User, UserSession
from app.models.types import utcnow
from app.services.accounts import (
    RegistrationRequest,
    normalise_email,
    password_reset_token,
    password_reset_user,
    password_set,
    registration_from_token,
    registration_request,
    user_authenticate,
    user_by_email,
    user_create,
)
from app.services.errors import EmailTaken, ValidationError
from app.services.mail import Mail, send_after_response
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
from app.urls import external_url

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
    """Ask for an address and a name, and mail a link to finish; every address gets the same answer."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        started = registration_request(
            db.session,
            email=form.email.data,
            display_name=form.display_name.data,
            next_url=safe_next(request.args.get("next")),
            secret_key=current_app.config["SECRET_KEY"],
        )
        send_after_response(current_app.config, *_registration_mail(started))
        return redirect(url_for("auth.register_sent"))
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


def _registration_mail(started: RegistrationRequest) -> list[Mail]:
    """A link to finish for a free address, a note to the owner of a taken one (nothing for a
    deactivated account)."""
    if started.token:
        link = external_url("auth.register_finish", token=started.token)
        body = render_template("auth/register_email.txt", name=started.display_name, link=link)
        return [Mail(to=started.email, subject="Finish creating your account", body=body)]
    if started.owner:
        body = render_template(
            "auth/register_taken_email.txt",
            user=started.owner,
            login=external_url("auth.login"),
            reset=external_url("auth.reset_request"),
        )
        return [Mail(to=started.owner.email, subject="Someone tried to register with your address", body=body)]
    return []


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
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"], methods=["POST"], key_func=_submitted_account)
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
        mails = []
        if user is not None and user.is_active:
            token = password_reset_token(user, secret_key=current_app.config["SECRET_KEY"])
            body = render_template(
                "auth/reset_email.txt", user=user, link=external_url("auth.reset_password", token=token)
            )
            mails.append(Mail(to=user.email, subject="Choose a new password", body=body))
        # Sent after the answer, and the answer is the same, so neither says whether the account exists.
        send_after_response(current_app.config, *mails)
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
