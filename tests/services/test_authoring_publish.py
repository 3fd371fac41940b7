"""Previewing and publishing the authoring draft: learners see nothing until publish, then all of it."""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Choice, Course, CoursePublication, Lesson, Question, User
from app.services import authoring
from app.services.accounts import user_create
from app.services.authoring import NothingToPublish, ReviewInput, SourceInput
from app.services.course_export import course_to_data
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from tests.conftest import factory_course_spec
from tests.factories import COURSE, write_course

SPEC = factory_course_spec()
FIRST = SPEC.modules[0].lesson_slugs[0]
MINUTES = SPEC.lessons[FIRST].minutes  # unchanged, so the previews below list only the changes made
CONTENT = ("courses", "modules", "lessons", "questions", "choices", "misconceptions")


@pytest.fixture
def course_row(session, course) -> Course:
    """The factory course's row, as published."""
    return session.scalar(select(Course).where(Course.slug == course))


def content_rows(session) -> dict:
    tables = [t for t in db.metadata.sorted_tables if t.name in CONTENT]
    return {t.name: [dict(r._mapping) for r in session.execute(select(t).order_by(*t.primary_key))] for t in tables}


def make_user(session, email: str) -> User:
    return user_create(session, email=email, display_name="X", password="long enough pw", hash_method="scrypt:128:8:1")


def test_edits_never_touch_published_rows(session, course_row):
    before = content_rows(session)
    authoring.course_update(session, course=course_row, title="Changed", summary="Changed.", pass_mark=0.5)
    authoring.lesson_remove(session, course=course_row, lesson_slug=SPEC.modules[1].lesson_slugs[0])
    authoring.question_remove(session, course=course_row, lesson_slug=FIRST, position=1)
    authoring.publish_preview(session, course=course_row)

    assert content_rows(session) == before


def test_preview_lists_the_changes(session, course_row):
    authoring.lesson_update(
        session, course=course_row, lesson_slug=FIRST, title="New title", minutes=MINUTES, body="New."
    )
    authoring.question_move(session, course=course_row, lesson_slug=FIRST, position=1, direction="down")

    preview = authoring.publish_preview(session, course=course_row)

    assert preview.changes == ["Lesson “New title”: title, text changed", "Lesson “New title”: questions reordered"]
    assert preview.can_publish


def test_publish_applies_records_and_drops_the_draft(session, course_row):
    admin = make_user(session, "a@example.org")
    authoring.lesson_update(
        session, course=course_row, lesson_slug=FIRST, title="New title", minutes=MINUTES, body="## New"
    )

    publication = authoring.publish(session, course=course_row, user_id=admin.id)

    lesson = session.scalar(select(Lesson).where(Lesson.slug == FIRST))
    assert (lesson.title, lesson.body_html) == ("New title", "<h2>New</h2>\n")
    assert session.scalars(select(CoursePublication)).one().published_by_id == admin.id
    assert "Lesson “New title”: title, text changed" in publication.summary
    assert authoring.draft_get(session, course_row) is None


def test_preview_html_is_what_learners_get(session, course_row):
    body = "## Heading\n\nA [link](https://example.org), **bold**, 0300 123 1110 and <https://www.nhs.uk/>.\n"
    authoring.lesson_update(session, course=course_row, lesson_slug=FIRST, title="T", minutes=7, body=body)
    authoring.publish(session, course=course_row)

    assert session.scalar(select(Lesson.body_html).where(Lesson.slug == FIRST)) == authoring.lesson_preview_html(body)


def test_reordering_keeps_row_ids_on_publish(session, course_row):
    lesson = session.scalar(select(Lesson).where(Lesson.slug == FIRST))
    ids = [q.id for q in lesson.live_questions]
    authoring.question_move(session, course=course_row, lesson_slug=FIRST, position=2, direction="up")

    authoring.publish(session, course=course_row)

    session.expire_all()
    assert [q.id for q in lesson.live_questions] == [ids[1], ids[0]] + ids[2:]


def test_answered_question_removed_in_draft_is_retired_on_publish(session, course_row):
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
    authoring.question_remove(session, course=course_row, lesson_slug=FIRST, position=1)

    authoring.publish(session, course=course_row)

    session.expire_all()
    assert session.get(Question, answered).retired_at is not None
    assert answered not in [q.id for q in quiz_questions(session, lesson)]
    assert session.scalar(select(func.count()).select_from(Choice).where(Choice.question_id == answered)) > 0


def test_a_draft_back_to_the_published_course_has_no_unpublished_changes(session, course_row):
    module = SPEC.modules[1]
    authoring.module_rename(session, course=course_row, module_slug=module.slug, title="Other")
    authoring.module_rename(session, course=course_row, module_slug=module.slug, title=module.title)

    assert authoring.draft_get(session, course_row) is None
    assert authoring.publish_preview(session, course=course_row).changes == []
    with pytest.raises(NothingToPublish):
        authoring.publish(session, course=course_row)


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
    data = course_to_data(session, course_by_slug(session, course), with_ids=True)
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


@pytest.fixture
def tiny(session, tmp_path) -> Course:
    """The small factory course: no review, help, sources, pinned order or safety-critical marks."""
    course_import(session, load_course(write_course(tmp_path)))
    return session.scalar(select(Course).where(Course.slug == "tiny"))


def edit_every_new_field(session, course: Course) -> None:
    """Set the review, help, a lesson's sources, a pinned order and the safety-critical marks."""
    authoring.course_update(
        session,
        course=course,
        title=course.title,
        summary=course.summary,
        pass_mark=course.pass_mark,
        review=ReviewInput("Clinical panel", "2026-12-04", date(2027, 12, 4)),
        help="Call **NHS 111** for urgent advice.",
    )
    authoring.lesson_update(
        session,
        course=course,
        lesson_slug="one",
        title="Lesson one",
        minutes=5,
        body="## Lesson one\n\nSome plain words about one.\n",
        sources=[SourceInput("NICE TA115", "https://www.nice.org.uk/guidance/ta115"), SourceInput("A leaflet")],
    )
    question = authoring.draft_question(authoring.draft_data(session, course), "one", 1)
    choices = [
        authoring.ChoiceInput(c["text"], c["feedback"], c.get("correct", False), c.get("misconception"), c["id"])
        for c in question["choices"]
    ]
    choices[1] = replace(choices[1], safety_critical=True)
    authoring.question_update(
        session,
        course=course,
        lesson_slug="one",
        position=1,
        question=authoring.QuestionInput(
            question["kind"], question["prompt"], question["explanation"], choices, shuffle=False
        ),
    )
    authoring.misconception_update(
        session,
        course=course,
        code="blocks-are-boosts",
        learner="A blocker does not boost.",
        counsellor="Client may think blockers boost.",
        title="Thinks blockers boost",
        safety_critical=True,
    )


def test_publish_brings_every_new_field_to_the_live_rows(session, tiny):
    edit_every_new_field(session, tiny)
    preview = authoring.publish_preview(session, course=tiny)
    assert preview.can_publish, preview.problems

    authoring.publish(session, course=tiny)

    session.expire_all()
    course = session.scalar(select(Course).where(Course.slug == "tiny"))
    assert (course.reviewed_by, course.reviewed_on, course.next_review_on) == (
        "Clinical panel",
        date(2026, 12, 4),
        date(2027, 12, 4),
    )
    assert course.help_markdown == "Call **NHS 111** for urgent advice.\n"
    assert course.help_html.startswith("<p>Call <strong>") and 'href="tel:111"' in course.help_html
    lesson = session.scalar(select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == "one"))
    assert lesson.sources == [
        {"title": "NICE TA115", "url": "https://www.nice.org.uk/guidance/ta115"},
        {"title": "A leaflet", "url": None},
    ]
    question = lesson.live_questions[0]
    assert question.shuffle is False
    assert [choice.safety_critical for choice in question.live_choices] == [False, True, False]
    misconception = next(m for m in course.misconceptions if m.code == "blocks-are-boosts")
    assert (misconception.title, misconception.safety_critical) == ("Thinks blockers boost", True)
    assert authoring.draft_get(session, course) is None


def test_the_new_fields_round_trip_so_the_same_edits_again_leave_nothing_to_publish(session, tiny):
    edit_every_new_field(session, tiny)
    drafted = authoring.draft_data(session, tiny)
    authoring.publish(session, course=tiny)
    session.expire_all()

    assert course_to_data(session, tiny, with_ids=True) == drafted
    edit_every_new_field(session, tiny)
    assert authoring.draft_get(session, tiny) is None


def test_the_preview_review_and_help_are_what_learners_get(session, tiny):
    edit_every_new_field(session, tiny)
    data = authoring.draft_data(session, tiny)
    review, help_html = authoring.draft_review(data), authoring.draft_help_html(data)

    authoring.publish(session, course=tiny)

    session.expire_all()
    course = session.scalar(select(Course).where(Course.slug == "tiny"))
    assert (review.reviewed_by, review.reviewed_on, review.next_review_on) == (
        course.reviewed_by,
        course.reviewed_on,
        course.next_review_on,
    )
    assert help_html == course.help_html


def test_course_overviews_list_each_course_by_title_with_its_pending_changes(session, course_row, tmp_path):
    other = copy.deepcopy(COURSE) | {"slug": "aardvarks", "title": "Aardvarks first"}
    course_import(session, load_course(write_course(tmp_path / "other", other)))
    authoring.course_update(
        session, course=course_row, title="Zebras last", summary=SPEC.summary, pass_mark=SPEC.pass_mark
    )

    overviews = authoring.course_overviews(session)

    assert [o.slug for o in overviews] == ["aardvarks", course_row.slug]
    assert not overviews[0].preview.has_draft and overviews[0].last is None
    assert overviews[1].data["course"]["title"] == "Zebras last" and overviews[1].preview.can_publish


def test_a_publish_that_loses_a_race_for_the_draft_says_so_and_writes_nothing(session, course_row, monkeypatch):
    """A double click on Publish, or two admins: the draft the second one read is gone by the time it
    writes. It is told so (not a 500), and nothing of it is written."""
    from sqlalchemy import delete

    from app.models import CourseDraft
    from app.services.authoring import publishing

    authoring.lesson_update(session, course=course_row, lesson_slug=FIRST, title="Raced", minutes=MINUTES, body="New.")
    before = content_rows(session)
    real_copy = publishing.draft_copy

    def copied_while_another_publishes(draft):
        data = real_copy(draft)
        with db.engine.connect() as other:  # the other request's publish commits first
            other.execute(delete(CourseDraft))
            other.commit()
        return data

    monkeypatch.setattr(publishing, "draft_copy", copied_while_another_publishes)
    with pytest.raises(NothingToPublish, match="a moment ago"):
        authoring.publish(session, course=course_row)

    assert content_rows(session) == before
    assert session.scalar(select(func.count()).select_from(CoursePublication)) == 0


REVIEW_WARNING = "review.reviewed_on"


def reviewed_and_published(session, course: Course) -> None:
    """Give the course a review and publish it, so learners see "Reviewed 2026-12-04"."""
    edit_every_new_field(session, course)
    authoring.publish(session, course=course)


def test_a_draft_that_changes_content_under_the_old_review_date_is_warned_before_publishing(session, tiny):
    reviewed_and_published(session, tiny)
    authoring.lesson_update(session, course=tiny, lesson_slug="one", title="Lesson one", minutes=5, body="New words.\n")

    preview = authoring.publish_preview(session, course=tiny)

    assert preview.can_publish
    assert preview.warnings[0].field == REVIEW_WARNING
    assert "still dated 2026-12-04" in preview.warnings[0].message


def test_a_draft_that_changes_only_the_reviews_details_is_not_warned(session, tiny):
    """Moving the next review's date, or mending the reviewer's name, changes no content."""
    reviewed_and_published(session, tiny)
    review_again(session, tiny, ReviewInput("Clinical review panel", "2026-12-04", date(2027, 6, 4)))

    preview = authoring.publish_preview(session, course=tiny)

    assert preview.can_publish and not preview.content_changed
    assert REVIEW_WARNING not in [warning.field for warning in preview.warnings]


def review_again(session, course: Course, review: ReviewInput) -> None:
    """Put ``review`` in the draft, leaving the course's other details as they are."""
    authoring.course_update(
        session, course=course, title=course.title, summary=course.summary, pass_mark=course.pass_mark, review=review
    )


def test_a_draft_that_also_dates_a_new_review_is_not_warned(session, tiny):
    reviewed_and_published(session, tiny)
    authoring.lesson_update(session, course=tiny, lesson_slug="one", title="Lesson one", minutes=5, body="New words.\n")
    review_again(session, tiny, ReviewInput("Clinical panel", "2026-12-07", date(2027, 12, 7)))

    preview = authoring.publish_preview(session, course=tiny)

    assert preview.can_publish
    assert REVIEW_WARNING not in [warning.field for warning in preview.warnings]
