"""Forms for the learner's pages."""

import re
import uuid

from flask_wtf import FlaskForm
from wtforms import HiddenField

from app.services.errors import QuizInputError

QUESTION_FIELD = re.compile(r"^question-(\d{1,18})$")


class QuizForm(FlaskForm):
    """The quiz's CSRF token and one-time submission key; answers are parsed separately."""

    submission_key = HiddenField()

    def fresh_key(self) -> str:
        self.submission_key.data = uuid.uuid4().hex
        return self.submission_key.data


def parse_answers(form_data) -> dict[int, list[int]]:
    """Read ``question-<id>`` fields into {question id: [choice ids]}.

    Raises QuizInputError (tampered) for a field or value no form of ours could send.
    """
    answers: dict[int, list[int]] = {}
    for key in form_data:
        if key in ("csrf_token", "submission_key"):
            continue
        match = QUESTION_FIELD.match(key)
        if not match:
            raise QuizInputError(f"Unexpected field {key[:40]!r} in the quiz.", tampered=True)
        values = form_data.getlist(key)
        if not all(value.isdigit() and len(value) <= 18 for value in values):
            raise QuizInputError("A choice in this submission is not one of the quiz's choices.", tampered=True)
        answers[int(match.group(1))] = [int(value) for value in values]
    return answers
