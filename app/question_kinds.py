"""The kinds of quiz question, each defined once: what it is called, how it is answered and graded.

The database's check constraint, the course-file validator, the authoring form, the grader and
the quiz page all read this registry, so a new kind (or a changed rule) is written here alone.
It lives beside ``app/permissions.py`` rather than in ``services/`` because the models read it
too, and models import nothing from services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol


class GradedChoice(Protocol):
    """What grading needs of a choice: the model's Choice and the course content's view both fit."""

    @property
    def id(self) -> int: ...

    @property
    def is_correct(self) -> bool: ...


def exactly_the_correct_set(choices: Iterable[GradedChoice], chosen_ids: Iterable[int]) -> bool:
    """Right only when the picked choices are exactly the correct ones: no more, no fewer."""
    return set(chosen_ids) == {choice.id for choice in choices if choice.is_correct}


@dataclass(frozen=True)
class QuestionKind:
    """One kind of question.

    ``several_right`` says whether more than one choice may be correct, and so whether the
    learner may pick several (checkboxes) or just one (radio buttons). ``choice_count`` fixes
    the number of choices when the kind has a set number (true or false: two).
    """

    name: str
    label: str
    several_right: bool
    # How a message names the kind: in words, then as the course files write it.
    plain: str = ""
    choice_count: int | None = None
    grade: Callable[[Iterable[GradedChoice], Iterable[int]], bool] = exactly_the_correct_set

    @property
    def input_type(self) -> str:
        """The HTML input each choice is rendered with on the quiz page."""
        return "checkbox" if self.several_right else "radio"

    def is_right(self, choices: Iterable[GradedChoice], chosen_ids: Iterable[int]) -> bool:
        """Whether picking ``chosen_ids`` among ``choices`` answers the question right."""
        return self.grade(choices, chosen_ids)

    @property
    def called(self) -> str:
        """The kind in a message, for an admin in the editor and an author of course files alike."""
        return f"{self.plain} question (kind: {self.name})"

    def choice_problems(self, *, correct_count: int, choice_count: int) -> list[str]:
        """What is wrong with a written question's choices for this kind, in the course files' words."""
        problems = []
        if self.several_right and correct_count < 1:
            problems.append(f"{self.called} needs at least one correct choice, found {correct_count}")
        if not self.several_right and correct_count != 1:
            problems.append(f"{self.called} needs exactly one correct choice, found {correct_count}")
        if self.choice_count is not None and choice_count != self.choice_count:
            problems.append(f"{self.called} has exactly {self.choice_count} choices")
        return problems


KINDS: dict[str, QuestionKind] = {
    kind.name: kind
    for kind in (
        QuestionKind("single", "Single: one right answer", several_right=False, plain="a one-answer"),
        QuestionKind("multiple", "Multiple: one or more right answers", several_right=True, plain="a multiple-answer"),
        QuestionKind(
            "true_false",
            "True or false: two choices, one right",
            several_right=False,
            choice_count=2,
            plain="a true-or-false",
        ),
    )
}
QUESTION_KINDS = tuple(KINDS)


def sql_kind_check(column: str) -> str:
    """The check constraint's SQL that keeps ``column`` to the registered kinds' names."""
    return f"{column} IN ({', '.join(repr(name) for name in QUESTION_KINDS)})"
