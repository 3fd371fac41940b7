"""Which of a learner's review cards count: the one statement of the rule, for every reader.

A card counts while its question and the question's lesson are live in the course; it is due
once its ``due`` time has come. The review page (review.py), the course overview and /me/ (the
count read with the signed-in user, progress.py) and the reminder e-mails (reminders.py) all
build their queries from here. A module of its own because review.py imports progress.py, which
needs the rule too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from app.models import Lesson, Question, ReviewCard


def live_cards_of(user_id: Any, course_id: Any) -> Select:
    """The learner's cards whose question and lesson are live in the course, as a select of ReviewCard.

    ``user_id`` and ``course_id``: values, bound parameters or columns of an enclosing query.
    """
    return (
        select(ReviewCard)
        .join(Question, Question.id == ReviewCard.question_id)
        .join(Lesson, Lesson.id == Question.lesson_id)
        .where(
            ReviewCard.user_id == user_id,
            Question.retired_at.is_(None),
            Lesson.retired_at.is_(None),
            Lesson.course_id == course_id,
        )
    )


def due_count_of(user_id: Any, course_id: Any, now: datetime | ColumnElement[Any]) -> Select:
    """How many of those cards are due by ``now``: a select of one count."""
    return live_cards_of(user_id, course_id).where(ReviewCard.due <= now).with_only_columns(func.count())
