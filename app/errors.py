"""Friendly error pages in the site's layout; never a traceback."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.extensions import db

MESSAGES = {
    400: ("Something in that request was not right", "Please go back, reload the page and try again."),
    403: ("You cannot open this page", "Your account does not have access to it."),
    404: ("Page not found", "We could not find that page. It may have moved, or the link may be wrong."),
    405: ("That action is not allowed here", "Please use the buttons and links on the page."),
    413: ("That was too large", "What you sent was bigger than we accept."),
    429: ("Too many tries", "Please wait a little and try again."),
    500: ("Something went wrong on our side", "Please try again in a moment."),
    503: (
        "We are having trouble right now",
        "We could not reach our database. Nothing you sent was half-saved. Please try again in a minute.",
    ),
}


def render_error(status: int, detail: str | None = None):
    """Render the error page for a status code."""
    title, message = MESSAGES.get(status, MESSAGES[500])
    return render_template("errors/error.html", status=status, title=title, message=detail or message), status


def register(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400, "This form had expired or was sent from elsewhere. Please reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        if status not in MESSAGES:
            return error
        return render_error(status)

    @app.errorhandler(SQLAlchemyError)
    def database_error(error: SQLAlchemyError):
        # Undo whatever the request had started, so nothing is left half-written.
        db.session.rollback()
        app.logger.exception("Database error")
        response, status = render_error(503)
        return response, status, {"Retry-After": "30"}

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error")
        return render_error(500)
