"""Quality warnings over HTTP: /author/ and the publish page list them; they never block publishing.

The pages name where each one is as the editor does ("Lesson 1 “Lesson one”, sources"), not by the
course files' paths, which only ``flask courses validate`` prints (tests/test_cli.py).
"""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Role
from app.services import authoring
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.progress import course_by_slug
from tests.conftest import create_user, csrf_token, login
from tests.factories import COURSE, default_lessons, write_course

SOURCES_WARNING = "Lesson 1 “Lesson one”, sources: the lesson lists no sources: say where its facts come from"


@pytest.fixture
def admin(app, client, tmp_path):
    """An admin with the factory course published: it has no review and no sources, so it draws warnings."""
    with app.app_context():
        course_import(db.session, load_course(write_course(tmp_path / "tiny", dict(COURSE), default_lessons())))
        db.session.remove()
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    return client


def test_the_overview_lists_the_published_courses_warnings(admin):
    page = admin.get("/author/").get_data(as_text=True)

    assert "Quality warnings (6)" in page
    assert "Course details, review: no review is recorded" in page
    assert SOURCES_WARNING in page
    assert "Lesson 2 “Lesson two”, sources: the lesson lists no sources" in page
    assert "course.yaml" not in page and "lessons/one.md" not in page


def test_the_publish_page_lists_the_drafts_warnings_and_publishing_still_works(admin, app):
    with app.app_context():
        course = course_by_slug(db.session, "tiny")
        authoring.course_update(db.session, course=course, title="A renamed course", summary="Words.", pass_mark=0.8)
        db.session.remove()

    page = admin.get("/author/courses/tiny/publish").get_data(as_text=True)
    assert "Quality warnings (6)" in page and SOURCES_WARNING in page
    assert "Publish these changes" in page

    response = admin.post("/author/courses/tiny/publish", data={"csrf_token": csrf_token(admin, "/author/")})

    assert response.status_code == 302
    with app.app_context():
        assert course_by_slug(db.session, "tiny").title == "A renamed course"
        db.session.remove()


def test_a_course_without_warnings_shows_no_warning_panel(app, client, course):
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302

    assert "Quality warnings" not in client.get("/author/").get_data(as_text=True)


def test_the_publish_page_warns_when_content_changes_under_the_old_review_date(app, client, tmp_path):
    reviewed = {
        **COURSE,
        "review": {"reviewed_by": "Panel", "reviewed_on": "2026-12-04", "next_review_on": "2099-12-04"},
    }
    with app.app_context():
        course_import(db.session, load_course(write_course(tmp_path / "tiny", reviewed, default_lessons())))
        course = course_by_slug(db.session, "tiny")
        authoring.lesson_update(
            db.session, course=course, lesson_slug="one", title="Lesson one", minutes=5, body="New.\n"
        )
        db.session.remove()
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302

    page = " ".join(client.get("/author/courses/tiny/publish").get_data(as_text=True).split())

    assert "Course details, reviewed on: the content changes, but its review is still dated 2026-12-04" in page
    assert "course.yaml" not in page and "review.reviewed_on" not in page
    assert "Publish these changes" in page  # a warning, never a block
