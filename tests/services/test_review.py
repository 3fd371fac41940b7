"""Spaced review of mistakes: the FSRS schedule at fixed times, and how attempts and reviews feed the cards."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating, State
from sqlalchemy import func, select

from app.models import Course, Lesson, LessonProgress, Question, ReviewAnswer, ReviewCard, User
from app.services.errors import QuizInputError
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from app.services.review import (
    answer_rating,
    card_new,
    card_schedule,
    review_submit,
    reviews_due,
    reviews_due_count,
    reviews_next_due,
)
from tests.conftest import create_user

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


# The schedule, with fixed datetimes


def test_a_wrong_answer_comes_back_a_day_later():
    card = card_new(user_id=1, question_id=1, when=MONDAY)
    assert card.due == MONDAY + timedelta(days=1)
    assert card.state == State.Learning and card.last_rating == Rating.Again and card.last_review == MONDAY


def test_good_waits_longer_than_hard_and_hard_longer_than_again():
    due = {}
    for rating in (Rating.Again, Rating.Hard, Rating.Good):
        card = card_new(user_id=1, question_id=1, when=MONDAY)
        card_schedule(card, rating, card.due)
        due[rating] = card.due - (MONDAY + timedelta(days=1))
    assert due[Rating.Again] < due[Rating.Hard] < due[Rating.Good]
    assert due[Rating.Again] == timedelta(days=1)  # still learning: one more day
    assert due[Rating.Good] >= timedelta(days=2)


def test_rescheduling_spaces_right_answers_further_apart_and_a_lapse_brings_it_back_soon():
    card = card_new(user_id=1, question_id=1, when=MONDAY)
    gaps = []
    for rating in (Rating.Hard, Rating.Good, Rating.Good, Rating.Good):
        when = card.due
        card_schedule(card, rating, when)
        gaps.append(card.due - when)
        assert card.last_review == when and card.last_rating == rating
    assert gaps == sorted(gaps) and gaps[-1] > gaps[0]
    assert card.state == State.Review
    lapse_at = card.due
    card_schedule(card, Rating.Again, lapse_at)
    assert card.state == State.Relearning and card.due == lapse_at + timedelta(days=1)


def test_the_schedule_is_the_same_every_time():
    """No fuzz: the same answers at the same times give the same dates (and tests can rely on them)."""
    runs = []
    for _ in range(2):
        card = card_new(user_id=1, question_id=1, when=MONDAY)
        for rating in (Rating.Hard, Rating.Good, Rating.Good):
            card_schedule(card, rating, card.due)
        runs.append(card.due)
    assert runs[0] == runs[1]


def test_answer_rating():
    assert answer_rating(is_correct=False, previous_rating=None) == Rating.Again
    assert answer_rating(is_correct=False, previous_rating=Rating.Good) == Rating.Again
    assert answer_rating(is_correct=True, previous_rating=Rating.Again) == Rating.Hard  # right on the retry
    assert answer_rating(is_correct=True, previous_rating=Rating.Hard) == Rating.Good
    assert answer_rating(is_correct=True, previous_rating=Rating.Good) == Rating.Good


def test_fsrs_needs_aware_utc_times():
    card = card_new(user_id=1, question_id=1, when=MONDAY)
    with pytest.raises(ValueError, match="UTC"):
        card_schedule(card, Rating.Good, datetime(2026, 12, 8, 9, 0))


# Attempts and reviews feeding the cards


@pytest.fixture
def setup(app, course, session):
    learner = session.get(User, create_user(app, "learner@example.org"))
    lesson = session.scalar(select(Lesson).order_by(Lesson.id))
    return learner, lesson, session.get(Course, lesson.course_id)


def submit(session, learner, lesson, *, wrong: set[int] = frozenset()):
    """Submit the lesson's quiz with the questions in ``wrong`` (by position, from 0) answered wrong."""
    questions = quiz_questions(session, lesson)
    answers = {}
    for index, question in enumerate(questions):
        right = [c.id for c in question.live_choices if c.is_correct]
        wrong_choice = [next(c.id for c in question.live_choices if not c.is_correct)]
        answers[question.id] = wrong_choice if index in wrong else right
    quiz_submit_attempt(
        session,
        learner=learner,
        lesson=lesson,
        questions=questions,
        answers=answers,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    return questions


def cards_by_question(session, learner) -> dict[int, ReviewCard]:
    return {c.question_id: c for c in session.scalars(select(ReviewCard).where(ReviewCard.user_id == learner.id))}


def test_only_the_questions_answered_wrong_get_cards(setup, session):
    learner, lesson, _ = setup
    questions = submit(session, learner, lesson, wrong={0})
    cards = cards_by_question(session, learner)
    assert list(cards) == [questions[0].id]
    assert cards[questions[0].id].last_rating == Rating.Again


def test_a_right_retry_in_a_later_attempt_is_hard_then_good(setup, session):
    learner, lesson, _ = setup
    questions = submit(session, learner, lesson, wrong={0})
    submit(session, learner, lesson)
    assert cards_by_question(session, learner)[questions[0].id].last_rating == Rating.Hard
    submit(session, learner, lesson)
    assert cards_by_question(session, learner)[questions[0].id].last_rating == Rating.Good
    submit(session, learner, lesson, wrong={0})
    card = cards_by_question(session, learner)[questions[0].id]
    assert card.last_rating == Rating.Again
    assert len(cards_by_question(session, learner)) == 1  # one card per learner and question, always


def test_a_double_submitted_attempt_moves_the_cards_once(setup, session):
    learner, lesson, _ = setup
    questions = quiz_questions(session, lesson)
    answers = {q.id: [next(c.id for c in q.live_choices if not c.is_correct)] for q in questions}
    key = uuid.uuid4().hex
    for _ in range(2):
        quiz_submit_attempt(
            session,
            learner=learner,
            lesson=lesson,
            questions=questions,
            answers=answers,
            submission_key=key,
            pass_mark=0.8,
        )
    cards = cards_by_question(session, learner)
    assert len(cards) == len(questions)
    assert all(card.step == 0 and card.last_rating == Rating.Again for card in cards.values())


def test_due_counts_lists_and_next_due(app, setup, session):
    learner, lesson, course = setup
    questions = submit(session, learner, lesson, wrong={0, 1})
    created = min(c.created_at for c in cards_by_question(session, learner).values())
    assert reviews_due_count(session, user_id=learner.id, course_id=course.id, now=created) == 0
    assert reviews_next_due(session, user_id=learner.id, course_id=course.id) == created + timedelta(days=1)
    tomorrow = created + timedelta(days=1, minutes=1)
    assert reviews_due_count(session, user_id=learner.id, course_id=course.id, now=tomorrow) == 2
    due = reviews_due(session, user_id=learner.id, course_id=course.id, now=tomorrow)
    assert {d.question.id for d in due} == {questions[0].id, questions[1].id}
    other = create_user(app, "fred@example.org")
    assert reviews_due_count(session, user_id=other, course_id=course.id, now=tomorrow) == 0
    assert reviews_due(session, user_id=other, course_id=course.id, now=tomorrow) == []


def test_a_review_answer_is_graded_recorded_and_rescheduled_without_completing_anything(setup, session):
    learner, lesson, course = setup
    questions = submit(session, learner, lesson, wrong={0, 1})
    first, second = questions[0], questions[1]
    later = datetime.now(UTC) + timedelta(days=2)
    key = uuid.uuid4().hex
    right = [c.id for c in first.live_choices if c.is_correct]
    wrong = [next(c.id for c in second.live_choices if not c.is_correct)]
    result = review_submit(
        session,
        learner=learner,
        course=course,
        shown_question_ids=[first.id, second.id],
        answers={first.id: right, second.id: wrong},
        submission_key=key,
        now=later,
    )
    assert result.newly_recorded
    answers = list(session.scalars(select(ReviewAnswer).order_by(ReviewAnswer.position)))
    assert [(a.question_id, a.is_correct, a.rating) for a in answers] == [
        (first.id, True, Rating.Hard),
        (second.id, False, Rating.Again),
    ]
    assert answers[0].prompt == first.prompt and any(c["chosen"] for c in answers[0].choices_shown)
    cards = cards_by_question(session, learner)
    assert cards[first.id].due > cards[second.id].due == later + timedelta(days=1)
    assert (
        session.scalar(select(func.count()).select_from(LessonProgress).where(LessonProgress.completed_at.is_not(None)))
        == 0
    )
    # The same key again records nothing more.
    again = review_submit(
        session,
        learner=learner,
        course=course,
        shown_question_ids=[first.id, second.id],
        answers={first.id: right, second.id: wrong},
        submission_key=key,
        now=later,
    )
    assert not again.newly_recorded and session.scalar(select(func.count()).select_from(ReviewAnswer)) == 2


def test_a_review_refuses_questions_that_are_not_the_learners_cards(setup, session):
    learner, lesson, course = setup
    questions = submit(session, learner, lesson, wrong={0})
    not_mine = questions[1]
    with pytest.raises(QuizInputError) as refused:
        review_submit(
            session,
            learner=learner,
            course=course,
            shown_question_ids=[not_mine.id],
            answers={not_mine.id: [not_mine.live_choices[0].id]},
            submission_key=uuid.uuid4().hex,
        )
    assert refused.value.tampered
    assert session.scalar(select(func.count()).select_from(ReviewAnswer)) == 0


def test_retired_questions_are_neither_counted_nor_shown(setup, session):
    learner, lesson, course = setup
    questions = submit(session, learner, lesson, wrong={0, 1})
    retired = session.get(Question, questions[0].id)
    retired.retired_at, retired.position = datetime.now(UTC), None
    session.commit()
    later = datetime.now(UTC) + timedelta(days=2)
    assert reviews_due_count(session, user_id=learner.id, course_id=course.id, now=later) == 1
    assert [d.question.id for d in reviews_due(session, user_id=learner.id, course_id=course.id, now=later)] == [
        questions[1].id
    ]
