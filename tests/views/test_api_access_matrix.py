"""Every API operation against every role, each with and without the scope it needs: the status each must get.

The columns are tokens: none at all, then each role's token with its scope, and each role's token
without it (a learner's token with the counsellor's scope and a counsellor's with the learner's,
as after a change of role; an admin's with only one of its scopes). test_access_matrix's
"every route is in a matrix" check reads ``api_matrix`` too, so a new API route without rows
fails there. The page matrix holds the pages (/me/tokens, the docs); here the API alone.
"""

import secrets

import pytest

from app.extensions import db
from app.models import ApiToken, User
from app.services.api_tokens import TOKEN_PREFIX, token_create, token_hash
from tests.conftest import login
from tests.views.test_access_matrix import EMAILS, world  # noqa: F401 - world is a fixture

# holder -> (account, scopes)
HOLDERS = {
    "none": None,
    "learner": ("learner", ["read:progress"]),
    "other_learner": ("other_learner", ["read:progress"]),
    "learner_without": ("learner", ["read:clients"]),  # made while a counsellor, say
    "counsellor": ("counsellor", ["read:clients"]),
    "other_counsellor": ("other_counsellor", ["read:clients"]),
    "counsellor_without": ("counsellor", ["read:progress"]),  # made while a learner
    "admin_clients": ("admin", ["read:clients"]),
    "admin_course": ("admin", ["read:course"]),
    "admin_analytics": ("admin", ["read:analytics"]),
    "admin_draft": ("admin", ["write:draft"]),
}
COLUMNS = list(HOLDERS)
N = 401  # no token


def api_matrix(w):
    """(method, url) -> expected status per token holder, in COLUMNS order."""
    c = f"/api/v1/courses/{w['course']}"
    learner, other, counsellor = (w["ids"][key] for key in ("learner", "other_learner", "counsellor"))
    attempts, unknown = f"lessons/{w['first']}/attempts", "lessons/nope/attempts"
    #   columns: none  learner other  l-wo  couns  other  c-wo  a-cli a-crs a-ana a-drf
    return {
        ("GET", c): [200] * 11,  # public
        ("GET", "/api/v1/courses/nope"): [404] * 11,
        ("GET", "/api/v1/me"): [N] + [200] * 10,  # any working token
        ("GET", "/api/v1/me/progress"): [N, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403],
        ("GET", "/api/v1/me/attempts"): [N, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403],
        ("GET", "/api/v1/me/progress?course=nope"): [N, 404, 404, 403, 403, 403, 403, 403, 403, 403, 403],
        ("GET", "/api/v1/clients"): [N, 403, 403, 403, 200, 200, 403, 200, 403, 403, 403],
        # The learner shares with the counsellor only; admins see every learner.
        ("GET", f"/api/v1/clients/{learner}"): [N, 403, 403, 403, 200, 404, 403, 200, 403, 403, 403],
        ("GET", f"/api/v1/clients/{other}"): [N, 403, 403, 403, 404, 404, 403, 200, 403, 403, 403],
        ("GET", f"/api/v1/clients/{counsellor}"): [N, 403, 403, 403, 404, 404, 403, 404, 403, 403, 403],
        ("GET", "/api/v1/clients/999999"): [N, 403, 403, 403, 404, 404, 403, 404, 403, 403, 403],
        # A client's attempts at a lesson: as the report; a lesson the course lacks is none.
        ("GET", f"/api/v1/clients/{learner}/{attempts}"): [N, 403, 403, 403, 200, 404, 403, 200, 403, 403, 403],
        ("GET", f"/api/v1/clients/{other}/{attempts}"): [N, 403, 403, 403, 404, 404, 403, 200, 403, 403, 403],
        ("GET", f"/api/v1/clients/{learner}/{unknown}"): [N, 403, 403, 403, 404, 404, 403, 404, 403, 403, 403],
        ("GET", f"{c}/analytics"): [N, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403],
        ("GET", "/api/v1/courses/nope/analytics"): [N, 403, 403, 403, 403, 403, 403, 403, 403, 404, 403],
        ("GET", f"{c}/draft"): [N, 403, 403, 403, 403, 403, 403, 403, 200, 403, 403],
        ("GET", "/api/v1/courses/nope/draft"): [N, 403, 403, 403, 403, 403, 403, 403, 404, 403, 403],
        # Changes: an empty change leaves the draft as it is; a lesson the draft lacks is a 404.
        ("PATCH", f"{c}/draft"): [N, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200],
        ("PATCH", f"{c}/draft/lessons/{w['first']}"): [N, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200],
        ("PATCH", f"{c}/draft/lessons/nope"): [N, 403, 403, 403, 403, 403, 403, 403, 403, 403, 404],
        ("POST", f"{c}/draft/publish"): [N, 403, 403, 403, 403, 403, 403, 403, 403, 403, 409],  # nothing to publish
    }


@pytest.fixture
def tokens(app, world):  # noqa: F811
    """A token for each holder; those "without" are as if made under the account's earlier role."""
    made = {}
    with app.app_context():
        for holder, spec in HOLDERS.items():
            if spec is None:
                continue
            account, scopes = spec
            user = db.session.get(User, world["ids"][account])
            if holder.endswith("_without"):
                # The service would refuse this scope to the account's role today: written directly.
                text = TOKEN_PREFIX + secrets.token_urlsafe(32)
                db.session.add(
                    ApiToken(user_id=user.id, name=holder, scopes=" ".join(scopes), token_hash=token_hash(text))
                )
                db.session.commit()
            else:
                _, text = token_create(db.session, user=user, name=holder, scopes=scopes)
            made[holder] = text
        db.session.remove()
    return made


def _call(client, method: str, url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "GET":
        return client.get(url, headers=headers)
    return client.open(url, method=method, headers=headers, json={} if method == "PATCH" else None)


@pytest.mark.parametrize("holder", COLUMNS)
def test_each_operation_answers_each_token_as_it_must(app, world, tokens, holder):  # noqa: F811
    client = app.test_client()
    wrong = []
    for (method, url), statuses in api_matrix(world).items():
        expected = statuses[COLUMNS.index(holder)]
        response = _call(client, method, url, tokens.get(holder))
        if response.status_code != expected:
            wrong.append(f"{method} {url}: got {response.status_code}, expected {expected}")
        if expected >= 400:
            assert response.mimetype == "application/problem+json", (method, url)
        if expected == N:
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, url)
        if expected == 403:
            assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"], (method, url)
    assert not wrong, "\n".join(wrong)


def test_the_login_cookie_is_never_a_token(app, world, tokens):  # noqa: F811
    """Signed in to the site as the admin, the API still answers as to a stranger: no cookie, no CSRF."""
    client = app.test_client()
    assert login(client, EMAILS["admin"]).status_code == 302
    wrong = []
    for (method, url), statuses in api_matrix(world).items():
        response = _call(client, method, url, None)
        if response.status_code != statuses[0]:
            wrong.append(f"{method} {url}: got {response.status_code}, expected {statuses[0]}")
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_every_api_route(app, world):  # noqa: F811
    """Each API route has rows here (test_access_matrix fails on a route in neither matrix)."""
    covered = {url.split("?")[0] for _, url in api_matrix(world)}
    api_rules = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api_")}
    placeholders = {
        "<course_slug>": world["course"],
        "<lesson_slug>": world["first"],
        "<id:learner_id>": str(world["ids"]["learner"]),
    }
    missing = []
    for rule in api_rules - {"/api/v1/openapi.json", "/api/v1/docs"}:
        url = rule
        for placeholder, value in placeholders.items():
            url = url.replace(placeholder, value)
        if url not in covered:
            missing.append(rule)
    assert not missing, f"API routes missing from the API matrix: {missing}"


def test_every_operation_refuses_a_query_parameter_it_does_not_take(app, world, tokens):  # noqa: F811
    """Each operation, asked by every token, with a parameter nobody takes: a 422 naming it, before
    the operation runs, for every token it would answer (or say 404 to); the same 401 or 403 as
    without it for every other, so nobody without the right token learns what it takes.
    Operations without a query schema (the outline, /me, the draft's) ignored it, so ``?cours=other``
    read the first course without a word."""
    client = app.test_client()
    wrong = []
    for (method, url), statuses in api_matrix(world).items():
        asked = f"{url}{'&' if '?' in url else '?'}not_a_parameter=1"
        for holder, without in zip(COLUMNS, statuses, strict=True):
            expected = without if without in (401, 403) else 422
            response = _call(client, method, asked, tokens.get(holder))
            named = {entry.get("parameter") for entry in (response.get_json() or {}).get("errors", [])}
            if response.status_code != expected or (expected == 422 and "not_a_parameter" not in named):
                wrong.append(f"{method} {asked} as {holder}: {response.status_code} {named}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_a_change_sent_with_a_parameter_nobody_takes_is_not_made(app, world, tokens):  # noqa: F811
    client = app.test_client()
    draft = f"/api/v1/courses/{world['course']}/draft"
    headers = {"Authorization": f"Bearer {tokens['admin_draft']}"}
    refused = client.patch(f"{draft}?dry_run=1", headers=headers, json={"title": "A title nobody asked for"})
    assert refused.status_code == 422
    read = client.get(draft, headers={"Authorization": f"Bearer {tokens['admin_course']}"})
    assert read.status_code == 200 and "A title nobody asked for" not in read.get_data(as_text=True)
