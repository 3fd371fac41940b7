"""The counsellor's API: the dashboard's list and one client's report, under the pages' consent rules."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.api.common import page_links
from app.extensions import db
from app.models import CounsellorLink, ProgressView, Role, User
from app.services.attempt_history import ATTEMPTS_SHOWN
from app.services.sharing import link_revoke
from tests.api_support import bearer, make_token
from tests.conftest import count_queries, create_user, lesson_slugs, login, quiz_form, submit_quiz, visible_text
from tests.views.test_query_counts import add_failed_attempts


@pytest.fixture
def caseload(app, course, learner, other_learner):
    """A counsellor with one client (the learner, who failed the first quiz once); Fred is not theirs."""
    counsellor = create_user(app, "casey@example.org", role=Role.COUNSELLOR)
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_by_id=learner))
        db.session.commit()
        db.session.remove()
    browser = app.test_client()
    login(browser)
    first = lesson_slugs(app)[0]
    assert submit_quiz(browser, first, quiz_form(app, first, right=False)).status_code == 302
    return {"counsellor": counsellor, "learner": learner, "other": other_learner}


@pytest.fixture
def casey(app, caseload):
    return bearer(make_token(app, caseload["counsellor"], "read:clients"))


def test_the_list_has_the_dashboards_figures(client, caseload, casey):
    body = client.get("/api/v1/clients", headers=casey).get_json()
    assert body["total"] == 1 and [row["id"] for row in body["items"]] == [caseload["learner"]]
    row = body["items"][0]
    assert row["name"] == "Lee Learner" and row["completed"] == 0 and row["total"] == 3
    assert row["current_lesson"] and row["last_active"] and 0 <= row["quiz_average"] < 1
    assert body["thresholds"] == {"inactive_days": 7, "struggling_fails": 3}


def test_the_list_takes_the_dashboards_filters(client, app, caseload, casey):
    assert client.get("/api/v1/clients?q=lee", headers=casey).get_json()["total"] == 1
    assert client.get("/api/v1/clients?q=nobody", headers=casey).get_json()["total"] == 0
    assert client.get("/api/v1/clients?flag=finished", headers=casey).get_json()["total"] == 0
    refused = client.get("/api/v1/clients?flag=sleepy&dir=sideways", headers=casey)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert {e["parameter"] for e in refused.get_json()["errors"]} == {"flag", "dir"}


def test_pages_link_to_each_other(client, app, caseload):
    admin = create_user(app, "admin@example.org", role=Role.ADMIN)
    with app.app_context():
        db.session.add_all(
            User(email=f"l{n}@example.org", display_name=f"Learner {n:03}", password_hash="x") for n in range(60)
        )
        db.session.commit()
    token = bearer(make_token(app, admin, "read:clients"))
    first = client.get("/api/v1/clients?sort=name", headers=token)
    body = first.get_json()
    assert (body["page"], body["pages"], body["per_page"], body["total"]) == (1, 2, 50, 62)
    assert body["links"]["next"] == "http://localhost/api/v1/clients?sort=name&page=2" and "prev" not in body["links"]
    assert '<http://localhost/api/v1/clients?sort=name&page=2>; rel="next"' in first.headers["Link"]
    second = client.get(body["links"]["next"], headers=token).get_json()
    assert len(second["items"]) == 12 and "next" not in second["links"]
    assert not {r["id"] for r in body["items"]} & {r["id"] for r in second["items"]}
    beyond = client.get("/api/v1/clients?page=9", headers=token).get_json()
    assert beyond["page"] == 2  # past the end: the last page, as on the dashboard


def test_a_report_read_is_audited_like_a_page_visit(client, app, caseload, casey):
    response = client.get(f"/api/v1/clients/{caseload['learner']}", headers=casey)
    assert response.status_code == 200
    report = response.get_json()
    assert report["client"] == {"id": caseload["learner"], "name": "Lee Learner"}
    attempt = report["lessons"][0]["attempts"][0]
    assert not attempt["passed"] and attempt["answers"][0]["chosen"]
    with app.app_context():
        views = db.session.scalars(select(ProgressView)).all()
        assert [(v.viewer_id, v.learner_id, v.viewer_role) for v in views] == [
            (caseload["counsellor"], caseload["learner"], "counsellor")
        ]
    # The client sees it on their own page, as for a visit.
    browser = app.test_client()
    login(browser)
    assert "Casey" in browser.get("/me/").get_data(as_text=True)


def test_a_report_lists_each_lessons_latest_attempts_and_counts_them_all(client, app, caseload, casey):
    add_failed_attempts(app, caseload["learner"], lesson_slugs(app)[0], ATTEMPTS_SHOWN + 2)
    report = client.get(f"/api/v1/clients/{caseload['learner']}", headers=casey).get_json()
    first, second = report["lessons"][:2]
    assert first["attempt_count"] == ATTEMPTS_SHOWN + 3  # the fixture's failed attempt too
    assert len(first["attempts"]) == ATTEMPTS_SHOWN
    times = [attempt["submitted_at"] for attempt in first["attempts"]]
    assert times == sorted(times)  # the latest, oldest of them first
    assert (second["attempt_count"], second["attempts"]) == (0, [])
    # The misconceptions count every wrong answer, listed or not.
    assert all(insight["times"] >= 1 for insight in report["misconceptions"])


def test_a_clients_attempts_at_a_lesson_come_a_page_at_a_time_and_each_read_is_audited(client, app, caseload, casey):
    first = lesson_slugs(app)[0]
    add_failed_attempts(app, caseload["learner"], first, ATTEMPTS_SHOWN + 2)  # 13 with the fixture's
    url = f"/api/v1/clients/{caseload['learner']}/lessons/{first}/attempts"

    newest = client.get(url, headers=casey)
    body = newest.get_json()
    assert newest.status_code == 200
    assert (body["page"], body["pages"], body["per_page"], body["total"]) == (1, 2, ATTEMPTS_SHOWN, 13)
    assert [item["number"] for item in body["items"]] == list(range(13, 13 - ATTEMPTS_SHOWN, -1))
    assert body["lesson"] == {"number": 1, "slug": first, "title": body["lesson"]["title"]}
    assert all(item["answers"] and not item["passed"] for item in body["items"])
    assert body["links"]["next"].endswith("/attempts?page=2") and "prev" not in body["links"]
    assert 'rel="next"' in newest.headers["Link"]

    oldest = client.get(body["links"]["next"], headers=casey).get_json()
    assert [item["number"] for item in oldest["items"]] == [3, 2, 1] and "next" not in oldest["links"]
    beyond = client.get(f"{url}?page=9", headers=casey).get_json()
    assert beyond["page"] == 2 and [item["number"] for item in beyond["items"]] == [3, 2, 1]  # the last page

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgressView)) == 3  # every read is logged


def test_a_lesson_the_course_lacks_is_404_and_not_audited(client, app, caseload, casey):
    response = client.get(f"/api/v1/clients/{caseload['learner']}/lessons/nope/attempts", headers=casey)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgressView)) == 0


def test_a_conditional_read_is_audited_too(client, app, caseload, casey):
    url = f"/api/v1/clients/{caseload['learner']}"
    etag = client.get(url, headers=casey).headers["ETag"]
    again = client.get(url, headers={**casey, "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and not again.data
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgressView)) == 2


def test_another_counsellors_client_is_404_and_not_audited(client, app, caseload, casey):
    response = client.get(f"/api/v1/clients/{caseload['other']}", headers=casey)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgressView)) == 0


def test_a_revoked_link_is_404_at_once(client, app, caseload, casey):
    url = f"/api/v1/clients/{caseload['learner']}"
    assert client.get(url, headers=casey).status_code == 200
    with app.app_context():
        link = db.session.scalar(select(CounsellorLink))
        link_revoke(db.session, learner=db.session.get(User, caseload["learner"]), link_id=link.id)
    assert client.get(url, headers=casey).status_code == 404
    assert client.get("/api/v1/clients", headers=casey).get_json()["items"] == []


def test_an_unknown_course_is_404(client, caseload, casey):
    assert client.get("/api/v1/clients?course=nope", headers=casey).status_code == 404
    assert client.get(f"/api/v1/clients/{caseload['learner']}?course=nope", headers=casey).status_code == 404


def listings(app) -> list[tuple[int, dict]]:
    """The records of admins' tokens reading the list of learners: (actor, details)."""
    from app.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "learners_listed")).all()
        return [(row.actor_id, row.details) for row in rows]


def test_an_admins_token_reading_the_learners_is_recorded_once_a_day(client, app, caseload, casey, monkeypatch):
    """The list is the CSV's, which is audited as a download: read through the API it was not."""
    from app.api import clients as api_clients
    from app.models import ApiToken, Course

    admin = create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    ada = bearer(make_token(app, admin, "read:clients"))
    for page in (1, 1, 1, 2):  # a dashboard polling, a page further: one record
        assert client.get(f"/api/v1/clients?page={page}", headers=ada).status_code == 200
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == admin))
        course_id = db.session.scalar(select(Course.id))
    assert listings(app) == [(admin, {"course_id": course_id, "token_id": token_id})]
    # The next day (UTC), once more.
    tomorrow = api_clients.utcnow() + timedelta(days=1)
    monkeypatch.setattr(api_clients, "utcnow", lambda: tomorrow)
    assert client.get("/api/v1/clients", headers=ada).status_code == 200
    assert len(listings(app)) == 2
    # A counsellor's token reads their own clients: not an admin's action, recorded nowhere.
    assert client.get("/api/v1/clients", headers=casey).status_code == 200
    assert len(listings(app)) == 2
    # The activity log lists it with the downloads.
    browser = app.test_client()
    assert login(browser, "ada@example.org").status_code == 302
    activity = visible_text(browser.get("/author/activity?kind=downloads").get_data(as_text=True))
    assert "Ada Admin read the list of learners of" in activity and "through the API, with an API token" in activity


def _list_queries(app, client, token) -> int:
    client.get("/api/v1/clients", headers=token)  # the token's last use is written on the first request
    with app.app_context(), count_queries(db.engine) as queries:
        assert client.get("/api/v1/clients", headers=token).status_code == 200
        return queries()


def test_the_list_runs_the_same_queries_for_1_or_40_clients(client, app, caseload, casey):
    with_one = _list_queries(app, client, casey)
    with app.app_context():
        for n in range(39):
            user = User(email=f"c{n}@example.org", display_name=f"Client {n}", password_hash="x")
            db.session.add(user)
            db.session.flush()
            db.session.add(CounsellorLink(counsellor_id=caseload["counsellor"], learner_id=user.id))
        db.session.commit()
    assert _list_queries(app, client, casey) == with_one


@pytest.mark.parametrize("query", ["sotr=name", "endpoint=x", "learner_id=abc", "lesson_slug=another-lesson"])
def test_a_parameter_the_endpoint_does_not_take_is_refused_not_ignored_or_a_500(client, app, caseload, casey, query):
    """webargs ignored unknown query parameters, whatever the schema said: a typo was answered as
    if unasked, and one named like a path value (or "endpoint") broke or moved the page links."""
    first = lesson_slugs(app)[0]
    for path in ("/api/v1/clients", f"/api/v1/clients/{caseload['learner']}/lessons/{first}/attempts"):
        refused = client.get(f"{path}?{query}", headers=casey)
        assert refused.status_code == 422 and refused.mimetype == "application/problem+json", (path, query)
        assert query.split("=")[0] in {e["parameter"] for e in refused.get_json()["errors"]}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgressView)) == 0  # a refused read is no visit


def test_page_links_keep_the_path_whatever_the_query_says(app, caseload):
    path = f"/api/v1/clients/{caseload['learner']}/lessons/one/attempts"
    with app.test_request_context(f"{path}?endpoint=x&learner_id=abc&lesson_slug=two&page=2"):
        links = page_links(2, 3)
    assert links["self"] == f"http://localhost{path}?page=2" and links["next"] == f"http://localhost{path}?page=3"
