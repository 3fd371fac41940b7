"""Accounts: register, log in, log out."""

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

from app.services.accounts import password_check_prepare

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.record_once
def _prepare_password_check(state: BlueprintSetupState) -> None:
    # Log-in for an unknown address checks a dummy hash; made now, the first such log-in
    # costs no more than any other (app/services/accounts.py).
    password_check_prepare(state.app.config["PASSWORD_HASH_METHOD"])


from app.auth import routes  # noqa: E402,F401
