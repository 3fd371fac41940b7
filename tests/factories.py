"""Build small course folders on disk for tests, in the courses/ file format."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

COURSE = {
    "slug": "tiny",
    "title": "A tiny course",
    "summary": "Three short lessons for tests.",
    "pass_mark": 0.8,
    "modules": [
        {"slug": "first-part", "title": "First part", "lessons": ["one", "two"]},
        {"slug": "second-part", "title": "Second part", "lessons": ["three"]},
    ],
    "misconceptions": {
        "blocks-are-boosts": {"learner": "A blocker does not boost.", "counsellor": "Client may think blockers boost."},
    },
}


def question_single(n: int = 1) -> dict:
    return {
        "kind": "single",
        "prompt": f"Single question {n}?",
        "explanation": "Because the first is right.",
        "choices": [
            {"text": "Right answer", "correct": True, "feedback": "Yes, that is right."},
            {"text": "Wrong answer", "feedback": "No: it blocks.", "misconception": "blocks-are-boosts"},
            {"text": "Other wrong answer", "feedback": "No."},
        ],
    }


def question_multiple() -> dict:
    return {
        "kind": "multiple",
        "prompt": "Pick both right ones. Select all that apply.",
        "explanation": "A and B are right.",
        "choices": [
            {"text": "A", "correct": True, "feedback": "A is right."},
            {"text": "B", "correct": True, "feedback": "B is right."},
            {"text": "C", "feedback": "C is wrong.", "misconception": "blocks-are-boosts"},
        ],
    }


def question_true_false() -> dict:
    return {
        "kind": "true_false",
        "prompt": "A blocker blocks.",
        "explanation": "That is what blocking means.",
        "choices": [
            {"text": "True", "correct": True, "feedback": "Right."},
            {"text": "False", "feedback": "It does block.", "misconception": "blocks-are-boosts"},
        ],
    }


def default_lessons() -> dict[str, dict]:
    quiz = [question_single(), question_multiple(), question_true_false()]
    return {
        slug: {
            "front": {"title": f"Lesson {slug}", "minutes": 5, "quiz": copy.deepcopy(quiz)},
            "body": f"## Lesson {slug}\n\nSome plain words about {slug}.\n",
        }
        for slug in ("one", "two", "three")
    }


def write_course(folder: Path, course: dict | None = None, lessons: dict[str, dict] | None = None) -> Path:
    """Write course.yaml and lessons/*.md into ``folder`` and return it."""
    course = copy.deepcopy(COURSE) if course is None else course
    lessons = default_lessons() if lessons is None else lessons
    (folder / "lessons").mkdir(parents=True, exist_ok=True)
    (folder / "course.yaml").write_text(yaml.safe_dump(course, sort_keys=False), encoding="utf-8")
    for slug, lesson in lessons.items():
        front = yaml.safe_dump(lesson["front"], sort_keys=False)
        (folder / "lessons" / f"{slug}.md").write_text(f"---\n{front}---\n{lesson['body']}", encoding="utf-8")
    return folder
