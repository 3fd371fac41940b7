"""The learner's own area: /me/ (progress, sharing, who viewed) and /join/<code> (consent)."""

from flask import Blueprint

bp = Blueprint("me", __name__)

from app.me import routes  # noqa: E402,F401
