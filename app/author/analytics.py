"""Question analytics for admins (placeholder until built)."""

from flask import render_template

from app.author import bp


@bp.get("/analytics")
def analytics():
    """Show how each question and lesson performs."""
    return render_template("author/analytics.html")
