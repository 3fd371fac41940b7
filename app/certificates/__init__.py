"""Certificates: the public verification page, and the learner's own certificate actions.

``/certificates/<code>`` needs no login. The learner's actions (settings, PDF, revoke, a fresh
one) live under ``/courses/<course_slug>/certificate/...`` and act only on the signed-in
learner's own certificate, so another person's request finds nothing (404).
"""

from flask import Blueprint

bp = Blueprint("certificates", __name__)

from app.certificates import routes  # noqa: E402,F401
