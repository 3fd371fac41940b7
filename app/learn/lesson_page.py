"""The lesson page, served from its kept shell (app/page_shells.py) with the learner's values put in.

Everything on a lesson page but the learner's name, the form token, their latest attempt's id,
their latest attempts' rows and the note when there are more follows from the course content,
the lesson, its state, the next lesson's state, whether the learner has attempts and their
role. So the page is kept per those, and a request draws only its attempts' parts (in Python:
app/learn/attempt_rows.py).
"""

from __future__ import annotations

from markupsafe import Markup

from app.learn.attempt_rows import attempt_parts
from app.page_shells import signed_in_page
from app.services.progress import CourseOutline, LessonEntry, LessonState

TEMPLATE = "learn/lesson.html"


def lesson_page(outline: CourseOutline, entry: LessonEntry) -> str:
    """The lesson page of ``entry`` for the signed-in learner (current_user)."""
    previous, following = outline.neighbours(entry)
    page = {
        "outline": outline,
        "entry": entry,
        "previous": previous,
        "following": following,
        "has_quiz": entry.lesson.has_quiz,
        "LessonState": LessonState,
    }
    attempts = entry.attempts
    return signed_in_page(
        TEMPLATE,
        page,
        content=outline.course,
        key=(entry.lesson.id, entry.state, following.state if following else None, bool(attempts)),
        parts={
            "latest_attempt_id": Markup(int(attempts[0].id)) if attempts else Markup(""),  # noqa: S704  # nosec B704 - a number
            **attempt_parts(entry, course_slug=outline.course.slug),
        },
    )
