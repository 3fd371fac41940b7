"""The authoring home and the draft as a whole: each course's draft with what publishing it would
change, publishing it, and discarding it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.author import bp
from app.author.draft_editing import one_click
from app.extensions import db
from app.forms import EmptyForm, confirmed
from app.jobs.queue import huey
from app.models.types import utcnow
from app.services import authoring
from app.services.authoring import DraftInvalid, NothingToPublish
from app.services.default_course import DEFAULT_COURSE_FOLDER
from app.services.health import queue_state
from app.services.job_failures import failed_since


@bp.get("/")
def index():
    """Each course as its draft stands, with what publishing would change, the last day's failed
    jobs, and a warning when jobs wait with no worker running (read from the queue, not the database)."""
    return render_template(
        "author/index.html",
        overviews=authoring.course_overviews(db.session),
        course_folder=DEFAULT_COURSE_FOLDER,
        failed_jobs=failed_since(db.session, utcnow() - timedelta(days=1)),
        queue=queue_state(huey),
    )


@bp.route("/courses/<course_slug>/publish", methods=["GET", "POST"])
def publish():
    """GET: list exactly what publishing would change. POST: publish the draft."""
    form = EmptyForm()
    status = 200
    if form.validate_on_submit():
        try:
            authoring.publish(db.session, course=g.course, user_id=current_user.id)
        except NothingToPublish as nothing:
            flash(str(nothing), "info")
            return redirect(url_for("author.index"))
        except DraftInvalid:
            status = 400  # the page below lists the problems
        else:
            flash("Published. Learners now see the new version; their past attempts are unchanged.", "success")
            return redirect(url_for("author.index"))
    elif request.method == "POST":
        abort(400)
    preview = authoring.publish_preview(db.session, course=g.course)
    return render_template("author/publish.html", course=g.course, preview=preview, form=form), status


@bp.route("/courses/<course_slug>/discard", methods=["GET", "POST"])
def draft_discard():
    """Ask first, listing every unpublished change; once confirmed, throw them all away."""
    draft = authoring.draft_get(db.session, g.course)
    version = str(draft.version) if draft else ""
    # The confirmation names the draft's version it listed: a draft saved again since (another
    # admin's edit) is listed afresh rather than thrown away unseen.
    changed = confirmed() and request.form.get("version", version) != version
    if confirmed() and not changed:
        return one_click(
            lambda form: authoring.draft_discard(db.session, course=g.course),
            "The draft was discarded: the course is as learners see it.",
            url_for("author.index"),
        )
    preview = authoring.publish_preview(db.session, course=g.course)
    page = render_template(
        "author/draft_discard.html", course=g.course, draft=draft, version=version, preview=preview, changed=changed
    )
    return page, 409 if changed else 200
