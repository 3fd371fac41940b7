"""Where a problem or warning is, in the words of an admin working in the browser.

The course-file rules and the quality checks locate what they find by file and field
("lessons/receptors.md: quiz[3].choices"), which is what someone editing the files needs and what
``flask courses validate`` prints. The authoring pages show the same findings as the editor names
things: "Lesson 2 “Receptors”, question 3, choices", "Course details, reviewed on". Lessons are
numbered through the course, as the authoring outline numbers them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping

from app.services.errors import Problem

COURSE_FILE = "course.yaml"
LESSON_FILE = re.compile(r"lessons/(?P<slug>[^/]+)\.md")
# A course-level field as the course details page labels it (app/author/forms.py, CourseForm).
COURSE_FIELDS = {
    "review": "Course details, review",
    "review.reviewed_by": "Course details, reviewed by",
    "review.reviewed_on": "Course details, reviewed on",
    "review.next_review_on": "Course details, next review due",
    "review.changed_since_review_on": "Course details, changed since the review",
    "pass_mark": "Course details, pass mark",
    "help": "Course details, where to get help",
    # The quality checks' patterns across every quiz (app/services/course_quality.py).
    "quiz": "All quizzes",
}
# One step of a field path ("quiz[3]", "body") in the editor's words.
NUMBERED = {"quiz": "question", "choices": "choice", "sources": "source", "modules": "module"}
WORDS = {"body": "lesson text", "front matter": "lesson settings", "misconception": "misconception it reveals"}
# A misconception's texts as its page labels them (MisconceptionForm).
MISCONCEPTION_WORDS = {"learner": "what the learner is told", "counsellor": "talking point for the counsellor"}
STEP = re.compile(r"(?P<name>[a-z_ ]+)(?:\[(?P<number>\d+)\])?")


def _field_words(field: str) -> list[str]:
    """Each step of a field path in words: "quiz[3].choices[2].feedback" -> question 3, choice 2, feedback."""
    words = []
    for step in filter(None, field.split(".")):
        match = STEP.fullmatch(step)
        if match is None:
            words.append(step)
        elif match["number"]:
            words.append(f"{NUMBERED.get(match['name'], match['name'].replace('_', ' '))} {match['number']}")
        else:
            words.append(WORDS.get(match["name"], match["name"].replace("_", " ")))
    return words


def lesson_names(data: Mapping[str, object]) -> dict[str, str]:
    """Each lesson's slug to how the outline names it, "Lesson 2 “Receptors”", numbered through the course.

    ``data`` is course data (a draft, a publication's copy, the published course), perhaps one that
    breaks the rules: whatever cannot be read is left out, and its problems fall back to the slug.
    """
    course = data.get("course")
    modules = course.get("modules") if isinstance(course, dict) else None
    lessons = data.get("lessons")
    lessons = lessons if isinstance(lessons, dict) else {}
    slugs = [
        slug
        for module in (modules if isinstance(modules, list) else [])
        if isinstance(module, dict) and isinstance(module.get("lessons"), list)
        for slug in module["lessons"]
        if isinstance(slug, str)
    ]
    names = {}
    for number, slug in enumerate(dict.fromkeys(slugs), start=1):
        lesson = lessons.get(slug)
        front = lesson.get("front") if isinstance(lesson, dict) else None
        title = front.get("title") if isinstance(front, dict) else None
        names[slug] = f"Lesson {number} “{title}”" if isinstance(title, str) and title.strip() else f"Lesson {number}"
    return names


def problem_place(problem: Problem, lessons: Mapping[str, str]) -> str:
    """Where ``problem`` is, in the authoring pages' words ("" when its file means nothing there)."""
    if problem.file == COURSE_FILE:
        if problem.field in COURSE_FIELDS:
            return COURSE_FIELDS[problem.field]
        if problem.field.startswith("misconceptions."):
            code, _, rest = problem.field.removeprefix("misconceptions.").partition(".")
            words = [MISCONCEPTION_WORDS[rest]] if rest in MISCONCEPTION_WORDS else _field_words(rest)
            return ", ".join([f"Misconception “{code}”", *words])
        words = _field_words(problem.field)
        # A module is named in its own right, as the outline shows it; other fields are the course's details.
        if words and problem.field.startswith("modules["):
            return ", ".join([words[0].capitalize(), *words[1:]])
        return ", ".join(["Course details", *words])
    if match := LESSON_FILE.fullmatch(problem.file):
        slug = match["slug"]
        return ", ".join([lessons.get(slug, f"Lesson “{slug}”"), *_field_words(problem.field)])
    return ""


def in_authors_words(problems: Iterable[Problem], data: Mapping[str, object]) -> list[Problem]:
    """``problems`` with their place set for the authoring pages (``Problem.shown``); files and fields kept."""
    lessons = lesson_names(data)
    return [dataclasses.replace(problem, place=problem_place(problem, lessons)) for problem in problems]
