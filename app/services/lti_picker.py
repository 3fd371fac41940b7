"""What an instructor can place in an LMS through LTI Deep Linking: each course, and each lesson."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.models import Course, Lesson, Module, Question


@dataclass(frozen=True)
class DeepLinkOption:
    """One course or lesson on the picker, with the value its checkbox sends."""

    value: str
    label: str
    title: str
    course_slug: str
    lesson_slug: str | None
    graded: bool


def deep_link_options(session: Session) -> list[DeepLinkOption]:
    """Every course (graded by the share of lessons complete) and its live lessons in course order; one query."""
    quiz_exists = exists().where(Question.lesson_id == Lesson.id, Question.retired_at.is_(None))
    rows = session.execute(
        select(Course.slug, Course.title, Lesson.slug, Lesson.title, quiz_exists)
        .join(Module, Module.course_id == Course.id)
        .join(Lesson, Lesson.module_id == Module.id)
        .where(Lesson.retired_at.is_(None))
        .order_by(Course.title, Course.id, Module.position, Lesson.position)
    ).all()
    options: list[DeepLinkOption] = []
    seen: set[str] = set()
    for course_slug, course_title, lesson_slug, lesson_title, has_quiz in rows:
        if course_slug not in seen:
            seen.add(course_slug)
            options.append(
                DeepLinkOption(
                    course_slug, f"The whole course: {course_title}", course_title, course_slug, None, graded=True
                )
            )
        options.append(
            DeepLinkOption(
                f"{course_slug}/{lesson_slug}",
                f"Lesson: {lesson_title}" + (" (with its quiz, graded)" if has_quiz else ""),
                lesson_title,
                course_slug,
                lesson_slug,
                graded=bool(has_quiz),
            )
        )
    return options
