"""Choices in an order drawn per attempt: kept in the snapshot, graded and counted by identity."""

from __future__ import annotations

import copy
import uuid

import pytest
from sqlalchemy import select

from app.models import AttemptAnswer, User
from app.services.analytics.course_report import course_analytics
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.progress import course_by_slug, course_outline
from app.services.quizzes import quiz_questions, quiz_submit_attempt, shown_order
from tests.factories import COURSE, question_true_false, write_course

LETTERS = "ABCDEF"


def six_choice_question(shuffle: bool = True) -> dict:
    """Six choices: 720 orders, so two draws agree by chance once in 720."""
    choices = [{"text": f"Choice {letter}", "feedback": f"About {letter}."} for letter in LETTERS]
    choices[2]["correct"] = True
    question = {"kind": "single", "prompt": "Which?", "explanation": "C.", "choices": choices}
    if not shuffle:
        question["shuffle"] = False
    return question


@pytest.fixture
def quiz(session, tmp_path, learner):
    lessons = {
        slug: {
            "front": {
                "title": f"Lesson {slug}",
                "minutes": 3,
                "quiz": [
                    six_choice_question(),
                    six_choice_question(shuffle=False),
                    {**question_true_false(), "shuffle": False},
                ],
            },
            "body": "Words.\n",
        }
        for slug in ("one", "two", "three")
    }
    course_import(session, load_course(write_course(tmp_path / "tiny", copy.deepcopy(COURSE), lessons)))
    user = session.get(User, learner)
    lesson = course_outline(session, course=course_by_slug(session, "tiny"), learner=user).entries[0].lesson
    return user, lesson, quiz_questions(session, lesson)


def submit(session, user, lesson, questions, key, picks):
    return quiz_submit_attempt(
        session,
        learner=user,
        lesson=lesson,
        questions=questions,
        answers={q.id: [pick(q)] for q, pick in zip(questions, picks, strict=True)},
        submission_key=key,
        pass_mark=0.8,
    ).attempt


def right(question):
    return next(c.id for c in question.live_choices if c.is_correct)


def wrong(question):
    return next(c.id for c in question.live_choices if not c.is_correct)


def test_the_same_key_draws_the_same_order_and_other_keys_draw_others():
    items = list(range(6))
    keys = [uuid.uuid4().hex for _ in range(5)]
    orders = [tuple(shown_order(items, question_id=7, shuffle=True, submission_key=key)) for key in keys]

    assert orders[0] == tuple(shown_order(items, question_id=7, shuffle=True, submission_key=keys[0]))
    assert len(set(orders)) > 1
    assert all(sorted(order) == items for order in orders)


def test_every_order_is_drawn_and_each_choice_is_as_likely_in_every_place():
    items = list(range(4))
    keys = [f"{n:032x}" for n in range(4800)]  # keys are 32 hex digits
    orders = [tuple(shown_order(items, question_id=3, shuffle=True, submission_key=key)) for key in keys]

    assert len(set(orders)) == 24  # all 4! orders occur
    for place in range(4):
        counts = [sum(order[place] == item for order in orders) for item in items]
        # 1,200 expected each; a fair shuffle stays within about 4 standard deviations (27 each).
        assert all(1090 <= count <= 1310 for count in counts), (place, counts)


def test_each_question_of_an_attempt_draws_its_own_order():
    items = list(range(6))
    orders = {tuple(shown_order(items, question_id=n, shuffle=True, submission_key="a" * 32)) for n in range(5)}

    assert len(orders) > 1


def test_a_pinned_question_keeps_the_written_order():
    items = list(range(6))
    for key in ("a" * 32, "b" * 32, uuid.uuid4().hex):
        assert shown_order(items, question_id=1, shuffle=False, submission_key=key) == items


def test_orders_differ_between_attempts_and_are_kept_in_each_snapshot(session, quiz):
    user, lesson, questions = quiz
    keys = [uuid.uuid4().hex for _ in range(4)]
    attempts = [submit(session, user, lesson, questions, key, [right, right, right]) for key in keys]

    shown = [tuple(c["text"] for c in attempt.answers[0].choices_shown) for attempt in attempts]
    assert len(set(shown)) > 1, "four attempts all showed the same order"
    for attempt, key in zip(attempts, keys, strict=True):
        expected = shown_order(questions[0].live_choices, question_id=questions[0].id, shuffle=True, submission_key=key)
        assert [c["choice_id"] for c in attempt.answers[0].choices_shown] == [c.id for c in expected]
        # The pinned question and the true/false one are shown as written, every time.
        assert [c["text"] for c in attempt.answers[1].choices_shown] == [f"Choice {x}" for x in LETTERS]
        assert [c["text"] for c in attempt.answers[2].choices_shown] == ["True", "False"]


def test_grading_is_by_identity_whatever_the_order(session, quiz):
    user, lesson, questions = quiz
    for _ in range(3):
        assert submit(session, user, lesson, questions, uuid.uuid4().hex, [right, right, right]).passed
        assert not submit(session, user, lesson, questions, uuid.uuid4().hex, [wrong, wrong, wrong]).passed


def test_a_stored_answer_keeps_its_order_and_where_the_learner_saw_the_choice(session, quiz):
    user, lesson, questions = quiz
    key = uuid.uuid4().hex
    answer_id = submit(session, user, lesson, questions, key, [right, right, right]).answers[0].id

    session.expire_all()  # read back from the database: the order and picks are stored, not remembered
    answer = session.scalar(select(AttemptAnswer).where(AttemptAnswer.id == answer_id))
    expected = shown_order(questions[0].live_choices, question_id=questions[0].id, shuffle=True, submission_key=key)
    assert [c["choice_id"] for c in answer.choices_shown] == [c.id for c in expected]
    assert [c["choice_id"] for c in answer.choices_shown if c["chosen"]] == [right(questions[0])]


def test_analytics_count_picks_by_choice_whatever_order_each_learner_saw(session, quiz):
    user, lesson, questions = quiz
    picks = [right, wrong, right, right]
    for pick in picks:
        submit(session, user, lesson, questions, uuid.uuid4().hex, [pick, right, right])

    report = course_analytics(session, course=course_by_slug(session, "tiny"))
    lesson_report = next(item for item in report.lessons if item.lesson.id == lesson.id)
    question_report = next(item for item in lesson_report.questions if item.question_id == questions[0].id)
    picked = {choice.text: choice.picks for choice in question_report.choices}
    assert picked["Choice C"] == 3 and picked["Choice A"] == 1
    assert sum(picked.values()) == 4
