"""Views for the public pages."""

from flask import current_app, render_template
from flask_login import current_user
from sqlalchemy import text

from app.extensions import db
from app.main import bp
from app.services.progress import course_outline_by_slug


@bp.get("/")
def index():
    """Explain the course and offer Start or Continue."""
    learner = current_user if current_user.is_authenticated else None
    outline = course_outline_by_slug(db.session, slug=None, learner=learner)
    return render_template("main/index.html", course=outline.course if outline else None, outline=outline)


@bp.get("/healthz")
def healthz():
    """Report whether the app can reach its database."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        current_app.logger.exception("Health check failed")
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
