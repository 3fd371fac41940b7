"""The lesson page, drawn from its kept shell (app/page_shells.py) with the learner's parts put in.

Everything on a lesson page but the learner's name, the log-out form's token and the part
below the article (learn/_lesson_learner_part.html: what to do next, their attempts) follows
from the course content, the lesson, its state, the next lesson's state and the learner's role
(which links the header shows). So the page is kept per those, and each request draws only its
learner part. A learner with a message waiting (a flash) gets the page drawn in full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, render_template, session
from flask_login import current_user
from markupsafe import Markup, escape

from app.page_shells import Shell, holes, page_shell
from app.services.progress import CourseOutline, LessonEntry, LessonState

TEMPLATE = "learn/lesson.html"
LEARNER_PART = "learn/_lesson_learner_part.html"
_HOLES = frozenset({"display_name", "csrf_token", "learner_part"})
_MARKERS = holes(*_HOLES)


@dataclass(frozen=True)
class _ShellUser:
    """Who the header is drawn for in a shell: a signed-in user of this role, named by a hole."""

    role: object
    display_name: Markup
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False


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
    learner_part = Markup(  # noqa: S704 - an autoescaped template's output  # nosec B704
        current_app.jinja_env.get_template(LEARNER_PART).render(page)
    )
    if "_flashes" not in session:  # with a message waiting for the learner, the page is drawn in full
        shell = _shell(page)
        if shell is not None:
            return shell.fill(
                {
                    "display_name": escape(current_user.display_name),
                    "csrf_token": escape(_csrf_token()),
                    "learner_part": learner_part,
                }
            )
    return render_template(TEMPLATE, **page, learner_part=learner_part)


def _csrf_token() -> str:
    """The form token as the template's ``csrf_token()`` gives it (app/security.py's, remembered per secret)."""
    make: Callable[[], str] = current_app.jinja_env.globals["csrf_token"]  # type: ignore[assignment]
    return make()


def _shell(page: dict) -> Shell | None:
    """The lesson page's shell for its lesson, states and the learner's role (None: keep nothing)."""
    entry, following = page["entry"], page["following"]
    role = current_user.role
    return page_shell(
        "lesson",
        page["outline"].course,
        entry.lesson.id,
        entry.state,
        following.state if following else None,
        role,
        names=_HOLES,
        draw=lambda: render_template(
            TEMPLATE,
            **page,
            learner_part=_MARKERS["learner_part"],
            current_user=_ShellUser(role=role, display_name=_MARKERS["display_name"]),
            csrf_token=lambda: _MARKERS["csrf_token"],
        ),
    )
