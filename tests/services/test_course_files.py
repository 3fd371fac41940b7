"""Reading and validating course folders: every problem is reported, with its file and field."""

from __future__ import annotations

import copy

import pytest

from app.services.course_files import load_course
from app.services.errors import CourseInvalid, Problem
from tests.conftest import REAL_COURSE_DIR
from tests.factories import COURSE, default_lessons, write_course


def problems_in(folder) -> list[Problem]:
    """Load a folder that must be invalid and return the problems it reports."""
    with pytest.raises(CourseInvalid) as caught:
        load_course(folder)
    return caught.value.problems


def only_problem(folder) -> Problem:
    found = problems_in(folder)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def course_with(**changes) -> dict:
    course = copy.deepcopy(COURSE)
    course.update(changes)
    return course


def test_factory_course_loads(tmp_path):
    spec = load_course(write_course(tmp_path))

    assert spec.slug == "tiny"
    assert [m.lesson_slugs for m in spec.modules] == [["one", "two"], ["three"]]
    assert [q.kind for q in spec.lessons["one"].quiz] == ["single", "multiple", "true_false"]
    assert spec.lessons["one"].quiz[0].choices[1].misconception == "blocks-are-boosts"
    assert spec.pass_mark == 0.8


def test_real_course_loads():
    spec = load_course(REAL_COURSE_DIR)

    assert spec.slug == "naltrexone"
    listed = [slug for module in spec.modules for slug in module.lesson_slugs]
    assert sorted(listed) == sorted(spec.lessons)
    assert all(lesson.body.strip() for lesson in spec.lessons.values())


@pytest.mark.parametrize(
    ("question", "kind", "expected"),
    [
        (0, "single", "a one-answer question (kind: single) needs exactly one correct choice, found 0"),
        (1, "multiple", "a multiple-answer question (kind: multiple) needs at least one correct choice, found 0"),
        (2, "true_false", "a true-or-false question (kind: true_false) needs exactly one correct choice, found 0"),
    ],
)
def test_missing_correct_answer_is_reported(tmp_path, question, kind, expected):
    lessons = default_lessons()
    for choice in lessons["two"]["front"]["quiz"][question]["choices"]:
        choice.pop("correct", None)

    problem = only_problem(write_course(tmp_path, lessons=lessons))

    assert problem == Problem("lessons/two.md", f"quiz[{question + 1}].choices", expected)


def test_two_correct_answers_on_a_single_question_are_reported(tmp_path):
    lessons = default_lessons()
    wrong = lessons["one"]["front"]["quiz"][0]["choices"][2]
    wrong["correct"] = True

    problem = only_problem(write_course(tmp_path, lessons=lessons))

    assert problem == Problem(
        "lessons/one.md",
        "quiz[1].choices",
        "a one-answer question (kind: single) needs exactly one correct choice, found 2",
    )


def test_unknown_misconception_code_is_reported(tmp_path):
    lessons = default_lessons()
    lessons["three"]["front"]["quiz"][1]["choices"][2]["misconception"] = "no-such-code"

    problem = only_problem(write_course(tmp_path, lessons=lessons))

    assert problem.file == "lessons/three.md"
    assert problem.field == "quiz[2].choices[3].misconception"
    assert "unknown misconception code 'no-such-code'" in problem.message


def test_lesson_listed_twice_is_a_duplicate_slug(tmp_path):
    course = course_with()
    course["modules"][1]["lessons"] = ["three", "one"]

    problem = only_problem(write_course(tmp_path, course=course))

    assert problem == Problem(
        "course.yaml", "modules[2].lessons", "duplicate slug 'one' (already used at modules[1].lessons)"
    )


def test_module_slug_equal_to_a_lesson_slug_is_a_duplicate_slug(tmp_path):
    course = course_with()
    course["modules"][1]["slug"] = "two"

    problem = only_problem(write_course(tmp_path, course=course))

    assert problem == Problem(
        "course.yaml", "modules[2].slug", "duplicate slug 'two' (already used at modules[1].lessons)"
    )


def test_bad_yaml_in_course_file_names_the_line(tmp_path):
    folder = write_course(tmp_path)
    (folder / "course.yaml").write_text("slug: tiny\ntitle: [A tiny course\nsummary: Short.\n")

    problem = only_problem(folder)

    assert problem.file == "course.yaml"
    assert problem.field == "line 3"
    assert problem.message.startswith("bad YAML")


def test_bad_yaml_in_lesson_front_matter_names_the_line_of_the_file(tmp_path):
    folder = write_course(tmp_path)
    # Line 1 is the opening '---', so the broken third line of front matter is line 4 of the file.
    (folder / "lessons" / "two.md").write_text(
        "---\ntitle: Lesson two\nminutes: 5\nquiz: x: y\n---\nBody.\n", encoding="utf-8"
    )

    problem = only_problem(folder)

    assert problem.file == "lessons/two.md"
    assert problem.field == "line 4"
    assert problem.message.startswith("bad YAML")


def test_missing_lesson_file_is_reported(tmp_path):
    folder = write_course(tmp_path)
    (folder / "lessons" / "two.md").unlink()

    problem = only_problem(folder)

    assert problem == Problem("lessons/two.md", "", "is missing (the lesson is listed in course.yaml)")


def test_unlisted_lesson_file_is_reported(tmp_path):
    lessons = default_lessons()
    lessons["four"] = copy.deepcopy(lessons["three"])

    problem = only_problem(write_course(tmp_path, lessons=lessons))

    assert problem == Problem("lessons/four.md", "", "is not listed in any module in course.yaml")


def test_missing_feedback_on_a_choice_is_reported(tmp_path):
    lessons = default_lessons()
    del lessons["one"]["front"]["quiz"][2]["choices"][1]["feedback"]

    problem = only_problem(write_course(tmp_path, lessons=lessons))

    assert problem == Problem("lessons/one.md", "quiz[3].choices[2].feedback", "is required")


@pytest.mark.parametrize(
    ("where", "file", "field"),
    [
        ("course", "course.yaml", "author"),
        ("lesson", "lessons/one.md", "author"),
        ("question", "lessons/one.md", "quiz[1].author"),
        ("choice", "lessons/one.md", "quiz[1].choices[1].author"),
    ],
)
def test_unknown_field_is_reported(tmp_path, where, file, field):
    course, lessons = course_with(), default_lessons()
    question = lessons["one"]["front"]["quiz"][0]
    target = {
        "course": course,
        "lesson": lessons["one"]["front"],
        "question": question,
        "choice": question["choices"][0],
    }[where]
    target["author"] = "Someone"

    problem = only_problem(write_course(tmp_path, course=course, lessons=lessons))

    assert (problem.file, problem.field) == (file, field)
    assert problem.message.startswith("unknown field")


@pytest.mark.parametrize("pass_mark", [0, 1.5, -0.2, "most", True, None])
def test_bad_pass_mark_is_reported(tmp_path, pass_mark):
    problem = only_problem(write_course(tmp_path, course=course_with(pass_mark=pass_mark)))

    assert (problem.file, problem.field) == ("course.yaml", "pass_mark")
    assert "must be a number above 0 and at most 1" in problem.message


@pytest.mark.parametrize("minutes", ["five", 2.5, 0, True, None, 601, 10**23])
def test_minutes_that_are_not_a_whole_number_from_1_to_600_are_reported(tmp_path, minutes):
    lessons = default_lessons()
    lessons["three"]["front"]["minutes"] = minutes

    problem = only_problem(write_course(tmp_path, lessons=lessons))

    assert problem == Problem("lessons/three.md", "minutes", "must be a whole number of minutes, from 1 to 600")


def test_titles_and_slugs_longer_than_their_columns_are_reported(tmp_path):
    lessons = default_lessons()
    lessons["three"]["front"]["title"] = "t" * 201
    course = course_with(title="c" * 201)
    course["modules"][0]["title"] = "m" * 201

    problems = problems_in(write_course(tmp_path, course=course, lessons=lessons))

    assert {(p.file, p.field) for p in problems} == {
        ("lessons/three.md", "title"),
        ("course.yaml", "title"),
        ("course.yaml", "modules[1].title"),
    }
    assert all(p.message == "must be 200 characters or fewer (it has 201)" for p in problems)


def test_titles_and_the_reviewers_name_with_a_line_break_are_reported(tmp_path):
    lessons = default_lessons()
    lessons["three"]["front"]["title"] = "Two\nlines"
    course = course_with(title="Two\r\nlines")
    course["modules"][0]["title"] = "Two\nlines"
    course["review"] = {"reviewed_by": "A\nB", "reviewed_on": "2026-12-01", "next_review_on": "2027-12-01"}
    course["misconceptions"]["blocks-are-boosts"]["title"] = "Two\u2028lines"  # a line separator is a break too
    lessons["two"]["front"]["sources"] = [{"title": "NICE\nTA115"}]

    problems = problems_in(write_course(tmp_path, course=course, lessons=lessons))

    assert {(p.file, p.field) for p in problems} == {
        ("lessons/three.md", "title"),
        ("course.yaml", "title"),
        ("course.yaml", "modules[1].title"),
        ("course.yaml", "review.reviewed_by"),
        ("course.yaml", "misconceptions.blocks-are-boosts.title"),
        ("lessons/two.md", "sources[1].title"),
    }
    assert all(p.message == "must be one line: take out the line break" for p in problems)


def test_texts_far_longer_than_any_needs_are_reported_at_their_field(tmp_path):
    """An 840 KB summary was saved and shown on every authoring page; now each text has a limit."""
    course = course_with(summary="s" * 1_001, help="h" * 10_001)
    course["misconceptions"]["blocks-are-boosts"] = {"learner": "l" * 2_001, "counsellor": "Fine."}
    lessons = default_lessons()
    front = lessons["one"]["front"]
    front["sources"] = [{"title": "t" * 301}]
    question = front["quiz"][0]
    question["prompt"], question["explanation"] = "p" * 1_001, "e" * 2_001
    question["choices"][0]["text"], question["choices"][0]["feedback"] = "c" * 501, "f" * 2_001
    lessons["one"]["body"] = "b" * 50_001

    problems = {
        (p.file, p.field): p.message for p in problems_in(write_course(tmp_path, course=course, lessons=lessons))
    }

    assert problems == {
        ("course.yaml", "summary"): "must be 1,000 characters or fewer (it has 1,001)",
        ("course.yaml", "help"): "must be 10,000 characters or fewer (it has 10,001)",
        ("course.yaml", "misconceptions.blocks-are-boosts.learner"): "must be 2,000 characters or fewer (it has 2,001)",
        ("lessons/one.md", "sources[1].title"): "must be 300 characters or fewer (it has 301)",
        ("lessons/one.md", "quiz[1].prompt"): "must be 1,000 characters or fewer (it has 1,001)",
        ("lessons/one.md", "quiz[1].explanation"): "must be 2,000 characters or fewer (it has 2,001)",
        ("lessons/one.md", "quiz[1].choices[1].text"): "must be 500 characters or fewer (it has 501)",
        ("lessons/one.md", "quiz[1].choices[1].feedback"): "must be 2,000 characters or fewer (it has 2,001)",
        ("lessons/one.md", "body"): "must be 50,000 characters or fewer (it has 50,001)",
    }


def test_every_problem_in_a_folder_is_reported_not_just_the_first(tmp_path):
    course = course_with(pass_mark=2, colour="blue")
    lessons = default_lessons()
    lessons["one"]["front"]["quiz"][0]["choices"][0]["correct"] = False
    lessons["two"]["front"]["minutes"] = "ten"
    lessons["three"]["front"]["quiz"][2]["choices"][1]["misconception"] = "made-up"
    lessons["extra"] = copy.deepcopy(lessons["three"])
    folder = write_course(tmp_path, course=course, lessons=lessons)

    located = {(p.file, p.field) for p in problems_in(folder)}

    assert located == {
        ("course.yaml", "pass_mark"),
        ("course.yaml", "colour"),
        ("lessons/one.md", "quiz[1].choices"),
        ("lessons/two.md", "minutes"),
        ("lessons/three.md", "quiz[3].choices[2].misconception"),
        ("lessons/extra.md", ""),
    }


def test_a_file_is_not_a_course_folder(tmp_path):
    path = write_course(tmp_path) / "course.yaml"

    problem = only_problem(path)

    assert problem == Problem(str(path), "", "is not a course folder")


def test_a_missing_path_is_not_a_course_folder(tmp_path):
    problem = only_problem(tmp_path / "nowhere")

    assert problem.message == "is not a course folder"
