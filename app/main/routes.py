"""Views for the public pages."""

from flask import render_template, request
from flask_login import current_user

from app.extensions import db
from app.jobs.queue import huey
from app.learn.page_reads import outline_rows, reads_outline_with_user
from app.main import bp
from app.page_shells import signed_in_page
from app.services.health import database_reachable, queue_state
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


LOOPBACK = frozenset({"127.0.0.1", "::1"})


@bp.get("/healthz")
def healthz():
    """The health report, never cached: it is the state now, and it differs by who asks."""
    report, status = _health()
    return report, status, {"Cache-Control": "no-store"}


def _health() -> tuple[dict[str, object], int]:
    """Report whether the app can reach its database (else 503) and, unless jobs run inline, its job queue.

    Only the database fails the check: with the queue down, or no job worker running, pages still
    load and e-mails wait, so a load balancer must keep this server. Those say "degraded", with a
    200, for a monitor to see: ``worker`` "not seen" when no worker beat in the last minutes, and,
    to a request from this machine only, ``jobs_waiting`` and ``worker_last_seen`` (app/jobs/heartbeat.py).
    """
    if not database_reachable(db.session):
        return {"status": "error", "database": "unreachable"}, 503
    report: dict[str, object] = {"status": "ok", "database": "ok"}
    queue = queue_state(huey)
    if queue is None:
        return report, 200
    if not queue.reachable:
        report.update(status="degraded", queue="unreachable")
        return report, 200
    report.update(queue="ok", worker="ok" if queue.worker_running else "not seen")
    # The counts are for the server's own monitor: to anyone else, how many e-mails wait tells how
    # busy the clinic's site is (registrations, resets), so they go only to this machine.
    if request.remote_addr in LOOPBACK:
        report.update(
            jobs_waiting=queue.waiting,
            worker_last_seen=queue.worker_seen.isoformat(timespec="seconds") if queue.worker_seen else None,
        )
    if queue.stalled:  # e-mails are not going out; pages are fine
        report["status"] = "degraded"
    return report, 200
