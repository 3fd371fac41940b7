"""The course's modules: adding one, renaming it, moving it up or down, deleting an empty one."""

from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_login import current_user

from app.author import bp
from app.author.draft_editing import form_page, one_click, opened_form, save_to_draft
from app.author.forms import ModuleForm, MoveForm
from app.extensions import db
from app.services import authoring


@bp.route("/courses/<course_slug>/modules/new", methods=["GET", "POST"])
def module_new():
    """Add a module at the end of the course."""
    form = ModuleForm()
    outcome = save_to_draft(
        form,
        lambda: authoring.module_add(
            db.session, course=g.course, slug=form.slug.data, title=form.title.data, user_id=current_user.id
        ),
    )
    if outcome.saved:
        flash(f"Module “{form.title.data}” added to the draft. Now add its first lesson.", "success")
        return redirect(url_for("author.index"))
    return form_page("author/module_edit.html", form, other=outcome.other, course_slug=g.course.slug, module=None)


@bp.route("/courses/<course_slug>/modules/<module_slug>/edit", methods=["GET", "POST"])
def module_edit(module_slug: str):
    """Rename a module."""
    data = authoring.draft_data(db.session, g.course)
    module = authoring.draft_module(data, module_slug)  # an unknown one is a 404 (NotInDraft)
    form = opened_form(ModuleForm, {**module, "opened_as": authoring.module_fingerprint(data, module_slug)})
    del form.slug
    outcome = save_to_draft(
        form,
        lambda: authoring.module_rename(
            db.session,
            course=g.course,
            module_slug=module_slug,
            title=form.title.data,
            user_id=current_user.id,
            opened_as=form.opened_as.data or None,
        ),
    )
    if outcome.saved:
        flash("Module renamed in the draft.", "success")
        return redirect(url_for("author.index"))
    return form_page("author/module_edit.html", form, other=outcome.other, course_slug=g.course.slug, module=module)


@bp.post("/courses/<course_slug>/modules/<module_slug>/move")
def module_move(module_slug: str):
    """Move a module up or down."""
    return one_click(
        lambda form: authoring.module_move(
            db.session, course=g.course, module_slug=module_slug, direction=form.direction.data, user_id=current_user.id
        ),
        "Module moved in the draft.",
        # Back to the module moved, not the page's top: the keyboard carries on from there.
        url_for("author.index", _anchor=f"tools-module-{module_slug}"),
        form_class=MoveForm,
    )


@bp.post("/courses/<course_slug>/modules/<module_slug>/delete")
def module_delete(module_slug: str):
    """Delete an empty module."""
    return one_click(
        lambda form: authoring.module_delete(
            db.session, course=g.course, module_slug=module_slug, user_id=current_user.id
        ),
        "Module deleted from the draft.",
        url_for("author.index"),
    )
