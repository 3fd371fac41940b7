"""Question analytics for admins: which questions work and where learners drop out.

The report is aggregated over every attempt, which takes seconds at scale, so the page serves
the last computed snapshot and recalculates it when it is older than ANALYTICS_MAX_AGE.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, current_app, render_template, request
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.author import bp
from app.author.charts import choice_chart, funnel_chart, percent
from app.extensions import db
from app.models import AnalyticsSnapshot, Course
from app.models.types import utcnow
from app.services import analytics as rules
from app.services.analytics import course_analytics


def analytics_refresh(session: Session, *, course: Course, snapshot: AnalyticsSnapshot | None) -> tuple[str, datetime]:
    """Compute the course's report, render it and keep it as the course's snapshot.

    ``snapshot`` is the course's current one (None if it has none). The caller commits.
    """
    report = course_analytics(session, course=course)
    html = render_template(
        "author/_analytics_report.html",
        report=report,
        rules=rules,
        funnel_chart=funnel_chart,
        choice_chart=choice_chart,
        percent=percent,
    )
    if snapshot is None:
        snapshot = AnalyticsSnapshot(course_id=course.id)
        session.add(snapshot)
    snapshot.html, snapshot.computed_at = html, report.computed_at
    return html, report.computed_at


@bp.route("/analytics", methods=["GET", "POST"])
def analytics():
    """Show each lesson's funnel and each question's statistics for one course (?course=slug)."""
    courses = list(db.session.scalars(select(Course).order_by(Course.id)))
    slug = request.args.get("course")
    course = next((c for c in courses if c.slug == slug), None) if slug else next(iter(courses), None)
    if slug and course is None:
        abort(404)
    max_age = current_app.config["ANALYTICS_MAX_AGE"]
    html, computed_at = None, None
    if course is not None:
        snapshot = db.session.scalar(select(AnalyticsSnapshot).where(AnalyticsSnapshot.course_id == course.id))
        stale_before = utcnow() - timedelta(seconds=max_age)
        # POST: "Recalculate now" (CSRF-checked globally); a GET redoes only a missing or stale report.
        if request.method == "POST" or snapshot is None or snapshot.computed_at < stale_before:
            html, computed_at = analytics_refresh(db.session, course=course, snapshot=snapshot)
        else:
            html, computed_at = snapshot.html, snapshot.computed_at
    page = render_template(
        "author/analytics.html",
        courses=courses,
        course=course,
        # Our own template output, autoescaped when it was rendered.
        report_html=Markup(html) if html else None,  # noqa: S704  # nosec B704
        computed_at=computed_at,
        max_age=max_age,
    )
    db.session.commit()  # after rendering, so the page does not reload what the commit expires
    return page
