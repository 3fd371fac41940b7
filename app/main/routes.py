"""Views for the public pages."""

from flask import render_template
from flask_login import current_user

from app.extensions import db
from app.jobs.queue import huey
from app.learn.page_reads import outline_rows, reads_outline_with_user
from app.main import bp
from app.page_shells import signed_in_page
from app.services.health import database_reachable, queue_reachable
from app.services.progress import course_outline_by_slug


@bp.get("/")
@reads_outline_with_user()
def index():
    """Explain the course and offer Start or Continue."""
    learner = current_user if current_user.is_authenticated else None
    # Read with the user (app/learn/page_reads.py): then no query here.
    rows = outline_rows(None, with_attempts=False) if learner is not None else None
    outline = course_outline_by_slug(db.session, slug=None, learner=learner, rows=rows)
    if learner is None or outline is None:
        return render_template("main/index.html", course=outline.course if outline else None, outline=outline)
    # The same for every learner with these lessons' states but their name and form token.
    page = {"course": outline.course, "outline": outline}
    return signed_in_page(
        "main/index.html", page, content=outline.course, key=(outline.states, outline.has_started), parts={}
    )


@bp.get("/healthz")
def healthz():
    """Report whether the app can reach its database (else 503) and, unless jobs run inline, its job queue."""
    if not database_reachable(db.session):
        return {"status": "error", "database": "unreachable"}, 503
    report = {"status": "ok", "database": "ok"}
    queue = queue_reachable(huey)
    if queue is not None:
        report["queue"] = "ok" if queue else "unreachable"
        if not queue:  # pages still load, e-mails wait: not a reason to take this server out of service
            report["status"] = "degraded"
    return report
