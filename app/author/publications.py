"""Publication history: who published what and when, and restoring an earlier version.

Thin, as the other authoring views: the rules (what a restore does, when it is refused) are in
app/services/authoring/history.py. ``course_in_url.load_course`` has put the course named in the URL in
``g.course``; a publication of another course, like an unknown one, is a 404.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.author import bp
from app.extensions import db
from app.forms import EmptyForm
from app.models import CoursePublication
from app.services import authoring
from app.services.authoring import CannotRestore, DraftInvalid, NothingToPublish
from app.timefmt import current_zone


def _publication(publication_id: int) -> CoursePublication:
    """The course's publication named in the URL, or 404."""
    publication = authoring.publication_get(db.session, course=g.course, publication_id=publication_id)
    if publication is None:
        abort(404)
    return publication


@bp.get("/courses/<course_slug>/publications")
def publications():
    """Every publication of the course, newest first, with a way back to the earlier ones."""
    history = authoring.publication_history(db.session, course=g.course)
    return render_template("author/publications.html", course=g.course, history=history)


@bp.route("/courses/<course_slug>/publications/<id:publication_id>/restore", methods=["GET", "POST"])
def publication_restore(publication_id: int):
    """GET: what restoring this version would change. POST: publish it again as a new publication."""
    publication = _publication(publication_id)
    form = EmptyForm()
    status = 200
    if form.validate_on_submit():
        try:
            authoring.publication_restore(
                db.session, course=g.course, publication=publication, user_id=current_user.id, zone=current_zone()
            )
        except (CannotRestore, NothingToPublish) as refused:
            flash(str(refused), "warning")
            return redirect(url_for("author.publications"))
        except DraftInvalid:
            status = 400  # the page below lists what stops it
        else:
            flash(
                "Restored. Learners now see that version; it is the newest entry below, and their past "
                "attempts are unchanged.",
                "success",
            )
            return redirect(url_for("author.publications"))
    elif request.method == "POST":
        abort(400)
    restore = authoring.restore_preview(db.session, course=g.course, publication=publication)
    return render_template("author/publication_restore.html", course=g.course, restore=restore, form=form), status
