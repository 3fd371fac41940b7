"""Quiz attempts made straight in the database, for tests of long histories."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from app.models import QuizAttempt, ReviewAnswer


def quiz_attempts(
    user_id: int, lesson_id: int, n: int, *, start: datetime, correct: int = 1, of: int = 5
) -> list[QuizAttempt]:
    """``n`` attempts at the lesson, a minute apart from ``start``, oldest first, not yet added.

    Each scores ``correct`` of ``of`` and passes at the usual mark (0.8), with a key of its own.
    """
    return [
        QuizAttempt(
            user_id=user_id,
            lesson_id=lesson_id,
            submission_key=uuid.uuid4().hex,
            submitted_at=start + timedelta(minutes=index),
            question_count=of,
            correct_count=correct,
            score=correct / of,
            pass_mark=0.8,
            passed=correct / of >= 0.8,
        )
        for index in range(n)
    ]


def review_answer(user_id: int, course_id: int, *, when: datetime) -> ReviewAnswer:
    """One right answer in a review of mistakes at ``when``, not yet added: activity in the course."""
    return ReviewAnswer(
        user_id=user_id,
        course_id=course_id,
        submission_key=uuid.uuid4().hex,
        position=1,
        answered_at=when,
        kind="single",
        prompt="Which?",
        explanation="Because.",
        is_correct=True,
        rating=2,
        choices_shown=[],
    )
