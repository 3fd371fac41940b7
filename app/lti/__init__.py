"""The LTI 1.3 tool: /lti/login, /lti/launch, /lti/jwks, deep linking, and framing by the platform.

A launch inside the LMS's iframe is a third-party context: the browser sends a cookie there only
if it is ``SameSite=None; Secure``. So the state cookie of the login always is, and the session
cookie becomes so after a launch, unless the platform said it opened a new window
(``launch_presentation.document_target`` "window"), which keeps the site's ``SameSite=Lax``.
The pages of a framed session allow the launching platform, and only it, as a frame ancestor
(CSP ``frame-ancestors``). A refused login or launch allows any site: the LMS shows the refusal in
its frame, and the check that failed may be the one that would have said which LMS it is; that
page has nothing to click (no navigation, no form). Every other page keeps
``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, session

from app.framed_session import FRAME_KEY
from app.security import CONTENT_SECURITY_POLICY
from app.session_cookie import RememberingCookieSessionInterface

bp = Blueprint("lti", __name__, url_prefix="/lti")

# Set on flask.g by a page that any site may frame (allow_framing_by_any_site).
FRAMED_BY_ANY = "lti_framed_by_any"


def allow_framing_by_any_site() -> None:
    """Let any site frame this request's response: only for a page with nothing to click."""
    setattr(g, FRAMED_BY_ANY, True)


class LtiSessionInterface(RememberingCookieSessionInterface):
    """Flask's signed-cookie session, made ``SameSite=None; Secure`` for a session framed by an LMS.

    The cookie settings below read the session, which marks it accessed (``Vary: Cookie``);
    ``framing_headers`` reads it on every response before the session is saved, so that header
    is the same when no cookie is written and these are not called.
    """

    def get_cookie_samesite(self, app: Flask) -> str | None:
        """``None`` (sent in the LMS's iframe) for a framed session, else the site's setting."""
        if session.get(FRAME_KEY):
            return "None"
        return super().get_cookie_samesite(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Browsers take ``SameSite=None`` only with ``Secure``."""
        return bool(session.get(FRAME_KEY)) or super().get_cookie_secure(app)


def framing_headers(response: Response) -> Response:
    """Let the launching platform frame the pages of its session, and any site a page with nothing
    to click; nobody frames anything else. Only ``frame-ancestors`` changes: the rest of the
    policy stays as strict."""
    origin = session.get(FRAME_KEY)  # read on every response: see LtiSessionInterface
    if g.get(FRAMED_BY_ANY):
        origin = "*"
    if origin:
        policy = response.headers.get("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["Content-Security-Policy"] = policy.replace(
            "frame-ancestors 'none'", f"frame-ancestors {origin}"
        )
        response.headers.pop("X-Frame-Options", None)
    return response


def init_app(app: Flask) -> None:
    """Register the LTI pages, the session cookie rule and the framing headers.

    Call before app.security.register: after_request functions run last-registered first, so the
    framing headers then replace the ones security sets by default.
    """
    app.session_interface = LtiSessionInterface()
    app.after_request(framing_headers)
    app.register_blueprint(bp)


from app.lti import routes  # noqa: E402,F401
