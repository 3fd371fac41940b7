"""Question analytics for admins: which questions work and where learners drop out."""

from flask import abort, render_template, request
from sqlalchemy import select

from app.author import bp
from app.author.charts import choice_chart, funnel_chart, percent
from app.extensions import db
from app.models import Course
from app.services import analytics as rules
from app.services.analytics import course_analytics


@bp.get("/analytics")
def analytics():
    """Show each lesson's funnel and each question's statistics for one course (?course=slug)."""
    courses = list(db.session.scalars(select(Course).order_by(Course.id)))
    slug = request.args.get("course")
    course = next((c for c in courses if c.slug == slug), None) if slug else next(iter(courses), None)
    if slug and course is None:
        abort(404)
    report = course_analytics(db.session, course=course) if course else None
    return render_template(
        "author/analytics.html",
        courses=courses,
        report=report,
        rules=rules,
        funnel_chart=funnel_chart,
        choice_chart=choice_chart,
        percent=percent,
    )
