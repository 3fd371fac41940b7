"""A client's answer beside the right one, for their counsellor: from the attempt's record alone."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from sqlalchemy import select

from app.models import AttemptAnswer, Choice, User
from app.services.answer_key import answer_key
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from tests.services.test_client_report import course, lessons  # noqa: F401 - fixtures

__all__ = ["course", "lessons"]


def shown(kind: str, *choices: tuple[str, bool, bool], **extra) -> SimpleNamespace:
    """An answer as recorded: its kind, and its choices as shown as (text, right, chosen)."""
    return SimpleNamespace(
        kind=kind,
        choices_shown=[{"text": text, "correct": right, "chosen": chosen, **extra} for text, right, chosen in choices],
    )


def texts(choices) -> list[str]:
    return [choice.text for choice in choices]


def test_a_wrong_answer_comes_with_the_right_one_each_in_the_order_shown():
    key = answer_key(shown("single", ("Activates", False, True), ("Blocks", True, False), ("Neither", False, False)))
    assert texts(key.chosen) == ["Activates"] and texts(key.right) == ["Blocks"]
    assert not key.several_right


def test_a_question_of_several_right_answers_lists_them_all_and_says_so():
    key = answer_key(shown("multiple", ("C", True, True), ("A", False, True), ("B", True, False)))
    assert texts(key.right) == ["C", "B"]  # as shown, not as written
    assert [(c.text, c.right) for c in key.chosen] == [("C", True), ("A", False)]
    assert key.several_right


def test_a_kind_no_longer_known_is_judged_by_its_right_choices():
    assert answer_key(shown("retired-kind", ("A", True, False), ("B", True, True))).several_right
    assert not answer_key(shown("retired-kind", ("A", True, False), ("B", False, True))).several_right


def test_an_old_record_without_safety_marks_marks_nothing():
    old = shown("single", ("A", True, False), ("B", False, True))
    assert not any(c.safety_critical for c in answer_key(old).chosen)
    marked = shown("single", ("A", True, False), ("B", False, True), safety_critical=True)
    assert all(c.safety_critical for c in answer_key(marked).chosen)


def test_an_edited_question_does_not_change_what_the_attempt_counted_as_right(session, lessons, learner):
    """The record keeps the question as shown: the right answer named is the one the client was shown."""
    lesson = lessons["one"]
    questions = quiz_questions(session, lesson)
    q1 = next(q for q in questions if q.prompt == "Q1?")
    answers = {q.id: [next(c.id for c in q.choices if c.text == ("Boost" if q is q1 else "Right"))] for q in questions}
    quiz_submit_attempt(
        session,
        learner=session.get(User, learner),
        lesson=lesson,
        questions=questions,
        answers=answers,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    session.commit()
    # Later the author rewrites the right choice and makes "Other" the right one.
    for choice in session.scalars(select(Choice).where(Choice.question_id == q1.id)):
        choice.text = "Rewritten" if choice.text == "Right" else choice.text
        choice.is_correct = choice.text == "Other"
    session.commit()
    session.expire_all()

    answer = session.scalars(select(AttemptAnswer).where(AttemptAnswer.question_id == q1.id)).one()
    key = answer_key(answer)
    assert texts(key.chosen) == ["Boost"] and texts(key.right) == ["Right"]
