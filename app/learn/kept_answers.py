"""The name a learner's ticks on a quiz or review are kept under in their browser tab.

static/js/keep-answers.js keeps the choices ticked on a quiz or review in the tab's
sessionStorage until their result is shown, so a form that could not be sent (its learner was
logged out meanwhile, in another tab or by a password change elsewhere) comes back ticked once
they log in again, instead of blank. It keeps them under this name, given in the form's
``data-keep-answers``: a keyed hash of the learner's id, so that another account logged in to
the same tab later finds none of them, and the page shows no id. Logging out in the tab lets
them go anyway (static/js/log-out.js).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from markupsafe import Markup

# A different key for each use of the secret: this hash can never stand in for another one.
_PURPOSE = b"kept-answers:"


def kept_answers_owner(user_id: int) -> Markup:
    """The name ``user_id``'s kept answers go under in their browser tab, ready for an attribute
    (hex digits: nothing to escape)."""
    secret = current_app.config["SECRET_KEY"]
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, _PURPOSE + str(user_id).encode(), hashlib.sha256).hexdigest()
    return Markup(digest[:32])  # noqa: S704  # nosec B704 - hex digits only
