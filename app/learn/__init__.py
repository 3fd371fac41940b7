"""The learner's journey: course overview, lessons, quizzes, the review of mistakes and completion."""

from flask import Blueprint

bp = Blueprint("learn", __name__, url_prefix="/courses")

from app.learn import review_routes, routes  # noqa: E402,F401
