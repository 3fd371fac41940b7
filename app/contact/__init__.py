"""Asking the clinic to contact you: /contact (anyone, with or without an account) and the
person's own withdrawal from /me/. The clinic's side is app/counsel/requests.py."""

from flask import Blueprint

bp = Blueprint("contact", __name__)

from app.contact import routes  # noqa: E402,F401
