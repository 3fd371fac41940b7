"""The course's images: upload one, list them with the Markdown that shows each, delete an unused one.

Thin, like the other authoring views: the checks (by content, never by name), the names and
what counts as used live in app/services/course_media.py. The blueprint guard has checked that
the user is an admin and ``course_in_url.load_course`` has put the course in ``g.course``.
"""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import StringField, SubmitField
from wtforms.validators import Length, Optional

from app.author import bp
from app.errors import render_error
from app.extensions import db
from app.forms import EmptyForm
from app.services.course_media import (
    MAX_NAME_LENGTH,
    MediaInUse,
    MediaRefused,
    media_delete,
    media_list,
    media_upload,
)

# Room for the rest of the upload's form (CSRF token, name, multipart boundaries) beside the image.
FORM_ROOM = 64 * 1024
UPLOAD_ENDPOINT = "author.media"


class MediaUploadForm(FlaskForm):
    """An image file, and the name it should have in the course if not the file's own."""

    image = FileField("Image file", validators=[FileRequired(message="Choose an image file to upload.")])
    name = StringField(
        "Name in the course (optional)",
        validators=[Optional(), Length(max=MAX_NAME_LENGTH - 5, message="Keep the name to 95 characters or fewer.")],
    )
    submit = SubmitField("Upload the image")


def _size_text(count: int) -> str:
    return f"{count / (1024 * 1024):g} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


@bp.record_once
def _allow_image_uploads(state: BlueprintSetupState) -> None:
    """Let the upload page alone take bodies up to the image limit, above MAX_CONTENT_LENGTH.

    The check must be first among the app's before_request functions: CSRFProtect's reads the
    form, and would refuse a body over the site-wide limit before any view of ours ran.
    """
    state.app.before_request_funcs.setdefault(None, []).insert(0, _image_upload_limit)


def _image_upload_limit() -> None:
    if request.endpoint == UPLOAD_ENDPOINT and request.method == "POST":
        request.max_content_length = current_app.config["MEDIA_MAX_BYTES"] + FORM_ROOM


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    """413 with a page that says what the limit is, for an image too big even to read."""
    if request.endpoint != UPLOAD_ENDPOINT:
        return render_error(413)
    limit = _size_text(current_app.config["MEDIA_MAX_BYTES"])
    return render_error(
        413, f"Images can be at most {limit}. Save the image smaller (fewer pixels, or as JPEG or WebP) and try again."
    )


def _media_page(form: MediaUploadForm, status: int = 200):
    return (
        render_template(
            "author/media.html",
            course=g.course,
            form=form,
            items=media_list(db.session, course=g.course),
            limit=_size_text(current_app.config["MEDIA_MAX_BYTES"]),
            errors=[(getattr(form, name).id, " ".join(messages)) for name, messages in form.errors.items()],
        ),
        status,
    )


@bp.route("/courses/<course_slug>/media", methods=["GET", "POST"], endpoint="media")
def media_page():
    """GET: the course's images, each with its Markdown to copy. POST: upload an image."""
    form = MediaUploadForm()
    if request.method == "GET":
        return _media_page(form)
    if not form.validate_on_submit():
        return _media_page(form, 400)  # no file chosen, or a name too long (CSRF is checked before any view)
    upload = form.image.data
    try:
        image = media_upload(
            db.session,
            course=g.course,
            data=upload.read(),
            filename=upload.filename or "",
            name=form.name.data or "",
            user_id=current_user.id,
            max_bytes=current_app.config["MEDIA_MAX_BYTES"],
        )
    except MediaRefused as refused:
        getattr(form, refused.field).errors = [refused.message]
        return _media_page(form, refused.status)
    flash(f"Image “{image.name}” uploaded. Copy its Markdown below into a lesson and describe the image.", "success")
    return redirect(url_for("author.media") + f"#media-{image.id}")


@bp.post("/courses/<course_slug>/media/<media_name>/delete")
def media_remove(media_name: str):
    """Delete an image that no lesson shows, published or in the draft."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        media_delete(db.session, course=g.course, name=media_name)
    except LookupError:
        abort(404)
    except MediaInUse as in_use:
        flash(str(in_use), "warning")
    else:
        flash(f"Image “{media_name}” deleted.", "success")
    return redirect(url_for("author.media"))
