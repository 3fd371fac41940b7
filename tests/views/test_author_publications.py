"""The publication history and restoring an earlier version, over HTTP with CSRF on."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CoursePublication, Role
from app.services import authoring
from app.services.course_import import course_import
from app.services.progress import course_by_slug
from tests.conftest import count_queries, create_user, csrf_token, factory_course_spec, login

SPEC = factory_course_spec()
BASE = f"/author/courses/{SPEC.slug}"
HISTORY = f"{BASE}/publications"
FIRST = SPEC.modules[0].lesson_slugs[0]
LEARNER_FIRST = f"/courses/{SPEC.slug}/lessons/{FIRST}"


@pytest.fixture
def admin(app, client, course):
    """A client logged in as an admin, with the factory course imported."""
    create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada Admin")
    assert login(client, "admin@example.org").status_code == 302
    return client


def publish_body(app, body: str) -> int:
    """Publish a new text for the first lesson (as nobody in particular); return the publication's id."""
    with app.app_context():
        course = course_by_slug(db.session, SPEC.slug)
        lesson = SPEC.lessons[FIRST]
        authoring.lesson_update(
            db.session, course=course, lesson_slug=FIRST, title=lesson.title, minutes=lesson.minutes, body=body
        )
        publication_id = authoring.publish(db.session, course=course).id
        db.session.remove()
        return publication_id


def publications(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(CoursePublication))
        db.session.remove()
        return count


def restore_url(publication_id: int) -> str:
    return f"{HISTORY}/{publication_id}/restore"


def test_history_lists_each_publication_and_offers_the_earlier_ones(admin, app):
    first, second = publish_body(app, "Version one."), publish_body(app, "Version two.")

    page = admin.get(HISTORY).get_data(as_text=True)

    assert page.index(f'id="publication-{second}"') < page.index(f'id="publication-{first}"')
    assert page.count("Published by a deleted account.") == 2  # published with no account recorded
    assert "What learners see now" in page and "text changed" in page
    assert f'href="{restore_url(first)}"' in page and f'href="{restore_url(second)}"' not in page
    assert f'href="{HISTORY}"' in admin.get("/author/").get_data(as_text=True)


def test_versions_published_within_a_minute_are_told_apart_by_their_number(admin, app):
    """Their headings and "Restore this version" links read the same: the time, to the minute."""
    first, second = publish_body(app, "Version one."), publish_body(app, "Version two.")

    page = admin.get(HISTORY).get_data(as_text=True)

    newest, older = page.split(f'id="publication-{second}"', 1)[1].split(f'id="publication-{first}"', 1)
    assert '<h2 class="publication-when">Version 2 · <time' in newest
    assert '<h2 class="publication-when">Version 1 · <time' in older
    assert '<span class="visually-hidden"> (version 1, ' in older


def test_the_course_as_imported_from_files_is_a_version_to_go_back_to(admin, app):
    with app.app_context():
        authoring.import_from_files(db.session, SPEC)  # as `flask courses import` on a deploy
        db.session.remove()
    published = publish_body(app, "Version one.")

    page = admin.get(HISTORY).get_data(as_text=True)

    imported = page.split('id="publication-', 2)[2]  # the older entry
    assert "Imported from the course files on the server." in imported and "Published by" not in imported
    assert f'href="{restore_url(published)}"' not in page and f'href="{restore_url(published - 1)}"' in page


def test_a_publication_from_before_copies_is_shown_and_why_it_cannot_be_restored(admin, app):
    with app.app_context():
        course = course_by_slug(db.session, SPEC.slug)
        db.session.add(CoursePublication(course_id=course.id, summary="x: updated 1 lessons.\n- Lesson “Old”: moved\n"))
        db.session.commit()
        old = db.session.scalar(select(CoursePublication.id))
        db.session.remove()

    page = admin.get(HISTORY).get_data(as_text=True)

    assert "Lesson “Old”: moved" in page and "Cannot be restored" in page
    assert f'href="{restore_url(old)}"' not in page
    assert "before the platform kept a copy" in admin.get(restore_url(old)).get_data(as_text=True)


def test_confirm_page_lists_the_changes_then_the_post_restores(admin, app, client):
    first = publish_body(app, "Version **one**.")
    publish_body(app, "Version two.")

    confirm = admin.get(restore_url(first))
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert f"Lesson “{SPEC.lessons[FIRST].title}”: text changed" in text
    assert "Restore this version" in text and publications(app) == 2

    response = admin.post(restore_url(first), data={"csrf_token": csrf_token(admin, restore_url(first))})

    assert (response.status_code, response.headers["Location"]) == (302, HISTORY)
    history = admin.get(HISTORY).get_data(as_text=True)
    assert "Restored. Learners now see that version" in history
    assert f'Restored the version of <a href="#publication-{first}">' in history
    assert "Published by Ada Admin." in history
    assert "<strong>one</strong>" in admin.get(LEARNER_FIRST).get_data(as_text=True)
    assert publications(app) == 3
    # One version is the one learners see; the restored one says it is the same, not that it is live too.
    assert history.count("What learners see now") == 1
    assert "The same as version 3, which learners see now" in history
    assert history.index("What learners see now") < history.index(f'id="publication-{first}"')


def test_a_post_without_the_csrf_token_changes_nothing(admin, app):
    first = publish_body(app, "Version one.")
    publish_body(app, "Version two.")

    response = admin.post(restore_url(first), data={})

    assert response.status_code == 400
    assert publications(app) == 2


def test_another_courses_or_an_unknown_publication_is_404(admin, app):
    with app.app_context():
        course_import(db.session, replace(SPEC, slug="other-course"))
        db.session.remove()
    mine = publish_body(app, "Version one.")
    token = csrf_token(admin, HISTORY.replace("publications", "publish"))

    assert admin.get(f"/author/courses/other-course/publications/{mine}/restore").status_code == 404
    assert (
        admin.post(f"/author/courses/other-course/publications/{mine}/restore", data={"csrf_token": token}).status_code
        == 404
    )
    assert admin.get(restore_url(999999)).status_code == 404
    assert admin.get("/author/courses/other-course/publications").status_code == 200
    assert publications(app) == 1


@pytest.mark.parametrize("who", ["learner", "counsellor"])
def test_only_admins_see_the_history_or_restore(app, client, course, who):
    first = publish_body(app, "Version one.")
    publish_body(app, "Version two.")
    role = Role.LEARNER if who == "learner" else Role.COUNSELLOR
    create_user(app, f"{who}@example.org", role=role)
    assert login(client, f"{who}@example.org").status_code == 302
    token = csrf_token(client, "/me/")

    assert client.get(HISTORY).status_code == 403
    assert client.get(restore_url(first)).status_code == 403
    assert client.post(restore_url(first), data={"csrf_token": token}).status_code == 403
    assert publications(app) == 2


def test_anonymous_visitors_are_sent_to_log_in(client, course):
    response = client.get(HISTORY)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_waiting_draft_blocks_the_restore_with_a_message(admin, app):
    first = publish_body(app, "Version one.")
    publish_body(app, "Version two.")
    with app.app_context():
        course = course_by_slug(db.session, SPEC.slug)
        authoring.course_update(db.session, course=course, title="Waiting", summary="Waiting.", pass_mark=0.5)
        db.session.remove()

    assert "There are unpublished changes in the draft" in admin.get(HISTORY).get_data(as_text=True)
    confirm = admin.get(restore_url(first)).get_data(as_text=True)
    assert "Publish or discard them first" in confirm and ">Restore this version</button>" not in confirm
    response = admin.post(restore_url(first), data={"csrf_token": csrf_token(admin, f"{BASE}/publish")})

    assert (response.status_code, response.headers["Location"]) == (302, HISTORY)
    assert "Publish or discard them first" in admin.get(HISTORY).get_data(as_text=True)
    assert publications(app) == 2


def test_a_version_that_breaks_todays_rules_gets_400_with_the_problems(admin, app):
    first = publish_body(app, "Version one.")
    publish_body(app, "Version two.")
    with app.app_context():
        publication = db.session.get(CoursePublication, first)
        publication.data = {**publication.data, "course": {**publication.data["course"], "pass_mark": 5}}
        db.session.commit()
        db.session.remove()

    assert "cannot be published today" in admin.get(restore_url(first)).get_data(as_text=True)
    response = admin.post(restore_url(first), data={"csrf_token": csrf_token(admin, f"{BASE}/publish")})

    assert response.status_code == 400
    assert "Course details, pass mark: must be a number above 0" in response.get_data(as_text=True)
    assert publications(app) == 2


def test_the_history_page_runs_a_fixed_number_of_queries(admin, app):
    publish_body(app, "Version one.")
    publish_body(app, "Version two.")
    admin.get(HISTORY)
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as few:
        assert admin.get(HISTORY).status_code == 200
    for n in range(3, 10):
        publish_body(app, f"Version {n}.")
    with count_queries(engine) as many:
        assert admin.get(HISTORY).status_code == 200
    assert few() == many()
    # The signed-in user, the course, the list, the draft, the newest copy and the live course.
    assert many() <= 12, many()
