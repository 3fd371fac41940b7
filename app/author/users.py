"""User administration for admins (placeholder until built)."""

from flask import render_template

from app.author import bp


@bp.get("/users")
def users():
    """List and search users."""
    return render_template("author/users.html")
