"""Views for accounts."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.forms import LoginForm, RegisterForm
from app.extensions import db, login_manager
from app.models import User
from app.services.accounts import user_authenticate, user_create
from app.services.errors import ValidationError

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the session's user; a deactivated account is logged out on its next request."""
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return None
    return target


@bp.route("/register", methods=["GET", "POST"])
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
            login_user(user)
            flash(f"Welcome, {user.display_name}. Your account is ready.", "success")
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
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
            login_user(user, remember=form.remember.data)
            flash(f"Welcome back, {user.display_name}.", "success")
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
@login_required
def logout():
    """Log out (POST only, so a link elsewhere cannot log anyone out)."""
    # CSRFProtect has already checked the token of this POST.
    logout_user()
    flash("You have logged out.", "info")
    return redirect(url_for("main.index"))
