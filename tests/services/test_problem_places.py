"""Where a problem is, in an admin's words: the authoring pages say "Lesson 2 “…”, question 3", not file paths."""

from __future__ import annotations

import pytest

from app.services.authoring.places import in_authors_words
from app.services.errors import Problem

DATA = {
    "course": {"modules": [{"slug": "a", "lessons": ["first"]}, {"slug": "b", "lessons": ["second"]}]},
    "lessons": {"first": {"front": {"title": "First steps"}}, "second": {"front": {"title": "Receptors"}}},
}


@pytest.mark.parametrize(
    ("file", "field", "place"),
    [
        ("course.yaml", "review", "Course details, review"),
        ("course.yaml", "review.reviewed_on", "Course details, reviewed on"),
        ("course.yaml", "review.next_review_on", "Course details, next review due"),
        ("course.yaml", "quiz", "All quizzes"),
        ("course.yaml", "modules[2].lessons", "Module 2, lessons"),
        (
            "course.yaml",
            "misconceptions.its-an-opioid.learner",
            "Misconception “its-an-opioid”, what the learner is told",
        ),
        ("lessons/second.md", "sources", "Lesson 2 “Receptors”, sources"),
        ("lessons/second.md", "quiz[3].choices", "Lesson 2 “Receptors”, question 3, choices"),
        ("lessons/first.md", "body", "Lesson 1 “First steps”, lesson text"),
        ("lessons/gone.md", "", "Lesson “gone”"),
    ],
)
def test_a_problem_is_placed_as_the_editor_names_things(file, field, place):
    [located] = in_authors_words([Problem(file, field, "what is wrong")], DATA)

    assert located.shown == f"{place}: what is wrong"


def test_the_command_line_keeps_the_file_and_field():
    [located] = in_authors_words([Problem("lessons/second.md", "quiz[3].choices", "what is wrong")], DATA)

    assert str(located) == "lessons/second.md: quiz[3].choices: what is wrong"
    assert located == Problem("lessons/second.md", "quiz[3].choices", "what is wrong")


def test_data_that_breaks_the_rules_still_places_what_it_can():
    broken = {"course": {"modules": "not a list"}, "lessons": None}

    [located] = in_authors_words([Problem("lessons/first.md", "minutes", "must be a whole number")], broken)

    assert located.shown == "Lesson “first”, minutes: must be a whole number"
