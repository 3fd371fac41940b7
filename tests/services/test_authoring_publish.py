"""Previewing and publishing the authoring draft: learners see nothing until publish, then all of it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Choice, Course, CoursePublication, Lesson, Question, User
from app.services import authoring
from app.services.accounts import user_create
from app.services.authoring import NothingToPublish
from app.services.quizzes import quiz_questions, quiz_submit_attempt

FIRST = "receptors-and-blockers"
CONTENT = ("courses", "modules", "lessons", "questions", "choices", "misconceptions")


@pytest.fixture
def naltrexone(session, course) -> Course:
    return session.scalar(select(Course).where(Course.slug == course))


def content_rows(session) -> dict:
    tables = [t for t in db.metadata.sorted_tables if t.name in CONTENT]
    return {t.name: [dict(r._mapping) for r in session.execute(select(t).order_by(*t.primary_key))] for t in tables}


def make_user(session, email: str) -> User:
    return user_create(session, email=email, display_name="X", password="long enough pw", hash_method="scrypt:1024:8:1")


def test_edits_never_touch_published_rows(session, naltrexone):
    before = content_rows(session)
    authoring.course_update(session, course=naltrexone, title="Changed", summary="Changed.", pass_mark=0.5)
    authoring.lesson_remove(session, course=naltrexone, lesson_slug="starting-safely")
    authoring.question_remove(session, course=naltrexone, lesson_slug=FIRST, position=1)
    authoring.publish_preview(session, course=naltrexone)

    assert content_rows(session) == before


def test_preview_lists_the_changes(session, naltrexone):
    authoring.lesson_update(session, course=naltrexone, lesson_slug=FIRST, title="New title", minutes=7, body="New.")
    authoring.question_move(session, course=naltrexone, lesson_slug=FIRST, position=1, direction="down")

    preview = authoring.publish_preview(session, course=naltrexone)

    assert preview.changes == ["Lesson “New title”: title, text changed", "Lesson “New title”: questions reordered"]
    assert preview.can_publish


def test_publish_applies_records_and_drops_the_draft(session, naltrexone):
    admin = make_user(session, "a@example.org")
    authoring.lesson_update(session, course=naltrexone, lesson_slug=FIRST, title="New title", minutes=7, body="## New")

    publication = authoring.publish(session, course=naltrexone, user_id=admin.id)

    lesson = session.scalar(select(Lesson).where(Lesson.slug == FIRST))
    assert (lesson.title, lesson.body_html) == ("New title", "<h2>New</h2>\n")
    assert session.scalars(select(CoursePublication)).one().published_by_id == admin.id
    assert "Lesson “New title”: title, text changed" in publication.summary
    assert authoring.draft_get(session, naltrexone) is None


def test_preview_html_is_what_learners_get(session, naltrexone):
    body = "## Heading\n\nA [link](https://example.org) and <b>tags</b>.\n"
    authoring.lesson_update(session, course=naltrexone, lesson_slug=FIRST, title="T", minutes=7, body=body)
    authoring.publish(session, course=naltrexone)

    assert session.scalar(select(Lesson.body_html).where(Lesson.slug == FIRST)) == authoring.lesson_preview_html(body)


def test_reordering_keeps_row_ids_on_publish(session, naltrexone):
    lesson = session.scalar(select(Lesson).where(Lesson.slug == FIRST))
    ids = [q.id for q in lesson.live_questions]
    authoring.question_move(session, course=naltrexone, lesson_slug=FIRST, position=2, direction="up")

    authoring.publish(session, course=naltrexone)

    session.expire_all()
    assert [q.id for q in lesson.live_questions] == [ids[1], ids[0]] + ids[2:]


def test_answered_question_removed_in_draft_is_retired_on_publish(session, naltrexone):
    learner = make_user(session, "l@example.org")
    lesson = session.scalar(select(Lesson).where(Lesson.slug == FIRST))
    questions = quiz_questions(session, lesson)
    answers = {q.id: [q.live_choices[0].id] for q in questions}
    quiz_submit_attempt(
        session,
        learner=learner,
        lesson=lesson,
        questions=questions,
        answers=answers,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    answered = questions[0].id
    authoring.question_remove(session, course=naltrexone, lesson_slug=FIRST, position=1)

    authoring.publish(session, course=naltrexone)

    session.expire_all()
    assert session.get(Question, answered).retired_at is not None
    assert answered not in [q.id for q in quiz_questions(session, lesson)]
    assert session.scalar(select(func.count()).select_from(Choice).where(Choice.question_id == answered)) > 0


def test_a_draft_back_to_the_published_course_has_no_unpublished_changes(session, naltrexone):
    authoring.module_rename(session, course=naltrexone, module_slug="staying-safe", title="Other")
    authoring.module_rename(session, course=naltrexone, module_slug="staying-safe", title="Staying safe")

    assert authoring.draft_get(session, naltrexone) is None
    assert authoring.publish_preview(session, course=naltrexone).changes == []
    with pytest.raises(NothingToPublish):
        authoring.publish(session, course=naltrexone)


def test_a_draft_that_replaces_every_question_retires_the_answered_ones(app, session, course):
    """Draft rows without ids are new: answered questions are never rewritten in place."""
    import uuid

    from sqlalchemy import select as select_

    from app.models import Lesson, Question, User
    from app.services.course_export import course_to_data
    from app.services.course_files import parse_course_data
    from app.services.course_import import course_import
    from app.services.progress import course_by_slug
    from app.services.quizzes import quiz_questions, quiz_submit_attempt
    from tests.conftest import create_user

    learner = session.get(User, create_user(app, "q@example.org"))
    lesson = session.scalar(select_(Lesson).order_by(Lesson.position).limit(1))
    questions = quiz_questions(session, lesson)
    old_prompts = {q.id: q.prompt for q in questions}
    quiz_submit_attempt(
        session,
        learner=learner,
        lesson=lesson,
        questions=questions,
        answers={q.id: [q.live_choices[0].id] for q in questions},
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    data = course_to_data(session, course_by_slug(session, "naltrexone"), with_ids=True)
    quiz = data["lessons"][lesson.slug]["front"]["quiz"]
    for question in quiz:
        question.pop("id")
        question["prompt"] = "New: " + question["prompt"]
        for choice in question["choices"]:
            choice.pop("id")
    course_import(session, parse_course_data(data, allow_ids=True))
    for question_id, prompt in old_prompts.items():
        old = session.get(Question, question_id)
        assert old.prompt == prompt and old.retired_at is not None
    assert all(q.prompt.startswith("New: ") for q in quiz_questions(session, lesson))
