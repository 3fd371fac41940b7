"""The counsellor's area: dashboard, one client, invitations, the clinic's contact requests. Guarded once, here."""

from flask import Blueprint, abort
from flask_login import current_user

from app.extensions import login_manager
from app.permissions import can_counsel

bp = Blueprint("counsel", __name__, url_prefix="/counsel")


@bp.before_request
def require_counsellor():
    """Every route in this blueprint needs a counsellor (or admin) account."""
    if not current_user.is_authenticated:
        # As @login_required does: to the login page and back, with its "Please log in" message.
        return login_manager.unauthorized()
    if not can_counsel(current_user):
        abort(403)
    return None


from app.counsel import handover, labels, requests, routes  # noqa: E402,F401
