"""Quality warnings: each give-away or gap is reported, located, and never blocks the course."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from app.services.course_files import parse_course_data
from app.services.course_quality import course_warnings, review_predates_changes

TODAY = date(2026, 12, 4)
REVIEW = {"reviewed_by": "A clinical reviewer", "reviewed_on": "2026-11-01", "next_review_on": "2027-11-01"}


def single(n: int, correct_at: int) -> dict:
    """A single-answer question whose right choice is at ``correct_at`` (0-based), all choices alike in length."""
    choices = [{"text": f"Choice {n}.{i}", "feedback": f"Feedback {n}.{i}."} for i in range(4)]
    choices[correct_at]["correct"] = True
    return {"kind": "single", "prompt": f"Question {n}?", "explanation": "Because.", "choices": choices}


def true_false(n: int, answer: bool) -> dict:
    return {
        "kind": "true_false",
        "shuffle": False,
        "prompt": f"Statement {n}.",
        "explanation": "Because.",
        "choices": [
            {"text": "True", "correct": answer, "feedback": "About true."},
            {"text": "False", "correct": not answer, "feedback": "About false."},
        ],
    }


def clean_data() -> dict:
    """A course with two lessons that draws no warning at all."""
    quiz_one = [single(1, 0), single(2, 1), single(3, 2), true_false(4, True), true_false(5, False)]
    quiz_two = [single(6, 3), single(7, 0), single(8, 2), true_false(9, False), true_false(10, True)]
    lesson = {"title": "Lesson", "minutes": 5, "sources": [{"title": "NICE TA115"}]}
    return {
        "course": {
            "slug": "tiny",
            "title": "Tiny",
            "summary": "For tests.",
            "pass_mark": 0.8,
            "review": dict(REVIEW),
            "modules": [{"slug": "part", "title": "Part", "lessons": ["one", "two"]}],
        },
        "lessons": {
            "one": {"front": {**lesson, "quiz": quiz_one}, "body": "Words.\n"},
            "two": {"front": {**lesson, "quiz": quiz_two}, "body": "Words.\n"},
        },
    }


def warnings_for(data: dict, today: date = TODAY) -> list[tuple[str, str, str]]:
    return [(w.file, w.field, w.message) for w in course_warnings(parse_course_data(data), today=today)]


def quiz(data: dict, slug: str = "one") -> list[dict]:
    return data["lessons"][slug]["front"]["quiz"]


def test_a_well_made_course_draws_no_warning():
    assert warnings_for(clean_data()) == []


def test_correct_choice_in_the_same_place_in_most_single_questions_is_reported_per_lesson():
    data = clean_data()
    quiz(data)[1:3] = [single(2, 0), single(3, 0)]  # first in 3 of 3

    [(file, field, message)] = [w for w in warnings_for(data) if w[0] == "lessons/one.md"]

    assert (file, field) == ("lessons/one.md", "quiz")
    assert "the correct choice is the first one in 3 of 3 single-answer questions in this quiz" in message


def test_correct_choice_in_the_same_place_across_the_course_is_reported_on_the_course():
    data = clean_data()
    quiz(data)[:3] = [single(1, 1), single(2, 1), single(3, 0)]
    quiz(data, "two")[:3] = [single(6, 1), single(7, 1), single(8, 3)]  # 4 of 6 second, neither lesson > half

    found = warnings_for(data)

    assert found == [
        (
            "course.yaml",
            "quiz",
            "the correct choice is the second one in 4 of 6 single-answer questions across the course: "
            "vary its place so its position does not give it away",
        )
    ]


def test_half_in_one_place_is_not_most():
    data = clean_data()
    quiz(data)[:3] = [single(1, 1), single(2, 1), single(3, 0)]
    quiz(data, "two")[:3] = [single(6, 1), single(7, 0), single(8, 3)]  # 3 of 6 second

    assert warnings_for(data) == []


def test_correct_choice_longest_in_most_single_questions_is_reported():
    data = clean_data()
    for question in quiz(data)[:3]:
        right = next(choice for choice in question["choices"] if choice.get("correct"))
        right["text"] += " with a much longer and more careful wording"

    found = [w for w in warnings_for(data) if w[0] == "lessons/one.md"]

    assert len(found) == 1 and "the correct choice is the longest in 3 of 3 single-answer questions" in found[0][2]


def test_two_of_three_in_one_quiz_is_chance_but_a_course_majority_is_not():
    data = clean_data()
    for slug in ("one", "two"):
        for question in quiz(data, slug)[:2]:
            right = next(choice for choice in question["choices"] if choice.get("correct"))
            right["text"] += " with a much longer and more careful wording"

    found = warnings_for(data)

    assert [w[:2] for w in found] == [("course.yaml", "quiz")]
    assert "the correct choice is the longest in 4 of 6 single-answer questions across the course" in found[0][2]


def test_true_false_all_one_way_in_a_lesson_is_reported():
    data = clean_data()
    quiz(data)[3:5] = [true_false(4, False), true_false(5, False)]

    found = [w for w in warnings_for(data) if w[0] == "lessons/one.md"]

    assert found == [
        (
            "lessons/one.md",
            "quiz",
            "2 of 2 true/false questions in this quiz are answered “False”: "
            "mix true and false statements so guessing one way does not pass",
        )
    ]


def test_true_false_mostly_one_way_across_the_course_is_reported():
    data = clean_data()
    quiz(data)[3:5] = [true_false(4, True), true_false(5, False)]
    quiz(data, "two")[3:5] = [true_false(9, False), true_false(10, False)]
    quiz(data, "two").append(true_false(11, True))  # 3 of 5 False: not mostly
    assert not [w for w in warnings_for(data) if w[0] == "course.yaml"]

    quiz(data, "two")[-1] = true_false(11, False)  # 4 of 5 False

    found = [w for w in warnings_for(data) if w[0] == "course.yaml"]
    assert found == [
        (
            "course.yaml",
            "quiz",
            "4 of 5 true/false questions across the course are answered “False”: "
            "mix true and false statements so guessing one way does not pass",
        )
    ]


def test_a_quiz_with_fewer_than_three_questions_is_reported_but_no_quiz_is_fine():
    data = clean_data()
    quiz(data, "two")[:] = [single(6, 3), true_false(9, False)]
    data["lessons"]["one"]["front"].pop("quiz")
    data["course"]["review"] = dict(REVIEW)

    found = warnings_for(data)

    assert (
        "lessons/two.md",
        "quiz",
        "the quiz has only 2 question(s): 3 or more tell learning from luck",
    ) in found
    assert not [w for w in found if w[0] == "lessons/one.md"]


def test_a_multiple_question_with_no_wrong_choice_is_reported():
    data = clean_data()
    quiz(data).append(
        {
            "kind": "multiple",
            "prompt": "Which are right?",
            "explanation": "Both.",
            "choices": [
                {"text": "A", "correct": True, "feedback": "Yes A."},
                {"text": "B", "correct": True, "feedback": "Yes B."},
            ],
        }
    )

    assert warnings_for(data) == [
        (
            "lessons/one.md",
            "quiz[6].choices",
            "a multiple question with no wrong choice is passed by ticking everything: add a wrong one",
        )
    ]


def test_a_lesson_without_sources_is_reported():
    data = clean_data()
    data["lessons"]["two"]["front"].pop("sources")

    assert warnings_for(data) == [
        ("lessons/two.md", "sources", "the lesson lists no sources: say where its facts come from")
    ]


@pytest.mark.parametrize(
    ("today", "overdue"),
    [(date(2027, 11, 1), False), (date(2027, 11, 2), True)],
    ids=["due today", "a day late"],
)
def test_an_overdue_review_is_reported_from_the_day_after_it_was_due(today, overdue):
    found = warnings_for(clean_data(), today=today)

    expected = [
        (
            "course.yaml",
            "review.next_review_on",
            "the content review was due on 2027-11-01: review the course and update the dates",
        )
    ]
    assert found == (expected if overdue else [])


def test_a_course_with_no_review_recorded_is_reported():
    data = clean_data()
    del data["course"]["review"]

    assert [w[:2] for w in warnings_for(data)] == [("course.yaml", "review")]


def test_warnings_never_make_the_course_invalid():
    data = copy.deepcopy(clean_data())
    del data["course"]["review"]
    data["lessons"]["one"]["front"].pop("sources")
    quiz(data, "two")[:] = quiz(data, "two")[:1]

    spec = parse_course_data(data)  # does not raise

    assert len(course_warnings(spec, today=TODAY)) == 3


# ---------------------------------------------------------------- a review older than the change


def test_content_changed_under_the_review_it_had_is_reported_and_a_new_date_clears_it():
    spec = parse_course_data(clean_data())
    [warning] = [review_predates_changes(spec, reviewed_before=date(2026, 11, 1))]
    assert (warning.file, warning.field) == ("course.yaml", "review.reviewed_on")
    assert "still dated 2026-11-01" in warning.message and "Have the changes reviewed" in warning.message
    assert review_predates_changes(spec, reviewed_before=date(2026, 10, 1)) is None  # the change updates the date
    assert review_predates_changes(spec, reviewed_before=None) is None  # a new course, or none reviewed before


def test_a_change_to_a_course_with_no_review_is_left_to_the_missing_review_warning():
    data = clean_data()
    del data["course"]["review"]
    assert review_predates_changes(parse_course_data(data), reviewed_before=date(2026, 11, 1)) is None
