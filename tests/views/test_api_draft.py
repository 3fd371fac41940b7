"""The admins' API: read and change the draft with the authoring rules and messages, publish it, analytics."""

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
