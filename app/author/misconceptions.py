"""The course's misconceptions, which wrong choices can reveal: defining one, editing what the
learner and the counsellor are told, and removing one that no choice uses.

The blueprint guard has already checked that the user is an admin, and
``course_in_url.load_course`` has put the course named in the URL in ``g.course``.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user

from app.author import bp
from app.author.draft_editing import form_page, one_click
from app.author.forms import MisconceptionForm, populate_errors
from app.extensions import db
from app.services import authoring
from app.services.authoring import DraftInvalid


@bp.route("/courses/<course_slug>/misconceptions/new", methods=["GET", "POST"])
def misconception_new():
    """Define a misconception that wrong choices can reveal."""
    form = MisconceptionForm()
    other = []
    if form.validate_on_submit():
        try:
            authoring.misconception_add(
                db.session,
                course=g.course,
                code=form.code.data,
                learner=form.learner.data,
                counsellor=form.counsellor.data,
                title=form.title.data or "",
                safety_critical=bool(form.safety_critical.data),
                user_id=current_user.id,
            )
        except DraftInvalid as invalid:
            other = populate_errors(form, invalid)
        else:
            flash(f"Misconception “{form.code.data}” added to the draft.", "success")
            return redirect(url_for("author.index"))
    return form_page("author/misconception_edit.html", form, other=other, course_slug=g.course.slug, code=None)


@bp.route("/courses/<course_slug>/misconceptions/<misconception_code>/edit", methods=["GET", "POST"])
def misconception_edit(misconception_code: str):
    """Edit a misconception's short title, safety mark, and what the learner and the counsellor are told."""
    data = authoring.draft_data(db.session, g.course)
    texts = data["course"].get("misconceptions", {}).get(misconception_code)
    if texts is None:
        abort(404)
    opened_as = authoring.misconception_fingerprint(data, misconception_code)
    form = MisconceptionForm(data={**texts, "opened_as": opened_as}) if request.method == "GET" else MisconceptionForm()
    del form.code
    other = []
    if form.validate_on_submit():
        try:
            authoring.misconception_update(
                db.session,
                course=g.course,
                code=misconception_code,
                learner=form.learner.data,
                counsellor=form.counsellor.data,
                title=form.title.data or "",
                safety_critical=bool(form.safety_critical.data),
                user_id=current_user.id,
                opened_as=form.opened_as.data or None,
            )
        except DraftInvalid as invalid:
            other = populate_errors(form, invalid)
        else:
            flash(f"Misconception “{misconception_code}” saved to the draft.", "success")
            return redirect(url_for("author.index"))
    return form_page(
        "author/misconception_edit.html", form, other=other, course_slug=g.course.slug, code=misconception_code
    )


@bp.post("/courses/<course_slug>/misconceptions/<misconception_code>/remove")
def misconception_remove(misconception_code: str):
    """Delete a misconception that no choice uses."""
    return one_click(
        lambda form: authoring.misconception_remove(
            db.session, course=g.course, code=misconception_code, user_id=current_user.id
        ),
        f"Misconception “{misconception_code}” removed from the draft.",
        url_for("author.index"),
    )
