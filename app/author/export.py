"""Download the published course as a zip in the courses/ file format."""

from flask import Response, abort

from app.author import bp
from app.extensions import db
from app.services.course_export import course_data_to_files, course_files_zip, course_to_data
from app.services.progress import course_by_slug


@bp.get("/courses/<course_slug>/export.zip")
def export_course(course_slug: str):
    """Send the published course as <slug>.zip (a course folder: course.yaml and lessons/)."""
    course = course_by_slug(db.session, course_slug)
    if course is None:
        abort(404)
    archive = course_files_zip(course_data_to_files(course_to_data(db.session, course)), course.slug)
    response = Response(archive, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{course.slug}.zip"'
    return response
