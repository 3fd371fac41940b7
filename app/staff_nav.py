"""The staff's header link to the clinic's queue, with how many requests wait for someone to pick them up.

Only the clinic's staff (``can_counsel``) see the link, so only their pages count: a learner's
page runs no query for it. A staff page counts once (``contact_requests_waiting``: one indexed
count), or not at all when the page has counted already (the queue does, with its own figures:
``contact_requests_waiting_known``). A page kept as a shell (app/page_shells.py) has the link
as a hole for staff, filled per request, so a kept page never shows a count from when it was drawn.
"""

from __future__ import annotations

from flask import current_app, g
from markupsafe import Markup

from app.extensions import db
from app.services.contact_requests import contact_requests_waiting

PART = "_partials/contact_requests_nav.html"
# The name of the staff header's hole in a kept page (and of the part base.html draws in it).
HOLE = "contact_requests_nav"


def contact_requests_waiting_shown() -> int:
    """How many open requests nobody holds, counted once per request (for the staff header)."""
    if "contact_requests_waiting" not in g:
        g.contact_requests_waiting = contact_requests_waiting(db.session)
    return g.contact_requests_waiting


def contact_requests_waiting_known(waiting: int) -> None:
    """Give the header the count a page has already made, so it asks nothing more."""
    g.contact_requests_waiting = waiting


def contact_requests_nav() -> Markup:
    """The header's link to the queue, with the count, drawn for this request."""
    drawn = current_app.jinja_env.get_template(PART).render(waiting=contact_requests_waiting_shown())
    return Markup(drawn)  # noqa: S704  # nosec B704 - autoescaped
