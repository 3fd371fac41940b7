"""The learner's journey: course overview, lessons, quizzes, the review of mistakes and completion."""

from flask import Blueprint

bp = Blueprint("learn", __name__, url_prefix="/courses")

from app.learn.attempt_rows import attempt_rows  # noqa: E402

bp.add_app_template_global(attempt_rows)  # the attempt history's rows (learn pages and /me/)

from app.learn import review_routes, routes  # noqa: E402,F401
