"""Authoring views: edit the course's draft, preview it, publish it.

Thin: parse the form, call one function of app/services/authoring/, flash and redirect; on a
broken rule put the service's errors beside their fields (forms.populate_errors) and answer 400.
The blueprint guard has already checked that the user is an admin, and ``load_course`` has put
the course named in the URL in ``g.course``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.author import bp
from app.author.forms import (
    BODY_MAX_LENGTH,
    CourseForm,
    LessonForm,
    MisconceptionForm,
    ModuleForm,
    MoveForm,
    QuestionForm,
    error_links,
    populate_errors,
    question_form_data,
    sources_text,
)
from app.errors import render_error
from app.extensions import db
from app.forms import EmptyForm, confirmed
from app.jobs.queue import huey
from app.models.types import utcnow
from app.services import authoring
from app.services.authoring import DraftData, DraftError, DraftInvalid, NothingToPublish, NotInDraft
from app.services.authoring.question_preview import question_preview
from app.services.course_media import media_sources
from app.services.default_course import DEFAULT_COURSE_FOLDER
from app.services.health import queue_state
from app.services.job_failures import failed_since
from app.services.progress import course_by_slug


@bp.errorhandler(NotInDraft)
def not_in_draft(error: NotInDraft):
    """An unknown module, lesson, question position or misconception is a 404.

    Confirming a removal of something no longer there (another admin, or another tab, removed
    it first) says so, rather than the bare "page not found".
    """
    if confirmed():
        return render_error(
            404,
            "Nothing was removed: it is no longer in the draft. Perhaps another admin, or you in another tab, "
            "removed it first.",
            title="Already removed",
            back=url_for("author.index"),
        )
    return render_error(404)


# --- the course named in the URL, loaded once per request --------------------------------------


@bp.url_value_preprocessor
def take_course_slug(endpoint: str | None, values: dict | None) -> None:
    """Take the course's slug out of the URL's values: views (export.py's too) read ``g.course``."""
    if values and "course_slug" in values:
        g.course_slug = values.pop("course_slug")


@bp.before_request
def load_course() -> None:
    """Load the course named in the URL, or answer 404.

    A before_request function rather than the preprocessor itself, so that it runs after the
    blueprint's guard (registered first, in app/author/__init__.py): a visitor who may not
    author is sent to log in or refused before any course is looked up, as before.
    """
    slug = g.pop("course_slug", None)
    if slug is not None:
        course = course_by_slug(db.session, slug)
        if course is None:
            abort(404)
        g.course = course


@bp.url_defaults
def add_course_slug(endpoint: str, values: dict) -> None:
    """A link from a course's page to another page of the same course need not name the course."""
    if (
        "course_slug" not in values
        and "course" in g
        and current_app.url_map.is_endpoint_expecting(endpoint, "course_slug")
    ):
        values["course_slug"] = g.course.slug


def _form_page(template: str, form, *, status: int | None = None, other=(), links=(), **context):
    """Render an edit page with every error listed at the top and shown beside its field.

    A POST that gets here did not save, so it answers 400 unless the caller says otherwise.
    """
    if status is None:
        status = 400 if request.method == "POST" else 200
    errors = error_links(form) + list(links)
    return render_template(template, form=form, errors=errors, other=list(other), **context), status


def _one_click(action, success: str, back: str, *, form_class=EmptyForm):
    """Run a button's action (move, remove, delete), flash the outcome and go back."""
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    try:
        action(form)
    except DraftInvalid as invalid:  # a button has no fields: every message goes in the flash
        flash(" ".join(invalid.other or [m for ms in invalid.field_errors.values() for m in ms]), "error")
    except NotInDraft:
        raise  # a 404 (see not_in_draft), not a message
    except DraftError as error:
        flash(str(error), "warning")
    else:
        flash(success, "success")
    return redirect(back)


# --- overview and publishing -------------------------------------------------------------------


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
        return _one_click(
            lambda form: authoring.draft_discard(db.session, course=g.course),
            "The draft was discarded: the course is as learners see it.",
            url_for("author.index"),
        )
    preview = authoring.publish_preview(db.session, course=g.course)
    page = render_template(
        "author/draft_discard.html", course=g.course, draft=draft, version=version, preview=preview, changed=changed
    )
    return page, 409 if changed else 200


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
    return _form_page("author/course_edit.html", form, other=other, course_slug=g.course.slug)


# --- modules -----------------------------------------------------------------------------------


@bp.route("/courses/<course_slug>/modules/new", methods=["GET", "POST"])
def module_new():
    """Add a module at the end of the course."""
    form = ModuleForm()
    other = []
    if form.validate_on_submit():
        try:
            authoring.module_add(
                db.session, course=g.course, slug=form.slug.data, title=form.title.data, user_id=current_user.id
            )
        except DraftInvalid as invalid:
            other = populate_errors(form, invalid)
        else:
            flash(f"Module “{form.title.data}” added to the draft. Now add its first lesson.", "success")
            return redirect(url_for("author.index"))
    return _form_page("author/module_edit.html", form, other=other, course_slug=g.course.slug, module=None)


@bp.route("/courses/<course_slug>/modules/<module_slug>/edit", methods=["GET", "POST"])
def module_edit(module_slug: str):
    """Rename a module."""
    data = authoring.draft_data(db.session, g.course)
    module = next((m for m in data["course"]["modules"] if m["slug"] == module_slug), None)
    if module is None:
        abort(404)
    opened_as = authoring.module_fingerprint(data, module_slug)
    form = ModuleForm(data={**module, "opened_as": opened_as}) if request.method == "GET" else ModuleForm()
    del form.slug
    other = []
    if form.validate_on_submit():
        try:
            authoring.module_rename(
                db.session,
                course=g.course,
                module_slug=module_slug,
                title=form.title.data,
                user_id=current_user.id,
                opened_as=form.opened_as.data or None,
            )
        except DraftInvalid as invalid:
            other = populate_errors(form, invalid)
        else:
            flash("Module renamed in the draft.", "success")
            return redirect(url_for("author.index"))
    return _form_page("author/module_edit.html", form, other=other, course_slug=g.course.slug, module=module)


@bp.post("/courses/<course_slug>/modules/<module_slug>/move")
def module_move(module_slug: str):
    """Move a module up or down."""
    return _one_click(
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
    return _one_click(
        lambda form: authoring.module_delete(
            db.session, course=g.course, module_slug=module_slug, user_id=current_user.id
        ),
        "Module deleted from the draft.",
        url_for("author.index"),
    )


# --- lessons -----------------------------------------------------------------------------------


def _lesson_page(form: LessonForm, *, data: DraftData, lesson_slug: str | None, status=None, other=()):
    lesson = data["lessons"].get(lesson_slug) if lesson_slug else None
    saved: Mapping[str, Any] = lesson["front"] if lesson else {}
    preview = _lesson_preview(form, data=data, lesson_slug=lesson_slug, unsaved=bool(form.preview.data))
    return _form_page(
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
        "review": authoring.draft_review(data),
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


def _lesson_form(data: DraftData, initial: dict | None) -> LessonForm:
    form = LessonForm(data=initial) if request.method == "GET" else LessonForm()
    form.set_modules(data["course"]["modules"])
    return form


@bp.route("/courses/<course_slug>/lessons/new", methods=["GET", "POST"])
def lesson_new():
    """Add a lesson at the end of a module."""
    data = authoring.draft_data(db.session, g.course)
    form = _lesson_form(data, {"module": request.args.get("module"), "minutes": 5})
    other = []
    if form.preview.data:
        return _lesson_page(form, data=data, lesson_slug=None, status=200)
    if form.validate_on_submit():
        try:
            authoring.lesson_add(
                db.session,
                course=g.course,
                module_slug=form.module.data,
                slug=form.slug.data,
                title=form.title.data,
                minutes=form.minutes.data,
                body=form.body.data,
                sources=form.source_inputs(),
                user_id=current_user.id,
            )
        except DraftInvalid as invalid:
            other = populate_errors(form, invalid)
        else:
            flash(f"Lesson “{form.title.data}” added to the draft.", "success")
            return redirect(url_for("author.lesson_edit", lesson_slug=form.slug.data))
    return _lesson_page(form, data=data, lesson_slug=None, other=other)


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
    other = []
    if form.preview.data:
        return _lesson_page(form, data=data, lesson_slug=lesson_slug, status=200)
    if form.validate_on_submit():
        try:
            authoring.lesson_update(
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
            )
        except DraftInvalid as invalid:
            other = populate_errors(form, invalid)
        else:
            flash("Lesson saved to the draft. Learners see it once you publish.", "success")
            return redirect(url_for("author.lesson_edit", lesson_slug=lesson_slug))
    return _lesson_page(form, data=data, lesson_slug=lesson_slug, other=other)


@bp.post("/courses/<course_slug>/lessons/<lesson_slug>/move")
def lesson_move(lesson_slug: str):
    """Move a lesson up or down, across into the next module at either end."""
    return _one_click(
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
        return _one_click(
            lambda form: authoring.lesson_remove(
                db.session, course=g.course, lesson_slug=lesson_slug, user_id=current_user.id
            ),
            "Lesson removed from the draft. Learners' history with it is kept when you publish.",
            url_for("author.index"),
        )
    lesson = authoring.draft_lesson(authoring.draft_data(db.session, g.course), lesson_slug)
    return render_template("author/lesson_remove.html", lesson_slug=lesson_slug, front=lesson["front"])


# --- questions ---------------------------------------------------------------------------------


def _question_view(lesson_slug: str, position: int | None):
    """Show or save one question of a lesson's quiz (position None: a new question)."""
    data = authoring.draft_data(db.session, g.course)
    lesson = authoring.draft_lesson(data, lesson_slug)
    question = authoring.draft_question(data, lesson_slug, position) if position else None
    form = QuestionForm(data=question_form_data(question)) if request.method == "GET" else QuestionForm()
    misconceptions = data["course"].get("misconceptions") or {}
    form.set_misconceptions(misconceptions)
    other = []
    # "Preview" shows the form's question as learners would see it, and saves nothing.
    if not form.preview.data and form.validate_on_submit():
        arguments = dict(
            course=g.course, lesson_slug=lesson_slug, question=form.to_input(form.kept_rows()), user_id=current_user.id
        )
        try:
            if position:
                opened_as = form.opened_as.data or None
                authoring.question_update(db.session, position=position, opened_as=opened_as, **arguments)
            else:
                position = authoring.question_add(db.session, **arguments)
        except DraftInvalid as invalid:
            other = populate_errors(form, invalid)
        else:
            flash(f"Question {position} saved to the draft.", "success")
            return redirect(url_for("author.lesson_edit", lesson_slug=lesson_slug))
    return _form_page(
        "author/question_edit.html",
        form,
        status=200 if form.preview.data else None,
        other=other,
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
    return _one_click(
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
        return _one_click(
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


# --- misconceptions ----------------------------------------------------------------------------


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
    return _form_page("author/misconception_edit.html", form, other=other, course_slug=g.course.slug, code=None)


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
    return _form_page(
        "author/misconception_edit.html", form, other=other, course_slug=g.course.slug, code=misconception_code
    )


@bp.post("/courses/<course_slug>/misconceptions/<misconception_code>/remove")
def misconception_remove(misconception_code: str):
    """Delete a misconception that no choice uses."""
    return _one_click(
        lambda form: authoring.misconception_remove(
            db.session, course=g.course, code=misconception_code, user_id=current_user.id
        ),
        f"Misconception “{misconception_code}” removed from the draft.",
        url_for("author.index"),
    )
