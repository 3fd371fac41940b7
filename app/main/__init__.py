"""Public pages: the landing page, the health check and the courses' images."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from app.main import media, routes  # noqa: E402,F401
