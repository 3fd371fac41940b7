"""For admins: read and change the course draft, publish it, and read the analytics.

The authoring pages' own services (app/services/authoring): the same edits, checked by the same
course rules, refused with the same messages, each beside the field it is about (here a JSON
Pointer into the request body); what is left out of a change stays as it is.

Each change honours If-Match (RFC 9110) as the editor's pages refuse a save when what they show
was changed meanwhile: sent, it must name the ETag of the draft as GET /draft sends it now, or
the change is refused with 412 and nothing changed. Without it a change is made as before.
"""

from __future__ import annotations

from typing import Any

from flask import request

from app.api.auth import token_user
from app.api.common import ApiBlueprint, body_etag, names_etag, no_query, scoped
from app.api.problems import ApiError, field_pointer
from app.api.schemas import (
    AnalyticsQuerySchema,
    AnalyticsSchema,
    CourseDetailsInputSchema,
    DraftSchema,
    LessonInputSchema,
    PublicationSchema,
)
from app.extensions import db
from app.jobs.analytics import stored_report
from app.models import Course
from app.services import authoring
from app.services.analytics.course_report import CourseAnalytics
from app.services.analytics.date_ranges import date_range_for
from app.services.authoring import DraftError, DraftInvalid, NothingToPublish, NotInDraft, ReviewInput, SourceInput
from app.services.errors import Problem
from app.services.progress import course_by_slug

blp = ApiBlueprint("api_draft", __name__, url_prefix="/api/v1/courses", description="The course draft, for admins")

UNCHANGED = "The draft was not changed: see errors."


def _course(slug: str) -> Course:
    course = course_by_slug(db.session, slug)
    if course is None:
        raise ApiError(404, "There is no such course.")
    return course


def _problem(problem: Problem) -> dict[str, str]:
    return {"file": problem.file, "field": problem.field, "message": problem.message}


def draft_state(course: Course) -> dict[str, Any]:
    """The draft, what publishing it would change or what stops it, and its quality warnings."""
    draft = authoring.draft_get(db.session, course)
    preview = authoring.publish_preview(db.session, course=course)
    return {
        "course": {"slug": course.slug, "title": course.title},
        "has_draft": draft is not None,
        "updated_at": draft.updated_at if draft else None,
        "data": authoring.draft_data(db.session, course),
        "changes": preview.changes,
        "problems": [_problem(problem) for problem in preview.problems],
        "warnings": [_problem(w) for w in authoring.quality_warnings(db.session, course=course, preview=preview)],
    }


CHANGED_SINCE_READ = (
    "The draft has changed since you read it (its ETag is no longer the one in If-Match), so nothing "
    "was changed: your change would have overwritten the other one. GET the draft again, make your "
    "change to what it holds now, and send its new ETag."
)
# The 412 in each change's description (the document shows the shared PRECONDITION_FAILED response, as for 409).
PRECONDITION_FAILED = "The draft has changed since you read it: the ETag in If-Match is not its ETag now"


def draft_etag(course: Course) -> str:
    """The ETag GET /draft sends now (without Flask-Compress's ":gzip")."""
    return body_etag(DraftSchema(), draft_state(course))


def _conditional() -> bool:
    """Whether the request sent If-Match naming tags (``*`` matches any draft: there always is one)."""
    return "If-Match" in request.headers and not request.if_match.star_tag


def _hold_the_draft(course: Course) -> None:
    """For a conditional change, hold the draft (``authoring.draft_hold``) before anything is read
    of it: what ``_unchanged_since_read`` compares is then what the change is made to."""
    if _conditional():
        authoring.draft_hold(db.session, course)


def _unchanged_since_read(course: Course) -> None:
    """Honour If-Match: refuse (412, nothing changed) a change whose If-Match names no ETag the
    draft has now. Its strong comparison (RFC 9110 13.1.1), so a weak tag never matches."""
    if not _conditional():
        return
    _hold_the_draft(course)
    if not names_etag(request.if_match, draft_etag(course)):
        db.session.rollback()  # nothing was written: let the lock go at once
        raise ApiError(412, CHANGED_SINCE_READ)


def _refused(invalid: DraftInvalid, prefix: tuple[str, ...] = ()) -> ApiError:
    """The service's errors, each at the body's field it is about; the rest without a place."""
    errors = [
        {"pointer": field_pointer(name, prefix), "detail": message}
        for name, messages in invalid.field_errors.items()
        for message in messages
    ]
    errors += [{"detail": message} for message in invalid.other]
    return ApiError(422, UNCHANGED, errors=errors)


@blp.route("/<course_slug>/draft")
@scoped(blp, "read:course")
@no_query(blp)
@blp.response(200, DraftSchema)
def draft(course_slug: str):
    """The course draft

    The course as admins are editing it, in the course files' format with row ids (the
    published course when nobody has changed anything), with what publishing it would change,
    what stops it, and its quality warnings: the publish page's preview.
    """
    return draft_state(_course(course_slug))


@blp.route("/<course_slug>/draft", methods=["PATCH"])
@scoped(blp, "write:draft")
@no_query(blp)
@blp.arguments(CourseDetailsInputSchema)
@blp.response(200, DraftSchema)
@blp.alt_response(412, response="PRECONDITION_FAILED", description=PRECONDITION_FAILED)
def draft_update(changes: dict, course_slug: str):
    """Change the course's details in the draft

    Title, summary, pass mark (a share: 0.8 is 80%), content review and the help text shown
    after every lesson; what is left out stays as it is. Refused (422, nothing changed) when a
    course rule is broken, with each message at its field. Send the draft's ETag in If-Match so
    as not to overwrite a change made since you read it (412 then); the answer has the new ETag.
    """
    course = _course(course_slug)
    _unchanged_since_read(course)
    current = authoring.draft_data(db.session, course)["course"]
    review: ReviewInput | None | Any = authoring.KEEP
    if "review" in changes:
        given = changes["review"]
        review = None if given is None else ReviewInput(**given)
    try:
        authoring.course_update(
            db.session,
            course=course,
            title=changes.get("title", current["title"]),
            summary=changes.get("summary", current["summary"]),
            pass_mark=changes.get("pass_mark", current["pass_mark"]),
            review=review,
            help=changes.get("help", authoring.KEEP),
            user_id=token_user().id,
        )
    except DraftInvalid as invalid:
        raise _refused(invalid) from None
    return draft_state(course)


@blp.route("/<course_slug>/draft/lessons/<lesson_slug>", methods=["PATCH"])
@scoped(blp, "write:draft")
@no_query(blp)
@blp.arguments(LessonInputSchema)
@blp.response(200, DraftSchema)
@blp.alt_response(412, response="PRECONDITION_FAILED", description=PRECONDITION_FAILED)
def lesson_update(changes: dict, course_slug: str, lesson_slug: str):
    """Change a lesson in the draft

    Its title, reading time, Markdown body and sources, or move it to the end of another
    module; what is left out stays as it is. A lesson the draft does not have is a 404; a
    broken course rule is refused (422, nothing changed) with each message at its field. Send
    the draft's ETag (GET /draft's) in If-Match so as not to overwrite a change made since you
    read it (412 then); the answer, the whole draft, has its new ETag.
    """
    course = _course(course_slug)
    _hold_the_draft(course)
    data = authoring.draft_data(db.session, course)
    try:
        lesson = authoring.draft_lesson(data, lesson_slug)
    except NotInDraft:
        raise ApiError(404, "The draft has no such lesson.") from None
    _unchanged_since_read(course)  # after the 404: a precondition is for a change that could be made (RFC 9110 13.2.1)
    front = lesson["front"]
    sources: list[SourceInput] | Any = authoring.KEEP
    if "sources" in changes:
        sources = [SourceInput(**source) for source in changes["sources"]]
    try:
        authoring.lesson_update(
            db.session,
            course=course,
            lesson_slug=lesson_slug,
            title=changes.get("title", front["title"]),
            minutes=changes.get("minutes", front["minutes"]),
            body=changes.get("body", lesson["body"]),
            module_slug=changes.get("module"),
            sources=sources,
            user_id=token_user().id,
        )
    except DraftInvalid as invalid:
        raise _refused(invalid) from None
    except NotInDraft:  # the module named does not exist
        raise ApiError(
            422, UNCHANGED, errors=[{"pointer": "#/module", "detail": "The draft has no such module."}]
        ) from None
    except DraftError as error:
        raise ApiError(422, str(error)) from None
    return draft_state(course)


@blp.route("/<course_slug>/draft/publish", methods=["POST"])
@scoped(blp, "write:draft")
@no_query(blp)
@blp.response(201, PublicationSchema)
@blp.alt_response(409, response="CONFLICT", description="There is nothing to publish")
@blp.alt_response(412, response="PRECONDITION_FAILED", description=PRECONDITION_FAILED)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY", description="The draft breaks a course rule")
def publish(course_slug: str):
    """Publish the draft

    Learners see the new version on their next page; their past attempts are unchanged. 409
    when there is nothing to publish; 422, with every problem by file and field, when the
    draft breaks a course rule (nothing is published then). Send the draft's ETag in If-Match
    to publish only what you read (412, nothing published, when it has changed since).
    """
    course = _course(course_slug)
    _unchanged_since_read(course)
    try:
        publication = authoring.publish(db.session, course=course, user_id=token_user().id)
    except NothingToPublish as nothing:
        raise ApiError(409, str(nothing)) from None
    except DraftInvalid as invalid:
        errors = [
            {"file": problem.file, "field": problem.field, "detail": problem.message} for problem in invalid.problems
        ]
        raise ApiError(422, "The draft cannot be published: see errors.", errors=errors) from None
    return {
        "id": publication.id,
        "published_at": publication.published_at,
        "summary": publication.summary,
        "changes": publication.changes or [],
    }


def _analytics(report: CourseAnalytics | None) -> list[dict[str, Any]]:
    if report is None:
        return []
    return [
        {
            "number": item.number,
            "slug": item.lesson.slug,
            "title": item.lesson.title,
            "module": item.lesson.module_title,
            "funnel": {
                "started": item.funnel.started,
                "passed": item.funnel.passed,
                "gave_up": item.funnel.gave_up,
                "in_progress": item.funnel.in_progress,
            },
            "questions": [
                {
                    "number": question.number,
                    "prompt": question.prompt,
                    "kind": question.kind,
                    "answers": question.answers,
                    "first_attempts": question.first_attempts,
                    "facility": question.facility,
                    "too_few_to_judge": question.too_few,
                    "discrimination": question.discrimination,
                    "discrimination_note": question.discrimination_note,
                    "flags": [{"code": f.code, "label": f.label, "reason": f.reason} for f in question.flags],
                    "choices": [
                        {
                            "letter": choice.letter,
                            "text": choice.text,
                            "correct": choice.is_correct,
                            "picks": choice.picks,
                            "share": choice.share,
                            "misconception": choice.misconception_code,
                        }
                        for choice in question.choices
                    ],
                }
                for question in item.questions
            ],
        }
        for item in report.lessons
    ]


@blp.route("/<course_slug>/analytics")
@scoped(blp, "read:analytics")
@blp.arguments(AnalyticsQuerySchema, location="query")
@blp.response(200, AnalyticsSchema)
def analytics(query: dict, course_slug: str):
    """The course's question and lesson analytics

    The latest figures the hourly job computed for the date ``range`` (the analytics page's):
    each lesson's funnel, each question's share right at the first try, discrimination, flags
    and choice picks. ``ready`` is false while the first figures are being computed (the
    request starts that, as the page does); ask again in a minute.
    """
    course = _course(course_slug)
    date_range = date_range_for(query.get("range"))
    if date_range is None:  # pragma: no cover - the schema accepts only the ranges there are
        raise ApiError(422, "There is no such date range.")
    report, _ = stored_report(course, date_range)  # with none yet, as the page does, starts their computation
    return {
        "course": {"slug": course.slug, "title": course.title},
        "range": date_range.key,
        "ready": report is not None,
        "computed_at": report.computed_at if report else None,
        "since": report.since if report else None,
        "lessons": _analytics(report),
    }
