"""The lesson page, served from its kept shell (app/page_shells.py) with the learner's part put in.

Everything on a lesson page but the learner's name, the log-out form's token and the part
below the article (learn/_lesson_learner_part.html: what to do next, their attempts) follows
from the course content, the lesson, its state, the next lesson's state and the learner's
role. So the page is kept per those, and each request draws only its learner part.
"""

from __future__ import annotations

from app.page_shells import draw_part, signed_in_page
from app.services.progress import CourseOutline, LessonEntry, LessonState

TEMPLATE = "learn/lesson.html"
LEARNER_PART = "learn/_lesson_learner_part.html"


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
    return signed_in_page(
        TEMPLATE,
        page,
        content=outline.course,
        key=(entry.lesson.id, entry.state, following.state if following else None),
        parts={"learner_part": draw_part(LEARNER_PART, page)},
    )
