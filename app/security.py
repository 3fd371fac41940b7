"""Security headers on every response, and SQLite foreign keys switched on."""

from __future__ import annotations

from flask import Flask, Response, abort, request
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
        # No form of ours can send a NUL; PostgreSQL cannot store one in text either.
        values = list(request.args.values()) + (list(request.form.values()) if request.method == "POST" else [])
        if any("\x00" in value for value in values):
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
        if response.mimetype == "text/html":
            # Pages hold personal progress: never cache them in shared caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
