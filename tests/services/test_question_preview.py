"""The question editor's preview follows the quiz's own rules: the kind's grader, the answer
snapshot the result page shows, the safety-critical rule and the cleaning that saving does."""

from __future__ import annotations

from app.services.authoring import ChoiceInput, QuestionInput
from app.services.authoring.question_preview import question_preview

MISCONCEPTIONS = {
    "thinks-x": {"title": "Thinks X", "learner": "X is not so.", "counsellor": "Talk about X."},
    "dangerous-y": {"learner": "Y can hurt you.", "counsellor": "Talk about Y.", "safety_critical": True},
}


def question(kind: str, *choices: ChoiceInput, **extra) -> QuestionInput:
    return QuestionInput(kind=kind, prompt="Which?", explanation="Because.", choices=list(choices), **extra)


def test_each_choice_gets_the_result_a_learner_picking_it_alone_would_see():
    preview = question_preview(
        question(
            "single",
            ChoiceInput(text="Right", feedback="Yes.", correct=True),
            ChoiceInput(text="Wrong", feedback="No.", misconception="thinks-x"),
        ),
        MISCONCEPTIONS,
    )

    assert [answer.is_correct for answer in preview.answers] == [True, False]
    wrong = preview.answers[1]
    assert (wrong.prompt, wrong.explanation, wrong.kind) == ("Which?", "Because.", "single")
    assert [(c["text"], c["chosen"], c["correct"]) for c in wrong.choices_shown] == [
        ("Right", False, True),
        ("Wrong", True, False),
    ]
    assert wrong.choices_shown[1]["misconception_text"] == "X is not so."
    assert wrong.choices_shown[1]["safety_critical"] is False


def test_a_multiple_question_is_right_only_with_every_right_choice():
    preview = question_preview(
        question(
            "multiple",
            ChoiceInput(text="A", feedback="Yes.", correct=True),
            ChoiceInput(text="B", feedback="Yes.", correct=True),
        ),
        {},
    )

    assert [answer.is_correct for answer in preview.answers] == [False, False]


def test_a_wrong_choice_is_safety_critical_when_marked_or_when_its_misconception_is():
    preview = question_preview(
        question(
            "single",
            ChoiceInput(text="Right", feedback="Yes.", correct=True, misconception="dangerous-y"),
            ChoiceInput(text="Marked", feedback="No.", safety_critical=True),
            ChoiceInput(text="By its idea", feedback="No.", misconception="dangerous-y"),
            ChoiceInput(text="Plain", feedback="No."),
        ),
        MISCONCEPTIONS,
    )

    flags = [answer.choices_shown[row]["safety_critical"] for row, answer in enumerate(preview.answers)]
    assert flags == [False, True, True, False]  # a right choice never is


def test_texts_are_cleaned_as_saving_cleans_them():
    preview = question_preview(
        QuestionInput(
            kind="true_false",
            prompt="<b>True</b> or false?",
            explanation="<script>alert(1)</script>Because.",
            choices=[ChoiceInput(text="<i>True</i>", feedback="<a href='javascript:x'>Yes</a>.", correct=True)],
            shuffle=False,
        ),
        {},
    )

    assert preview.question.prompt == "True or false?"
    assert preview.answers[0].explanation == "Because."
    assert (preview.choices[0].text, preview.choices[0].feedback) == ("True", "Yes.")
    assert preview.shuffle is False


def test_an_unknown_misconception_shows_no_mix_up():
    preview = question_preview(question("single", ChoiceInput(text="W", feedback="No.", misconception="gone")), {})

    assert preview.answers[0].choices_shown[0]["misconception_text"] is None


def test_nothing_to_preview_without_a_known_kind_or_any_words():
    assert question_preview(question("essay", ChoiceInput(text="A", feedback="B")), {}) is None
    assert question_preview(QuestionInput(kind="single", prompt=" ", explanation=""), {}) is None
