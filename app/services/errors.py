"""Domain errors raised by services and shown to people by views and commands."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


class DomainError(Exception):
    """Base class for errors a person can act on."""


class ValidationError(DomainError):
    """Input broke a rule; ``field`` names the form field it belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class EmailTaken(ValidationError):
    """An account already uses this e-mail address."""

    def __init__(self):
        super().__init__("email", "An account with this e-mail already exists. Try logging in.")


# How a locked lesson's message names the lesson to take first: a page that can link it puts the
# link in its place (app/learn/routes.py).
NEXT_FOR_YOU = "{reason} Next for you: {next}."


class LessonLocked(DomainError):
    """The learner has not yet completed the lesson before this one.

    ``reason`` says so in a sentence; ``next_title`` and ``next_slug`` name the open lesson to
    take first, when known: the message then ends with it (NEXT_FOR_YOU).
    """

    def __init__(self, reason: str, *, next_title: str | None = None, next_slug: str | None = None):
        super().__init__(NEXT_FOR_YOU.format(reason=reason, next=f"“{next_title}”") if next_title else reason)
        self.reason = reason
        self.next_title = next_title
        self.next_slug = next_slug


class QuizInputError(DomainError):
    """A quiz submission that cannot be graded.

    ``tampered`` is true when the form could not have produced it (unknown ids, a choice from
    another question, several choices for a single-answer question); views answer 400 then.
    ``question_errors`` maps question ids to messages shown beside those questions. ``changed``
    is true when the quiz was published anew after its page was shown: views answer 409 and show
    the quiz as it is now, with the learner's choices.
    """

    def __init__(self, message: str, *, tampered: bool = False, question_errors=None, changed: bool = False):
        super().__init__(message)
        self.message = message
        self.tampered = tampered
        self.changed = changed
        self.question_errors: dict[int, str] = question_errors or {}


@dataclass(frozen=True)
class Problem:
    """One problem found in a course folder, located by file and field."""

    file: str
    field: str
    message: str
    # Where it is in an admin's words on the authoring pages ("Lesson 2 “Receptors”, question 3"),
    # set by app/services/authoring/places.py; the command line keeps the file and field.
    place: str = dataclasses.field(default="", compare=False)

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"

    @property
    def shown(self) -> str:
        """The problem as a page shows it: located in the admin's words when known, else by file and field."""
        return f"{self.place}: {self.message}" if self.place else str(self)


class CourseInvalid(DomainError):
    """A course folder broke the format rules; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s) in the course files")
        self.problems = problems
