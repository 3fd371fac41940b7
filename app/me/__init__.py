"""The learner's own area: /me/ (progress, sharing, who viewed, reminders, API tokens, password, e-mail, name)
and /join/<code> (consent)."""

from flask import Blueprint

bp = Blueprint("me", __name__)

from app.me import account, reminders, routes, tokens  # noqa: E402,F401
