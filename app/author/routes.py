"""Views for admins. The blueprint guard has already checked the role."""

from flask import render_template

from app.author import bp


@bp.get("/")
def index():
    """The admins' start page."""
    return render_template("author/index.html")
