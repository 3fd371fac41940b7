"""A question as learners will meet it, built from the question editor before anything is saved.

The editor shows it with the quiz's own macros (``_macros/answers.html``): the question as the
quiz asks it, then, for each choice, the result a learner who picked that choice alone is shown.
So that the preview cannot drift from the real thing, it goes through the same rules the quiz
does: the kind's grader (``app/question_kinds.py``), the answer snapshot the result page renders
and the safety-critical rule (``choices_snapshot`` and ``is_safety_critical`` in
``app/services/quizzes.py``), and the cleaning that saving applies to the texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.question_kinds import KINDS
from app.services.authoring.draft import MisconceptionData
from app.services.authoring.edits import QuestionInput
from app.services.live_questions import LiveChoice, LiveMisconception
from app.services.markdown import sanitise_text
from app.services.quizzes import choices_snapshot

# The question's id in the preview's markup (ids such as "question-0"): never a real question's.
PREVIEW_QUESTION_ID = 0


# A draft's choices and misconceptions are the values grading reads of live ones; a preview
# choice's ``id`` is its place in the question (from 1), for the markup.
PreviewMisconception = LiveMisconception
PreviewChoice = LiveChoice


@dataclass(frozen=True)
class PreviewQuestion:
    """What the quiz's question macro reads of a question."""

    id: int
    kind: str
    prompt: str


@dataclass(frozen=True)
class PreviewAnswer:
    """What the result page's feedback macro reads of an answer: an attempt answer's snapshot."""

    kind: str
    prompt: str
    explanation: str
    is_correct: bool
    choices_shown: list[dict]


@dataclass(frozen=True)
class QuestionPreview:
    """The question as the quiz asks it, and the feedback after picking each choice (in the written order)."""

    question: PreviewQuestion
    choices: list[PreviewChoice]
    answers: list[PreviewAnswer]
    shuffle: bool


def question_preview(
    question: QuestionInput, misconceptions: Mapping[str, MisconceptionData]
) -> QuestionPreview | None:
    """The learner's view of ``question`` as typed; None while it has no known kind or nothing to show.

    ``misconceptions`` are the draft's, by code: a choice pointing at a code the draft lacks
    shows no "common mix-up" (saving it would be refused anyway).
    """
    kind = KINDS.get(question.kind)
    if kind is None or not (question.prompt.strip() or question.choices):
        return None
    choices = []
    for number, choice in enumerate(question.choices, start=1):
        texts = misconceptions.get(choice.misconception or "")
        misconception = (
            PreviewMisconception(
                code=choice.misconception or "",
                learner_text=sanitise_text(texts.get("learner") or ""),
                safety_critical=bool(texts.get("safety_critical")),
            )
            if texts is not None
            else None
        )
        choices.append(
            PreviewChoice(
                id=number,
                text=sanitise_text(choice.text),
                is_correct=choice.correct,
                feedback=sanitise_text(choice.feedback),
                safety_critical=choice.safety_critical,
                misconception=misconception,
            )
        )
    prompt, explanation = sanitise_text(question.prompt), sanitise_text(question.explanation)
    answers = [
        PreviewAnswer(
            kind=kind.name,
            prompt=prompt,
            explanation=explanation,
            is_correct=kind.is_right(choices, [choice.id]),
            choices_shown=choices_snapshot(choices, {choice.id}),
        )
        for choice in choices
    ]
    return QuestionPreview(
        question=PreviewQuestion(id=PREVIEW_QUESTION_ID, kind=kind.name, prompt=prompt),
        choices=choices,
        answers=answers,
        shuffle=question.shuffle,
    )
