"""The learner's journey: course overview, lessons, quizzes and completion."""

from flask import Blueprint

bp = Blueprint("learn", __name__, url_prefix="/courses")

from app.learn import routes  # noqa: E402,F401
