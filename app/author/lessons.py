"""The course's lessons: adding one, editing its text and details with a preview as learners will
see it, the live preview beside the editor, moving a lesson, and removing it (asked first).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.author import bp
from app.author.draft_editing import form_page, one_click, opened_form, save_to_draft
from app.author.forms import BODY_MAX_LENGTH, LessonForm, MoveForm, sources_text
from app.extensions import db
from app.forms import confirmed
from app.services import authoring
from app.services.authoring import DraftData
from app.services.course_media import media_sources


def _lesson_page(form: LessonForm, *, data: DraftData, lesson_slug: str | None, status=None, other=()):
    """The lesson editor: the form with its errors, the lesson's questions, and its preview."""
    lesson = data["lessons"].get(lesson_slug) if lesson_slug else None
    saved: Mapping[str, Any] = lesson["front"] if lesson else {}
    preview = _lesson_preview(form, data=data, lesson_slug=lesson_slug, unsaved=bool(form.preview.data))
    return form_page(
        "author/lesson_edit.html",
        form,
        status=status,
        other=other,
        course_slug=g.course.slug,
        lesson_slug=lesson_slug,
        quiz=saved.get("quiz", []),
        preview=preview if preview["body"] else None,
    )


def _lesson_preview(form: LessonForm, *, data: DraftData, lesson_slug: str | None, unsaved: bool) -> dict:
    """The lesson's page as learners will see it: of the form's text (unsaved) or of the saved draft."""
    order = authoring.draft_lesson_order(data)
    lesson = data["lessons"].get(lesson_slug) if lesson_slug else None
    saved: Mapping[str, Any] = lesson["front"] if lesson else {}
    # An unsaved preview shows what is in the form; otherwise the saved draft, title included.
    body = form.body.data if unsaved else (lesson["body"] if lesson else "")
    sources = authoring.sources_preview(form.source_inputs()) if unsaved else (saved.get("sources") or [])
    images = media_sources(db.session, g.course)  # the course's images, shown as learners will see them
    return {
        "body": body,
        "html": authoring.lesson_preview_html(body or "", media=images),
        "unsaved": unsaved,
        "number": order.index(lesson_slug) + 1 if lesson_slug in order else len(order) + 1,
        "total": len(order) + (0 if lesson_slug in order else 1),
        "title": (form.title.data if unsaved else saved.get("title")) or "",
        "minutes": form.minutes.data if unsaved else saved.get("minutes"),
        # The rest of the learner's page: this lesson's sources, the course's help and review.
        "sources": sources,
        "help_html": authoring.draft_help_html(data, media=images),
        # As learners will see it once this lesson's edit is published (a change under the same review is noted).
        "review": authoring.review_once_edited(data, course=g.course),
    }


@bp.post("/courses/<course_slug>/lessons/preview")
def lesson_live_preview():
    """The lesson editor's form as learners would see it, as an HTML fragment for the live preview.

    static/js/author-preview.js posts the whole form (CSRF token included) as the admin types;
    ``?lesson=`` names the lesson being edited (none: a new one). Saves nothing.
    """
    form = LessonForm()
    if "body" not in request.form:
        abort(400)
    if len(form.body.data or "") > BODY_MAX_LENGTH:
        abort(413)  # longer than the editor would save: not worth rendering
    data = authoring.draft_data(db.session, g.course)
    lesson_slug = request.args.get("lesson") or None
    if lesson_slug is not None:
        authoring.draft_lesson(data, lesson_slug)  # an unknown lesson is a 404 (NotInDraft)
    preview = _lesson_preview(form, data=data, lesson_slug=lesson_slug, unsaved=True)
    return render_template("author/_lesson_preview.html", preview=preview)


def _lesson_form(data: DraftData, initial: Mapping[str, Any]) -> LessonForm:
    """The lesson editor's form, its module choices the draft's modules."""
    form = opened_form(LessonForm, initial)
    form.set_modules(data["course"]["modules"])
    return form


@bp.route("/courses/<course_slug>/lessons/new", methods=["GET", "POST"])
def lesson_new():
    """Add a lesson at the end of a module."""
    data = authoring.draft_data(db.session, g.course)
    form = _lesson_form(data, {"module": request.args.get("module"), "minutes": 5})
    if form.preview.data:
        return _lesson_page(form, data=data, lesson_slug=None, status=200)
    outcome = save_to_draft(
        form,
        lambda: authoring.lesson_add(
            db.session,
            course=g.course,
            module_slug=form.module.data,
            slug=form.slug.data,
            title=form.title.data,
            minutes=form.minutes.data,
            body=form.body.data,
            sources=form.source_inputs(),
            user_id=current_user.id,
        ),
    )
    if outcome.saved:
        flash(f"Lesson “{form.title.data}” added to the draft.", "success")
        return redirect(url_for("author.lesson_edit", lesson_slug=form.slug.data))
    return _lesson_page(form, data=data, lesson_slug=None, other=outcome.other)


@bp.route("/courses/<course_slug>/lessons/<lesson_slug>/edit", methods=["GET", "POST"])
def lesson_edit(lesson_slug: str):
    """Edit a lesson's text and details, preview it as learners will see it, list its questions."""
    data = authoring.draft_data(db.session, g.course)
    lesson = authoring.draft_lesson(data, lesson_slug)
    initial = {
        **lesson["front"],
        "body": lesson["body"],
        "module": authoring.draft_lesson_module(data, lesson_slug),
        "sources": sources_text(lesson["front"].get("sources")),
        "opened_as": authoring.lesson_fingerprint(data, lesson_slug),
    }
    form = _lesson_form(data, initial)
    del form.slug
    if form.preview.data:
        return _lesson_page(form, data=data, lesson_slug=lesson_slug, status=200)
    outcome = save_to_draft(
        form,
        lambda: authoring.lesson_update(
            db.session,
            course=g.course,
            lesson_slug=lesson_slug,
            title=form.title.data,
            minutes=form.minutes.data,
            body=form.body.data,
            module_slug=form.module.data,
            sources=form.source_inputs(),
            user_id=current_user.id,
            opened_as=form.opened_as.data or None,
        ),
    )
    if outcome.saved:
        flash("Lesson saved to the draft. Learners see it once you publish.", "success")
        return redirect(url_for("author.lesson_edit", lesson_slug=lesson_slug))
    return _lesson_page(form, data=data, lesson_slug=lesson_slug, other=outcome.other)


@bp.post("/courses/<course_slug>/lessons/<lesson_slug>/move")
def lesson_move(lesson_slug: str):
    """Move a lesson up or down, across into the next module at either end."""
    return one_click(
        lambda form: authoring.lesson_move(
            db.session, course=g.course, lesson_slug=lesson_slug, direction=form.direction.data, user_id=current_user.id
        ),
        "Lesson moved in the draft.",
        # Back to the lesson moved, not the page's top: the keyboard carries on from there.
        url_for("author.index", _anchor=f"tools-lesson-{lesson_slug}"),
        form_class=MoveForm,
    )


@bp.route("/courses/<course_slug>/lessons/<lesson_slug>/remove", methods=["GET", "POST"])
def lesson_remove(lesson_slug: str):
    """Ask first, naming the lesson; once confirmed, take it out of the draft.

    On publish it is retired if learners have history with it, which is kept.
    """
    if confirmed():
        return one_click(
            lambda form: authoring.lesson_remove(
                db.session, course=g.course, lesson_slug=lesson_slug, user_id=current_user.id
            ),
            "Lesson removed from the draft. Learners' history with it is kept when you publish.",
            url_for("author.index"),
        )
    lesson = authoring.draft_lesson(authoring.draft_data(db.session, g.course), lesson_slug)
    return render_template("author/lesson_remove.html", lesson_slug=lesson_slug, front=lesson["front"])
