"""The course's misconceptions, which wrong choices can reveal: defining one, editing what the
learner and the counsellor are told, and removing one that no choice uses.
"""

from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_login import current_user

from app.author import bp
from app.author.draft_editing import form_page, one_click, opened_form, save_to_draft
from app.author.forms import MisconceptionForm
from app.extensions import db
from app.services import authoring


@bp.route("/courses/<course_slug>/misconceptions/new", methods=["GET", "POST"])
def misconception_new():
    """Define a misconception that wrong choices can reveal."""
    form = MisconceptionForm()
    outcome = save_to_draft(
        form,
        lambda: authoring.misconception_add(
            db.session,
            course=g.course,
            code=form.code.data,
            learner=form.learner.data,
            counsellor=form.counsellor.data,
            title=form.title.data or "",
            safety_critical=bool(form.safety_critical.data),
            user_id=current_user.id,
        ),
    )
    if outcome.saved:
        flash(f"Misconception “{form.code.data}” added to the draft.", "success")
        return redirect(url_for("author.index"))
    return form_page("author/misconception_edit.html", form, other=outcome.other, course_slug=g.course.slug, code=None)


@bp.route("/courses/<course_slug>/misconceptions/<misconception_code>/edit", methods=["GET", "POST"])
def misconception_edit(misconception_code: str):
    """Edit a misconception's short title, safety mark, and what the learner and the counsellor are told."""
    data = authoring.draft_data(db.session, g.course)
    texts = authoring.draft_misconception(data, misconception_code)  # an unknown one is a 404 (NotInDraft)
    opened_as = authoring.misconception_fingerprint(data, misconception_code)
    form = opened_form(MisconceptionForm, {**texts, "opened_as": opened_as})
    del form.code
    outcome = save_to_draft(
        form,
        lambda: authoring.misconception_update(
            db.session,
            course=g.course,
            code=misconception_code,
            learner=form.learner.data,
            counsellor=form.counsellor.data,
            title=form.title.data or "",
            safety_critical=bool(form.safety_critical.data),
            user_id=current_user.id,
            opened_as=form.opened_as.data or None,
        ),
    )
    if outcome.saved:
        flash(f"Misconception “{misconception_code}” saved to the draft.", "success")
        return redirect(url_for("author.index"))
    return form_page(
        "author/misconception_edit.html", form, other=outcome.other, course_slug=g.course.slug, code=misconception_code
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
