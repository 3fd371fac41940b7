"""Download the published course as a zip in the courses/ file format, images included."""

from flask import Response, g

from app.author import bp
from app.extensions import db
from app.services.course_export import course_export_files, course_files_zip


@bp.get("/courses/<course_slug>/export.zip")
def export_course():
    """Send the published course as <slug>.zip (a course folder: course.yaml, lessons/ and media/)."""
    course = g.course  # loaded from the URL by course_in_url.load_course (404 if there is none)
    archive = course_files_zip(course_export_files(db.session, course), course.slug)
    response = Response(archive, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{course.slug}.zip"'
    return response
