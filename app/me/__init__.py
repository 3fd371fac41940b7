"""The learner's own area: /me/ (progress, sharing, who viewed, reminders) and /join/<code> (consent)."""

from flask import Blueprint

bp = Blueprint("me", __name__)

from app.me import reminders, routes  # noqa: E402,F401
