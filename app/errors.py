"""Friendly error pages in the site's layout; never a traceback, nor the server's bare 500.

Requests for the JSON API (/api/) get the same statuses as problem documents instead of pages
(app/api/problems.py).

Only the database being unreachable is a 503 with Retry-After (``is_connection_error`` says
which errors are that): waiting and trying again helps then, and the page says so. Any other
database error (a broken constraint, bad SQL, a value the column refuses) is a bug: a 500,
logged with its traceback, and the person sees only the friendly page.

The ordinary pages extend base.html, whose navigation reads the signed-in user. While the
database is unreachable that read fails again inside the error handler, and the server would
answer with its own bare 500: so an outage is answered with errors/unavailable.html, which
reads nothing from the database, and any error page that fails to render falls back to it.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import urlsplit

import psycopg
from flask import Flask, current_app, g, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import exc as sqlalchemy_exc
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.api.problems import is_api_request, problem_for, problem_response
from app.extensions import db
from app.jobs.queue import queue_errors

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
# The job queue (Redis) not answering: what was saved before it stays saved, so say only what to do
# (a page that saves before it queues says what was saved instead: ``queued`` in app/jobs/queue.py).
QUEUE_UNAVAILABLE = (
    "Part of our system is not answering, so we could not finish that. If you were sending something, "
    "check whether it went through before sending it again. Please try again in a minute."
)
RETRY_AFTER_SECONDS = "30"
# With the drivers' own errors, for the few paths where SQLAlchemy does not wrap them.
DATABASE_ERRORS = (SQLAlchemyError, sqlite3.Error, psycopg.Error)
# PostgreSQL's codes for "no connection": class 08 (connection exception) by prefix, and the server
# shutting down (57P01 fast shutdown, 57P02 crash), still starting up (57P03) or full (53300).
# Not the rest of psycopg's OperationalError: a lock or statement timeout, a full disk or a program
# limit are answered by a server that is up, and waiting 30 seconds is no cure for them.
POSTGRES_CONNECTION_STATES = ("57P01", "57P02", "57P03", "53300")
SQLITE_CANTOPEN = 14  # "unable to open database file": the file or its folder is missing or unreadable


def is_connection_error(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached (a 503), not that a statement failed.

    - SQLAlchemy marks an error ``connection_invalidated`` when the dialect sees the connection
      die under a statement (psycopg: the connection closed or broken; SQLite: a closed database).
    - Connecting does not mark it, so the driver's own error (``orig``) is read: psycopg's
      OperationalError without a SQLSTATE is raised by the client (refused, timed out, lost), one
      with a SQLSTATE is the server's own words, a connection one only for the codes above; for
      SQLite only "unable to open database file" (SQLITE_CANTOPEN) means the database is not there.
    - The pool giving up waiting for a free connection (``TimeoutError``) and a pool event
      refusing a dead connection (``DisconnectionError``) are no connection either.

    Anything else (IntegrityError, ProgrammingError, DataError, a lock timeout...) is False: a bug
    or a bad row, which a retry does not cure.
    """
    if isinstance(error, (sqlalchemy_exc.TimeoutError, sqlalchemy_exc.DisconnectionError)):
        return True
    if isinstance(error, sqlalchemy_exc.DBAPIError):
        return error.connection_invalidated or (error.orig is not None and is_connection_error(error.orig))
    if isinstance(error, psycopg.OperationalError):
        state = error.sqlstate
        return state is None or state.startswith("08") or state in POSTGRES_CONNECTION_STATES
    if isinstance(error, sqlite3.OperationalError):
        return getattr(error, "sqlite_errorcode", None) == SQLITE_CANTOPEN
    return False


def render_error(status: int, detail: str | None = None, *, title: str | None = None, back: str | None = None):
    """Render the error page for a status code (a problem document for the API).

    ``title`` and ``detail`` replace the status's own words; ``back``: a page of this site to
    offer going back to.
    """
    default_title, message = MESSAGES.get(status, MESSAGES[500])
    title, message = title or default_title, detail or message
    if is_api_request():
        return problem_response(status, message), status
    if status == 503:
        return _render_unavailable(status, title, message), status
    try:
        return render_template("errors/error.html", status=status, title=title, message=message, back=back), status
    except Exception as failure:  # noqa: BLE001 - the error page itself must not fail
        current_app.logger.exception("The error page for %s could not be rendered", status)
        _rollback()
        if is_connection_error(failure):
            # base.html reads the signed-in user: the database is unreachable too, so say that.
            title, message = MESSAGES[503]
            return _render_unavailable(503, title, message), 503, {"Retry-After": RETRY_AFTER_SECONDS}
        return _render_unavailable(status, title, message), status


def _render_unavailable(status: int, title: str, message: str) -> str:
    """The error page that reads nothing from the database; plain HTML if even that fails."""
    try:
        return render_template("errors/unavailable.html", status=status, title=title, message=message)
    except Exception:  # noqa: BLE001 - last resort: still the site's words, never a traceback
        current_app.logger.exception("The plain error page could not be rendered")
        return (
            f'<!doctype html><html lang="en-GB"><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<h1>{escape(title)}</h1><p>{escape(message)}</p></html>"
        )


def _rollback() -> None:
    """Undo whatever the request had started; a dead connection is the pool's to discard."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; the error page must still go out
        current_app.logger.exception("Rollback failed")


FORM_NOT_SENT = (
    "Nothing was saved. The page may have been open a long time, you may have been logged out, or the "
    "form came from another site. Go back to the page and send the form again. You may need to log in "
    "first, and to fill the form in again: a quiz or review keeps the answers you ticked in this "
    "browser tab."
)


def _page_the_form_was_on() -> str | None:
    """The page of this site the refused form was sent from (its Referer, which the Referrer-Policy
    sends for this site's pages only), as a path and query; None when it is not known or not ours."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def redirect_to_saved(location: str):
    """Redirect to what the request has just committed (a quiz attempt), and keep to it.

    Once the work is saved, a failure in a later step of the same request (the database
    going away as the response is finished) must not report it as failed: the error handlers
    send the user to ``location`` too.
    """
    g.saved_location = location
    return redirect(location)


def _saved_location() -> str | None:
    return g.get("saved_location")


def database_unavailable():
    """The 503 answer for an unreachable database: the site's page with Retry-After."""
    response, status = render_error(503)
    return response, status, {"Retry-After": RETRY_AFTER_SECONDS}


def register(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        # Back to the page the form was on, where it can be sent again: a page that needs a login
        # asks for one first and then comes back, so this helps whether or not they are still logged in.
        return render_error(400, FORM_NOT_SENT, title="This form was not sent", back=_page_the_form_was_on())

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if isinstance(error, InternalServerError) and isinstance(error.original_exception, DATABASE_ERRORS):
            # A database error outside a view (after the response was made): told apart the same way.
            return database_error(error.original_exception)
        if is_api_request():
            return problem_for(error)
        status = error.code or 500
        if status == 500 and (location := _saved_location()):
            return redirect(location)
        if status not in MESSAGES:
            return error
        return render_error(status)

    @app.errorhandler(SQLAlchemyError)
    @app.errorhandler(sqlite3.Error)
    @app.errorhandler(psycopg.Error)
    def database_error(error: Exception):
        # Undo whatever the request had started, so nothing is left half-written.
        _rollback()
        unreachable = is_connection_error(error)
        app.logger.exception("Database unreachable" if unreachable else "Database error", exc_info=error)
        if location := _saved_location():
            return redirect(location)
        if unreachable:
            return database_unavailable()
        # A statement that failed on a working database is a bug: the plain 500, nothing of the SQL shown.
        return render_error(500)

    for queue_error in queue_errors():

        @app.errorhandler(queue_error)
        def queue_unreachable(error: Exception):
            # The queue (Redis) refused or timed out: waiting helps, as for the database, so a 503.
            _rollback()
            app.logger.exception("Job queue unreachable", exc_info=error)
            if location := _saved_location():
                return redirect(location)
            response, status = render_error(503, QUEUE_UNAVAILABLE)
            return response, status, {"Retry-After": RETRY_AFTER_SECONDS}

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        _rollback()
        app.logger.exception("Unhandled error", exc_info=error)
        if location := _saved_location():
            return redirect(location)
        return render_error(500)
