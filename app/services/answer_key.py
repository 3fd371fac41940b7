"""A recorded answer's picks beside the right choices, as the question was shown then.

The counsellor's view of a client's attempts (templates/counsel/_attempt.html) shows a wrong
answer with the right one beside it, so a counsellor preparing to talk it through need not look
it up. Both sides come from what the attempt recorded (``choices_shown``: the version of the
question shown then, in the order shown), never the question as it is today: an edited question
does not rewrite what the client was asked or what counted as right.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.question_kinds import KINDS


class ShownAnswer(Protocol):
    """An answer as its record shows it: the question's kind then, and its choices as shown."""

    @property
    def kind(self) -> str: ...

    @property
    def choices_shown(self) -> Sequence[Mapping]: ...


@dataclass(frozen=True)
class KeyedChoice:
    """One choice as shown: its text, whether it was right then, whether the client picked it."""

    text: str
    right: bool
    chosen: bool
    safety_critical: bool


@dataclass(frozen=True)
class AnswerKey:
    """What the client picked and which choices were right, each in the order shown.

    ``several_right``: the question, as shown, was one where several choices may be right, so
    each pick is marked right or wrong (one wrong pick makes the answer wrong).
    """

    chosen: tuple[KeyedChoice, ...]
    right: tuple[KeyedChoice, ...]
    several_right: bool


def answer_key(answer: ShownAnswer) -> AnswerKey:
    """The client's picks and the right choices of ``answer``, from its record alone (no query).

    Records made before choices could be marked safety-critical lack the key: nothing in them was.
    """
    choices = [
        KeyedChoice(
            text=choice["text"],
            right=bool(choice.get("correct")),
            chosen=bool(choice.get("chosen")),
            safety_critical=bool(choice.get("safety_critical")),
        )
        for choice in answer.choices_shown
    ]
    right = tuple(choice for choice in choices if choice.right)
    kind = KINDS.get(answer.kind)
    return AnswerKey(
        chosen=tuple(choice for choice in choices if choice.chosen),
        right=right,
        # A kind no longer known is judged by its choices: more than one right means several may be.
        several_right=kind.several_right if kind is not None else len(right) > 1,
    )
