"""When a quiz result offers help (services/result_help.py): after a dangerous answer, and after
the quiz has been failed as often as flags a client "Struggling" on the counsellor's dashboard."""

from __future__ import annotations

import uuid

import pytest

from app.models import User
from app.services import dashboard
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.progress import course_outline_by_slug, lesson_record_completion
from app.services.quizzes import attempt_for_learner, quiz_questions, quiz_submit_attempt
from app.services.result_help import ResultHelp, failed_attempts_not_passed, result_help, safety_critical_positions
from tests.attempt_factories import quiz_attempts
from tests.factories import COURSE, write_course

SLUG = COURSE["slug"]


def choice(text: str, **marks) -> dict:
    return {"text": text, "feedback": f"About {text}.", **marks}


@pytest.fixture
def marked_course(session, tmp_path) -> None:
    """Two lessons, one question each: a wrong choice marked safety-critical, one whose misconception
    is, and one plain wrong choice (lesson "one"); only plain wrong choices (lesson "two")."""
    course = {
        **COURSE,
        "modules": [{"slug": "part", "title": "Part", "lessons": ["one", "two"]}],
        "misconceptions": {
            "harmless-mix-up": {"learner": "A small mix-up.", "counsellor": "Talk it over."},
            "risky-belief": {
                "learner": "This one could hurt.",
                "counsellor": "Talk about safety.",
                "safety_critical": True,
            },
        },
    }
    one = {
        "kind": "single",
        "shuffle": False,
        "prompt": "Which is right?",
        "explanation": "The first.",
        "choices": [
            choice("Right", correct=True),
            choice("Plain wrong", misconception="harmless-mix-up"),
            choice("Risky belief", misconception="risky-belief"),
            choice("Marked risky", safety_critical=True),
        ],
    }
    two = {**one, "choices": [choice("Right", correct=True), choice("Plain wrong"), choice("Also wrong")]}
    lessons = {
        slug: {"front": {"title": f"Lesson {slug}", "minutes": 3, "quiz": [quiz]}, "body": "Words.\n"}
        for slug, quiz in (("one", one), ("two", two))
    }
    course_import(session, load_course(write_course(tmp_path, course, lessons)))


def take(session, user_id: int, lesson_slug: str, picked: str):
    """Submit the lesson's quiz picking the choice of this text; return the help its result offers."""
    user = session.get(User, user_id)
    entry = course_outline_by_slug(session, slug=SLUG, learner=user).entry_for(lesson_slug)
    questions = quiz_questions(session, entry.lesson)
    answers = {q.id: [c.id for c in q.live_choices if c.text == picked] for q in questions}
    result = quiz_submit_attempt(
        session,
        learner=user,
        lesson=entry.lesson,
        questions=questions,
        answers=answers,
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    return help_for(session, user, lesson_slug, result.attempt_id)


def help_for(session, user: User, lesson_slug: str, attempt_id: int) -> ResultHelp:
    """The help offered on this attempt's result, read as the result page reads it."""
    outline = course_outline_by_slug(session, slug=SLUG, learner=user, with_attempts=True, attempts_of=lesson_slug)
    entry = outline.entry_for(lesson_slug)
    attempt = attempt_for_learner(session, learner=user, lesson=entry.lesson, attempt_id=attempt_id)
    return result_help(answers=attempt.answers, entry=entry)


@pytest.mark.parametrize(
    ("picked", "dangerous"),
    [("Marked risky", True), ("Risky belief", True), ("Plain wrong", False), ("Right", False)],
    ids=["choice-marked", "misconception-marked", "plain-wrong", "right"],
)
def test_a_dangerous_answer_offers_help_from_the_first_attempt(session, marked_course, learner, picked, dangerous):
    offered = take(session, learner, "one", picked)
    assert offered == ResultHelp(dangerous=dangerous, keeps_failing=False)
    assert offered.offered is dangerous


@pytest.mark.parametrize(
    ("fails", "then_pass", "keeps_failing"), [(2, False, False), (3, False, True), (3, True, False)]
)
def test_help_is_offered_at_as_many_fails_as_flag_struggling_until_the_quiz_is_passed(
    session, marked_course, learner, fails, then_pass, keeps_failing
):
    assert dashboard.STRUGGLING_FAILS == 3  # the dashboard's rule, which the cases above count to
    for _ in range(fails):
        offered = take(session, learner, "two", "Plain wrong")
    if then_pass:
        offered = take(session, learner, "two", "Right")
    assert offered == ResultHelp(dangerous=False, keeps_failing=keeps_failing)
    assert offered.offered is keeps_failing


def test_the_threshold_is_the_dashboards(session, marked_course, learner, monkeypatch):
    monkeypatch.setattr(dashboard, "STRUGGLING_FAILS", 5)
    for _ in range(4):
        offered = take(session, learner, "two", "Plain wrong")
    assert not offered.keeps_failing
    assert take(session, learner, "two", "Plain wrong").keeps_failing


def test_fails_are_counted_per_quiz(session, marked_course, learner):
    take(session, learner, "one", "Plain wrong")
    take(session, learner, "one", "Plain wrong")
    assert not take(session, learner, "two", "Plain wrong").offered


def test_an_earlier_failed_result_offers_nothing_once_the_quiz_is_passed(session, marked_course, learner):
    user = session.get(User, learner)
    for _ in range(3):
        take(session, learner, "two", "Plain wrong")
    take(session, learner, "two", "Right")
    outline = course_outline_by_slug(session, slug=SLUG, learner=user, with_attempts=True, attempts_of="two")
    oldest = outline.entry_for("two").attempts[-1]
    assert not oldest.passed
    assert help_for(session, user, "two", oldest.id) == ResultHelp(dangerous=False, keeps_failing=False)


def test_fails_older_than_the_latest_read_count_too(session, marked_course, learner, monkeypatch):
    """The page reads only the latest attempts (ATTEMPTS_SHOWN) with how many there are in all."""
    from app.models.types import utcnow

    monkeypatch.setattr(dashboard, "STRUGGLING_FAILS", 12)
    user = session.get(User, learner)
    entry = course_outline_by_slug(session, slug=SLUG, learner=user).entry_for("two")
    session.add_all(quiz_attempts(learner, entry.lesson.id, 11, start=utcnow(), correct=0, of=1))
    session.commit()
    outline = course_outline_by_slug(session, slug=SLUG, learner=user, with_attempts=True, attempts_of="two")
    assert len(outline.entry_for("two").attempts) < 11  # only the latest were read
    assert failed_attempts_not_passed(outline.entry_for("two")) == 11
    assert take(session, learner, "two", "Plain wrong").keeps_failing  # the twelfth


def test_a_completed_lesson_counts_no_fails(session, marked_course, learner):
    """Completed some other way (before the lesson had a quiz, say): the quiz no longer stands in the way."""
    for _ in range(3):
        take(session, learner, "two", "Plain wrong")
    user = session.get(User, learner)
    entry = course_outline_by_slug(session, slug=SLUG, learner=user).entry_for("two")
    lesson_record_completion(session, learner=user, lesson=entry.lesson)
    session.commit()
    assert not take(session, learner, "two", "Plain wrong").keeps_failing


def test_a_removed_lessons_result_offers_help_only_for_a_dangerous_answer(session, marked_course, learner):
    user = session.get(User, learner)
    for _ in range(3):
        take(session, learner, "one", "Plain wrong")
    risky = take(session, learner, "one", "Marked risky")
    assert risky.dangerous and risky.keeps_failing
    outline = course_outline_by_slug(session, slug=SLUG, learner=user, with_attempts=True, attempts_of="one")
    attempts = outline.entry_for("one").attempts
    lesson = outline.entry_for("one").lesson
    latest = attempt_for_learner(session, learner=user, lesson=lesson, attempt_id=attempts[0].id)
    plain = attempt_for_learner(session, learner=user, lesson=lesson, attempt_id=attempts[1].id)
    assert result_help(answers=latest.answers, entry=None) == ResultHelp(dangerous=True, keeps_failing=False)
    assert not result_help(answers=plain.answers, entry=None).offered


def test_the_dangerous_answers_are_named_by_place_in_order():
    """The rule the result pages' "Please read this first" note and their offer of help share."""
    from types import SimpleNamespace

    def answer(position: int, *choices: dict):
        return SimpleNamespace(position=position, choices_shown=list(choices))

    answers = [
        answer(1, {"chosen": True, "safety_critical": True}, {"chosen": False}),
        answer(2, {"chosen": True}, {"chosen": False, "safety_critical": True}),  # marked, but not picked
        answer(3, {"chosen": True}),  # a record from before choices could be marked
        answer(4, {"chosen": False}, {"chosen": True, "safety_critical": True}),
    ]
    assert safety_critical_positions(answers) == [1, 4]
    assert safety_critical_positions(answers[1:3]) == []
