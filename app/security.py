"""Security headers on every response, and SQLite foreign keys switched on."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, Response, abort, g, request, session
from sqlalchemy import event
from sqlalchemy.engine import Engine

# No inline script or style anywhere, and nothing from another origin.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@event.listens_for(Engine, "connect")
def _enable_sqlite_foreign_keys(dbapi_connection, connection_record):
    """SQLite ignores ON DELETE rules unless foreign keys are switched on per connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def register(app: Flask) -> None:
    """Refuse input no browser form sends, and add the security headers to every response."""

    @app.before_request
    def refuse_nul_characters():
        # No link or form of ours has a NUL, and PostgreSQL cannot compare or store one in text:
        # a NUL anywhere in the path, query string or form is refused before any query runs.
        if "\x00" in request.path or b"\x00" in unquote_to_bytes(request.query_string):
            abort(400)
        if request.method == "POST" and any("\x00" in key + value for key, value in request.form.items(multi=True)):
            abort(400)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("HSTS"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if is_private(response):
            response.headers["Cache-Control"] = "no-store"
        return response


def is_private(response: Response) -> bool:
    """Whether a response may hold someone's own data, so no cache may keep it.

    Every page (they hold personal progress, and a signed-in user's name), every response
    built for a signed-in user (their downloads: the user was loaded to answer it), and every
    response that changes the session or sets a cookie (logging in and out). What never
    looked at who is asking, such as the fingerprinted assets and the health check, may be
    cached. (Flask marks the session read on every request, so that flag cannot tell.)
    """
    user = g.get("_login_user")  # set once Flask-Login has loaded the request's user
    return (
        response.mimetype == "text/html"
        # The API's answers to a token: its owner's data, as a signed-in user's pages are.
        or g.get("api_token") is not None
        # is_anonymous, not is_authenticated: that reads is_active, a query once the row expired.
        or (user is not None and not user.is_anonymous)
        or session.modified
        or "Set-Cookie" in response.headers
    )
