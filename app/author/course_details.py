"""The course's own details: title, summary, pass mark, content review and shared help text."""

from __future__ import annotations

from decimal import Decimal

from flask import flash, g, redirect, url_for
from flask_login import current_user

from app.author import bp
from app.author.draft_editing import form_page, opened_form, save_to_draft
from app.author.forms import CourseForm
from app.extensions import db
from app.services import authoring


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
    form = opened_form(CourseForm, initial)
    outcome = save_to_draft(
        form,
        lambda: authoring.course_update(
            db.session,
            course=g.course,
            title=form.title.data,
            summary=form.summary.data,
            pass_mark=float(form.pass_mark.data) / 100,
            review=form.review_input(),
            help=form.help.data or "",
            user_id=current_user.id,
            opened_as=form.opened_as.data or None,
        ),
    )
    if outcome.saved:
        flash("Course details saved to the draft.", "success")
        return redirect(url_for("author.index"))
    return form_page(
        "author/course_edit.html",
        form,
        other=outcome.other,
        course_slug=g.course.slug,
        review=authoring.draft_review(data),
    )
