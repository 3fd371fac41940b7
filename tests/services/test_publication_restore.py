"""Restoring an earlier version: a new publication with the earlier content, history intact.

Retired rows come back as the same rows (so progress with them counts again), deleted ones are
created anew, and a restore that fails leaves the database as it was.
"""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.models import Choice, Course, CoursePublication, Lesson, LessonProgress, Module, Question, User
from app.services import authoring
from app.services.authoring import CannotRestore, DraftInvalid, NothingToPublish
from app.services.progress import LessonState, course_by_slug, course_outline, lesson_record_completion
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from tests.conftest import factory_course_spec
from tests.services.test_authoring_publish import content_rows
from tests.services.test_publication_history import make_admin, new_question, publish_body

SPEC = factory_course_spec()
FIRST = SPEC.modules[0].lesson_slugs[0]
SECOND = SPEC.modules[0].lesson_slugs[1]
LAST_MODULE = SPEC.modules[-1]
ZONE = ZoneInfo("Europe/London")


@pytest.fixture
def course_row(session, course) -> Course:
    return course_by_slug(session, course)


def restore(session, course: Course, publication_id: int, user_id: int | None = None) -> CoursePublication:
    publication = authoring.publication_get(session, course=course, publication_id=publication_id)
    return authoring.publication_restore(session, course=course, publication=publication, user_id=user_id, zone=ZONE)


def lesson_row(session, slug: str) -> Lesson:
    return session.scalar(select(Lesson).where(Lesson.slug == slug))


def test_restoring_brings_the_earlier_content_back_as_a_new_publication(session, course_row):
    admin = make_admin(session)
    first = publish_body(session, course_row, "Version **one**.")
    second = publish_body(session, course_row, "Version two.")
    first_id, second_id, second_data = first.id, second.id, second.data

    restored = restore(session, course_row, first_id, admin)

    assert lesson_row(session, FIRST).body_html == "<p>Version <strong>one</strong>.</p>\n"
    assert (restored.restored_from_id, restored.published_by_id) == (first_id, admin)
    assert restored.summary.startswith("Restored the version of ")
    assert restored.changes == [f"Lesson “{SPEC.lessons[FIRST].title}”: text changed"]
    # The history is intact: both earlier publications keep their copies, and the restore is the newest.
    assert session.get(CoursePublication, second_id).data == second_data
    entries = authoring.publication_history(session, course=course_row).entries
    assert [e.id for e in entries] == [restored.id, second_id, first_id]
    assert entries[0].is_live and entries[0].restored_from_at == entries[2].published_at
    # The version it restored is what learners see too; the one in between can be restored.
    assert [e.restorable for e in entries] == [False, True, False]


def test_a_second_restore_goes_forward_again(session, course_row):
    first = publish_body(session, course_row, "Version one.")
    second = publish_body(session, course_row, "Version two.")
    first_id, second_id = first.id, second.id
    restore(session, course_row, first_id)

    again = restore(session, course_row, second_id)

    assert lesson_row(session, FIRST).body_markdown.strip() == "Version two."
    assert again.restored_from_id == second_id
    assert session.scalar(select(func.count()).select_from(CoursePublication)) == 4


def test_restoring_the_version_learners_see_changes_nothing(session, course_row):
    publication = publish_body(session, course_row, "Version one.")
    publication_id = publication.id
    before = content_rows(session)

    with pytest.raises(NothingToPublish, match="already see this version"):
        restore(session, course_row, publication_id)

    assert content_rows(session) == before
    assert session.scalar(select(func.count()).select_from(CoursePublication)) == 1


def test_retired_rows_come_back_and_deleted_ones_are_made_again(session, course_row, learner):
    """v1 has every lesson; v2 retires a lesson the learner completed and deletes one nobody opened."""
    me = session.get(User, learner)
    first = publish_body(session, course_row, "Version one.")
    first_id = first.id
    second_lesson = lesson_row(session, SECOND)
    second_id, old_question_ids = second_lesson.id, [q.id for q in second_lesson.live_questions]
    lesson_record_completion(session, learner=me, lesson=second_lesson)
    session.commit()
    gone = LAST_MODULE.lesson_slugs[0]
    authoring.lesson_remove(session, course=course_row, lesson_slug=SECOND)
    for slug in LAST_MODULE.lesson_slugs:
        authoring.lesson_remove(session, course=course_row, lesson_slug=slug)
    authoring.module_delete(session, course=course_row, module_slug=LAST_MODULE.slug)
    authoring.publish(session, course=course_row)
    assert lesson_row(session, SECOND).retired_at is not None and lesson_row(session, gone) is None

    restored = restore(session, course_row, first_id)

    assert f"Lesson “{SPEC.lessons[SECOND].title}”: brought back" in restored.changes
    back = lesson_row(session, SECOND)
    assert back.id == second_id and back.retired_at is None and back.position is not None
    # Its questions are the same rows as before, so past answers and analytics still point at them.
    assert [q.id for q in back.live_questions] == old_question_ids
    remade = lesson_row(session, gone)
    assert remade.retired_at is None and remade.position is not None
    assert [q.prompt for q in remade.live_questions] == [q.prompt for q in SPEC.lessons[gone].quiz]
    assert session.scalar(select(Module).where(Module.slug == LAST_MODULE.slug)) is not None
    # The learner's completion of the returned lesson counts again; the remade lesson is new to them.
    states = {e.lesson.slug: e.state for e in course_outline(session, course=course_row, learner=me).entries}
    assert list(states) == [slug for m in SPEC.modules for slug in m.lesson_slugs]
    assert states[SECOND] is LessonState.COMPLETED and states[gone] is not LessonState.COMPLETED


def test_a_choice_retired_since_comes_back_as_the_row_learners_picked(session, course_row, learner):
    first = publish_body(session, course_row, "Version one.")
    first_id = first.id
    lesson = lesson_row(session, FIRST)
    questions = quiz_questions(session, lesson)
    picked = {q.id: [q.live_choices[0].id] for q in questions}
    quiz_submit_attempt(
        session,
        learner=session.get(User, learner),
        lesson=lesson,
        questions=questions,
        answers=picked,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    question_id, choice_id = next(iter(picked.items()))
    choice_id = choice_id[0]
    data = authoring.draft_data(session, course_row)
    data["lessons"][FIRST]["front"]["quiz"][0]["choices"].pop(0)  # the picked (wrong) choice leaves
    draft = authoring.draft_get_or_create(session, course_row)
    draft.data = data
    session.commit()
    authoring.publish(session, course=course_row)
    assert session.get(Choice, choice_id).retired_at is not None

    restore(session, course_row, first_id)

    choice = session.get(Choice, choice_id)
    assert choice.retired_at is None and choice in session.get(Question, question_id).live_choices


def test_a_draft_blocks_a_restore_and_stays(session, course_row):
    first = publish_body(session, course_row, "Version one.")
    publish_body(session, course_row, "Version two.")
    first_id = first.id
    authoring.course_update(session, course=course_row, title="Waiting", summary="Waiting.", pass_mark=0.5)
    before = content_rows(session)

    with pytest.raises(CannotRestore, match="Publish or discard them first"):
        restore(session, course_row, first_id)

    assert content_rows(session) == before
    assert authoring.draft_data(session, course_row)["course"]["title"] == "Waiting"
    preview = authoring.restore_preview(
        session, course=course_row, publication=session.get(CoursePublication, first_id)
    )
    assert preview.refusal and not preview.can_restore


def test_a_publication_without_a_copy_cannot_be_restored(session, course_row):
    old = CoursePublication(course_id=course_row.id, summary="making-tea: updated 1 lessons.\n")
    session.add(old)
    session.commit()

    with pytest.raises(CannotRestore, match="before the platform kept a copy"):
        restore(session, course_row, old.id)


def test_a_version_that_breaks_todays_rules_is_refused_and_nothing_changes(session, course_row):
    first = publish_body(session, course_row, "Version one.")
    publish_body(session, course_row, "Version two.")
    first_id = first.id
    broken = dict(first.data)
    broken["course"] = {**broken["course"], "pass_mark": 5}
    first.data = broken
    session.commit()
    before = content_rows(session), session.scalar(select(func.count()).select_from(CoursePublication))

    preview = authoring.restore_preview(
        session, course=course_row, publication=session.get(CoursePublication, first_id)
    )
    with pytest.raises(DraftInvalid):
        restore(session, course_row, first_id)

    assert preview.preview.problems and not preview.can_restore
    assert (content_rows(session), session.scalar(select(func.count()).select_from(CoursePublication))) == before


def test_a_restore_that_fails_half_way_leaves_the_database_as_it_was(session, course_row, learner, monkeypatch):
    import app.services.authoring.publishing as publishing

    first = publish_body(session, course_row, "Version one.")
    publish_body(session, course_row, "Version two.")
    first_id = first.id
    lesson_record_completion(session, learner=session.get(User, learner), lesson=lesson_row(session, FIRST))
    session.commit()
    before = content_rows(session)
    progress = session.scalars(select(LessonProgress.id)).all()
    real_import = publishing.course_import_unsaved

    def import_then_fail(*args, **kwargs):
        real_import(*args, **kwargs)  # the rows are written (flushed) before it fails
        raise RuntimeError("the database went away")

    monkeypatch.setattr(publishing, "course_import_unsaved", import_then_fail)
    with pytest.raises(RuntimeError):
        restore(session, course_row, first_id)

    assert content_rows(session) == before
    assert session.scalars(select(LessonProgress.id)).all() == progress
    assert session.scalar(select(func.count()).select_from(CoursePublication)) == 2


def test_a_question_made_after_a_deletion_never_takes_the_deleted_ones_row(session, course_row, learner):
    """Row ids are never given twice, on SQLite too: a restore names rows by id, so a question
    deleted unused, restored later, must not land on the row of a question added since."""
    first_id = publish_body(session, course_row, "Version one.").id
    newest = session.scalar(select(Question).order_by(Question.id.desc()).limit(1))
    deleted_id, slug, deleted_prompt = newest.id, newest.lesson.slug, newest.prompt
    newest_choice_id = session.scalar(select(func.max(Choice.id)))
    position = [q.id for q in newest.lesson.live_questions].index(deleted_id) + 1
    authoring.question_remove(session, course=course_row, lesson_slug=slug, position=position)
    authoring.publish(session, course=course_row)
    assert session.get(Question, deleted_id) is None  # nobody had answered it: deleted, not retired

    authoring.question_add(session, course=course_row, lesson_slug=slug, question=new_question("Added since?"))
    authoring.publish(session, course=course_row)
    added = session.scalar(select(Question).where(Question.prompt == "Added since?"))
    assert added.id > deleted_id
    assert min(c.id for c in added.choices) > newest_choice_id
    # A learner answers the new question, so the restore must retire it, keeping what they saw.
    lesson = added.lesson
    questions = quiz_questions(session, lesson)
    quiz_submit_attempt(
        session,
        learner=session.get(User, learner),
        lesson=lesson,
        questions=questions,
        answers={q.id: [q.live_choices[0].id] for q in questions},
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    added_id = added.id

    restore(session, course_row, first_id)

    session.expire_all()
    kept = session.get(Question, added_id)
    assert kept.prompt == "Added since?" and kept.retired_at is not None
    remade = session.scalar(select(Question).where(Question.prompt == deleted_prompt, Question.retired_at.is_(None)))
    assert remade is not None and remade.id not in (deleted_id, added_id)
