"""What the counsellor pages read and record, so their views only present it.

Which course a counsellor page is about, and one client's report, whose every view is
written to the audit log the client sees on their own page (app/services/sharing.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Float, Select, bindparam, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.models import Course, ProgressView, User
from app.models.types import UTCDateTime, utcnow
from app.services.client_identity import ClientIdentity
from app.services.client_report import (
    ClientAttemptsPage,
    ClientReport,
    StuckLesson,
    client_attempts_page,
    client_report,
)
from app.services.dashboard import ClientRow, FlagRules, client_row
from app.services.default_course import course_or_default
from app.services.progress import LessonEntry, course_outline
from app.services.sharing import progress_view_record, viewable_client

T = TypeVar("T")  # what a caller draws from a view: a page, an API body


def counsellor_courses(session: Session) -> list[Course]:
    """Every course, oldest first: the first is the default course (default_course.py), which the
    counsellor's pages show when their address names none (1 query)."""
    return list(session.scalars(select(Course).order_by(Course.id)))


def counsellor_course(session: Session, *, slug: str | None) -> Course | None:
    """The course named by ``slug``, or the default course when no slug is given; None if there is none."""
    return course_or_default(session, slug)


# Views by one viewer of one learner less than this apart are one visit, and "Since you last
# looked" compares against the last view before the current visit began: a reload, a print, the
# lesson's attempts page and coming back to the client page all belong to the visit, so they show
# the same list, where comparing with the previous request emptied it. An hour: a session with a
# client runs about 50 minutes, and a counsellor preparing for one or going through the pages
# during it looks again well within the hour, while the next session with the same client is days
# away. Chained, so a long session with a look every half hour stays one visit; after an hour
# with no look, the next look is a new visit, and lists what changed since the one before.
VISIT_GAP = timedelta(hours=1)


def previous_look(session: Session, *, viewer: User, learner: User, now: datetime | None = None) -> datetime | None:
    """When ``viewer`` last viewed this learner's progress before their current visit (``VISIT_GAP``),
    from the view log; None if this visit is their first. One read, whatever the log's length.

    ``now`` (the current time unless given) is the current view, read before it is recorded: the
    current visit is it and the views before it each less than ``VISIT_GAP`` before the next.
    """
    return session.scalar(
        _previous_look_statement(),
        {
            "viewer_id": viewer.id,
            "learner_id": learner.id,
            "now": now or utcnow(),
            "visit_gap": VISIT_GAP.total_seconds(),
        },
    )


class _SecondsBetween(FunctionElement):
    """Seconds from the first timestamp to the second, on either database (neither shares a
    way to subtract two timestamps): a number the bound gap can be compared with."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(_SecondsBetween)
def _seconds_between_postgresql(element: _SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(_SecondsBetween, "sqlite")
def _seconds_between_sqlite(element: _SecondsBetween, compiler: SQLCompiler, **kw: Any) -> str:
    # julianday() reads the stored text (fractions of a second too) as days.
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@cache
def _previous_look_statement() -> Select:
    """``previous_look``'s read, built once (bound: viewer_id, learner_id, now, visit_gap).

    Each of the viewer's views of the learner with the one after it (the last one with ``now``,
    the view being made): a view followed by a gap of ``visit_gap`` seconds or more ended a visit
    before the current one, and the latest such view is the previous look.
    """
    now = bindparam("now", type_=UTCDateTime)
    views = (
        select(
            ProgressView.viewed_at.label("at"),
            func.coalesce(
                func.lead(ProgressView.viewed_at).over(order_by=(ProgressView.viewed_at, ProgressView.id)), now
            ).label("next_at"),
        )
        .where(ProgressView.viewer_id == bindparam("viewer_id"), ProgressView.learner_id == bindparam("learner_id"))
        .subquery("views")
    )
    return select(func.max(views.c.at)).where(
        _SecondsBetween(views.c.at, views.c.next_at) >= bindparam("visit_gap", type_=Float)
    )


def _visible_client(
    session: Session, *, viewer: User, learner_id: int, course_slug: str | None
) -> tuple[ClientIdentity, Course] | None:
    """The client (with what tells them apart from another of their name) and the course a
    counsellor page about them shows, or None when the viewer may not see this learner (not
    theirs, the link revoked, no such account: the same answer, so ids cannot be probed) or the
    course is unknown."""
    client = viewable_client(session, viewer=viewer, learner_id=learner_id)
    if client is None:
        return None
    course = counsellor_course(session, slug=course_slug)
    return None if course is None else (client, course)


@dataclass(frozen=True)
class ClientStatus(FlagRules):
    """A client at a glance, for the top of their page: the dashboard's figures and flags for them
    (``figures``, by the dashboard's own rules), the lessons they have tried and not passed, the
    lesson they are at, and when this was worked out (the page prints it)."""

    figures: ClientRow
    stuck: list[StuckLesson]
    current: LessonEntry | None  # the first lesson not completed; None once they have finished
    as_of: datetime

    @property
    def days_since_active(self) -> int | None:
        """Whole days (24 hours each) since they last did anything in the course; None if never."""
        last = self.figures.last_active
        return None if last is None else max(0, (self.as_of - last).days)


def client_status(session: Session, *, viewer: User, course: Course, report: ClientReport) -> ClientStatus | None:
    """The client at a glance: their dashboard row (1 query) with where the report shows them stuck.

    None when the learner is not there (the caller has checked that ``viewer`` may see them).
    """
    figures = client_row(
        session, viewer=viewer, course=course, learner_id=report.learner.id, lesson_count=len(report.outline.entries)
    )
    if figures is None:
        return None
    return ClientStatus(
        figures=figures, stuck=report.stuck_lessons, current=report.outline.continue_entry(), as_of=utcnow()
    )


@dataclass(frozen=True)
class ClientView:
    """One client's report in one course, as their counsellor sees it, with their status when asked for."""

    course: Course
    client: ClientIdentity
    report: ClientReport
    status: ClientStatus | None = None


def client_view(
    session: Session,
    *,
    viewer: User,
    learner_id: int,
    course_slug: str | None,
    draw: Callable[[ClientView], T],
    with_status: bool = False,
) -> T | None:
    """The client's report for ``viewer`` drawn by ``draw``, with what changed since their last view
    (and, ``with_status``, their status at a glance: one query more); records this view; commits.

    ``draw`` makes what the caller answers with (the page, the API's body) from the view, and is
    called before the commit: a commit expires every loaded object, so drawing after it would
    read the client, the course and the viewer again (3 queries a view). If ``draw`` raises,
    nothing is recorded: the counsellor was shown nothing. None (and nothing recorded, ``draw``
    not called) when the viewer may not see this learner (not theirs, the link revoked, no such
    account: the same answer, so ids cannot be probed) or the course is unknown.
    """
    visible = _visible_client(session, viewer=viewer, learner_id=learner_id, course_slug=course_slug)
    if visible is None:
        return None
    client, course = visible
    learner = client.learner
    # Read before this view is recorded: "since you last looked" means since the visit before this one.
    previous = previous_look(session, viewer=viewer, learner=learner)
    progress_view_record(session, viewer=viewer, learner=learner)
    report = client_report(session, learner=learner, course=course, previous_look=previous)
    status = client_status(session, viewer=viewer, course=course, report=report) if with_status else None
    drawn = draw(ClientView(course=course, client=client, report=report, status=status))
    session.commit()
    return drawn


@dataclass(frozen=True)
class ClientAttemptsView:
    """A page of one client's attempts at one lesson, as their counsellor sees it."""

    course: Course
    client: ClientIdentity
    entry: LessonEntry
    listed: ClientAttemptsPage | None  # None: a page past the last

    @property
    def learner(self) -> User:
        return self.client.learner


def client_attempts_view(
    session: Session,
    *,
    viewer: User,
    learner_id: int,
    course_slug: str | None,
    lesson_slug: str,
    number: int,
    draw: Callable[[ClientAttemptsView], T],
) -> T | None:
    """Page ``number`` of the client's attempts at the lesson for ``viewer``, drawn by ``draw``
    before the commit (see ``client_view``); records this view; commits.

    None (and nothing recorded) as for ``client_view``, and for a lesson the course does not
    have. A page past the last is drawn and recorded too, with ``listed`` None: the counsellor
    asked to see the client's progress, and the log says so (the page answers 404, the API the
    last page).
    """
    visible = _visible_client(session, viewer=viewer, learner_id=learner_id, course_slug=course_slug)
    if visible is None:
        return None
    client, course = visible
    learner = client.learner
    entry = course_outline(session, course=course, learner=learner).entry_for(lesson_slug)
    if entry is None:
        return None
    progress_view_record(session, viewer=viewer, learner=learner)
    listed = client_attempts_page(session, learner_id=learner.id, lesson_id=entry.lesson.id, number=number)
    drawn = draw(ClientAttemptsView(course=course, client=client, entry=entry, listed=listed))
    session.commit()
    return drawn
