"""Serve a course's images: /media/<course>/<version>/<name>.

Public, like the course's own files: an image is course content, the same for everyone, and
never anyone's data, so the view never looks at who is asking (no session is read, no cookie is
set) and any cache may keep the answer. ``version`` is the start of the image's SHA-256, so the
URL changes whenever the bytes do: browsers keep each one for a year without asking again, and
an old or unknown URL is a 404. An image that only a draft shows cannot be found by guessing.

The response can never run anything: the stored bytes passed Pillow's checks as PNG, JPEG or
WebP; the content type is the one those checks found, ``nosniff`` forbids the browser a guess
of its own, and the Content-Security-Policy ``default-src 'none'; sandbox`` gives a document
opened at this URL no script, no plug-in and no origin.
"""

from flask import abort, current_app, request

from app.extensions import db
from app.main import bp
from app.services.course_media import media_for_serving

ONE_YEAR = 365 * 24 * 60 * 60
IMAGE_POLICY = "default-src 'none'; sandbox"


@bp.get("/media/<course_slug>/<version>/<media_name>")
def course_image(course_slug: str, version: str, media_name: str):
    """Send one course image with a year-long, immutable cache; 404 for any other name or version."""
    image = media_for_serving(db.session, course_slug=course_slug, version=version, name=media_name)
    if image is None:
        abort(404)
    response = current_app.response_class(image.data, mimetype=image.content_type)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["Content-Security-Policy"] = IMAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="{image.name}"'
    response.set_etag(image.sha256)
    return response.make_conditional(request)
