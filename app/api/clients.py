"""A counsellor's clients: the dashboard's list and one client's report, on the pages' own services.

Who may be seen is ``visible_learner_ids`` (app/services/sharing.py), through ``dashboard_page``
and ``client_view``: a counsellor sees the learners with a live link to them, an admin every
learner; a revoked link is a 404 on the next request. Reading a client's report writes the
same audit record as the client page (``client_view``), which the client sees on /me/.
"""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from app.api.auth import request_token, token_user
from app.api.common import ApiBlueprint, course_named, last_page, link_header, page_links, scoped
from app.api.problems import ApiError
from app.api.schemas import (
    ClientAttemptsPageSchema,
    ClientReportSchema,
    ClientsPageSchema,
    ClientsQuerySchema,
    CourseQuerySchema,
    PageQuerySchema,
)
from app.counsel.forms import dashboard_query
from app.extensions import db
from app.models import QuizAttempt
from app.models.types import utcnow
from app.services.client_report import client_attempts_page
from app.services.counselling import ClientAttemptsView, ClientView, client_attempts_view, client_view
from app.services.dashboard import INACTIVE_AFTER, PAGE_SIZE, STRUGGLING_FAILS, api_listing_audit, dashboard_page

blp = ApiBlueprint("api_clients", __name__, url_prefix="/api/v1/clients", description="A counsellor's clients")

NOT_VISIBLE = "There is no such client or course: the client may have stopped sharing their progress with you."
NOT_VISIBLE_LESSON = (
    "There is no such client, course or lesson: the client may have stopped sharing their progress with you."
)


@blp.route("")
@scoped(blp, "read:clients")
@blp.arguments(ClientsQuerySchema, location="query")
@blp.response(200, ClientsPageSchema)
def clients(query: dict):
    """My clients, with the dashboard's figures

    One page of the clients who share their progress with me (every learner, for an admin):
    lessons complete, current lesson, last activity, quiz average and flags (safety, for a
    safety-critical misconception still present; inactive, struggling, finished; and deactivated
    for an account an administrator has deactivated, whose owner cannot log in), filtered by name
    (``q``) and ``flag``, sorted by ``sort`` and ``dir``, as on the counsellor dashboard. Names
    are first names or nicknames, so each client comes with what the dashboard shows to tell
    them apart: my private label for them, and, where another of my clients has the same name,
    since when they share with me; their ``id`` is the client ID the dashboard shows.
    """
    course = course_named(query.get("course"))
    # The dashboard's own reading of its query string, so both take the same filters the same way.
    asked = dashboard_query(
        MultiDict(
            {
                "q": query["q"],
                "flag": query.get("flag", ""),
                "sort": query["sort"],
                "dir": query["dir"],
                "page": str(query["page"]),
            }
        )
    )
    page = dashboard_page(db.session, viewer=token_user(), course=course, query=asked)
    # The CSV's list, page by page: an admin reading it is recorded, once a day per token.
    api_listing_audit(db.session, token=request_token(), course=course, today=utcnow().date())
    links = page_links(page.page, page.pages)
    data = {
        "course": {"slug": course.slug, "title": course.title},
        "thresholds": {"inactive_days": INACTIVE_AFTER.days, "struggling_fails": STRUGGLING_FAILS},
        "items": [
            {
                "learner_id": row.learner_id,
                "name": row.name,
                "completed": row.completed,
                "total": row.total,
                "percent": row.percent,
                "current_lesson": row.current_lesson,
                "last_active": row.last_active,
                "quiz_average": row.quiz_average,
                "flags": sorted(row.flags),
                # What tells clients of one name apart, by the dashboard's rule (client_identity):
                # the label always, since when only beside a namesake, as the page shows them.
                "label": row.label,
                "namesake": row.namesake,
                "sharing_since": row.sharing_since if row.namesake else None,
            }
            for row in page.rows
        ],
        "page": page.page,
        "pages": page.pages,
        "per_page": PAGE_SIZE,
        "total": page.total,
        "links": links,
    }
    return data, {"Link": link_header(links)}


@blp.route("/<id:learner_id>")
@scoped(blp, "read:clients")
@blp.arguments(CourseQuerySchema, location="query")
@blp.response(200, ClientReportSchema)
def client(query: dict, learner_id: int):
    """One client's report

    Lesson by lesson with the latest quiz attempts and their answers (at most 10 a lesson) and
    how many attempts there are in all, and the misconceptions all their wrong answers showed,
    in the order to talk about them: the client page's report. Each read is
    recorded in the client's view log, as a visit to the client page is. A client who is not
    mine, or has stopped sharing, is a 404.
    """
    body = client_view(
        db.session, viewer=token_user(), learner_id=learner_id, course_slug=query.get("course"), draw=_report_body
    )
    if body is None:
        raise ApiError(404, NOT_VISIBLE)
    return body


def _report_body(view: ClientView) -> dict:
    """The client endpoint's body: the client page's report, drawn before the view is committed."""
    report = view.report
    outline = report.outline
    return {
        "client": {"id": report.learner.id, "name": report.learner.display_name},
        "course": {"slug": view.course.slug, "title": view.course.title},
        "completed": outline.completed_count,
        "total": len(outline.entries),
        "lessons": [
            {
                "number": entry.number,
                "slug": entry.lesson.slug,
                "title": entry.lesson.title,
                "state": entry.state.value,
                "opened_at": entry.opened_at,
                "completed_at": entry.completed_at,
                "attempts": [_attempt(attempt) for attempt in report.attempts_for(entry.lesson).shown],
                "attempt_count": report.attempts_for(entry.lesson).in_all,
            }
            for entry in outline.entries
        ],
        "misconceptions": [
            {
                "code": insight.code,
                "title": insight.heading,
                "talking_point": insight.counsellor_text,
                "safety_critical": insight.safety_critical,
                "times": insight.times,
                "first_seen": insight.first_seen,
                "last_seen": insight.last_seen,
                "still_present": insight.still_present,
                "corrected_at": insight.corrected_at,
                "questions": insight.questions,
            }
            for insight in report.misconceptions
        ],
    }


@blp.route("/<id:learner_id>/lessons/<lesson_slug>/attempts")
@scoped(blp, "read:clients")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, ClientAttemptsPageSchema)
def client_attempts(query: dict, learner_id: int, lesson_slug: str):
    """One client's attempts at a lesson

    Every attempt, newest first, each with its answers, a page at a time (the report lists
    each lesson's latest). Each read is recorded in the client's view log, as the report's is.
    A client who is not mine, or has stopped sharing, and a lesson the course does not have are
    404; a page past the last answers with the last page.
    """
    answer = client_attempts_view(
        db.session,
        viewer=token_user(),
        learner_id=learner_id,
        course_slug=query.get("course"),
        lesson_slug=lesson_slug,
        number=query["page"],
        draw=_attempts_page_answer,
    )
    if answer is None:
        raise ApiError(404, NOT_VISIBLE_LESSON)
    return answer


def _attempts_page_answer(view: ClientAttemptsView) -> tuple[dict, dict[str, str]]:
    """The attempts endpoint's body and Link header, drawn before the view is committed; a page
    past the last answers with the last page."""
    listed = view.listed or last_page(
        lambda number: client_attempts_page(
            db.session, learner_id=view.learner.id, lesson_id=view.entry.lesson.id, number=number
        )
    )
    links = page_links(listed.number, listed.pages)
    data = {
        "client": {"id": view.learner.id, "name": view.learner.display_name},
        "course": {"slug": view.course.slug, "title": view.course.title},
        "lesson": {"number": view.entry.number, "slug": view.entry.lesson.slug, "title": view.entry.lesson.title},
        "items": [
            {**_attempt(attempt), "number": listed.attempt_number(index)}
            for index, attempt in enumerate(listed.attempts)
        ],
        "page": listed.number,
        "pages": listed.pages,
        "per_page": listed.per_page,
        "total": listed.total,
        "links": links,
    }
    return data, {"Link": link_header(links)}


def _attempt(attempt: QuizAttempt) -> dict:
    """A quiz attempt with its answers, as the report and the attempts pages give it."""
    return {
        "id": attempt.id,
        "submitted_at": attempt.submitted_at,
        "correct": attempt.correct_count,
        "questions": attempt.question_count,
        "passed": attempt.passed,
        "answers": [
            {
                "prompt": answer.prompt,
                "right": answer.is_correct,
                "chosen": [c.get("text", "") for c in answer.choices_shown if c.get("chosen")],
                "safety_critical": any(c.get("chosen") and c.get("safety_critical") for c in answer.choices_shown),
            }
            for answer in attempt.answers
        ],
    }
