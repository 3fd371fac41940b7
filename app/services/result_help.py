"""When a quiz result offers help, beside the feedback: the course's help lines and the clinic.

Two things on a result call for more than "try again". An answer that could put someone at risk
if they acted on it (a chosen choice marked safety-critical, or revealing a safety-critical
misconception: ``quizzes.is_safety_critical``, kept in the answer's record as it was then). And a
quiz that keeps not being passed: failed STRUGGLING_FAILS times or more, and not passed, which
is what flags a client "Struggling" on the counsellor's dashboard (app/services/dashboard.py),
so the learner is offered help at the point their counsellor would be told.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.services import dashboard
from app.services.progress import LessonEntry


class RecordedAnswer(Protocol):
    """An answer as its record shows it (an attempt's or a review's): its place, and its choices as
    they were shown."""

    @property
    def position(self) -> int: ...

    @property
    def choices_shown(self) -> Sequence[Mapping]: ...


@dataclass(frozen=True)
class ResultHelp:
    """Why a result offers help, if it does."""

    # An answer of the attempt was a safety-critical wrong choice.
    dangerous: bool
    # The learner has failed this quiz STRUGGLING_FAILS times or more and not passed it yet.
    keeps_failing: bool

    @property
    def offered(self) -> bool:
        """Whether the result page shows where to get help and offers the clinic's contact."""
        return self.dangerous or self.keeps_failing


def safety_critical_positions(answers: Iterable[RecordedAnswer]) -> list[int]:
    """The places of the answers that picked a choice that could be dangerous if acted on, in order:
    what a quiz's or a review's result puts first ("Please read this first", the template macro
    ``safety_first``) and what makes a result offer help.

    Records made before choices could be marked lack the key: nothing in them was marked.
    """
    return [
        answer.position
        for answer in answers
        if any(choice.get("chosen") and choice.get("safety_critical") for choice in answer.choices_shown)
    ]


def chose_safety_critical(answers: Iterable[RecordedAnswer]) -> bool:
    """Whether any of these answers picked a choice that could be dangerous if acted on."""
    return bool(safety_critical_positions(answers))


def failed_attempts_not_passed(entry: LessonEntry) -> int:
    """How many times the learner has failed this lesson's quiz while it stays not passed (0 once passed).

    From what the entry already holds (its latest attempts and how many there are in all, or
    all of them), so no query: passing the quiz completes the lesson, so while the lesson is not
    complete every attempt at it failed, those too older than the ones read.
    """
    if entry.completed_at is not None:
        return 0
    passed_among_read = sum(attempt.passed for attempt in entry.attempts)
    return entry.attempts_in_all - passed_among_read


def result_help(*, answers: Iterable[RecordedAnswer], entry: LessonEntry | None) -> ResultHelp:
    """Whether a quiz result offers help, and why.

    ``answers``: the attempt's answers; ``entry``: the learner's entry for the lesson, read with
    its attempts (``course_outline_by_slug(..., attempts_of=slug)``), or None when the lesson has
    been removed from the course (it counts towards nothing then, but a dangerous answer still
    calls for help).
    """
    keeps_failing = entry is not None and failed_attempts_not_passed(entry) >= dashboard.STRUGGLING_FAILS
    return ResultHelp(dangerous=chose_safety_critical(answers), keeps_failing=keeps_failing)
