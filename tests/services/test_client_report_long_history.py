"""The client page's report for a client with a long history: bounded, and its figures count everything.

Each lesson lists only its latest attempts in full, and the misconception figures come from the
answers summed up in SQL; the random histories below are checked against the figures worked
out answer by answer (the report's reading before it was bounded).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.models import QuizAttempt, ReviewAnswer
from app.services.attempt_history import ATTEMPTS_SHOWN
from app.services.client_report import client_attempts_page
from tests.conftest import count_queries
from tests.services.test_client_report import (  # noqa: F401 - fixtures
    LESSONS,
    START,
    attempt,
    course,
    lessons,
    report,
    review,
)

__all__ = ["course", "lessons"]


def test_each_lesson_lists_its_latest_attempts_and_counts_them_all(session, course, lessons, learner):
    made = [attempt(session, learner, lessons["one"], {"Q1?": "Other"}, day=day) for day in range(13)]
    attempt(session, learner, lessons["two"], {}, day=14)

    result = report(session, learner, course)

    one = result.attempts_for(lessons["one"])
    assert [a.id for a in one.shown] == [a.id for a in made[-ATTEMPTS_SHOWN:]]  # oldest of them first
    assert (one.in_all, one.not_shown, one.first_number) == (13, 13 - ATTEMPTS_SHOWN, 13 - ATTEMPTS_SHOWN + 1)
    assert all(len(a.answers) == 2 for a in one.shown)  # each shown in full
    two = result.attempts_for(lessons["two"])
    assert (len(two.shown), two.in_all, two.not_shown, two.first_number) == (1, 1, 0, 1)


def test_a_clients_attempts_at_a_lesson_come_a_page_at_a_time_newest_first(session, course, lessons, learner):
    made = [attempt(session, learner, lessons["one"], {}, day=day) for day in range(7)]
    attempt(session, learner, lessons["two"], {}, day=8)  # another lesson's: not listed
    lesson_id = lessons["one"].id

    first = client_attempts_page(session, learner_id=learner, lesson_id=lesson_id, number=1, per_page=3)
    last = client_attempts_page(session, learner_id=learner, lesson_id=lesson_id, number=3, per_page=3)

    assert [a.id for a in first.attempts] == [a.id for a in reversed(made[-3:])]
    assert (first.total, first.pages, [first.attempt_number(i) for i in range(3)]) == (7, 3, [7, 6, 5])
    assert [a.id for a in last.attempts] == [made[0].id] and last.attempt_number(0) == 1
    assert all(len(a.answers) == 2 for a in first.attempts)  # each with its answers
    assert client_attempts_page(session, learner_id=learner, lesson_id=lesson_id, number=4, per_page=3) is None
    assert client_attempts_page(session, learner_id=learner, lesson_id=lesson_id, number=0) is None
    never = client_attempts_page(session, learner_id=learner, lesson_id=lessons["three"].id, number=1)
    assert (never.attempts, never.total, never.pages) == ([], 0, 1)


def test_the_misconception_figures_count_answers_the_page_does_not_list(session, course, lessons, learner):
    for day in range(1, 13):
        attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, day=day)
    assert [(i.code, i.times, i.still_present) for i in report(session, learner, course).misconceptions] == [
        ("code-a", 12, True)
    ]

    attempt(session, learner, lessons["one"], {}, day=15)
    attempt(session, learner, lessons["one"], {}, day=16)  # a later right answer only confirms it

    [insight] = report(session, learner, course).misconceptions
    assert (insight.times, insight.still_present, insight.questions) == (12, False, ["Q1?"])
    assert (insight.first_seen, insight.last_seen) == (START + timedelta(days=1), START + timedelta(days=12))
    assert insight.corrected_at == START + timedelta(days=15)


def test_a_wrong_review_answer_then_a_right_quiz_answer_dates_the_correction(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, day=1)
    review(session, learner, course, "Q1?", "Boost", day=2)  # the latest wrong answer is in review
    attempt(session, learner, lessons["one"], {}, day=3)
    attempt(session, learner, lessons["one"], {}, day=4)

    [insight] = report(session, learner, course).misconceptions
    assert (insight.times, insight.still_present) == (2, False)
    assert insight.corrected_at == START + timedelta(days=3)


def test_a_wrong_quiz_answer_then_a_right_review_answer_dates_the_correction(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, day=1)
    review(session, learner, course, "Q1?", "Right", day=2)
    attempt(session, learner, lessons["one"], {}, day=3)

    [insight] = report(session, learner, course).misconceptions
    assert insight.corrected_at == START + timedelta(days=2)


def test_the_report_reads_as_much_for_a_long_history_of_quizzes_and_reviews_as_for_one_answer(
    session, course, lessons, learner
):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, day=1)
    with count_queries(session.get_bind()) as short:
        report(session, learner, course)

    for day in range(2, 30, 2):
        review(session, learner, course, "Q1?", "Boost", day=day)  # the latest wrong answers are in review
        attempt(session, learner, lessons[("one", "two")[day % 4 // 2]], {"Q3?": "Boost"}, day=day + 1)
    attempt(session, learner, lessons["one"], {}, day=40)  # corrects code-a on Q1
    attempt(session, learner, lessons["two"], {}, day=41)  # and on Q3
    session.expire_all()
    with count_queries(session.get_bind()) as long:
        [insight] = report(session, learner, course).misconceptions

    assert (insight.code, insight.still_present, insight.corrected_at) == ("code-a", False, START + timedelta(days=41))
    assert long() == short()


# Each question's choices by text, as test_client_report's course has them.
CHOICES = {
    question["prompt"]: [choice["text"] for choice in question["choices"]]
    for quiz in LESSONS.values()
    for question in quiz
}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_summed_up_figures_match_those_worked_out_answer_by_answer(session, course, lessons, learner, seed):
    rng = random.Random(seed)
    slugs = list(LESSONS)
    carded: set[str] = set()  # questions with a review card: those answered wrong in a quiz
    for day in range(40):
        if carded and rng.random() < 0.3:
            prompt = rng.choice(sorted(carded))
            review(session, learner, course, prompt, rng.choice(CHOICES[prompt]), day=day)
        else:
            slug = rng.choice(slugs)
            picks = {q["prompt"]: rng.choice(CHOICES[q["prompt"]]) for q in LESSONS[slug]}
            attempt(session, learner, lessons[slug], picks, day=day)
            carded |= {prompt for prompt, pick in picks.items() if pick != "Right"}

    found = report(session, learner, course).misconceptions

    attempts = session.scalars(
        select(QuizAttempt).where(QuizAttempt.user_id == learner).options(selectinload(QuizAttempt.answers))
    ).all()
    reviews = session.scalars(select(ReviewAnswer).where(ReviewAnswer.user_id == learner)).all()
    expected = answer_by_answer(attempts, reviews)
    assert expected, "the random history revealed no misconception"
    assert {
        i.code: (i.times, i.first_seen, i.last_seen, i.questions, i.open_questions, i.corrected_at) for i in found
    } == expected


def answer_by_answer(attempts, reviews) -> dict[str, tuple]:
    """Each code's figures worked out from every answer in time order: (times, first seen, last
    seen, questions, open questions, corrected at)."""
    answers = sorted(
        [(a.submitted_at, answer) for a in attempts for answer in a.answers] + [(r.answered_at, r) for r in reviews],
        key=lambda pair: pair[0],
    )
    right_times: dict[int, list[datetime]] = {}
    for when, answer in answers:
        if answer.is_correct:
            right_times.setdefault(answer.question_id, []).append(when)
    figures: dict[str, dict] = {}
    for when, answer in answers:
        for choice in answer.choices_shown:
            if not (choice.get("chosen") and choice.get("misconception") and not choice.get("correct")):
                continue
            code = figures.setdefault(
                choice["misconception"], {"times": 0, "first": when, "questions": [], "open": set(), "wrong": {}}
            )
            code["times"] += 1
            code["last"] = when
            if answer.prompt not in code["questions"]:
                code["questions"].append(answer.prompt)
            code["wrong"][answer.question_id] = when
            if any(right > when for right in right_times.get(answer.question_id, [])):
                code["open"].discard(answer.question_id)
            else:
                code["open"].add(answer.question_id)
    return {
        name: (
            code["times"],
            code["first"],
            code["last"],
            code["questions"],
            len(code["open"]),
            None
            if code["open"]
            else max(min(t for t in right_times[q] if t > wrong) for q, wrong in code["wrong"].items()),
        )
        for name, code in figures.items()
    }
