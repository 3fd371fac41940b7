"""The questions of a lesson's quiz: adding one, editing one with all its choices (previewed as
learners will see it), moving one, and removing one (asked first).
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.author import bp
from app.author.draft_editing import DraftSave, form_page, one_click, opened_form, save_to_draft
from app.author.forms import MoveForm, QuestionForm, question_form_data
from app.extensions import db
from app.forms import confirmed
from app.services import authoring
from app.services.authoring.question_preview import question_preview


def _question_view(lesson_slug: str, position: int | None):
    """Show or save one question of a lesson's quiz (position None: a new question)."""
    data = authoring.draft_data(db.session, g.course)
    lesson = authoring.draft_lesson(data, lesson_slug)
    question = authoring.draft_question(data, lesson_slug, position) if position else None
    form = opened_form(QuestionForm, question_form_data(question))
    misconceptions = data["course"].get("misconceptions") or {}
    form.set_misconceptions(misconceptions)

    def save() -> int:
        """Save the form's question in its place, or a new one at the end of the quiz; its position."""
        arguments = dict(
            course=g.course, lesson_slug=lesson_slug, question=form.to_input(form.kept_rows()), user_id=current_user.id
        )
        if position:
            authoring.question_update(db.session, position=position, opened_as=form.opened_as.data or None, **arguments)
            return position
        return authoring.question_add(db.session, **arguments)

    # "Preview" shows the form's question as learners would see it, and saves nothing.
    outcome = DraftSave[int](saved=False) if form.preview.data else save_to_draft(form, save)
    if outcome.saved:
        flash(f"Question {outcome.returned} saved to the draft.", "success")
        return redirect(url_for("author.lesson_edit", lesson_slug=lesson_slug))
    return form_page(
        "author/question_edit.html",
        form,
        status=200 if form.preview.data else None,
        other=outcome.other,
        links=[("choices", message) for message in form.choice_errors],
        course_slug=g.course.slug,
        lesson_slug=lesson_slug,
        lesson_title=lesson["front"]["title"],
        position=position if question else None,
        number=position or len(lesson["front"].get("quiz") or []) + 1,
        choice_errors=form.choice_errors,
        preview=question_preview(form.to_input(form.kept_rows()), misconceptions),
        preview_unsaved=request.method == "POST",  # a POST shown again saved nothing
    )


@bp.route("/courses/<course_slug>/lessons/<lesson_slug>/questions/new", methods=["GET", "POST"])
def question_new(lesson_slug: str):
    """Add a question to the end of a lesson's quiz."""
    return _question_view(lesson_slug, None)


@bp.route("/courses/<course_slug>/lessons/<lesson_slug>/questions/<id:position>/edit", methods=["GET", "POST"])
def question_edit(lesson_slug: str, position: int):
    """Edit a question and all its choices as one unit."""
    return _question_view(lesson_slug, position)


@bp.post("/courses/<course_slug>/lessons/<lesson_slug>/questions/<id:position>/move")
def question_move(lesson_slug: str, position: int):
    """Move a question up or down in its quiz."""
    return one_click(
        lambda form: authoring.question_move(
            db.session,
            course=g.course,
            lesson_slug=lesson_slug,
            position=position,
            direction=form.direction.data,
            user_id=current_user.id,
        ),
        "Question moved in the draft.",
        # Back to the question at its new place (a move past either end leaves the page's top).
        url_for(
            "author.lesson_edit",
            lesson_slug=lesson_slug,
            _anchor=f"tools-question-{max(1, position + (1 if request.form.get('direction') == 'down' else -1))}",
        ),
        form_class=MoveForm,
    )


@bp.route("/courses/<course_slug>/lessons/<lesson_slug>/questions/<id:position>/remove", methods=["GET", "POST"])
def question_remove(lesson_slug: str, position: int):
    """Ask first, showing the question; once confirmed, take it out of the quiz.

    On publish it is retired if learners answered it; their answers are kept.
    """
    data = authoring.draft_data(db.session, g.course)
    lesson = authoring.draft_lesson(data, lesson_slug)
    question = authoring.draft_question(data, lesson_slug, position)
    fingerprint = authoring.question_fingerprint(question)
    # A question is named by its place: the confirmation says which question it showed, so that
    # one removed meanwhile by another admin does not make this remove the next one instead.
    changed = confirmed() and request.form.get("opened_as", fingerprint) != fingerprint
    if confirmed() and not changed:
        return one_click(
            lambda form: authoring.question_remove(
                db.session, course=g.course, lesson_slug=lesson_slug, position=position, user_id=current_user.id
            ),
            "Question removed from the draft. Learners' past answers to it are kept when you publish.",
            url_for("author.lesson_edit", lesson_slug=lesson_slug),
        )
    page = render_template(
        "author/question_remove.html",
        lesson_slug=lesson_slug,
        lesson_title=lesson["front"]["title"],
        position=position,
        question=question,
        fingerprint=fingerprint,
        changed=changed,
    )
    return page, 409 if changed else 200
