"""How the API answers: tokens only, problem documents for every error, ETags, and its own headers."""

import json

import psycopg
import pytest
from sqlalchemy import exc as sqlalchemy_exc
from sqlalchemy import update

import app.api.courses as course_views
from app import create_app
from app.extensions import db
from app.models import Role, User
from tests.api_support import bearer, make_token
from tests.conftest import COURSE_SLUG, create_user, login, make_test_config

OUTLINE = f"/api/v1/courses/{COURSE_SLUG}"
PROBLEM = "application/problem+json"


@pytest.fixture
def learner_token(app, course, learner):
    return make_token(app, learner, "read:progress")


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"] == "about:blank" and body["title"] and body["detail"]
    return body


def test_the_outline_is_public_and_its_etag_answers_304(client, course):
    response = client.get(OUTLINE)
    assert response.status_code == 200
    body = response.get_json()
    assert body["slug"] == COURSE_SLUG and [m["lessons"][0]["number"] for m in body["modules"]] == [1, 3]
    again = client.get(OUTLINE, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and not again.data and again.headers["ETag"] == response.headers["ETag"]
    assert client.get(OUTLINE, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_without_a_token_an_operation_that_needs_one_is_401(client, course):
    response = client.get("/api/v1/me/progress")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "header", ["Bearer nlt_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer nlt_" + "A" * 43]
)
def test_a_token_that_does_not_work_is_401_even_where_none_is_needed(client, course, header):
    response = client.get(OUTLINE, headers={"Authorization": header})
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="api", error="invalid_')


def test_a_token_without_the_scope_is_403_saying_which(client, learner_token):
    response = client.get("/api/v1/clients", headers=bearer(learner_token))
    assert "read:clients" in assert_problem(response, 403)["detail"]
    assert (
        response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="insufficient_scope", scope="read:clients"'
    )


def test_a_signed_in_browser_gets_nothing_without_a_token(client, course, learner, learner_token):
    """The login cookie is not a credential here, so no page can make a browser call the API as its user."""
    assert login(client).status_code == 302
    assert_problem(client.get("/api/v1/me/progress"), 401)
    assert client.get("/api/v1/me/progress", headers=bearer(learner_token)).status_code == 200


def test_a_post_needs_no_csrf_token_but_a_bearer_token(client, app, course):
    admin = create_user(app, "admin@example.org", role=Role.ADMIN)
    url = f"/api/v1/courses/{COURSE_SLUG}/draft/publish"
    assert_problem(client.post(url), 401)
    assert client.post(url, headers=bearer(make_token(app, admin, "write:draft"))).status_code == 409


def test_a_deactivated_accounts_token_is_401_at_once(client, app, learner, learner_token):
    assert client.get("/api/v1/me/progress", headers=bearer(learner_token)).status_code == 200
    with app.app_context():
        db.session.execute(update(User).where(User.id == learner).values(is_active=False))
        db.session.commit()
    assert_problem(client.get("/api/v1/me/progress", headers=bearer(learner_token)), 401)


def test_unknown_paths_and_methods_are_problems_and_pages_keep_their_html(client, course):
    assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert_problem(client.get("/api/v1/courses/no-such-course"), 404)
    response = client.delete(OUTLINE)
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_a_body_over_the_limit_is_413(client, app, course):
    admin = create_user(app, "admin@example.org", role=Role.ADMIN)
    big = {"summary": "x" * (1024 * 1024 + 1)}
    response = client.patch(
        f"/api/v1/courses/{COURSE_SLUG}/draft", json=big, headers=bearer(make_token(app, admin, "write:draft"))
    )
    assert_problem(response, 413)


@pytest.mark.parametrize("text", ["a\x00b", "\ud800"])
def test_text_no_database_can_store_is_400(client, app, course, text):
    admin = create_user(app, "admin@example.org", role=Role.ADMIN)
    token = bearer(make_token(app, admin, "write:draft"))
    body = '{"title": "' + ("\\u0000" if "\x00" in text else "\\ud800") + '"}'
    response = client.patch(
        f"/api/v1/courses/{COURSE_SLUG}/draft", data=body, content_type="application/json", headers=token
    )
    assert_problem(response, 400)


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000 + "]" * 5000,  # deeper than the JSON parser goes
        '{"title": ' + "[" * 900 + "]" * 900 + "}",  # parsed, but far deeper than any change
    ],
    ids=["past-the-parser", "past-the-checks"],
)
def test_json_nested_too_deeply_is_a_400_problem(client, app, course, body):
    admin = create_user(app, "admin@example.org", role=Role.ADMIN)
    token = bearer(make_token(app, admin, "write:draft"))
    response = client.patch(
        f"/api/v1/courses/{COURSE_SLUG}/draft", data=body, content_type="application/json", headers=token
    )
    assert "nested too deeply" in assert_problem(response, 400)["detail"]


def test_bad_json_is_a_400_problem(client, app, course):
    admin = create_user(app, "admin@example.org", role=Role.ADMIN)
    token = bearer(make_token(app, admin, "write:draft"))
    response = client.patch(
        f"/api/v1/courses/{COURSE_SLUG}/draft", data="{not json", content_type="application/json", headers=token
    )
    assert assert_problem(response, 400)["errors"]


def test_a_failure_is_a_500_problem_and_a_lost_database_a_503(client, course, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(course_views, "course_outline_by_slug", broken)
    body = assert_problem(client.get(OUTLINE), 500)
    assert "a bug" not in body["detail"]

    def lost(*args, **kwargs):
        raise sqlalchemy_exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("connection failed"))

    monkeypatch.setattr(course_views, "course_outline_by_slug", lost)
    response = client.get(OUTLINE)
    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "30"


def test_too_many_requests_from_one_token_are_429(app, database_url, course, learner):
    limited = create_app(make_test_config(database_url, RATELIMIT_ENABLED=True, RATELIMIT_API="3 per minute"))
    token = make_token(limited, learner, "read:progress")
    client = limited.test_client()
    statuses = [client.get("/api/v1/me/progress", headers=bearer(token)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = client.get("/api/v1/me/progress", headers=bearer(token))
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    # Another token has its own budget.
    assert (
        client.get("/api/v1/me/progress", headers=bearer(make_token(limited, learner, "read:progress"))).status_code
        == 200
    )
    with limited.app_context():
        db.engine.dispose()


def test_answers_to_a_token_are_no_store_and_never_framed(client, learner_token):
    response = client.get("/api/v1/me/progress", headers=bearer(learner_token))
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "Set-Cookie" not in response.headers


def test_the_description_and_the_docs_page_are_served_by_the_app(client, course):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.get_json()["openapi"] == "3.1.0"
    assert client.get("/api/v1/openapi.json", headers={"If-None-Match": spec.headers["ETag"]}).status_code == 304
    docs = client.get("/api/v1/docs")
    page = docs.get_data(as_text=True)
    assert docs.status_code == 200 and "script-src 'self'" in docs.headers["Content-Security-Policy"]
    # Drawn on the server: no script, no inline style, nothing loaded from elsewhere.
    assert "<script" not in page and "style=" not in page and 'src="http' not in page
    for path in spec.get_json()["paths"]:
        assert path in page


def _references(node) -> list[str]:
    """Every "$ref" in a JSON document."""
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [ref for value in node.values() for ref in _references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _references(value)]
    return []


def test_every_reference_in_the_description_names_a_component_it_holds(client):
    """A tool reading the description can follow each $ref: the ETag header of 304s was once
    referenced but never written (it was registered after the response naming it)."""
    spec = client.get("/api/v1/openapi.json").get_json()
    references = set(_references(spec))
    assert "#/components/headers/ETAG" in references
    for reference in references:
        node = spec
        for part in reference.removeprefix("#/").split("/"):
            assert part in node, f"{reference} names nothing in the description"
            node = node[part]


def test_the_description_is_the_same_each_time_it_is_read(app, client):
    """It is written when first asked for (PlatformApi.spec), and only once."""
    first = client.get("/api/v1/openapi.json").get_data()
    assert client.get("/api/v1/openapi.json").get_data() == first
    assert app.test_client().get("/api/v1/openapi.json").get_data() == first


def test_flask_openapi_print_gives_the_whole_description(app, runner):
    """flask-smorest's own command reads the spec directly: it too gets every operation."""
    printed = runner.invoke(args=["openapi", "print"])
    assert printed.exit_code == 0, printed.output
    served = app.test_client().get("/api/v1/openapi.json").get_json()
    assert json.loads(printed.output) == served
    assert "/api/v1/me/progress" in served["paths"]


def test_retry_after_only_on_a_refused_request(app, database_url, course, learner):
    """An answer that was given carries the limit's X-RateLimit-* headers but no Retry-After
    (RFC 9110: it means "ask again after this"); the 429 beyond the limit does."""
    limited = create_app(make_test_config(database_url, RATELIMIT_ENABLED=True, RATELIMIT_API="2 per minute"))
    token = make_token(limited, learner, "read:progress")
    client = limited.test_client()
    given = client.get("/api/v1/me/progress", headers=bearer(token))
    assert given.status_code == 200
    assert given.headers["X-RateLimit-Remaining"] == "1"
    assert "Retry-After" not in given.headers
    client.get("/api/v1/me/progress", headers=bearer(token))
    refused = client.get("/api/v1/me/progress", headers=bearer(token))
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    with limited.app_context():
        db.engine.dispose()
