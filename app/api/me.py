"""The token owner's own data: who the token acts for, and a learner's progress and quiz attempts.

The same reads as the learner's own pages (``course_outline_by_slug``; the per-lesson attempt
summaries /me/ shows; the attempts a page at a time, as the lesson's attempts page lists them),
so the API shows what those pages show, in a fixed number of queries whatever the history.
"""

from __future__ import annotations

from app.api.auth import request_token, token_user
from app.api.common import ApiBlueprint, last_page, link_header, no_query, page_links, scoped, signed_in
from app.api.problems import ApiError
from app.api.schemas import AttemptsPageSchema, CourseQuerySchema, PageQuerySchema, ProgressSchema, WhoAmISchema
from app.extensions import db
from app.services.api_tokens import token_allows
from app.services.attempt_history import AttemptsPage, AttemptSummary, attempts_page
from app.services.my_page import lesson_attempt_summaries
from app.services.progress import CourseOutline, course_outline_by_slug

blp = ApiBlueprint(
    "api_me", __name__, url_prefix="/api/v1/me", description="The token owner's own account and progress"
)

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
    outline = course_outline_by_slug(db.session, slug=course, learner=token_user())
    if outline is None:
        raise ApiError(404, "There is no such course.")
    return outline


@blp.route("")
@signed_in(blp)
@no_query(blp)
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
    summaries = lesson_attempt_summaries(db.session, learner_id=token_user().id, course_id=outline.course.id)
    lessons = []
    for entry in outline.entries:
        summary = summaries.get(entry.lesson.id)
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
    listed = _attempts_page(token_user().id, list(slugs), query["page"])
    links = page_links(listed.number, listed.pages)
    data = {
        "course": {"slug": outline.course.slug, "title": outline.course.title},
        "items": [_attempt(attempt, slugs) for attempt in listed.attempts],
        "page": listed.number,
        "pages": listed.pages,
        "per_page": ATTEMPTS_PER_PAGE,
        "total": listed.total,
        "links": links,
    }
    return data, {"Link": link_header(links)}


def _attempts_page(learner_id: int, lesson_ids: list[int], number: int) -> AttemptsPage:
    """Page ``number`` of the learner's attempts at these lessons; past the last, the last page.

    One query; a page past the last takes two more (the count, then the last page).
    """

    def page(wanted: int) -> AttemptsPage | None:
        return attempts_page(
            db.session, learner_id=learner_id, lesson_ids=lesson_ids, number=wanted, per_page=ATTEMPTS_PER_PAGE
        )

    return page(number) or last_page(page)
