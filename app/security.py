"""Security headers on every response, the pages' CSRF tokens, and SQLite foreign keys switched on."""

from __future__ import annotations

from collections import OrderedDict
from contextlib import suppress
from urllib.parse import unquote_to_bytes

from flask import Flask, Response, abort, g, request, session
from flask_wtf.csrf import generate_csrf
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


# Set on every response that has not set its own: (name, its lower case, value), built once.
_SECURITY_HEADERS = tuple(
    (name, name.lower(), value)
    for name, value in (
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    )
)
_WITH_HSTS = (
    *_SECURITY_HEADERS,
    ("Strict-Transport-Security", "strict-transport-security", "max-age=31536000; includeSubDomains"),
)


@event.listens_for(Engine, "connect")
def _enable_sqlite_foreign_keys(dbapi_connection, connection_record):
    """SQLite ignores ON DELETE rules unless foreign keys are switched on per connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


# Signed CSRF tokens remembered per worker, one per session secret, the least recently used dropped.
SIGNED_CSRF_TOKENS = 4096


def remembered_csrf_token(app: Flask):
    """The ``csrf_token()`` templates call: Flask-WTF's, signing each session's secret once per worker.

    Every page signs the session's CSRF secret for its log-out form (an HMAC with a derived
    key, about a tenth of a millisecond). With ``WTF_CSRF_TIME_LIMIT`` off, as configured, a
    signed token never expires, so the one signed for a secret earlier is as good as a new
    one: it is checked by the same key against the same secret. Keyed by that secret (a
    random value in the session, its own per login), so no one is given another's token.
    With a time limit set, every call signs afresh, as Flask-WTF does.
    """
    signed: OrderedDict[str, str] = OrderedDict()
    field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")

    def csrf_token() -> str:
        if app.config.get("WTF_CSRF_TIME_LIMIT") is not None or field in g:
            return generate_csrf()
        secret = session.get(field)
        if isinstance(secret, str) and (remembered := signed.get(secret)) is not None:
            with suppress(KeyError):  # dropped by another thread meanwhile: still a good token
                signed.move_to_end(secret)
            setattr(g, field, remembered)  # the token forms on this page get from generate_csrf()
            return remembered
        token: str = generate_csrf()  # makes the session's secret when it has none
        secret = session.get(field)
        if isinstance(secret, str):
            signed[secret] = token
            if len(signed) > SIGNED_CSRF_TOKENS:
                with suppress(KeyError):  # another thread of a threaded server emptied it first
                    signed.popitem(last=False)
        return token

    return csrf_token


def register(app: Flask) -> None:
    """Refuse input no browser form sends, add the security headers to every response, remember CSRF tokens."""
    csrf_token = remembered_csrf_token(app)
    app.jinja_env.globals["csrf_token"] = csrf_token
    # Flask-WTF hands templates its own through a context processor, which globals cannot
    # override; one registered later replaces it.
    app.context_processor(lambda: {"csrf_token": csrf_token})
    check_csrf_only_on_unsafe_methods(app)

    @app.before_request
    def refuse_nul_characters():
        # No link or form of ours has a NUL, and PostgreSQL cannot compare or store one in text:
        # a NUL anywhere in the path, query string or form is refused before any query runs.
        # The request once, not through the proxy three times (typed as the Request it stands for).
        current = request._get_current_object()  # type: ignore[attr-defined]
        if "\x00" in current.path or b"\x00" in unquote_to_bytes(current.query_string):
            abort(400)
        if current.method == "POST" and any("\x00" in key + value for key, value in current.form.items(multi=True)):
            abort(400)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # What headers.setdefault does for each, with the names present looked at once: each
        # setdefault searched the list again and raised a KeyError (~45 us a request, issue 19).
        headers = response.headers
        present = {name.lower() for name, _ in headers}
        wanted = _WITH_HSTS if app.config.get("HSTS") else _SECURITY_HEADERS
        headers.extend([(name, value) for name, lower, value in wanted if lower not in present])
        if _is_private(response, has_cookie="set-cookie" in present):
            headers["Cache-Control"] = "no-store"
        return response


def check_csrf_only_on_unsafe_methods(app: Flask) -> None:
    """Run CSRFProtect's before-request check only for the methods it checks (``WTF_CSRF_METHODS``).

    Flask-WTF's check looks up the view's exemptions first and only then returns for a GET
    (about 0.01 ms on every page); for the methods it checks it runs as before, unchanged.
    """
    functions = app.before_request_funcs.get(None, [])
    for index, function in enumerate(functions):
        if getattr(function, "__qualname__", "") != "CSRFProtect.init_app.<locals>.csrf_protect":
            continue

        def csrf_protect(_check=function) -> None:
            if request.method in app.config["WTF_CSRF_METHODS"]:
                _check()

        functions[index] = csrf_protect


def is_private(response: Response) -> bool:
    """Whether a response may hold someone's own data, so no cache may keep it.

    Every page (they hold personal progress, and a signed-in user's name), every response
    built for a signed-in user (their downloads: the user was loaded to answer it), and every
    response that changes the session or sets a cookie (logging in and out). What never
    looked at who is asking, such as the fingerprinted assets and the health check, may be
    cached. (Flask marks the session read on every request, so that flag cannot tell.)
    """
    return _is_private(response, has_cookie="Set-Cookie" in response.headers)


def _is_private(response: Response, *, has_cookie: bool) -> bool:
    """``is_private``, told whether the response sets a cookie (the caller has looked at its headers)."""
    if has_cookie or response.mimetype == "text/html":
        return True
    user = g.get("_login_user")  # set once Flask-Login has loaded the request's user
    return (
        # The API's answers to a token: its owner's data, as a signed-in user's pages are.
        g.get("api_token") is not None
        # is_anonymous, not is_authenticated: that reads is_active, a query once the row expired.
        or (user is not None and not user.is_anonymous)
        or session.modified
    )
