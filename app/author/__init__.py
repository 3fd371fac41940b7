"""The admins' area: authoring and publishing the course, users, question analytics.

Guarded once, here: every route needs an admin account. A view of one course finds it in
``g.course``, loaded from the URL by course_in_url.py (404 if there is none); a view that edits
the draft does so through draft_editing.py.
"""

from flask import Blueprint, abort
from flask_login import current_user

from app.extensions import login_manager
from app.permissions import can_author

bp = Blueprint("author", __name__, url_prefix="/author")


@bp.before_request
def require_admin():
    """Every route in this blueprint needs an admin account."""
    if not current_user.is_authenticated:
        # As @login_required does: to the login page and back, with its "Please log in" message.
        return login_manager.unauthorized()
    if not can_author(current_user):
        abort(403)
    return None


# The views, a module a subject; course_in_url's before_request runs after require_admin above.
from app.author import (  # noqa: E402,F401
    activity,
    analytics,
    course_details,
    course_in_url,
    course_modules,
    draft_editing,
    export,
    lessons,
    media,
    misconceptions,
    publications,
    publishing,
    questions,
    users,
)
from app.lti import admin as lti_admin  # noqa: E402,F401 - /author/lti
