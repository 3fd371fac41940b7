"""The admins' API: read and change the draft with the authoring rules and messages, publish it, analytics."""

import threading

import pytest

from app.extensions import db
from app.models import Role
from app.services import authoring
from app.services.authoring import DraftInvalid
from app.services.progress import course_by_slug
from tests.api_support import bearer, make_token
from tests.conftest import COURSE_SLUG, create_user, lesson_slugs

DRAFT = f"/api/v1/courses/{COURSE_SLUG}/draft"
PUBLISH = f"{DRAFT}/publish"


@pytest.fixture
def admin(app, course):
    return create_user(app, "admin@example.org", role=Role.ADMIN)


@pytest.fixture
def editor(app, admin):
    return bearer(make_token(app, admin, "read:course", "write:draft"))


def errors_of(response) -> dict[str, list[str]]:
    assert response.status_code == 422 and response.mimetype == "application/problem+json", response.data[:300]
    found: dict[str, list[str]] = {}
    for error in response.get_json()["errors"]:
        found.setdefault(error.get("pointer", ""), []).append(error["detail"])
    return found


def test_the_draft_starts_as_the_published_course(client, editor):
    body = client.get(DRAFT, headers=editor).get_json()
    assert body["has_draft"] is False and body["changes"] == [] and body["problems"] == []
    assert body["data"]["course"]["slug"] == COURSE_SLUG and body["data"]["lessons"]


def test_a_change_to_the_details_keeps_what_was_left_out(client, editor):
    before = client.get(DRAFT, headers=editor).get_json()["data"]["course"]
    response = client.patch(DRAFT, json={"title": "Making Better Tea"}, headers=editor)
    assert response.status_code == 200
    body = response.get_json()
    after = body["data"]["course"]
    assert after["title"] == "Making Better Tea" and body["has_draft"] and body["changes"]
    assert {k: v for k, v in after.items() if k != "title"} == {k: v for k, v in before.items() if k != "title"}


def test_broken_rules_are_refused_beside_each_field_with_the_services_words(client, app, editor):
    response = client.patch(DRAFT, json={"title": "", "pass_mark": 7}, headers=editor)
    errors = errors_of(response)
    with app.app_context():
        course = course_by_slug(db.session, COURSE_SLUG)
        with pytest.raises(DraftInvalid) as refused:
            authoring.course_update(db.session, course=course, title="", summary=course.summary, pass_mark=7)
    assert errors == {f"#/{field}": messages for field, messages in refused.value.field_errors.items()}
    assert set(errors) == {"#/title", "#/pass_mark"}
    assert client.get(DRAFT, headers=editor).get_json()["has_draft"] is False  # nothing changed


def test_the_shape_of_a_change_is_checked_first(client, editor):
    errors = errors_of(client.patch(DRAFT, json={"titel": "Typo", "pass_mark": "most"}, headers=editor))
    assert set(errors) == {"#/titel", "#/pass_mark"}


def test_a_review_date_error_points_inside_the_review(client, editor):
    review = {"reviewed_by": "Dr Who", "reviewed_on": "2026-13-45", "next_review_on": "2027-01-01"}
    assert "#/review/reviewed_on" in errors_of(client.patch(DRAFT, json={"review": review}, headers=editor))


def test_a_lesson_changes_and_its_errors_point_at_its_fields(client, app, editor):
    first = lesson_slugs(app)[0]
    url = f"{DRAFT}/lessons/{first}"
    response = client.patch(url, json={"title": "Boiling water well"}, headers=editor)
    assert response.status_code == 200
    assert response.get_json()["data"]["lessons"][first]["front"]["title"] == "Boiling water well"
    bad_source = {"sources": [{"title": "Fine"}, {"title": "Broken", "url": "javascript:alert(1)"}]}
    assert set(errors_of(client.patch(url, json=bad_source, headers=editor))) == {"#/sources/1/url"}
    assert set(errors_of(client.patch(url, json={"module": "nope"}, headers=editor))) == {"#/module"}
    assert client.patch(f"{DRAFT}/lessons/nope", json={}, headers=editor).status_code == 404


@pytest.mark.parametrize(
    ("where", "change", "pointer"),
    [
        ("lesson", {"minutes": 10**23}, "#/minutes"),  # more than any integer column holds
        ("lesson", {"minutes": 2**31}, "#/minutes"),
        ("lesson", {"minutes": 601}, "#/minutes"),  # the lesson form's limit
        ("lesson", {"title": "y" * 201}, "#/title"),  # lessons.title is 200 characters
        ("course", {"title": "x" * 201}, "#/title"),
    ],
)
def test_a_value_the_course_cannot_hold_is_refused_and_nothing_is_saved(client, app, editor, where, change, pointer):
    url = DRAFT if where == "course" else f"{DRAFT}/lessons/{lesson_slugs(app)[0]}"
    assert pointer in errors_of(client.patch(url, json=change, headers=editor))
    draft = client.get(DRAFT, headers=editor)
    assert draft.status_code == 200 and draft.get_json()["has_draft"] is False  # nothing half-saved
    assert client.patch(url, json={"title": "Still editable"}, headers=editor).status_code == 200


def test_the_longest_values_the_course_holds_are_kept(client, app, editor):
    url = f"{DRAFT}/lessons/{lesson_slugs(app)[0]}"
    response = client.patch(url, json={"minutes": 600, "title": "t" * 200}, headers=editor)
    assert response.status_code == 200
    front = response.get_json()["data"]["lessons"][lesson_slugs(app)[0]]["front"]
    assert front["minutes"] == 600 and front["title"] == "t" * 200
    assert client.post(PUBLISH, headers=editor).status_code == 201


def test_publishing_makes_the_draft_what_learners_see(client, editor):
    version = client.get(f"/api/v1/courses/{COURSE_SLUG}").get_json()["version"]
    client.patch(DRAFT, json={"title": "Making Better Tea"}, headers=editor)
    response = client.post(PUBLISH, headers=editor)
    assert response.status_code == 201
    assert response.get_json()["changes"] and response.get_json()["summary"]
    outline = client.get(f"/api/v1/courses/{COURSE_SLUG}").get_json()
    assert outline["title"] == "Making Better Tea" and outline["version"] == version + 1
    again = client.post(PUBLISH, headers=editor)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"


def test_a_draft_that_breaks_a_rule_is_not_published(client, app, admin, editor):
    with app.app_context():  # a new module stays empty while being arranged: publishing must refuse it
        authoring.module_add(db.session, course=course_by_slug(db.session, COURSE_SLUG), slug="empty", title="Empty")
    draft = client.get(DRAFT, headers=editor).get_json()
    assert draft["problems"]
    response = client.post(PUBLISH, headers=editor)
    assert response.status_code == 422
    assert all(error["file"] and "detail" in error for error in response.get_json()["errors"])
    assert client.get(DRAFT, headers=editor).get_json()["has_draft"]  # still there, unpublished


def test_reading_the_draft_needs_read_course_and_changing_it_write_draft(client, app, admin):
    reader = bearer(make_token(app, admin, "read:course"))
    assert client.get(DRAFT, headers=reader).status_code == 200
    assert client.patch(DRAFT, json={"title": "No"}, headers=reader).status_code == 403
    assert client.post(PUBLISH, headers=reader).status_code == 403


def test_analytics_are_the_snapshots_figures(client, app, admin):
    token = bearer(make_token(app, admin, "read:analytics"))
    body = client.get(f"/api/v1/courses/{COURSE_SLUG}/analytics", headers=token).get_json()
    # Jobs run inline in tests, so the first request's refresh has already computed them.
    assert body["ready"] and body["computed_at"] and body["range"] == "all"
    lesson = body["lessons"][0]
    assert lesson["funnel"] == {"started": 0, "passed": 0, "gave_up": 0, "in_progress": 0}
    assert lesson["questions"][0]["too_few_to_judge"] and lesson["questions"][0]["choices"]
    bad = client.get(f"/api/v1/courses/{COURSE_SLUG}/analytics?range=forever", headers=token)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["parameter"] == "range"


# --- If-Match: a change made only to the draft as the client read it ---------------------------


def _lesson_url(app) -> str:
    return f"{DRAFT}/lessons/{lesson_slugs(app)[0]}"


def _change(client, app, editor, operation: str, **headers):
    """One of the draft's three changes, with ``headers`` besides the token."""
    headers = {**editor, **headers}
    if operation == "course":
        return client.patch(DRAFT, json={"summary": "A summary sent with If-Match"}, headers=headers)
    if operation == "lesson":
        return client.patch(_lesson_url(app), json={"title": "A title sent with If-Match"}, headers=headers)
    return client.post(PUBLISH, headers=headers)


def _someone_else_changes_the_draft(client, editor) -> None:
    assert client.patch(DRAFT, json={"title": "Changed by someone else"}, headers=editor).status_code == 200


CHANGES = ["course", "lesson", "publish"]


@pytest.fixture
def a_draft(client, editor):
    """A draft with a change in it, so that publishing it would succeed."""
    assert client.patch(DRAFT, json={"title": "Making Better Tea"}, headers=editor).status_code == 200


@pytest.mark.usefixtures("a_draft")
@pytest.mark.parametrize("operation", CHANGES)
def test_a_change_with_a_stale_if_match_is_refused_and_changes_nothing(client, app, editor, operation):
    read = client.get(DRAFT, headers=editor).headers["ETag"]
    _someone_else_changes_the_draft(client, editor)
    before = client.get(DRAFT, headers=editor)
    version = client.get(f"/api/v1/courses/{COURSE_SLUG}").get_json()["version"]

    response = _change(client, app, editor, operation, **{"If-Match": read})

    assert response.status_code == 412 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 412 and problem["title"] == "Precondition Failed"
    assert "changed since you read it" in problem["detail"] and "GET the draft again" in problem["detail"]
    after = client.get(DRAFT, headers=editor)
    assert after.get_json() == before.get_json() and after.headers["ETag"] == before.headers["ETag"]
    assert client.get(f"/api/v1/courses/{COURSE_SLUG}").get_json()["version"] == version  # nothing published


@pytest.mark.usefixtures("a_draft")
@pytest.mark.parametrize("operation", CHANGES)
def test_a_change_with_the_current_etag_is_made(client, app, editor, operation):
    current = client.get(DRAFT, headers=editor).headers["ETag"]
    response = _change(client, app, editor, operation, **{"If-Match": current})
    assert response.status_code == (201 if operation == "publish" else 200), response.data[:300]
    after = client.get(DRAFT, headers=editor).headers["ETag"]
    assert after != current
    if operation != "publish":  # a PATCH answers with the draft's new state, and its ETag: the next If-Match
        assert response.headers["ETag"] == after
        again = _change(client, app, editor, "course", **{"If-Match": response.headers["ETag"]})
        assert again.status_code == 200


@pytest.mark.parametrize("operation", CHANGES)
def test_if_match_star_matches_any_draft(client, app, editor, operation):
    _someone_else_changes_the_draft(client, editor)
    response = _change(client, app, editor, operation, **{"If-Match": "*"})
    assert response.status_code == (201 if operation == "publish" else 200)


def test_if_match_star_matches_the_draft_nobody_has_edited_yet(client, editor):
    assert client.get(DRAFT, headers=editor).get_json()["has_draft"] is False
    assert client.patch(DRAFT, json={"title": "First edit"}, headers={**editor, "If-Match": "*"}).status_code == 200


def test_the_etag_of_the_draft_nobody_has_edited_yet_matches(client, editor):
    current = client.get(DRAFT, headers=editor).headers["ETag"]
    response = client.patch(DRAFT, json={"title": "First edit"}, headers={**editor, "If-Match": current})
    assert response.status_code == 200 and response.get_json()["has_draft"]


@pytest.mark.parametrize("operation", CHANGES)
def test_the_gzipped_bodys_etag_matches_too(client, app, editor, operation):
    """Flask-Compress sends a gzipped body's ETag as "<etag>:gzip": a client that got that sends it back."""
    _someone_else_changes_the_draft(client, editor)
    read = client.get(DRAFT, headers={**editor, "Accept-Encoding": "gzip"})
    assert read.headers["Content-Encoding"] == "gzip" and read.headers["ETag"].endswith(':gzip"')
    response = _change(client, app, editor, operation, **{"If-Match": read.headers["ETag"]})
    assert response.status_code == (201 if operation == "publish" else 200), response.data[:300]


def test_a_stale_gzipped_etag_is_refused(client, editor):
    read = client.get(DRAFT, headers={**editor, "Accept-Encoding": "gzip"}).headers["ETag"]
    _someone_else_changes_the_draft(client, editor)
    assert client.patch(DRAFT, json={"summary": "Late"}, headers={**editor, "If-Match": read}).status_code == 412


def test_a_gzipped_patch_answer_has_the_gzip_form_of_the_new_etag(client, editor):
    response = client.patch(DRAFT, json={"title": "Zipped"}, headers={**editor, "Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    plain = client.get(DRAFT, headers=editor).headers["ETag"]
    assert response.headers["ETag"] == plain[:-1] + ':gzip"'
    assert (
        client.patch(
            DRAFT, json={"summary": "Next"}, headers={**editor, "If-Match": response.headers["ETag"]}
        ).status_code
        == 200
    )


def test_if_match_compares_strongly_and_takes_a_list(client, editor):
    current = client.get(DRAFT, headers=editor).headers["ETag"]
    weak = client.patch(DRAFT, json={"title": "Weak"}, headers={**editor, "If-Match": f"W/{current}"})
    assert weak.status_code == 412  # a weak tag never matches (RFC 9110 13.1.1)
    listed = client.patch(DRAFT, json={"title": "Listed"}, headers={**editor, "If-Match": f'"other", {current}'})
    assert listed.status_code == 200
    for unreadable in ("", "not-quoted"):
        assert client.patch(DRAFT, json={"title": "No"}, headers={**editor, "If-Match": unreadable}).status_code == 412


def test_without_if_match_a_change_is_made_as_before_whatever_changed(client, app, editor):
    client.get(DRAFT, headers=editor)
    _someone_else_changes_the_draft(client, editor)
    assert client.patch(DRAFT, json={"summary": "Last write wins"}, headers=editor).status_code == 200
    assert client.patch(_lesson_url(app), json={"title": "Still"}, headers=editor).status_code == 200
    assert client.post(PUBLISH, headers=editor).status_code == 201


def test_a_lesson_the_draft_lacks_is_a_404_whatever_if_match_says(client, editor):
    """A precondition is for a change that could be made (RFC 9110 13.2.1)."""
    response = client.patch(f"{DRAFT}/lessons/nope", json={}, headers={**editor, "If-Match": '"stale"'})
    assert response.status_code == 404


def test_the_description_says_the_draft_changes_take_if_match_and_may_answer_412(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    draft = "/api/v1/courses/{course_slug}/draft"
    for path, method in ((draft, "patch"), (f"{draft}/lessons/{{lesson_slug}}", "patch"), (f"{draft}/publish", "post")):
        operation = paths[path][method]
        assert {"$ref": "#/components/parameters/IF_MATCH"} in operation["parameters"]
        assert "412" in operation["responses"]
    assert client.get("/api/v1/openapi.json").get_json()["components"]["parameters"]["IF_MATCH"]["required"] is False
    assert "ETag" in paths[draft]["patch"]["responses"]["200"]["headers"]
    assert "ETag" in paths[draft]["get"]["responses"]["200"]["headers"]


@pytest.mark.parametrize("started", [True, False], ids=["a-draft", "no-draft-yet"])
def test_two_changes_sent_at_once_with_the_same_etag_one_is_refused(app, editor, started, request):
    """Both clients read the same draft; the second's check waits for the first's change, then
    finds the draft changed (412). The draft's hold is PostgreSQL's: SQLite has no such locks."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite has no row or advisory locks: a change may come in between check and save")
    client = app.test_client()
    if started:
        assert client.patch(DRAFT, json={"title": "Making Better Tea"}, headers=editor).status_code == 200
    read = client.get(DRAFT, headers=editor).headers["ETag"]
    first_checked, second_started = threading.Event(), threading.Event()
    real_update = authoring.course_update

    def update_in_turn(*args, **kwargs):
        """The first change, its If-Match checked, waits for the second to start (which cannot get
        past the draft's hold: a moment, then on) before it saves."""
        if threading.current_thread().name == "first":
            first_checked.set()
            second_started.wait(timeout=1)
        return real_update(*args, **kwargs)

    request.getfixturevalue("monkeypatch").setattr(authoring, "course_update", update_in_turn)
    answers: dict[str, int] = {}

    def change(name: str) -> None:
        if name == "second":
            first_checked.wait(timeout=10)
            second_started.set()
        response = app.test_client().patch(
            DRAFT, json={"summary": f"Summary by {name}"}, headers={**editor, "If-Match": read}
        )
        answers[name] = response.status_code

    threads = [threading.Thread(target=change, args=(name,), name=name) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == {"first": 200, "second": 412}
    assert client.get(DRAFT, headers=editor).get_json()["data"]["course"]["summary"] == "Summary by first"


def test_an_analytics_parameter_with_a_typo_is_refused_not_read_as_all_time(client, app, admin):
    token = bearer(make_token(app, admin, "read:analytics"))
    refused = client.get(f"/api/v1/courses/{COURSE_SLUG}/analytics?rnage=30d", headers=token)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert {e["parameter"] for e in refused.get_json()["errors"]} == {"rnage"}
