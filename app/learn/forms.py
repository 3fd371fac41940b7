"""Reading the quiz form.

The quiz page is the second busiest page, so it has no WTForms form: its CSRF token is
checked by CSRFProtect like every POST's, its fingerprint of the quiz shown by
quizzes.check_quiz_unchanged, and the rest (answers, the submission key) are read here.
"""

import re
import secrets

from app.parsing import parse_id
from app.services.errors import QuizInputError
from app.services.quizzes import QUIZ_SHOWN_FIELD

QUESTION_FIELD = re.compile(r"question-([0-9]{1,10})")
# The form's fields that are not answers.
NOT_ANSWERS = frozenset({"csrf_token", "submission_key", QUIZ_SHOWN_FIELD})


def fresh_submission_key() -> str:
    """A one-time key for the next submission of the quiz: a double submit records one attempt."""
    return secrets.token_hex(16)  # 32 hex digits (SUBMISSION_KEY_PATTERN), a quarter of uuid4().hex's cost


def parse_answers(form_data) -> dict[int, list[int]]:
    """Read ``question-<id>`` fields into {question id: [choice ids]}.

    Raises QuizInputError (tampered) for a field or value no form of ours could send.
    """
    answers: dict[int, list[int]] = {}
    for key in form_data:
        if key in NOT_ANSWERS:
            continue
        match = QUESTION_FIELD.fullmatch(key)
        question_id = parse_id(match.group(1)) if match else None
        if question_id is None:
            raise QuizInputError(f"Unexpected field {key[:40]!r} in the quiz.", tampered=True)
        parsed = [parse_id(value) for value in form_data.getlist(key)]
        choice_ids = [choice_id for choice_id in parsed if choice_id is not None]
        if len(choice_ids) != len(parsed):
            raise QuizInputError("A choice in this submission is not one of the quiz's choices.", tampered=True)
        answers[question_id] = choice_ids
    return answers


def unanswered_links(questions: list, error: object) -> list[tuple[str, str]]:
    """The error summary's links to the questions a submission left unanswered, in the page's order:
    ("choice-<id>", "Question N: <what to do>") for each, pointing at its first choice (a
    fieldset cannot take focus, a choice can). ``questions``: the page's (question, choices)
    pairs; ``error``: the QuizInputError shown (none for anything else)."""
    missing = getattr(error, "question_errors", None) or {}
    return [
        (f"choice-{choices[0].id}", f"Question {number}: {missing[question.id]}")
        for number, (question, choices) in enumerate(questions, start=1)
        if question.id in missing and choices
    ]
