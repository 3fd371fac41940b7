"""The bulk factory for analytics tests grades attempts by the one pass rule, as a real submission does."""

from __future__ import annotations

import copy

from sqlalchemy import select

from app.models import Lesson, LessonProgress, QuizAttempt
from app.services.course_files import load_course
from app.services.course_import import course_import
from tests.analytics_factories import add_learners_with_attempts
from tests.factories import COURSE, write_course


def test_an_attempt_passes_at_the_course_pass_mark_not_only_when_all_right(session, tmp_path):
    # Three questions at 0.6 need 2 right: 2 of 3 passes, 1 of 3 does not.
    course_import(session, load_course(write_course(tmp_path, course={**copy.deepcopy(COURSE), "pass_mark": 0.6})))
    lesson = session.scalar(select(Lesson).where(Lesson.slug == "one"))
    add_learners_with_attempts(session, lesson, 3, right=lambda learner, question: question < 3 - learner)
    attempts = session.scalars(select(QuizAttempt).order_by(QuizAttempt.user_id)).all()
    assert [(a.correct_count, a.passed) for a in attempts] == [(3, True), (2, True), (1, False)]
    assert {a.pass_mark for a in attempts} == {0.6}
    completed = session.scalars(select(LessonProgress.completed_at).order_by(LessonProgress.user_id)).all()
    assert [when is not None for when in completed] == [True, True, False]
