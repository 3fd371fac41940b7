"""A session an LMS framed (app/lti): the one key that says so, and clearing a session without
losing it.

Logging out and deleting the account clear the session, so that nothing of the account stays in
the cookie. Cleared with it, the LMS's framing went too: the page they go to next was refused its
frame, and the LMS showed the browser's error instead of "You have logged out". Kept here, apart
from app/lti (whose pages import the log-in code), so that the log-out code can use it.
"""

from __future__ import annotations

from flask import session

# The session key a launch sets: the origins that may frame the session's pages (a CSP source list).
FRAME_KEY = "lti_frame_origin"


def clear_session_keeping_frame() -> bool:
    """Clear the session but for the LMS's framing; return whether an LMS framed it."""
    origins = session.get(FRAME_KEY)
    session.clear()
    if origins:
        session[FRAME_KEY] = origins
    return bool(origins)
