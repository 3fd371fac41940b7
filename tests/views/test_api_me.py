"""A learner's own data through the API: what their own pages show, and nobody else's."""

import pytest

from app.extensions import db
from tests.api_support import bearer, make_token
from tests.conftest import COURSE_SLUG, count_queries, csrf_token, lesson_slugs, login, quiz_form, submit_quiz


@pytest.fixture
def learner_token(app, course, learner):
    return bearer(make_token(app, learner, "read:progress", name="My tracker"))


@pytest.fixture
def attempts(app, client, course, learner):
    """The learner fails the first quiz, then passes it: two attempts, the first lesson complete."""
    login(client)
    first = lesson_slugs(app)[0]
    submit_quiz(client, first, quiz_form(app, first, right=False))
    submit_quiz(client, first, quiz_form(app, first, right=True))
    return first


def test_who_am_i(client, learner_token):
    body = client.get("/api/v1/me", headers=learner_token).get_json()
    assert body["display_name"] == "Lee Learner" and body["role"] == "learner"
    assert body["token"] == "My tracker" and body["scopes"] == ["read:progress"]


def test_progress_is_what_the_course_page_shows(client, app, learner_token, attempts):
    body = client.get(f"/api/v1/me/progress?course={COURSE_SLUG}", headers=learner_token).get_json()
    assert (body["completed"], body["total"], body["percent"]) == (1, 3, 33)
    states = [lesson["state"] for lesson in body["lessons"]]
    assert states == ["completed", "available", "locked"]
    first = body["lessons"][0]
    assert first["slug"] == attempts and first["completed_at"] and first["opened_at"]
    assert first["attempts"]["count"] == 2 and first["attempts"]["latest"]["passed"]
    assert first["attempts"]["best"]["correct"] == first["attempts"]["best"]["questions"]
    assert body["lessons"][1]["attempts"] is None


def test_attempts_are_listed_newest_first(client, learner_token, attempts):
    body = client.get("/api/v1/me/attempts", headers=learner_token).get_json()
    assert body["total"] == 2 and [a["passed"] for a in body["items"]] == [True, False]
    assert all(a["lesson"] == attempts for a in body["items"])
    assert body["links"]["self"].endswith("/api/v1/me/attempts?page=1") and "next" not in body["links"]


def test_another_learners_token_sees_only_their_own(client, app, other_learner, attempts):
    theirs = bearer(make_token(app, other_learner, "read:progress"))
    assert client.get("/api/v1/me/attempts", headers=theirs).get_json()["items"] == []
    assert client.get("/api/v1/me/progress", headers=theirs).get_json()["completed"] == 0


def test_an_unknown_course_is_404(client, learner_token):
    response = client.get("/api/v1/me/progress?course=nope", headers=learner_token)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize("path", ["/api/v1/me/progress?cuorse=naltrexone", "/api/v1/me/attempts?endpoint=x"])
def test_a_parameter_the_endpoint_does_not_take_is_refused(client, learner_token, path):
    response = client.get(path, headers=learner_token)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert {e["parameter"] for e in response.get_json()["errors"]} == {path.split("?")[1].split("=")[0]}


def test_a_revoked_token_stops_at_once(client, app, learner, learner_token):
    assert client.get("/api/v1/me", headers=learner_token).status_code == 200
    login(client)
    page = client.get("/me/tokens").get_data(as_text=True)
    token_id = page.split("/me/tokens/")[1].split("/revoke")[0]
    response = client.post(f"/me/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/me/tokens")})
    assert response.status_code == 302
    assert client.get("/api/v1/me", headers=learner_token).status_code == 401


def _attempts_queries(app, client, token) -> int:
    client.get("/api/v1/me/attempts", headers=token)  # the token's last use is written on the first request
    with app.app_context(), count_queries(db.engine) as queries:
        assert client.get("/api/v1/me/attempts", headers=token).status_code == 200
        return queries()


def test_the_attempts_list_runs_the_same_queries_for_2_or_12_attempts(client, app, learner_token, attempts):
    with_two = _attempts_queries(app, client, learner_token)
    for _ in range(10):
        submit_quiz(client, attempts, quiz_form(app, attempts, right=False))
    assert client.get("/api/v1/me/attempts", headers=learner_token).get_json()["total"] == 12
    assert _attempts_queries(app, client, learner_token) == with_two


def test_a_long_history_is_listed_a_page_at_a_time(client, app, learner, learner_token, attempts):
    from tests.views.test_learn_all_attempts import add_attempts

    older = add_attempts(app, learner, attempts, 51)  # dated before the two submitted just now
    first_page = client.get("/api/v1/me/attempts", headers=learner_token).get_json()
    second_page = client.get("/api/v1/me/attempts?page=2", headers=learner_token).get_json()

    assert first_page["total"] == second_page["total"] == 53
    assert (first_page["pages"], len(first_page["items"]), len(second_page["items"])) == (2, 50, 3)
    assert [item["id"] for item in second_page["items"]] == older[::-1][48:]  # the oldest last
    assert first_page["links"]["next"].endswith("/api/v1/me/attempts?page=2")
    # Past the last page, the last page, as before.
    past = client.get("/api/v1/me/attempts?page=9", headers=learner_token).get_json()
    assert past["page"] == 2 and [item["id"] for item in past["items"]] == older[::-1][48:]


def test_progress_sums_up_a_long_history_and_its_queries_stay_the_same(client, app, learner, learner_token, attempts):
    from tests.views.test_learn_all_attempts import add_attempts

    url = f"/api/v1/me/progress?course={COURSE_SLUG}"
    client.get(url, headers=learner_token)  # the token's last use is written on the first request
    with app.app_context(), count_queries(db.engine) as before:
        client.get(url, headers=learner_token)
        queries_before = before()
    add_attempts(app, learner, attempts, 30)  # failed, and older than the pass
    with app.app_context(), count_queries(db.engine) as after:
        body = client.get(url, headers=learner_token).get_json()
        assert after() == queries_before
    summary = body["lessons"][0]["attempts"]
    assert summary["count"] == 32 and summary["latest"]["passed"] and summary["best"]["passed"]
