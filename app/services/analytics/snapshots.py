"""A course's analytics snapshot: the row that keeps its figures, reading one range's report from
it, and refreshing it, one refresh of a course at a time.

The report is aggregated over every attempt, which takes seconds at scale, so it is never
computed in a web request: a job (app/jobs/analytics.py, hourly and on "Recalculate now") or
`flask analytics refresh` computes it with ``snapshot_refresh`` and keeps its figures as data
(``report_data``, every date range at once) in the course's ``AnalyticsSnapshot``; the page
rebuilds one range's report from that data (``snapshot_report``) and renders it on every request.
A refresh first claims the snapshot row (``refreshing_since``), so two refreshes of a course never
compute at the same time.
"""

from __future__ import annotations

import typing
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import AnalyticsSnapshot, Course
from app.models.types import utcnow
from app.services.analytics.course_report import CourseAnalytics, course_analytics_by_range
from app.services.analytics.date_ranges import DEFAULT_RANGE, DateRange
from app.services.analytics.snapshot_data import report_data, report_from_data

# A refresh that has not finished in this long is taken to have died with its worker, so another
# may start (one takes seconds, 4.5 s at 100,000 learners).
REFRESH_TIMEOUT = timedelta(minutes=15)


def snapshot_get(session: Session, *, course: Course, reload: bool = False) -> AnalyticsSnapshot | None:
    """The course's snapshot row, if it has one (1 query).

    ``reload``: overwrite the row this session already holds with what the database has now
    (after a refresh that ran in another session).
    """
    stmt = select(AnalyticsSnapshot).where(AnalyticsSnapshot.course_id == course.id)
    if reload:
        stmt = stmt.execution_options(populate_existing=True)
    return session.scalar(stmt)


def snapshot_report(
    snapshot: AnalyticsSnapshot | None, *, course: Course, date_range: DateRange = DEFAULT_RANGE
) -> CourseAnalytics | None:
    """The range's report the snapshot keeps, or None when it has no figures for it yet.

    None too for a snapshot in an unknown format, or from before date ranges (format 1) for any
    range but all time: the page then asks for a recalculation.
    """
    if snapshot is None or snapshot.computed_at is None or not snapshot.data:
        return None
    return report_from_data(snapshot.data, course=course, computed_at=snapshot.computed_at, date_range=date_range)


def snapshot_is_refreshing(snapshot: AnalyticsSnapshot | None, *, now: datetime | None = None) -> bool:
    """Whether a refresh of this snapshot has started and is not yet overdue (``REFRESH_TIMEOUT``)."""
    if snapshot is None or snapshot.refreshing_since is None:
        return False
    return snapshot.refreshing_since > (now or utcnow()) - REFRESH_TIMEOUT


def _claim(session: Session, *, course_id: int, now: datetime) -> bool:
    """Mark the course's snapshot as being refreshed since ``now``, unless a live refresh has; commits.

    The conditional UPDATE is the guard: on PostgreSQL a second UPDATE of the row waits for the
    first to commit and then finds ``refreshing_since`` set; SQLite runs one writer at a time.
    """
    if session.scalar(select(AnalyticsSnapshot.id).where(AnalyticsSnapshot.course_id == course_id)) is None:
        try:
            with session.begin_nested():
                session.add(AnalyticsSnapshot(course_id=course_id))
        except IntegrityError:
            pass  # another refresh created the row a moment ago; the UPDATE below decides
    # An UPDATE's result is a CursorResult (it has rowcount); Session.execute is typed for any statement.
    claimed = typing.cast(
        "CursorResult[Any]",
        session.execute(
            update(AnalyticsSnapshot)
            .where(
                AnalyticsSnapshot.course_id == course_id,
                or_(
                    AnalyticsSnapshot.refreshing_since.is_(None),
                    AnalyticsSnapshot.refreshing_since <= now - REFRESH_TIMEOUT,
                ),
            )
            .values(refreshing_since=now)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    session.commit()
    return claimed == 1


def snapshot_refresh(session: Session, *, course_id: int, now: datetime | None = None) -> bool:
    """Compute the course's report for every date range and keep its figures as the course's snapshot; commits.

    Returns False, computing nothing, when the course is gone or another refresh of it is
    running (its claim is younger than ``REFRESH_TIMEOUT``). A failed computation gives its
    claim back, so the next try is not kept waiting, and raises.
    """
    now = now or utcnow()
    session.commit()  # end the caller's transaction: the claim must be seen by other refreshes at once
    course = session.get(Course, course_id)
    if course is None or not _claim(session, course_id=course_id, now=now):
        session.rollback()
        return False
    try:
        reports = course_analytics_by_range(session, course=course, now=now)
        snapshot = session.scalar(select(AnalyticsSnapshot).where(AnalyticsSnapshot.course_id == course_id))
        if snapshot is None:  # claimed above: only deleting the course since removes it
            raise LookupError(f"course {course_id} was deleted during its analytics refresh")
        snapshot.data, snapshot.computed_at, snapshot.refreshing_since = report_data(reports), now, None
        session.commit()
    except Exception:
        session.rollback()
        _release(session, course_id=course_id, claimed_at=now)
        raise
    return True


def _release(session: Session, *, course_id: int, claimed_at: datetime) -> None:
    """Give back a claim this refresh made (only its own: a later one may have taken over); commits."""
    session.execute(
        update(AnalyticsSnapshot)
        .where(AnalyticsSnapshot.course_id == course_id, AnalyticsSnapshot.refreshing_since == claimed_at)
        .values(refreshing_since=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
