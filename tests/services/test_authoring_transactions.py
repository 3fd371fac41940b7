"""Transactions that read plainly: the publish preview leaves the caller's session as it was, and
a publish either commits everything or leaves the database as it was."""

from __future__ import annotations

import importlib

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Course, CourseDraft, CoursePublication, User
from app.services import authoring
from app.services.accounts import user_create
from app.services.authoring import DraftInvalid, NothingToPublish
from app.services.course_files import load_course
from app.services.course_import import course_import
from tests.factories import write_course

# The module, not the function of the same name that the package re-exports.
publishing = importlib.import_module("app.services.authoring.publishing")
CONTENT = ("courses", "modules", "lessons", "questions", "choices", "misconceptions")


@pytest.fixture
def tiny(session, tmp_path) -> Course:
    """The small factory course, published."""
    course_import(session, load_course(write_course(tmp_path)))
    return session.scalar(select(Course).where(Course.slug == "tiny"))


def first_lesson(session, course: Course) -> str:
    return authoring.draft_lesson_order(authoring.draft_data(session, course))[0]


def edit_a_lesson(session, course: Course) -> None:
    authoring.lesson_update(
        session, course=course, lesson_slug=first_lesson(session, course), title="New title", minutes=7, body="New."
    )


def database_state(session) -> dict:
    """Every content row, the drafts and the publications, read fresh from the database."""
    session.expire_all()
    tables = [t for t in db.metadata.sorted_tables if t.name in CONTENT]
    rows = {t.name: [dict(r._mapping) for r in session.execute(select(t).order_by(*t.primary_key))] for t in tables}
    rows["drafts"] = list(session.scalars(select(CourseDraft.data)))
    rows["publications"] = session.scalar(select(func.count()).select_from(CoursePublication))
    return rows


def break_the_import_half_way(monkeypatch) -> None:
    """The import writes (and flushes) everything, then something breaks before the commit."""
    real = publishing.course_import_unsaved

    def broken(session, spec):
        real(session, spec)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(publishing, "course_import_unsaved", broken)


def a_user(session) -> User:
    return user_create(session, email="a@example.org", display_name="Before", password="long enough pw")


def test_the_preview_keeps_the_callers_pending_changes_and_writes_nothing(session, tiny):
    edit_a_lesson(session, tiny)
    user = a_user(session)
    before = database_state(session)
    user.display_name = "Changed, not yet committed"

    preview = authoring.publish_preview(session, course=tiny)

    assert preview.can_publish and preview.changes == ["Lesson “New title”: title, reading time, text changed"]
    # The caller's change is still pending in its session, not rolled back or expired ...
    assert user.display_name == "Changed, not yet committed"
    session.commit()
    # ... and commits as usual, while nothing the dry run wrote was kept.
    after = database_state(session)
    assert session.get(User, user.id).display_name == "Changed, not yet committed"
    assert after == before


def test_a_preview_first_thing_in_a_transaction_writes_nothing(session, tiny):
    # On SQLite the savepoint then opens the transaction itself (pysqlite has not begun one).
    edit_a_lesson(session, tiny)
    before = database_state(session)
    session.commit()

    assert authoring.publish_preview(session, course=tiny).can_publish
    session.commit()

    assert database_state(session) == before


def test_a_preview_that_fails_leaves_the_session_usable(session, tiny, monkeypatch):
    edit_a_lesson(session, tiny)
    user = a_user(session)
    user.display_name = "Pending"
    break_the_import_half_way(monkeypatch)

    with pytest.raises(RuntimeError):
        authoring.publish_preview(session, course=tiny)

    assert user.display_name == "Pending"
    session.commit()
    assert session.scalar(select(User.display_name).where(User.id == user.id)) == "Pending"


def test_a_publish_that_fails_half_way_leaves_the_database_as_it_was(session, tiny, monkeypatch):
    edit_a_lesson(session, tiny)
    before = database_state(session)
    break_the_import_half_way(monkeypatch)

    with pytest.raises(RuntimeError):
        authoring.publish(session, course=tiny)

    assert database_state(session) == before
    assert authoring.draft_get(session, tiny) is not None  # the draft waits to be published again


def test_a_draft_that_breaks_a_rule_is_refused_before_anything_is_written(session, tiny):
    authoring.module_add(session, course=tiny, slug="empty-for-now", title="Empty for now")  # allowed in a draft
    before = database_state(session)

    with pytest.raises(DraftInvalid) as refused:
        authoring.publish(session, course=tiny)

    assert any("lessons" in problem.field for problem in refused.value.problems)
    assert database_state(session) == before


def test_a_draft_that_changes_nothing_is_refused_and_kept(session, tiny):
    authoring.draft_get_or_create(session, tiny)  # a draft equal to the published course
    session.commit()
    before = database_state(session)

    with pytest.raises(NothingToPublish):
        authoring.publish(session, course=tiny)

    assert database_state(session) == before  # nothing committed before raising: the draft is still there
    assert before["drafts"]


def test_no_draft_is_nothing_to_publish(session, tiny):
    before = database_state(session)

    with pytest.raises(NothingToPublish):
        authoring.publish(session, course=tiny)

    assert database_state(session) == before


def test_a_publish_commits_once_with_the_record_and_without_the_draft(session, tiny):
    edit_a_lesson(session, tiny)

    publication = authoring.publish(session, course=tiny)

    state = database_state(session)
    assert state["drafts"] == [] and state["publications"] == 1
    assert "New title" in publication.summary
    assert authoring.publish_preview(session, course=tiny).has_draft is False
