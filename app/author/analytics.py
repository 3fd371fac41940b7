"""Question analytics for admins: which questions work and where learners drop out.

The figures and the snapshot that keeps them come from app/services/analytics/, and a job
(app/jobs/analytics.py) computes them; here are only the page, which renders the latest
snapshot's figures for one date range (charts included) on every request and never computes
them, its "Recalculate now", and the same figures as a CSV download.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from app.author import bp
from app.author.charts import choice_chart, passed_chart, percent
from app.errors import render_error
from app.extensions import db
from app.jobs.analytics import refresh_course_analytics, stored_report
from app.models import Course
from app.models.types import utcnow
from app.services.analytics import question_statistics
from app.services.analytics.course_report import CourseAnalytics, analytics_courses
from app.services.analytics.csv_table import report_table
from app.services.analytics.date_ranges import DEFAULT_RANGE, RANGES, DateRange, date_range_for
from app.services.analytics.drop_out import GAVE_UP_AFTER
from app.services.analytics.editor_places import EditorPlace, question_editor_places
from app.spreadsheet import neutralise

RECALCULATING = "Recalculating: refresh the page in a minute."
NO_FIGURES_YET = "These figures are being calculated now. Please try the download again in a minute."

# Where each app keeps the drawn report bodies (``_report_body``).
KEPT_REPORT_BODIES = "analytics_report_bodies"

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


class UnknownRange(Exception):
    """The query string names a date range the page does not offer."""


def _chosen_range() -> DateRange:
    """The date range named by ?range=key (all time when none is named); UnknownRange for any other."""
    date_range = date_range_for(request.args.get("range"))
    if date_range is None:
        raise UnknownRange()
    return date_range


@bp.errorhandler(UnknownRange)
def unknown_range(error: UnknownRange):
    """A range the page does not offer (an old or edited link) is a 400 that lists the ones it does."""
    choices = ", ".join(f"{date_range.label.lower()} ({date_range.key})" for date_range in RANGES)
    return render_error(400, f"There is no such date range. The figures cover {choices}.")


@bp.get("/analytics")
def analytics():
    """Show the latest computed funnels and question statistics of one course (?course=slug) and range.

    A fixed number of queries whatever the data size: the figures are read from the snapshot.
    With none yet for the range, a refresh is enqueued and the page says the figures are being
    prepared.
    """
    courses = analytics_courses(db.session)
    course = _chosen_course(courses)
    date_range = _chosen_range()
    report, refreshing, places = None, False, {}
    if course is not None:
        report, refreshing = stored_report(course, date_range)
        if report is not None:
            places = question_editor_places(
                db.session, course=course, question_ids=[question.question_id for _, question in report.questions]
            )
    now = utcnow()
    return render_template(
        "author/analytics.html",
        courses=courses,
        course=course,
        date_range=date_range,
        ranges=RANGES,
        report=report,
        report_body=_report_body(course, report, places) if course is not None and report is not None else None,
        refreshing=refreshing,
        age=age_in_words(report.computed_at, now) if report else None,
    )


def _report_body(course: Course, report: CourseAnalytics, places: dict[int, EditorPlace]) -> Markup:
    """The report's tables and charts, drawn once per computed figures and kept by the worker.

    Drawing them was nine tenths of the page's CPU (a chart and a table row per question), the
    same for every view of the same figures. A body is kept per course and date range, the
    latest only, and drawn again when the figures were computed again or the editor links
    changed (a question moved in the draft, the course renamed): it reads nothing else that can
    change. Kept per app, by script root, as every drawn fragment is (app/page_fragments.py).
    """
    kept: dict[tuple, tuple[tuple, Markup]] = current_app.extensions.setdefault(KEPT_REPORT_BODIES, {})
    key = (request.script_root, course.id, report.date_range.key)
    stamp = (report.computed_at, course.slug, tuple(sorted(places.items())))
    found = kept.get(key)
    if found is not None and found[0] == stamp:
        return found[1]
    drawn = render_template(
        "author/_analytics_report.html",
        course=course,
        report=report,
        places=places,
        rules=question_statistics,
        gave_up_after=GAVE_UP_AFTER,
        passed_chart=passed_chart,
        choice_chart=choice_chart,
        percent=percent,
    )
    body = Markup(drawn)  # noqa: S704  # nosec B704 - drawn by an autoescaped template
    kept[key] = (stamp, body)
    return body


@bp.post("/analytics")
def analytics_recalculate():
    """Recalculate now: enqueue a refresh of the course's figures and come back to the page."""
    course = _chosen_course(analytics_courses(db.session))
    if course is None:
        return redirect(url_for("author.analytics"))
    date_range = date_range_for(request.args.get("range")) or DEFAULT_RANGE
    refresh_course_analytics(course.id)
    flash(RECALCULATING, "info")
    # Back to the range the admin was looking at; all time, the default, needs no parameter.
    range_key = None if date_range is DEFAULT_RANGE else date_range.key
    return redirect(url_for("author.analytics", course=course.slug, range=range_key))


@bp.get("/analytics.csv")
def analytics_csv():
    """Download one course's figures for one date range as CSV: the page's numbers, one row a question."""
    course = _chosen_course(analytics_courses(db.session))
    date_range = _chosen_range()
    if course is None:
        abort(404)
    report, _ = stored_report(course, date_range)
    if report is None:
        return render_error(404, NO_FIGURES_YET)
    header, rows = report_table(report)
    buffer = io.StringIO()
    # A byte-order mark first, as the counsellors' CSV has: without it Excel reads UTF-8 as the
    # local code page, and a curly quote or "Rösner" in a prompt or title comes out garbled.
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(header)
    # Text cells are neutralised (a prompt may start with "="); numbers stay numbers, minus signs included.
    writer.writerows([neutralise(cell) if isinstance(cell, str) else cell for cell in row] for row in rows)
    name = f"{course.slug}-analytics-{date_range.key}-{report.computed_at:%Y-%m-%d}.csv"
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
