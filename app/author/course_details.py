"""The course's own details: title, summary, pass mark, content review and shared help text.

The blueprint guard has already checked that the user is an admin, and
``course_in_url.load_course`` has put the course named in the URL in ``g.course``.
"""

from __future__ import annotations

from decimal import Decimal

from flask import flash, g, redirect, request, url_for
from flask_login import current_user

from app.author import bp
from app.author.draft_editing import form_page
from app.author.forms import CourseForm, populate_errors
from app.extensions import db
from app.services import authoring
from app.services.authoring import DraftInvalid


@bp.route("/courses/<course_slug>/edit", methods=["GET", "POST"])
def course_edit():
    """Edit the course's title, summary, pass mark, content review and shared help text."""
    data = authoring.draft_data(db.session, g.course)
    raw = data["course"]
    percent = Decimal(f"{raw['pass_mark'] * 100:g}")
    initial = {
        **raw,
        **(raw.get("review") or {}),
        "pass_mark": percent,
        "opened_as": authoring.course_fingerprint(data),
    }
    form = CourseForm(data=initial) if request.method == "GET" else CourseForm()
    other = []
    if form.validate_on_submit():
        try:
            authoring.course_update(
                db.session,
                course=g.course,
                title=form.title.data,
                summary=form.summary.data,
                pass_mark=float(form.pass_mark.data) / 100,
                review=form.review_input(),
                help=form.help.data or "",
                user_id=current_user.id,
                opened_as=form.opened_as.data or None,
            )
        except DraftInvalid as invalid:
            other = populate_errors(form, invalid)
        else:
            flash("Course details saved to the draft.", "success")
            return redirect(url_for("author.index"))
    return form_page("author/course_edit.html", form, other=other, course_slug=g.course.slug)
