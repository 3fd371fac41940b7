"""A learner's past quiz attempts, as their lesson, quiz and /me/ pages list them.

The attempts come with the learner's progress, in the same read (``course_outline_by_slug``
with ``with_attempts=True`` in ``progress.py``): these are the shapes they take there and the
per-lesson summary /me/ shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AttemptSummary:
    """One past attempt as a history line shows it: when, the score, passed or not."""

    id: int
    lesson_id: int
    submitted_at: datetime
    correct_count: int
    question_count: int
    passed: bool


def attempts_by_lesson(attempts: Iterable[AttemptSummary]) -> dict[int, tuple[AttemptSummary, ...]]:
    """Group attempts by lesson, newest first (the later id first when two share a time)."""
    grouped: dict[int, list[AttemptSummary]] = {}
    for attempt in sorted(attempts, key=lambda a: (a.submitted_at, a.id), reverse=True):
        grouped.setdefault(attempt.lesson_id, []).append(attempt)
    return {lesson_id: tuple(history) for lesson_id, history in grouped.items()}


@dataclass(frozen=True)
class LessonAttemptsSummary:
    """How a learner's attempts at one lesson went, in brief: how many, the best, the latest."""

    count: int
    best: AttemptSummary
    latest: AttemptSummary


def _share_right(attempt: AttemptSummary) -> float:
    return attempt.correct_count / attempt.question_count if attempt.question_count else 0.0


def summarise(attempts: tuple[AttemptSummary, ...]) -> LessonAttemptsSummary | None:
    """Summarise one lesson's attempts (newest first); None when there are none.

    The best is the most right answers, as a share of the questions asked (a quiz can change
    length between attempts); of equal bests, the earliest, when the learner first got there.
    """
    if not attempts:
        return None
    best = max(reversed(attempts), key=_share_right)
    return LessonAttemptsSummary(count=len(attempts), best=best, latest=attempts[0])
