"""The live questions read as values for grading (app/services/live_questions.py) are the models'
live questions: the same order, choices, misconceptions, versions as shown and grades."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.models import AttemptAnswer, Choice, Course, Question, User
from app.models.types import utcnow
from app.question_kinds import KINDS
from app.services.attempt_insert import content_hash
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.live_questions import graded_questions, learner_cards, live_questions
from app.services.progress import course_by_slug, course_outline
from app.services.quizzes import question_version, quiz_questions, quiz_submit_attempt
from tests.conftest import count_queries
from tests.factories import write_course


@pytest.fixture
def lesson(session, tmp_path):
    """The factory course's first lesson (single, multiple and true_false questions, misconceptions)."""
    course_import(session, load_course(write_course(tmp_path)))
    return course_outline(session, course=course_by_slug(session, "tiny"), learner=None).entries[0].lesson


def test_the_values_are_the_models_live_questions(session, lesson):
    models = quiz_questions(session, lesson)
    values = live_questions(session, lesson)
    assert [q.id for q in values] == [q.id for q in models]
    for value, model in zip(values, models, strict=True):
        assert (value.kind, value.prompt, value.explanation, value.shuffle) == (
            model.kind,
            model.prompt,
            model.explanation,
            model.shuffle,
        )
        assert [c.id for c in value.live_choices] == [c.id for c in model.live_choices]
        # The stored version (every choice's text, feedback, misconception) is the same one.
        assert content_hash(question_version(value)) == content_hash(question_version(model))
    assert any(c.misconception is not None for q in values for c in q.live_choices)


def test_retired_choices_and_questions_are_left_out_as_the_models_leave_them(session, lesson):
    first, second = quiz_questions(session, lesson)[:2]
    retired_choice = session.get(Choice, first.live_choices[-1].id)
    retired_choice.retired_at, retired_choice.position = utcnow(), None
    retired_question = session.get(Question, second.id)
    retired_question.retired_at, retired_question.position = utcnow(), None
    session.commit()

    values = live_questions(session, lesson)
    assert [q.id for q in values] == [q.id for q in quiz_questions(session, lesson)]
    assert second.id not in [q.id for q in values]
    assert retired_choice.id not in [c.id for c in values[0].live_choices]
    assert [c.id for c in values[0].live_choices] == [c.id for c in session.get(Question, first.id).live_choices]


@pytest.mark.parametrize("answer", ["right", "wrong"])
def test_grading_the_values_records_what_grading_the_models_records(session, lesson, learner, other_learner, answer):
    def pick(question):
        right = [c.id for c in question.live_choices if c.is_correct]
        return right if answer == "right" else [next(c.id for c in question.live_choices if not c.is_correct)]

    recorded = []
    graded_as = {learner: quiz_questions(session, lesson), other_learner: live_questions(session, lesson)}
    for learner_id, questions in graded_as.items():
        result = quiz_submit_attempt(
            session,
            learner=session.get(User, learner_id),
            lesson=lesson,
            questions=questions,
            answers={q.id: pick(q) for q in questions},
            submission_key=uuid.uuid4().hex,
            pass_mark=0.8,
        )
        answers = session.scalars(
            select(AttemptAnswer).where(AttemptAnswer.attempt_id == result.attempt_id).order_by(AttemptAnswer.position)
        ).all()
        rows = [(a.question_id, a.shown_question_id, a.is_correct, a.chosen) for a in answers]
        recorded.append((result.passed, rows))
    assert recorded[0] == recorded[1]
    assert recorded[0][0] is (answer == "right")
    values = live_questions(session, lesson)
    assert all(KINDS[q.kind].is_right(q.live_choices, pick(q)) is (answer == "right") for q in values)


def test_learner_cards_are_only_this_learners_cards_for_the_lessons_live_questions(
    session, lesson, learner, other_learner
):
    """The submission's read of the cards it moves on: the learner's own for this lesson's live
    questions (another learner's, and a card for another lesson's question, are not theirs to move)."""
    from app.models import Lesson, ReviewCard
    from app.services.review import card_new

    questions = live_questions(session, lesson)
    elsewhere = session.scalars(
        select(Question).join(Lesson).where(Question.lesson_id != lesson.id, Question.retired_at.is_(None))
    ).first()
    assert elsewhere is not None  # the factory course has another lesson with a quiz
    now = utcnow()
    session.add_all(
        [
            card_new(user_id=learner, question_id=questions[0].id, when=now),
            card_new(user_id=learner, question_id=elsewhere.id, when=now),
            card_new(user_id=other_learner, question_id=questions[1].id, when=now),
        ]
    )
    session.commit()

    (card,) = learner_cards(session, lesson_id=lesson.id, learner_id=learner)

    stored = session.scalar(
        select(ReviewCard).where(ReviewCard.user_id == learner, ReviewCard.question_id == questions[0].id)
    )
    assert card == {column.key: getattr(stored, column.key) for column in ReviewCard.__table__.columns}
    assert learner_cards(session, lesson_id=lesson.id, learner_id=other_learner)[0]["question_id"] == questions[1].id


def course_version(session, lesson) -> tuple[int, int]:
    course = session.get(Course, lesson.course_id)
    return course.id, course.content_version


def test_graded_questions_are_the_live_questions_kept_per_content_version(app, session, lesson, tmp_path):
    """Graded against the same questions as the live rows give, read once per worker per version;
    a new version (an author's change published) is read again and graded against at once."""
    course_id, version = course_version(session, lesson)
    lesson_id = lesson.id
    session.commit()

    assert list(graded_questions(session, course_id=course_id, version=version, lesson_id=lesson_id)) == (
        live_questions(session, lesson)
    )
    with count_queries(session.get_bind()) as counted:
        kept = graded_questions(session, course_id=course_id, version=version, lesson_id=lesson_id)
    assert counted() == 0 and list(kept) == live_questions(session, lesson)

    # An author rewrites the first question and publishes: a new content version.
    spec = load_course(write_course(tmp_path))
    spec.lessons[lesson.slug].quiz[0].prompt = "Which of these is true, now that the question is rewritten?"
    course_import(session, spec)
    _, newer = course_version(session, lesson)
    assert newer == version + 1
    with count_queries(session.get_bind()) as counted:
        regraded = graded_questions(session, course_id=course_id, version=newer, lesson_id=lesson_id)
    assert counted() == 1
    assert list(regraded) == live_questions(session, lesson)
    assert regraded[0].prompt == "Which of these is true, now that the question is rewritten?"


def test_graded_questions_asked_for_an_older_version_are_the_live_ones_kept_under_theirs(
    app, session, lesson, tmp_path
):
    """A request that read the version just before an author's change landed is graded against the
    live questions, as a read of the live rows would be, and they are kept under their own
    version: never under the one asked for."""
    course_id, version = course_version(session, lesson)
    lesson_id = lesson.id
    spec = load_course(write_course(tmp_path))
    spec.lessons[lesson.slug].quiz[0].prompt = "A prompt changed between the request's first read and its grading?"
    course_import(session, spec)
    session.commit()

    graded = graded_questions(session, course_id=course_id, version=version, lesson_id=lesson_id)

    assert graded[0].prompt == "A prompt changed between the request's first read and its grading?"
    with count_queries(session.get_bind()) as counted:
        graded_questions(session, course_id=course_id, version=version + 1, lesson_id=lesson_id)
        graded_questions(session, course_id=course_id, version=version, lesson_id=lesson_id)
    assert counted() == 1  # the newer version was kept; the older one is read again


def test_graded_questions_of_a_lesson_without_a_quiz_or_an_unknown_course_are_none(app, session, lesson, tmp_path):
    from app.models import Lesson

    course_id, version = course_version(session, lesson)
    spec = load_course(write_course(tmp_path))
    spec.lessons["three"].quiz = []  # its questions go (retired or deleted), the lesson stays
    course_import(session, spec)
    three = session.scalar(select(Lesson.id).where(Lesson.course_id == course_id, Lesson.slug == "three"))
    session.commit()

    assert graded_questions(session, course_id=course_id, version=version + 1, lesson_id=three) == ()
    assert graded_questions(session, course_id=course_id, version=version + 1, lesson_id=lesson.id)  # the others stay
    assert graded_questions(session, course_id=course_id + 1000, version=1, lesson_id=lesson.id) == ()
