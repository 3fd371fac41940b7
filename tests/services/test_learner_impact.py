"""The publish page says what learners will notice: finished learners with new lessons to do,
a quiz needing a different number of right answers, a completed lesson that stops counting.

Small factory data (the factory course, learners made here); the sentences are read from
``publish_preview`` as the publish page shows them.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.models import Course, Lesson, LessonProgress, User
from app.models.types import utcnow
from app.services import authoring
from tests.conftest import count_queries, factory_course_spec

SPEC = factory_course_spec()
FIRST_MODULE = SPEC.modules[0]
FIRST = FIRST_MODULE.lesson_slugs[0]
LESSONS = [slug for module in SPEC.modules for slug in module.lesson_slugs]


@pytest.fixture
def course_row(session, course) -> Course:
    return session.scalar(select(Course).where(Course.slug == course))


def learners_completing(session, slugs: list[str], *, count: int) -> None:
    """``count`` learners, each with every lesson in ``slugs`` completed."""
    lessons = {lesson.slug: lesson.id for lesson in session.scalars(select(Lesson))}
    for _ in range(count):
        user = User(email=f"{uuid.uuid4().hex}@example.org", display_name="Done", password_hash="!", role="learner")
        session.add(user)
        session.flush()
        for slug in slugs:
            session.add(LessonProgress(user_id=user.id, lesson_id=lessons[slug], completed_at=utcnow()))
    session.commit()


def for_learners(session, course) -> list[str]:
    return authoring.publish_preview(session, course=course).for_learners


def add_lesson(session, course) -> None:
    authoring.lesson_add(
        session, course=course, module_slug=FIRST_MODULE.slug, slug="new-one", title="New", minutes=3, body="New."
    )


def test_a_new_lesson_tells_how_many_finished_learners_have_more_to_do(session, course_row):
    learners_completing(session, LESSONS, count=2)
    learners_completing(session, LESSONS[:1], count=3)  # not finished: only the share changes for them
    add_lesson(session, course_row)

    assert for_learners(session, course_row) == [
        "2 learners who finished every lesson will find the course unfinished again, with 1 lesson more to do.",
        f"Progress will count {len(LESSONS) + 1} lessons, not {len(LESSONS)} lessons.",
    ]


def test_a_removed_lesson_says_whose_completion_stops_counting(session, course_row):
    learners_completing(session, [FIRST], count=1)
    title = SPEC.lessons[FIRST].title
    authoring.lesson_remove(session, course=course_row, lesson_slug=FIRST)

    assert for_learners(session, course_row) == [
        f"“{title}” goes: 1 learner completed it, and it will no longer count towards their progress. "
        "Their attempts stay on their pages."
    ]


def test_a_quiz_that_changes_length_says_what_passing_will_need(session, course_row):
    questions = len(SPEC.lessons[FIRST].quiz)
    authoring.question_remove(session, course=course_row, lesson_slug=FIRST, position=1)
    mark = SPEC.pass_mark
    from app.services.pass_rule import questions_needed

    before, after = questions_needed(mark, questions), questions_needed(mark, questions - 1)
    assert for_learners(session, course_row) == [
        f"“{SPEC.lessons[FIRST].title}”: passing its quiz will need {after} of {questions - 1} right "
        f"(now {before} of {questions}). Learners who have completed it stay completed."
    ]


def test_a_change_learners_cannot_notice_says_nothing(session, course_row):
    authoring.module_rename(session, course=course_row, module_slug=FIRST_MODULE.slug, title="Renamed")
    assert for_learners(session, course_row) == []


def test_it_costs_the_same_queries_for_one_learner_or_many(session, course_row):
    add_lesson(session, course_row)
    authoring.lesson_remove(session, course=course_row, lesson_slug=FIRST)
    learners_completing(session, LESSONS, count=1)
    with count_queries(session.get_bind()) as counted:
        for_learners(session, course_row)
    one = counted()
    learners_completing(session, LESSONS, count=8)
    with count_queries(session.get_bind()) as counted:
        for_learners(session, course_row)
    assert counted() == one
