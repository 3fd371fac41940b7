"""The real course in courses/naltrexone: enough content, complete quizzes, plain English, safety."""

from __future__ import annotations

import re

import pytest
import textstat

from app.models import QUESTION_KINDS
from app.services.course_files import LessonSpec, load_course
from app.services.markdown import plain_text
from tests.conftest import COURSE_DIR

COURSE = load_course(COURSE_DIR)
LESSONS = [COURSE.lessons[slug] for module in COURSE.modules for slug in module.lesson_slugs]
per_lesson = pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.slug for lesson in LESSONS])

HELP_HEADING = "Where to get help"
PHONE_NUMBER = re.compile(r"\b\d{3,4}(?: \d{3,4}){1,2}\b")  # e.g. 0300 123 1110, 116 123
SAFETY_TOPICS = {
    "precipitated withdrawal": [r"precipitated withdrawal"],
    "blocked pain relief": [r"pain relief", r"(will not|won't|does not|do not) work"],
    "overdose after stopping": [r"tolerance", r"overdose", r"after stopping|stopped naltrexone"],
    "naloxone": [r"\bnaloxone\b", r"reverse"],
}


def sections(lesson: LessonSpec) -> list[tuple[str, str]]:
    """The body's level-2 sections as (heading, text) pairs, in order."""
    parts = re.split(r"^## +(.+?) *$", lesson.body, flags=re.M)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def test_course_has_at_least_six_lessons_in_at_least_two_modules():
    assert len(LESSONS) >= 6
    assert len([module for module in COURSE.modules if module.lesson_slugs]) >= 2


def test_course_uses_all_three_question_kinds():
    used = {question.kind for lesson in LESSONS for question in lesson.quiz}

    assert used == set(QUESTION_KINDS)


def test_every_misconception_is_defined_and_used():
    used = {
        choice.misconception
        for lesson in LESSONS
        for question in lesson.quiz
        for choice in question.choices
        if choice.misconception
    }

    assert used == set(COURSE.misconceptions)


@per_lesson
def test_lesson_has_at_least_three_questions(lesson):
    assert len(lesson.quiz) >= 3


@per_lesson
def test_every_choice_has_its_own_feedback(lesson):
    for number, question in enumerate(lesson.quiz, start=1):
        feedback = [choice.feedback.strip() for choice in question.choices]
        assert all(feedback), f"question {number} has a choice without feedback"
        assert len(set(feedback)) == len(feedback), f"question {number} repeats feedback across choices"


@per_lesson
def test_wrong_choices_reveal_misconceptions(lesson):
    tagged = [
        choice for question in lesson.quiz for choice in question.choices if choice.misconception and not choice.correct
    ]

    assert tagged, "no wrong choice in this quiz points to a misconception"


@per_lesson
def test_lesson_body_reads_easily(lesson):
    assert textstat.flesch_reading_ease(plain_text(lesson.body)) >= 60


@per_lesson
def test_lesson_body_is_at_grade_eight_or_below(lesson):
    assert textstat.flesch_kincaid_grade(plain_text(lesson.body)) <= 8


@per_lesson
def test_lesson_ends_by_pointing_to_help(lesson):
    heading, text = sections(lesson)[-1]

    assert heading == HELP_HEADING
    assert "prescriber" in text.lower()
    assert PHONE_NUMBER.search(text), "the help section gives no support line number"


@pytest.mark.parametrize("patterns", SAFETY_TOPICS.values(), ids=SAFETY_TOPICS.keys())
def test_safety_topic_is_taught_in_some_lesson(patterns):
    teaching = [lesson.slug for lesson in LESSONS if all(re.search(pattern, lesson.body, re.I) for pattern in patterns)]

    assert teaching, f"no lesson body mentions all of {patterns}"
