"""The per-version cache of what learners see of a course (app/services/course_content.py)."""

import copy

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Course
from app.services.course_content import CourseContentCache, course_content, load_course_content
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.progress import course_by_slug, course_outline
from app.services.quizzes import quiz_questions
from tests.conftest import count_queries
from tests.factories import COURSE, write_course
from tests.services.test_course_import import edited_course, learner_with_history  # noqa: F401 - a fixture


def test_the_content_matches_the_live_rows_in_course_order(session, course):
    row = course_by_slug(session, course)
    content = load_course_content(session, row.id)
    outline = course_outline(session, course=row, learner=None)

    assert (content.slug, content.title, content.pass_mark, content.version) == (
        row.slug,
        row.title,
        row.pass_mark,
        row.content_version,
    )
    assert [lesson.id for lesson in content.lessons] == [entry.lesson.id for entry in outline.entries]
    assert [module.id for module in content.modules] == [module.id for module in outline.modules]
    for view, entry in zip(content.lessons, outline.entries, strict=True):
        lesson = entry.lesson
        assert (view.slug, view.title, view.minutes, view.body_html, view.module.title) == (
            lesson.slug,
            lesson.title,
            lesson.minutes,
            lesson.body_html,
            lesson.module.title,
        )
        expected = [
            (q.id, q.kind, q.prompt, [(c.id, c.text) for c in q.live_choices]) for q in quiz_questions(session, lesson)
        ]
        assert [(q.id, q.kind, q.prompt, [(c.id, c.text) for c in q.live_choices]) for q in view.questions] == expected
        assert view.has_quiz == bool(expected)


@pytest.mark.usefixtures("learner_with_history")
def test_retired_lessons_questions_and_choices_are_left_out(session, tmp_path):
    course_import(session, load_course(edited_course(tmp_path)))  # retires a picked choice, moves lessons
    row = session.scalar(select(Course))
    content = load_course_content(session, row.id)

    live = course_outline(session, course=row, learner=None)
    assert [lesson.slug for lesson in content.lessons] == [entry.lesson.slug for entry in live.entries]
    one = next(lesson for lesson in content.lessons if lesson.slug == "one")
    assert [c.text for c in one.questions[0].live_choices] == ["Right answer", "Wrong answer"]


def test_an_import_bumps_the_version_only_when_something_changed(session, tmp_path):
    folder = write_course(tmp_path / "v1")
    course_import(session, load_course(folder))
    first = session.scalar(select(Course.content_version))

    course_import(session, load_course(folder))
    assert session.scalar(select(Course.content_version)) == first

    course_import(session, load_course(edited_course(tmp_path)))
    assert session.scalar(select(Course.content_version)) == first + 1


def test_a_new_order_alone_is_a_new_version_learners_see(app, session, tmp_path):
    course_import(session, load_course(write_course(tmp_path / "v1")))
    row = session.scalar(select(Course))
    before = course_content(session, row.id, row.content_version)
    reordered = copy.deepcopy(COURSE)
    reordered["modules"][0]["lessons"] = ["two", "one"]

    report = course_import(session, load_course(write_course(tmp_path / "v2", course=reordered)))
    session.expire_all()
    after = course_content(session, row.id, row.content_version)

    assert after.version == before.version + 1, report.summary()
    assert [lesson.slug for lesson in before.lessons] == ["one", "two", "three"]
    assert [lesson.slug for lesson in after.lessons] == ["two", "one", "three"]


def test_a_lower_version_than_the_cached_one_is_loaded_again(app, session, course):
    """A database restored from a backup goes back to an older version: never serve the newer one."""
    row = course_by_slug(session, course)
    cache = CourseContentCache()
    cache.get(session, row.id, row.content_version)
    session.execute(update(Course).where(Course.id == row.id).values(title="Restored title", content_version=0))
    session.commit()

    restored = cache.get(session, row.id, 0)

    assert (restored.version, restored.title) == (0, "Restored title")


def test_a_version_is_loaded_once_then_served_from_memory(app, session, course):
    row = course_by_slug(session, course)
    cache = CourseContentCache()
    with count_queries(db.engine) as loading:
        first = cache.get(session, row.id, row.content_version)
    with count_queries(db.engine) as serving:
        again = cache.get(session, row.id, row.content_version)

    assert loading() == 1 and serving() == 0
    assert again is first


def test_a_newer_version_is_loaded_again(app, session, tmp_path):
    course_import(session, load_course(write_course(tmp_path / "v1")))
    row = session.scalar(select(Course))
    before = course_content(session, row.id, row.content_version)

    course_import(session, load_course(edited_course(tmp_path)))
    session.expire_all()
    after = course_content(session, row.id, row.content_version)

    assert after.version == before.version + 1
    assert "Lesson one, rewritten" in [lesson.title for lesson in after.lessons]
    assert "Lesson one, rewritten" not in [lesson.title for lesson in before.lessons]


def test_an_unknown_course_is_none(session):
    assert load_course_content(session, 12345) is None
    assert CourseContentCache().get(session, 12345, 1) is None
