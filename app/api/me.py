"""The token owner's own data: who the token acts for, and a learner's progress and quiz attempts.

The same read as /me/ and the course page (``course_outline_by_slug`` with attempts), so the
API shows what the learner's own pages show.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from app.api.auth import request_token, token_user
from app.api.common import link_header, page_count, page_links, scoped, signed_in
from app.api.problems import ApiError
from app.api.schemas import AttemptsPageSchema, CourseQuerySchema, PageQuerySchema, ProgressSchema, WhoAmISchema
from app.extensions import db
from app.services.api_tokens import token_allows
from app.services.attempt_history import AttemptSummary
from app.services.progress import CourseOutline, course_outline_by_slug

blp = Blueprint("api_me", __name__, url_prefix="/api/v1/me", description="The token owner's own account and progress")

ATTEMPTS_PER_PAGE = 50


def _attempt(summary: AttemptSummary, lesson_slugs: dict[int, str]) -> dict:
    return {
        "id": summary.id,
        "lesson": lesson_slugs.get(summary.lesson_id, ""),
        "submitted_at": summary.submitted_at,
        "correct": summary.correct_count,
        "questions": summary.question_count,
        "passed": summary.passed,
    }


def _own_outline(course: str | None) -> CourseOutline:
    outline = course_outline_by_slug(db.session, slug=course, learner=token_user(), with_attempts=True)
    if outline is None:
        raise ApiError(404, "There is no such course.")
    return outline


@blp.route("")
@signed_in(blp)
@blp.response(200, WhoAmISchema)
def whoami():
    """The account the token acts for

    Its name and role, the token's name, and the scopes it has that its owner may still use.
    Any working token may ask.
    """
    token = request_token()
    user = token.user
    return {
        "id": user.id,
        "display_name": user.display_name,
        "role": user.role,
        "token": token.name,
        "scopes": sorted(scope for scope in token.scope_set if token_allows(token, scope)),
    }


@blp.route("/progress")
@scoped(blp, "read:progress")
@blp.arguments(CourseQuerySchema, location="query")
@blp.response(200, ProgressSchema)
def progress(query: dict):
    """My progress in a course

    Each live lesson in order with its state (locked, available, completed), when it was opened
    and completed, and a summary of the quiz attempts at it. ``?course=`` names the course (the
    first course when left out).
    """
    outline = _own_outline(query.get("course"))
    slugs = {entry.lesson.id: entry.lesson.slug for entry in outline.entries}
    lessons = []
    for entry in outline.entries:
        summary = entry.attempts_summary
        lessons.append(
            {
                "number": entry.number,
                "slug": entry.lesson.slug,
                "title": entry.lesson.title,
                "module": entry.lesson.module.slug,
                "state": entry.state.value,
                "opened_at": entry.opened_at,
                "completed_at": entry.completed_at,
                "attempts": {
                    "count": summary.count,
                    "best": _attempt(summary.best, slugs),
                    "latest": _attempt(summary.latest, slugs),
                }
                if summary
                else None,
            }
        )
    return {
        "course": {"slug": outline.course.slug, "title": outline.course.title},
        "completed": outline.completed_count,
        "total": len(outline.entries),
        "percent": outline.percent_complete,
        "completed_at": outline.completed_at,
        "lessons": lessons,
    }


@blp.route("/attempts")
@scoped(blp, "read:progress")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, AttemptsPageSchema)
def attempts(query: dict):
    """My quiz attempts in a course

    Every attempt at the course's live lessons' quizzes, newest first, a page at a time: when,
    the score (questions right of questions asked) and whether it passed.
    """
    outline = _own_outline(query.get("course"))
    slugs = {entry.lesson.id: entry.lesson.slug for entry in outline.entries}
    every = sorted(
        (attempt for entry in outline.entries for attempt in entry.attempts),
        key=lambda attempt: (attempt.submitted_at, attempt.id),
        reverse=True,
    )
    pages = page_count(len(every), ATTEMPTS_PER_PAGE)
    page = min(query["page"], pages)
    links = page_links(page, pages)
    start = (page - 1) * ATTEMPTS_PER_PAGE
    data = {
        "course": {"slug": outline.course.slug, "title": outline.course.title},
        "items": [_attempt(attempt, slugs) for attempt in every[start : start + ATTEMPTS_PER_PAGE]],
        "page": page,
        "pages": pages,
        "per_page": ATTEMPTS_PER_PAGE,
        "total": len(every),
        "links": links,
    }
    return data, {"Link": link_header(links)}
