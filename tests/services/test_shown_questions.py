"""Each version of a question as shown is stored once; answers point at it and keep their own
order and picks, so an attempt reads as it was whatever happens to the course afterwards."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AttemptAnswer, Question, ShownQuestion, User
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.progress import course_by_slug, course_outline
from app.services.quizzes import (
    answer_columns,
    content_hash,
    question_version,
    quiz_questions,
    quiz_submit_attempt,
    shown_question_ids,
)
from tests.factories import write_course
from tests.row_locks import rollbacks_of, wait_until_blocked


@pytest.fixture
def tiny(session, tmp_path, learner, other_learner):
    """The factory course's first quiz, and two learners."""
    course_import(session, load_course(write_course(tmp_path)))
    lesson = course_outline(session, course=course_by_slug(session, "tiny"), learner=None).entries[0].lesson
    return lesson, quiz_questions(session, lesson), learner, other_learner


def every_right(questions) -> dict[int, list[int]]:
    return {q.id: [c.id for c in q.live_choices if c.is_correct] for q in questions}


def submit(session, learner_id, lesson, questions, key=None):
    return quiz_submit_attempt(
        session,
        learner=session.get(User, learner_id),
        lesson=lesson,
        questions=questions,
        answers=every_right(questions),
        submission_key=key or uuid.uuid4().hex,
        pass_mark=0.8,
    )


def versions(session) -> int:
    return session.scalar(select(func.count()).select_from(ShownQuestion))


def test_answers_keep_only_their_order_and_picks_as_indexes():
    # Shown as written: no order stored; the picks are indexes into the author's order, ascending.
    assert answer_columns([7, 8, 9], [7, 8, 9], {9, 7}) == {"choice_order": None, "chosen": "02"}
    # Shuffled: the order is kept, one character per choice.
    assert answer_columns([7, 8, 9], [9, 7, 8], {8}) == {"choice_order": "201", "chosen": "1"}


def test_identical_content_is_one_version_and_any_change_is_another(session, tiny):
    lesson, questions, learner, other = tiny
    submit(session, learner, lesson, questions)
    submit(session, other, lesson, questions)
    assert versions(session) == len(questions)

    question = session.get(Question, questions[0].id)
    before = content_hash(question_version(question))
    question.live_choices[0].feedback = "Reworded feedback."
    session.commit()
    assert content_hash(question_version(question)) != before
    submit(session, learner, lesson, quiz_questions(session, lesson))
    assert versions(session) == len(questions) + 1


def test_an_edit_after_an_attempt_leaves_the_attempt_as_it_was(session, tiny):
    lesson, questions, learner, _ = tiny
    attempt_id = submit(session, learner, lesson, questions).attempt_id
    first_id = session.scalar(
        select(AttemptAnswer.id).where(AttemptAnswer.attempt_id == attempt_id, AttemptAnswer.position == 1)
    )
    shown = session.get(AttemptAnswer, first_id).choices_shown
    prompt = questions[0].prompt

    question = session.get(Question, questions[0].id)
    question.prompt = "A reworded question?"
    for choice in question.live_choices:
        choice.text = f"Reworded {choice.text}"
    session.commit()
    submit(session, learner, lesson, quiz_questions(session, lesson))
    session.expire_all()

    answer = session.get(AttemptAnswer, first_id)
    assert answer.prompt == prompt and answer.choices_shown == shown
    assert not any(c["text"].startswith("Reworded") for c in shown)


def test_two_submissions_storing_the_same_new_version_at_once_both_succeed(app, session, tiny):
    """PostgreSQL: the second waits for the first's uncommitted version, then finds it (in its
    one try, no unique violation recovered from)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race is PostgreSQL's")
    lesson, questions, learner, other = tiny
    engine = session.get_bind()
    with Session(engine) as first, Session(engine) as second, ThreadPoolExecutor(1) as pool:
        first_questions = quiz_questions(first, lesson)
        second_questions = quiz_questions(second, lesson)
        stored = shown_question_ids(first, [question_version(q) for q in first_questions])  # not committed yet

        def second_submits():
            with app.app_context():
                return submit(second, other, lesson, second_questions)

        with rollbacks_of(second) as rolled_back:
            waiting = pool.submit(second_submits)
            wait_until_blocked(engine, waiting, behind=first, what="the second submission")
            first.commit()
            result = waiting.result(timeout=10)
        assert rolled_back == []  # settled by waiting and the ON CONFLICT, not by a unique violation
        assert result.newly_recorded
        assert [answer.shown_question_id for answer in result.attempt.answers] == stored
    assert versions(session) == len(questions)
