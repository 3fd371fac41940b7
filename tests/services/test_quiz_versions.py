"""The version of a live question and its content hash are kept per value (quizzes._version_of):
the same as built afresh, and a question edited since is another version."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import select

from app.models import AttemptAnswer, Choice, ShownQuestion, User
from app.services.attempt_insert import content_hash
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.live_questions import live_questions
from app.services.progress import course_by_slug, course_outline
from app.services.quizzes import _version_of, question_version, quiz_questions, quiz_submit_attempt
from tests.factories import write_course


@pytest.fixture
def lesson(session, tmp_path):
    course_import(session, load_course(write_course(tmp_path)))
    return course_outline(session, course=course_by_slug(session, "tiny"), learner=None).entries[0].lesson


def test_a_live_values_version_and_hash_are_those_built_afresh(session, lesson):
    for question in live_questions(session, lesson):
        version, version_hash = _version_of(question)
        assert version == question_version(question)
        assert version_hash == content_hash(question_version(question))
        edited = dataclasses.replace(question, prompt=question.prompt + " (edited)")
        assert _version_of(edited)[1] == content_hash(question_version(edited)) != version_hash


def test_a_models_version_is_built_every_time_without_a_hash(session, lesson):
    question = quiz_questions(session, lesson)[0]
    assert _version_of(question) == (question_version(question), None)


def test_an_edit_between_two_submissions_is_stored_as_a_new_version(session, lesson, learner):
    def submit():
        questions = live_questions(session, lesson)
        result = quiz_submit_attempt(
            session,
            learner=session.get(User, learner),
            lesson=lesson,
            questions=questions,
            answers={q.id: [q.live_choices[0].id] for q in questions},
            submission_key=uuid.uuid4().hex,
            pass_mark=0.8,
        )
        return session.scalars(
            select(AttemptAnswer.shown_question_id)
            .where(AttemptAnswer.attempt_id == result.attempt_id)
            .order_by(AttemptAnswer.position)
        ).all()

    before = submit()
    choice = session.scalar(select(Choice).where(Choice.id == live_questions(session, lesson)[0].live_choices[0].id))
    choice.feedback = "Rewritten feedback."
    session.commit()
    after = submit()
    assert after[1:] == before[1:]
    assert after[0] != before[0]
    stored = session.get(ShownQuestion, after[0])
    assert stored is not None and stored.choices[0]["feedback"] == "Rewritten feedback."
