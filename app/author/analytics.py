"""Question analytics for admins: which questions work and where learners drop out.

The figures and the snapshot that keeps them are app/services/analytics.py's; here is only the
page, and the rendering of a report (charts included) that the snapshot stores.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, render_template, request
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.author import bp
from app.author.charts import choice_chart, funnel_chart, percent
from app.extensions import db
from app.models import AnalyticsSnapshot, Course
from app.services import analytics as rules
from app.services.analytics import CourseAnalytics, analytics_courses, course_report, snapshot_refresh


def render_report(report: CourseAnalytics) -> str:
    """The report as the page shows it: tables and accessible SVG charts."""
    return render_template(
        "author/_analytics_report.html",
        report=report,
        rules=rules,
        funnel_chart=funnel_chart,
        choice_chart=choice_chart,
        percent=percent,
    )


def analytics_refresh(session: Session, *, course: Course, snapshot: AnalyticsSnapshot | None) -> tuple[str, datetime]:
    """Compute the course's report, render it and keep it as the course's snapshot (for `flask analytics refresh`).

    ``snapshot`` is the course's current one (None if it has none). The caller commits.
    """
    snapshot = snapshot_refresh(session, course=course, snapshot=snapshot, render=render_report)
    return snapshot.html, snapshot.computed_at


@bp.route("/analytics", methods=["GET", "POST"])
def analytics():
    """Show each lesson's funnel and each question's statistics for one course (?course=slug)."""
    courses = analytics_courses(db.session)
    slug = request.args.get("course")
    course = next((c for c in courses if c.slug == slug), None) if slug else next(iter(courses), None)
    if slug and course is None:
        abort(404)
    max_age = current_app.config["ANALYTICS_MAX_AGE"]
    html, computed_at = None, None
    if course is not None:
        # POST: "Recalculate now" (CSRF-checked globally); a GET recalculates only a missing or stale report.
        html, computed_at = course_report(
            db.session, course=course, max_age=max_age, render=render_report, refresh=request.method == "POST"
        )
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
