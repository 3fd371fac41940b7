"""app/security.py's hooks on a small app: the headers set once per response, the CSRF check per method."""

from __future__ import annotations

import pytest
from flask import Flask, Response
from flask_wtf import CSRFProtect

from app import security

DEFAULTS = {
    "Content-Security-Policy": security.CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000; includeSubDomains"


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k" * 40, WTF_CSRF_TIME_LIMIT=None)
    csrf = CSRFProtect(app)

    @app.get("/page")
    def page():
        return "<p>page</p>"

    @app.get("/own")
    def own_headers():
        # Its own policy (as the LTI launch sets), one name in lower case: kept, never doubled.
        response = Response("{}", mimetype="application/json")
        response.headers["Content-Security-Policy"] = "frame-ancestors https://lms.example"
        response.headers["x-frame-options"] = "SAMEORIGIN"
        return response

    @app.get("/json")
    def shared():
        return Response("{}", mimetype="application/json")

    @app.get("/cookie")
    def cookie():
        response = Response("{}", mimetype="application/json")
        response.set_cookie("seen", "1")
        return response

    @app.route("/form", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def form():
        return "done"

    @app.post("/exempt")
    @csrf.exempt
    def exempt():
        return "exempt"

    security.register(app)
    return app


def test_every_default_header_is_set_in_order(app):
    response = app.test_client().get("/page")
    names = [name for name, _ in response.headers]
    assert [name for name in names if name in DEFAULTS] == list(DEFAULTS)
    assert {name: response.headers[name] for name in DEFAULTS} == DEFAULTS
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"  # a page


def test_a_responses_own_headers_are_kept_whatever_their_case(app):
    response = app.test_client().get("/own")
    assert response.headers.getlist("Content-Security-Policy") == ["frame-ancestors https://lms.example"]
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Cache-Control" not in response.headers  # nobody's data: a cache may keep it


def test_hsts_follows_the_configuration_at_each_request(app):
    app.config["HSTS"] = True
    assert app.test_client().get("/json").headers.getlist("Strict-Transport-Security") == [HSTS]
    app.config["HSTS"] = False
    assert "Strict-Transport-Security" not in app.test_client().get("/json").headers


def test_a_response_setting_a_cookie_is_private(app):
    assert app.test_client().get("/cookie").headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in app.test_client().get("/json").headers


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_the_csrf_check_still_refuses_every_unsafe_method_without_a_token(app, method):
    assert app.test_client().open("/form", method=method).status_code == 400


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_methods_skip_the_csrf_check(app, method):
    assert app.test_client().open("/form", method=method).status_code == 200


def test_an_exempt_view_and_a_changed_method_list_are_still_obeyed(app):
    assert app.test_client().post("/exempt").status_code == 200
    app.config["WTF_CSRF_METHODS"] = {"POST", "PUT", "PATCH", "DELETE", "GET"}
    assert app.test_client().get("/form").status_code == 400
