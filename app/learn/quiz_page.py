"""The quiz page, served from its kept shell (app/page_shells.py) with the learner's parts put in.

A quiz page as first shown is the same for every learner at that lesson but for their name,
the form token, the submission key, the name their ticks are kept under in the browser
(app/learn/kept_answers.py), the order of the choices (which the key gives) and their
past attempts. So it is kept per lesson (whether the learner has attempts, and has passed), and each
request draws only its questions (each one a kept fragment for its order) and its attempts'
rows (in Python: app/learn/attempt_rows.py). A page shown again with an error or with the
learner's choices is drawn in full.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from flask import current_app, render_template
from flask_login import current_user
from markupsafe import Markup, escape

from app.learn.attempt_rows import attempt_parts
from app.learn.kept_answers import kept_answers_owner
from app.page_fragments import EXTENSION_KEY, PageFragments
from app.page_shells import signed_in_page
from app.services.progress import CourseOutline, LessonEntry, LessonState
from app.services.quizzes import quiz_shown_fingerprint

TEMPLATE = "learn/quiz.html"


def quiz_page(
    outline: CourseOutline,
    entry: LessonEntry,
    *,
    questions: list,
    pass_rule: str,
    submission_key: str,
    error: object | None = None,
    chosen: Mapping | None = None,
) -> str:
    """The quiz page of ``entry`` for the signed-in learner: ``questions`` (with their choices) in
    this page's order, ``error`` and ``chosen`` when a submission is shown again."""
    page = {
        "outline": outline,
        "entry": entry,
        "questions": questions,
        "pass_rule": pass_rule,
        "error": error,
        "passed_shown": _passed_shown(entry),
        # What this page shows of the quiz, sent back with the answers (quizzes.check_quiz_unchanged):
        # the same for every page of this content's lesson, so worked out once for it.
        "quiz_shown": current_app.extensions[EXTENSION_KEY].kept(
            "quiz-shown",
            outline.course,
            entry.lesson.id,
            make=lambda: quiz_shown_fingerprint(question for question, _ in questions),
        ),
    }
    chosen = chosen or {}
    parts = {
        "questions_part": _questions(outline, questions, error=error, chosen=chosen),
        **attempt_parts(entry, course_slug=outline.course.slug),
        # The key as the template would output it: escaped (it is a hex string anyway).
        "submission_key": Markup(escape(submission_key)),  # noqa: S704  # nosec B704 - escaped
        "answers_owner": kept_answers_owner(current_user.id),
    }
    if error is not None or chosen:  # shown again with what this learner sent: drawn in full
        return render_template(TEMPLATE, **page, **parts)
    return signed_in_page(
        TEMPLATE,
        page,
        content=outline.course,
        key=(entry.lesson.id, bool(entry.attempts), page["passed_shown"]),
        parts=parts,
    )


def _passed_shown(entry: LessonEntry) -> bool:
    """Whether the page says the quiz is passed: one of the attempts it lists passed.

    Not the lesson's state alone: a lesson finished with "mark as done" before a quiz was added
    to it is complete with no pass, and the note links to the attempts listed below it.
    """
    return entry.state == LessonState.COMPLETED and any(attempt.passed for attempt in entry.attempts)


def _questions(outline: CourseOutline, questions: list, *, error: Any, chosen: Mapping) -> Markup:
    """Each question's fieldset (_macros/answers.html) in this page's order, one per line.

    A question as first shown (nothing chosen, no error) is kept per course content, question,
    number and choice order (app/page_fragments.py); one shown again with the learner's choices
    or an error is drawn afresh.
    """
    if error is not None or chosen:
        fieldset = _question_fieldset()
        errors = getattr(error, "question_errors", {})
        drawn = [
            fieldset(question, choices, number, errors.get(question.id), chosen)
            for number, (question, choices) in enumerate(questions, start=1)
        ]
    else:
        kept: PageFragments = current_app.extensions[EXTENSION_KEY]
        drawn = kept.kept_each(
            "quiz-question",
            outline.course,
            (
                # The content gives each choice id's text: hashing the ids is cheaper than the choices.
                (
                    (question.id, number, *[choice.id for choice in choices]),
                    partial(_draw_question, question, choices, number),
                )
                for number, (question, choices) in enumerate(questions, start=1)
            ),
        )
    return Markup("\n".join(drawn))  # noqa: S704  # nosec B704 - the macro's autoescaped output


def _question_fieldset() -> Any:
    """The macro that draws one question's fieldset (_macros/answers.html's ``question_fieldset``)."""
    return current_app.jinja_env.get_template("_macros/answers.html").module.question_fieldset  # type: ignore[attr-defined]


def _draw_question(question: Any, choices: list, number: int) -> str:
    """A question as first shown, for the kept fragment: the macro is looked up only when one is drawn."""
    return _question_fieldset()(question, choices, number)
