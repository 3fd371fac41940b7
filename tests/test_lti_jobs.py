"""AGS score passback as a job: it holds only ids, and a platform that is down makes it retry."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.extensions import db
from app.jobs import huey
from app.jobs.lti import lti_post_scores, lti_scores_enqueue, scores_url
from app.models import Lesson, LtiGradeTarget, LtiIdentity, LtiPlatform, User
from tests.conftest import lesson_slugs
from tests.queued_jobs import enqueued, queued, run_enqueued
from tests.serving import free_port


def person_with_a_line_item(app, course: str, lineitem_port: int) -> tuple[int, int]:
    """An LMS account whose course launch named a line item on a platform at ``lineitem_port``."""
    first = lesson_slugs(app, course)[0]
    base = f"http://127.0.0.1:{lineitem_port}"
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.slug == first))
        platform = LtiPlatform(
            name="Down",
            issuer=base,
            client_id="c",
            auth_login_url=f"{base}/auth",
            auth_token_url=f"{base}/token",
            key_set_url=f"{base}/jwks",
            deployment_ids="1",
        )
        user = User(email=None, display_name="Pat", password_hash="!", role="learner")
        db.session.add_all([platform, user])
        db.session.flush()
        identity = LtiIdentity(platform_id=platform.id, subject=uuid.uuid4().hex, user_id=user.id)
        db.session.add(identity)
        db.session.flush()
        db.session.add(
            LtiGradeTarget(identity_id=identity.id, course_id=lesson.course_id, lineitem_url=f"{base}/lineitems/1")
        )
        db.session.commit()
        ids = (user.id, lesson.id)
        db.session.remove()
        return ids


def test_the_scores_endpoint_keeps_the_line_items_query():
    assert scores_url("https://lms.example.org/li/7?type=x") == "https://lms.example.org/li/7/scores?type=x"


def test_the_queue_holds_only_ids_and_a_platform_that_is_down_is_retried(app, course, tmp_path):
    user_id, lesson_id = person_with_a_line_item(app, course, free_port())
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
