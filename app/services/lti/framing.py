"""The platform origins a launch lets frame its pages, or post its picker's answer to, as
Content-Security-Policy sources.

Apart because it is the one place an address a platform sends becomes part of a security header:
what may pass is decided here alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from app.models import LtiPlatform
from app.services.lti.claims import CLAIM
from app.services.lti.platforms import address_accepted

# A host (a name, or an IPv6 address in brackets) and optional port as a CSP source may name them:
# nothing that could end the source or widen it (a space, a ";", a "*").
_CSP_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def csp_origin(url: object, *, loopback_http: bool) -> str | None:
    """The origin of ``url`` as a Content-Security-Policy source (``frame-ancestors``,
    ``form-action``), or None when it is not an address this site accepts from a platform
    (``address_accepted``: https, or http on loopback where allowed) of a plain host and port."""
    if not isinstance(url, str) or not address_accepted(url, loopback_http=loopback_http):
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}" if _CSP_HOST.fullmatch(parts.netloc) else None


def frame_origins(platform: LtiPlatform, claims: Mapping[str, Any], *, loopback_http: bool) -> tuple[str, ...]:
    """The origins that may frame this launch's session: the login URL's, and the ones the signed
    launch names for its own pages (``launch_presentation.return_url``, ``tool_platform.url``).

    An LMS may log in on one host and show its courses on another: Canvas Cloud's login is on
    sso.canvaslms.com while its courses are on the school's instructure.com host, so the login's
    origin alone would leave every framed page refused by the browser. Each is taken only as
    ``csp_origin`` takes it.
    """
    tool_platform = claims.get(CLAIM + "tool_platform")  # not read elsewhere, so not type-checked before
    named = [
        platform.auth_login_url,
        (claims.get(CLAIM + "launch_presentation") or {}).get("return_url"),
        tool_platform.get("url") if isinstance(tool_platform, dict) else None,
    ]
    origins = (csp_origin(url, loopback_http=loopback_http) for url in named)
    return tuple(dict.fromkeys(origin for origin in origins if origin))
