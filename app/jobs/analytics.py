"""The analytics refresh as jobs: hourly for every course, and on an admin's "Recalculate now".

The work and its guard are ``snapshot_refresh`` in app/services/analytics/snapshots.py: a refresh
that finds another one of the same course running skips, so enqueuing one more is always safe.
Readers of the figures (the page, its CSV, the API) go through ``stored_report``, which starts a
refresh when there are none yet.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.extensions import db
from app.jobs import crontab, job, periodic_job
from app.models import Course
from app.services.analytics.course_report import CourseAnalytics
from app.services.analytics.date_ranges import DateRange
from app.services.analytics.snapshots import snapshot_get, snapshot_is_refreshing, snapshot_refresh, snapshot_report

logger = logging.getLogger(__name__)


@job()
def refresh_course_analytics(course_id: int) -> bool:
    """Recalculate one course's analytics snapshot; False when another refresh of it was running."""
    refreshed = snapshot_refresh(db.session, course_id=course_id)
    if not refreshed:
        logger.info("Analytics of course %s not recalculated: another refresh is running, or it is gone.", course_id)
    return refreshed


@periodic_job(crontab(minute="0"))
def refresh_all_analytics() -> None:
    """Every hour, on the hour: enqueue a refresh of each course's analytics (one job a course)."""
    course_ids = list(db.session.scalars(select(Course.id).order_by(Course.id)))
    db.session.rollback()  # nothing to keep; end the read before the refreshes start
    for course_id in course_ids:
        refresh_course_analytics(course_id)


def stored_report(course: Course, date_range: DateRange) -> tuple[CourseAnalytics | None, bool]:
    """The range's figures from the course's snapshot, and whether a refresh is running.

    With none yet (or only from before date ranges), a refresh is enqueued: the page, the download
    and the API never compute, but they start the computation.
    """
    snapshot = snapshot_get(db.session, course=course)
    report = snapshot_report(snapshot, course=course, date_range=date_range)
    refreshing = snapshot_is_refreshing(snapshot)
    if report is None and not refreshing:
        # Nothing has been written here, so the job (a session of its own) sees what we see.
        refresh_course_analytics(course.id)
        refreshing = True
        # Where jobs run inline (tests, immediate mode) the figures are there already.
        snapshot = snapshot_get(db.session, course=course, reload=True)
        report = snapshot_report(snapshot, course=course, date_range=date_range)
    return report, refreshing
