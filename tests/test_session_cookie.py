"""The remembered session cookies (app/session_cookie.py) open every cookie as Flask's own interface does."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Response

from app import session_cookie
from app.session_cookie import RememberingCookieSessionInterface, _vary_on_cookie

START = 1_800_000_000.0  # a fixed "now" for the signing times


@pytest.fixture
def clock(monkeypatch):
    """time.time() as a value the test moves (itsdangerous and the interface both read it)."""
    now = [START]
    monkeypatch.setattr("time.time", lambda: now[0])
    return now


def small_app(interface: SecureCookieSessionInterface | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k" * 40, PERMANENT_SESSION_LIFETIME=timedelta(seconds=100))
    app.session_interface = interface or RememberingCookieSessionInterface()

    @app.get("/set")
    def set_values():
        session["user"] = "abc"
        session["fresh"] = True
        return "set"

    @app.get("/flash")
    def set_list():
        session["_flashes"] = [("info", "hello")]
        return "flashed"

    @app.get("/read")
    def read():
        return dict(session)

    @app.get("/vary")
    def read_varying():
        return dict(session), {"Vary": "Accept-Encoding"}

    return app


def signed_cookie(app: Flask, path: str = "/set") -> str:
    client = app.test_client()
    client.get(path)
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def get(app: Flask, path: str, cookie: str):
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client.get(path)


def opened(app: Flask, cookie: str):
    """The session the app's interface opens for a request sending ``cookie``."""
    with app.test_request_context("/read", headers={"Cookie": f"session={cookie}"}):
        return app.session_interface.open_session(app, request)


def remembered_cookies(app: Flask) -> list[str]:
    interface = app.session_interface
    assert isinstance(interface, RememberingCookieSessionInterface)
    checked = interface._checked
    return [] if checked is None else list(checked.cookies)


def remembered(app: Flask) -> int:
    return len(remembered_cookies(app))


def test_a_remembered_cookie_opens_a_new_mutable_session_each_time(clock):
    app = small_app()
    cookie = signed_cookie(app)
    first = opened(app, cookie)
    assert remembered(app) == 1
    first["user"] = "changed"
    first["extra"] = 1
    second = opened(app, cookie)
    assert second is not first
    assert dict(second) == {"user": "abc", "fresh": True}
    assert not second.modified and not second.accessed
    assert get(app, "/read", cookie).json == {"user": "abc", "fresh": True}


@pytest.mark.parametrize("seconds", [101, -1])
def test_a_remembered_cookie_too_old_or_from_the_future_is_refused_as_flask_refuses_it(clock, seconds):
    app = small_app()
    flask_app = small_app(SecureCookieSessionInterface())
    cookie = signed_cookie(app)
    assert dict(opened(app, cookie)) == {"user": "abc", "fresh": True}  # now remembered
    clock[0] = START + 100
    assert dict(opened(app, cookie)) == dict(opened(flask_app, cookie)) == {"user": "abc", "fresh": True}
    clock[0] = START + seconds
    assert dict(opened(flask_app, cookie)) == {}
    assert dict(opened(app, cookie)) == {}


def test_a_session_holding_a_list_is_checked_every_time_not_remembered(clock):
    app = small_app()
    cookie = signed_cookie(app, "/flash")
    first = opened(app, cookie)
    first["_flashes"].append(("info", "more"))  # as flash() changes it, in place
    assert remembered(app) == 0
    assert opened(app, cookie)["_flashes"] == [("info", "hello")]


def test_a_tampered_cookie_is_refused_and_not_remembered(clock):
    app = small_app()
    cookie = signed_cookie(app)
    tampered = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    assert dict(opened(app, tampered)) == {}
    assert remembered(app) == 0
    assert dict(opened(app, cookie)) == {"user": "abc", "fresh": True}


def test_a_new_secret_key_forgets_the_cookies_checked_with_the_old_one(clock):
    app = small_app()
    cookie = signed_cookie(app)
    assert dict(opened(app, cookie)) == {"user": "abc", "fresh": True}
    app.secret_key = "n" * 40
    assert dict(opened(app, cookie)) == {}
    app.config["SECRET_KEY_FALLBACKS"] = ["k" * 40]  # the old key kept as a fallback: still good
    assert dict(opened(app, cookie)) == {"user": "abc", "fresh": True}


def test_at_most_so_many_cookies_are_remembered(clock, monkeypatch):
    monkeypatch.setattr(session_cookie, "REMEMBERED_COOKIES", 2)
    app = small_app()
    cookies = []
    for second in range(3):
        clock[0] = START + second  # a new signing time: another cookie string
        cookies.append(signed_cookie(app))
    for cookie in cookies:
        opened(app, cookie)
    assert remembered(app) == 2
    assert remembered_cookies(app) == cookies[1:]


@pytest.mark.parametrize("path", ["/read", "/vary", "/set", "/flash"])
@pytest.mark.parametrize("permanent", [False, True])
def test_the_response_headers_are_flasks(clock, path, permanent):
    """Vary and Set-Cookie as Flask's own interface writes them, for a session unchanged or changed."""
    headers = []
    for interface in (RememberingCookieSessionInterface(), SecureCookieSessionInterface()):
        app = small_app(interface)
        app.config["SESSION_REFRESH_EACH_REQUEST"] = True

        @app.before_request
        def make_permanent():
            if permanent:
                session.permanent = True

        cookie = signed_cookie(app)
        response = get(app, path, cookie)
        headers.append(sorted((name, value) for name, value in response.headers if name != "Content-Length"))
    expiries = [_expiry_taken_out(cookie_headers) for cookie_headers in headers]
    assert headers[0] == headers[1]
    # Expires is now plus the session's lifetime, read from the wall clock: two requests made a
    # moment apart may straddle a second.
    assert (expiries[0] is None) == (expiries[1] is None)
    if expiries[0] is not None:
        assert abs((expiries[0] - expiries[1]).total_seconds()) <= 2


def _expiry_taken_out(headers: list[tuple[str, str]]) -> datetime | None:
    """The Set-Cookie's Expires, taken out of ``headers`` in place (None if it has none)."""
    found = None
    for index, (name, value) in enumerate(headers):
        match = re.search(r"; Expires=([^;]+)", value) if name == "Set-Cookie" else None
        if match:
            found = parsedate_to_datetime(match.group(1))
            headers[index] = (name, value.replace(match.group(0), "; Expires=<when>"))
    return found


@pytest.mark.parametrize(
    "vary",
    [
        None,
        [],
        ["Accept-Encoding"],
        ["accept-encoding, cookie"],
        ["*"],
        [""],
        ["Origin", "Accept-Encoding"],
        ["COOKIE"],
    ],
)
def test_vary_cookie_is_added_as_werkzeugs_vary_add_adds_it(vary):
    ours, werkzeugs = Response("x"), Response("x")
    for response in (ours, werkzeugs):
        for value in vary or []:
            response.headers.add("Vary", value)

    _vary_on_cookie(ours)
    werkzeugs.vary.add("Cookie")

    assert ours.headers.getlist("Vary") == werkzeugs.headers.getlist("Vary")
