"""AGS score passback as a job: it holds only ids, and a platform that is down makes it retry."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.jobs import huey
from app.jobs.lti import lti_post_scores, lti_scores_enqueue, scores_url
from app.models import Lesson, LessonProgress
from app.models.types import utcnow
from tests.conftest import lesson_slugs
from tests.lti_factories import down_platform, linked_person
from tests.queued_jobs import enqueued, queued, run_enqueued


def person_with_a_line_item(app, course: str) -> tuple[int, int]:
    """An LMS account whose course launch named a line item on a platform that is down, and who
    has just completed the course's first lesson."""
    first = lesson_slugs(app, course)[0]
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == first))
        user_id, _ = linked_person(down_platform("Down"), lesson.course_id)
        # The passback follows a completion: the course's line item is owed its share.
        db.session.add(LessonProgress(user_id=user_id, lesson_id=lesson.id, completed_at=utcnow()))
        db.session.commit()
        ids = (user_id, lesson.id)
        db.session.remove()
        return ids


def test_the_scores_endpoint_keeps_the_line_items_query():
    assert scores_url("https://lms.example.org/li/7?type=x") == "https://lms.example.org/li/7/scores?type=x"


def test_the_queue_holds_only_ids_and_a_platform_that_is_down_is_retried(app, course, tmp_path):
    user_id, lesson_id = person_with_a_line_item(app, course)
    with app.app_context(), queued(app, tmp_path):
        lti_scores_enqueue(user_id=user_id, lesson_id=lesson_id)
        assert enqueued() == [("lti_post_scores", (user_id, lesson_id), {})]
        run_enqueued()  # as the worker: the connection is refused, so it is scheduled again
        retries = [(task.name, task.retries) for task in huey.scheduled()]
    assert retries == [("lti_post_scores", lti_post_scores.retries - 1)]


def test_nobody_without_a_line_item_costs_a_request(app, course, learner):
    first = lesson_slugs(app, course)[0]
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.slug == first))
        assert lti_post_scores.call_local(learner, lesson_id) == 0
