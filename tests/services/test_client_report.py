"""One client's report: lessons opened and completed, every attempt, and misconception insights."""

import copy
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.models import LessonProgress, Misconception, Question, QuizAttempt, ReviewAnswer, User
from app.models.types import utcnow
from app.services.client_report import client_report
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.progress import course_by_slug, course_outline
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from app.services.review import review_submit
from tests.factories import COURSE, write_course

COUNSELLOR_A = "Client may think blockers boost."
COUNSELLOR_B = "Client may think one dose lasts a month."


def choice(text: str, *, correct: bool = False, misconception: str | None = None) -> dict:
    entry = {"text": text, "feedback": f"About {text}."}
    if correct:
        entry["correct"] = True
    if misconception:
        entry["misconception"] = misconception
    return entry


def question(prompt: str, *choices: dict) -> dict:
    return {"kind": "single", "prompt": prompt, "explanation": "Because.", "choices": list(choices)}


# Lesson one: Q1 can reveal code A, Q2 can reveal code B. Lesson two: Q3 can reveal code A again.
LESSONS = {
    "one": [
        question("Q1?", choice("Right", correct=True), choice("Boost", misconception="code-a"), choice("Other")),
        question("Q2?", choice("Right", correct=True), choice("Month", misconception="code-b")),
    ],
    "two": [question("Q3?", choice("Right", correct=True), choice("Boost", misconception="code-a"))],
    "three": [question("Q4?", choice("Right", correct=True), choice("Wrong"))],
}


@pytest.fixture
def course(session, tmp_path):
    spec = copy.deepcopy(COURSE)
    spec["misconceptions"] = {
        "code-a": {"learner": "A blocker does not boost.", "counsellor": COUNSELLOR_A},
        "code-b": {"learner": "A dose lasts a day.", "counsellor": COUNSELLOR_B},
    }
    lessons = {
        slug: {"front": {"title": f"Lesson {slug}", "minutes": 3, "quiz": quiz}, "body": f"About {slug}.\n"}
        for slug, quiz in LESSONS.items()
    }
    course_import(session, load_course(write_course(tmp_path / "tiny", spec, lessons)))
    return course_by_slug(session, "tiny")


@pytest.fixture
def lessons(session, course):
    return {entry.lesson.slug: entry.lesson for entry in course_outline(session, course=course, learner=None).entries}


START = utcnow() - timedelta(days=20)


def attempt(session, learner_id: int, lesson, picks: dict[str, str], *, day: int) -> QuizAttempt:
    """Submit the quiz picking choices by text (prompt -> choice text; "Right" by default), on a given day."""
    questions = quiz_questions(session, lesson)
    answers = {q.id: [next(c.id for c in q.choices if c.text == picks.get(q.prompt, "Right"))] for q in questions}
    result = quiz_submit_attempt(
        session,
        learner=session.get(User, learner_id),
        lesson=lesson,
        questions=questions,
        answers=answers,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    when = START + timedelta(days=day)
    result.attempt.submitted_at = when
    if result.attempt.passed:
        mine = (LessonProgress.user_id == learner_id, LessonProgress.lesson_id == lesson.id)
        session.execute(update(LessonProgress).where(*mine).values(completed_at=when))
        session.execute(update(LessonProgress).where(*mine, LessonProgress.opened_at > when).values(opened_at=when))
    session.commit()
    return result.attempt


def report(session, learner_id: int, course):
    return client_report(session, learner=session.get(User, learner_id), course=course)


def insights(session, learner_id: int, course) -> list[tuple[str, bool]]:
    return [(i.code, i.still_present) for i in report(session, learner_id, course).misconceptions]


def test_lessons_show_when_they_were_opened_and_completed(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {}, day=1)
    session.add(LessonProgress(user_id=learner, lesson_id=lessons["two"].id, opened_at=START + timedelta(days=2)))
    attempt(session, learner, lessons["two"], {"Q3?": "Boost"}, day=3)
    entries = report(session, learner, course).outline.entries
    assert [(e.lesson.slug, e.opened_at, e.completed_at) for e in entries] == [
        ("one", START + timedelta(days=1), START + timedelta(days=1)),
        ("two", START + timedelta(days=2), None),
        ("three", None, None),
    ]


def test_attempts_are_listed_per_lesson_in_order_with_each_choice(session, course, lessons, learner):
    first = attempt(session, learner, lessons["one"], {"Q1?": "Other", "Q2?": "Month"}, day=1)
    second = attempt(session, learner, lessons["one"], {}, day=2)
    third = attempt(session, learner, lessons["two"], {}, day=3)
    result = report(session, learner, course)
    assert [a.id for a in result.attempts_for(lessons["one"]).shown] == [first.id, second.id]
    assert [a.id for a in result.attempts_for(lessons["two"]).shown] == [third.id]
    assert result.attempts_for(lessons["three"]).shown == []
    assert [result.attempts_for(lessons[slug]).in_all for slug in LESSONS] == [2, 1, 0]
    shown = result.attempts_for(lessons["one"]).shown[0]
    assert (shown.score, shown.passed) == (0.0, False)
    assert [a.prompt for a in shown.answers] == ["Q1?", "Q2?"]
    assert sorted((c["text"], c["chosen"]) for c in shown.answers[0].choices_shown) == [
        ("Boost", False),
        ("Other", True),
        ("Right", False),
    ]
    assert [c["text"] for c in shown.answers[1].choices_shown if c["chosen"]] == ["Month"]


def test_a_wrong_choice_reveals_its_misconception_with_the_counsellor_text(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, day=1)
    [insight] = report(session, learner, course).misconceptions
    assert (insight.code, insight.counsellor_text, insight.times) == ("code-a", COUNSELLOR_A, 1)
    assert insight.questions == ["Q1?"]
    assert insight.still_present


def test_a_wrong_choice_without_a_code_reveals_nothing(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Other"}, day=1)
    assert report(session, learner, course).misconceptions == []


def test_answering_the_same_question_right_later_marks_it_since_corrected(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, day=1)
    attempt(session, learner, lessons["one"], {}, day=2)
    [insight] = report(session, learner, course).misconceptions
    assert insight.code == "code-a"
    assert not insight.still_present


def test_a_right_answer_before_the_wrong_one_does_not_correct_it(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {}, day=1)
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, day=2)
    assert insights(session, learner, course) == [("code-a", True)]


def test_a_code_stays_present_until_every_question_revealing_it_is_corrected(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, day=1)
    attempt(session, learner, lessons["two"], {"Q3?": "Boost"}, day=2)
    attempt(session, learner, lessons["one"], {}, day=3)
    assert insights(session, learner, course) == [("code-a", True)]
    attempt(session, learner, lessons["two"], {}, day=4)
    assert insights(session, learner, course) == [("code-a", False)]


def test_present_misconceptions_sort_before_corrected_ones(session, course, lessons, learner):
    # code-a is seen more often and sorts first by name, but it was corrected; code-b was not.
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, day=1)
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, day=2)
    attempt(session, learner, lessons["one"], {"Q2?": "Month"}, day=3)
    result = report(session, learner, course).misconceptions
    assert [(i.code, i.still_present, i.times) for i in result] == [("code-b", True, 1), ("code-a", False, 2)]
    assert result[0].counsellor_text == COUNSELLOR_B


def test_other_learners_attempts_do_not_leak_in(session, course, lessons, learner, other_learner):
    mine = attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, day=1)
    attempt(session, other_learner, lessons["one"], {"Q2?": "Month"}, day=2)
    attempt(session, other_learner, lessons["two"], {}, day=3)
    attempt(session, other_learner, lessons["one"], {}, day=4)  # would correct Q1 if it leaked in
    result = report(session, learner, course)
    assert [a.id for a in result.attempts_for(lessons["one"]).shown] == [mine.id]
    assert result.attempts_for(lessons["one"]).in_all == 1
    assert result.attempts_for(lessons["two"]).shown == [] and result.attempts_for(lessons["two"]).in_all == 0
    assert [(i.code, i.still_present) for i in result.misconceptions] == [("code-a", True)]
    # Their own attempt opened lesson one; the other learner's attempt at lesson two opens nothing here.
    assert [e.opened_at is not None for e in result.outline.entries] == [True, False, False]


def test_safety_critical_misconceptions_come_first_with_their_short_titles(session, course, lessons, learner):
    # code-a shows twice, code-b once: by frequency alone, code-a would lead.
    attempt(session, learner, lessons["one"], {"Q1?": "Boost", "Q2?": "Month"}, day=1)
    attempt(session, learner, lessons["two"], {"Q3?": "Boost"}, day=2)
    assert [i.code for i in report(session, learner, course).misconceptions] == ["code-a", "code-b"]

    session.execute(
        update(Misconception)
        .where(Misconception.code == "code-b")
        .values(safety_critical=True, title="Thinks one dose lasts a month")
    )
    session.commit()

    found = report(session, learner, course).misconceptions
    assert [(i.code, i.safety_critical, i.heading) for i in found] == [
        ("code-b", True, "Thinks one dose lasts a month"),
        ("code-a", False, "Code a"),  # no title given: the code, made readable
    ]


def review(session, learner_id: int, course, prompt: str, pick: str, *, day: int) -> None:
    """Answer one question on the review page (the spaced review of mistakes), on a given day."""
    question = session.scalar(select(Question).where(Question.prompt == prompt))
    key = uuid.uuid4().hex
    review_submit(
        session,
        learner=session.get(User, learner_id),
        course=course,
        shown_question_ids=[question.id],
        answers={question.id: [next(c.id for c in question.live_choices if c.text == pick)]},
        submission_key=key,
    )
    session.execute(
        update(ReviewAnswer).where(ReviewAnswer.submission_key == key).values(answered_at=START + timedelta(days=day))
    )
    session.commit()


def test_a_misconception_answered_right_in_review_counts_as_since_corrected(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost", "Q2?": "Month"}, day=1)
    review(session, learner, course, "Q1?", "Right", day=3)
    assert insights(session, learner, course) == [("code-b", True), ("code-a", False)]


def test_a_wrong_review_answer_keeps_the_misconception_present(session, course, lessons, learner):
    attempt(session, learner, lessons["one"], {"Q1?": "Boost"}, day=1)
    attempt(session, learner, lessons["one"], {}, day=2)
    assert insights(session, learner, course) == [("code-a", False)]
    review(session, learner, course, "Q1?", "Boost", day=4)
    found = report(session, learner, course).misconceptions[0]
    assert (found.code, found.still_present, found.times) == ("code-a", True, 2)
