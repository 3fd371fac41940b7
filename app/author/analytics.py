"""Question analytics for admins: which questions work and where learners drop out.

The figures and the snapshot that keeps them are app/services/analytics.py's, and a job
(app/jobs/analytics.py) computes them; here is only the page, which renders the latest snapshot's
figures (charts included) on every request and never computes them, and its "Recalculate now".
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for

from app.author import bp
from app.author.charts import choice_chart, funnel_chart, percent
from app.extensions import db
from app.jobs.analytics import refresh_course_analytics
from app.models import Course
from app.models.types import utcnow
from app.services import analytics as rules
from app.services.analytics import analytics_courses, snapshot_get, snapshot_is_refreshing, snapshot_report

RECALCULATING = "Recalculating: refresh the page in a minute."

# Largest unit first: "2 days ago", not "50 hours ago".
AGE_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60))


def age_in_words(then: datetime, now: datetime) -> str:
    """How long ago ``then`` was, in whole units of the largest that fits ("3 hours ago")."""
    seconds = max(0.0, (now - then).total_seconds())
    for unit, size in AGE_UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "less than a minute ago"


def _chosen_course(courses: list[Course]) -> Course | None:
    """The course named by ?course=slug (404 if none has it), else the first one."""
    slug = request.args.get("course")
    if not slug:
        return next(iter(courses), None)
    course = next((c for c in courses if c.slug == slug), None)
    if course is None:
        abort(404)
    return course


@bp.get("/analytics")
def analytics():
    """Show the latest computed funnels and question statistics of one course (?course=slug).

    A fixed number of queries whatever the data size: the figures are read from the snapshot.
    With none yet, a refresh is enqueued and the page says the figures are being prepared.
    """
    courses = analytics_courses(db.session)
    course = _chosen_course(courses)
    report, refreshing = None, False
    if course is not None:
        snapshot = snapshot_get(db.session, course=course)
        report, refreshing = snapshot_report(snapshot, course=course), snapshot_is_refreshing(snapshot)
        if report is None and not refreshing:
            # Nothing has been written here, so the job (a session of its own) sees what we see.
            refresh_course_analytics(course.id)
            refreshing = True
            # Where jobs run inline (tests, immediate mode) the figures are there already.
            snapshot = snapshot_get(db.session, course=course, reload=True)
            report = snapshot_report(snapshot, course=course)
    now = utcnow()
    return render_template(
        "author/analytics.html",
        courses=courses,
        course=course,
        report=report,
        refreshing=refreshing,
        age=age_in_words(report.computed_at, now) if report else None,
        rules=rules,
        funnel_chart=funnel_chart,
        choice_chart=choice_chart,
        percent=percent,
    )


@bp.post("/analytics")
def analytics_recalculate():
    """Recalculate now: enqueue a refresh of the course's figures and come back to the page."""
    course = _chosen_course(analytics_courses(db.session))
    if course is None:
        return redirect(url_for("author.analytics"))
    refresh_course_analytics(course.id)
    flash(RECALCULATING, "info")
    return redirect(url_for("author.analytics", course=course.slug))
