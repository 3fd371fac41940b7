"""Absolute links for e-mails, built from the configured PUBLIC_URL and never from the request.

A link built from the request's Host (``url_for(..., _external=True)``) lets anyone who sends a
forged Host or X-Forwarded-Host have a victim mailed a real reset or invitation link to their own
site. Every absolute URL goes through ``external_url`` instead, and requests for a Host other
than the configured ones (TRUSTED_HOSTS) are refused.

A ``next`` path from a request is checked with ``safe_next`` before it is followed or put in a
link, so no link of ours sends anyone off the site.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import SecurityError


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` on the public site (PUBLIC_URL + the route's path).

    Works with or without a request: mail is written by jobs, which have only an app context.
    """
    current_app.inject_url_defaults(endpoint, values)
    # Routed by the URL map alone, so nothing of a request (its Host, its script root) can slip in.
    return current_app.config["PUBLIC_URL"].rstrip("/") + current_app.url_map.bind("").build(endpoint, values)


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return None
    return target


def register(app: Flask) -> None:
    """Answer requests for an unknown Host with a plain 400, before anything else runs."""

    def refuse_unknown_host() -> Response | None:
        # Flask has refused the Host already (TRUSTED_HOSTS), but only when it routes, after
        # the other hooks; and with no URL adapter the usual error page cannot be drawn.
        if isinstance(request.routing_exception, SecurityError):
            return Response("Unknown host.\n", status=400, mimetype="text/plain")
        return None

    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unknown_host)
