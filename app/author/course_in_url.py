"""The course named in an authoring URL: taken out of the URL, loaded once per request, put back in links.

Every ``/author/courses/<course_slug>/…`` view reads the course from ``g.course``; none takes the
slug as an argument.
"""

from __future__ import annotations

from flask import abort, current_app, g

from app.author import bp
from app.extensions import db
from app.services.progress import course_by_slug


@bp.url_value_preprocessor
def take_course_slug(endpoint: str | None, values: dict | None) -> None:
    """Take the course's slug out of the URL's values: the views read ``g.course``."""
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
