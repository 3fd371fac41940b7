"""The site-wide activity log: what admins did, newest first, filtered by kind, 50 a page.

The blueprint guard has already checked that the caller is an admin. The entries are
app/services/admin_activity.py's; here the query string is read and checked: a kind the log
does not have, or a page cursor this site did not make, is a 400 saying so, never a guess.
"""

from __future__ import annotations

from flask import render_template, request, url_for

from app.author import bp
from app.author.user_forms import ROLE_LABELS, ActivityFilterForm
from app.errors import render_error
from app.extensions import db
from app.services.admin_activity import KINDS, Cursor, activity_page

BAD_KIND = "There is no such kind of action in the activity log. Choose one from the list."
BAD_PAGE = (
    "That link to a page of the activity log is not one this site made, so we cannot tell which "
    "actions to show. Start again from the newest."
)


@bp.get("/activity")
def activity():
    """List every admin action and course publication, newest first, by kind (?kind=), with
    links to older (?before=) and newer (?after=) pages."""
    back = url_for("author.activity")
    kind = request.args.get("kind", "")
    if kind and kind not in KINDS:
        return render_error(400, BAD_KIND, back=back)
    before, after = request.args.get("before"), request.args.get("after")
    if before is not None and after is not None:
        return render_error(400, BAD_PAGE, back=back)
    text = before if before is not None else after
    cursor = Cursor.parse(text) if text is not None else None
    if text is not None and cursor is None:
        return render_error(400, BAD_PAGE, back=back)
    if before is not None:
        page = activity_page(db.session, kind=kind, before=cursor)
    else:
        page = activity_page(db.session, kind=kind, after=cursor)
    return render_template(
        "author/activity.html",
        page=page,
        form=ActivityFilterForm(request.args),
        kinds=KINDS,
        role_labels=ROLE_LABELS,
    )
