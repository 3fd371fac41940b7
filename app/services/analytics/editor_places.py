"""Where each question of the report is in the course's editor now, for the page's "Edit" links.

Apart because it reads the draft, not the figures: the figures may be an hour old and the draft
may have moved on since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Course, Lesson, Question
from app.services.authoring.draft import draft_get
from app.services.progress import live_lesson_ids


@dataclass(frozen=True)
class EditorPlace:
    """Where the editor has a question now: its lesson and position in the draft, or why nowhere."""

    lesson_slug: str | None = None
    position: int | None = None
    missing: str | None = None  # "Retired" or "Removed in the draft": shown instead of a link


RETIRED = EditorPlace(missing="Retired")
REMOVED_IN_DRAFT = EditorPlace(missing="Removed in the draft")


def question_editor_places(session: Session, *, course: Course, question_ids: Iterable[int]) -> dict[int, EditorPlace]:
    """Where each question is in the course's editor now (2 queries).

    The editor names a question by its lesson and position in the draft, which can differ from
    the published course, and the figures may be an hour old: a question may have moved, been
    taken out of the draft, or been retired since. Without a draft the editor starts from the
    published course, where a live question's position is its place among its lesson's live ones.
    """
    live = session.execute(
        select(Question.id, Lesson.slug)
        .join(Lesson, Lesson.id == Question.lesson_id)
        .where(Question.lesson_id.in_(live_lesson_ids(course.id)), Question.retired_at.is_(None))
        .order_by(Lesson.id, Question.position, Question.id)
    ).all()
    draft = draft_get(session, course)
    places: dict[int, EditorPlace] = {}
    if draft is None:
        counts: dict[str, int] = {}
        for question_id, lesson_slug in live:
            counts[lesson_slug] = counts.get(lesson_slug, 0) + 1
            places[question_id] = EditorPlace(lesson_slug=lesson_slug, position=counts[lesson_slug])
    else:
        for lesson_slug, lesson in draft.data.get("lessons", {}).items():
            for position, question in enumerate(lesson.get("front", {}).get("quiz", []), start=1):
                if "id" in question:
                    places[question["id"]] = EditorPlace(lesson_slug=lesson_slug, position=position)
    live_ids = {question_id for question_id, _ in live}
    return {
        question_id: places.get(question_id) or (REMOVED_IN_DRAFT if question_id in live_ids else RETIRED)
        for question_id in question_ids
    }
