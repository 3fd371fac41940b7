"""Flask's signed-cookie session, with each worker remembering the cookies it has already checked.

A signed-in browser sends the same session cookie on every request until the session changes.
Flask checks it afresh each time: it builds an itsdangerous serializer, derives the key, checks
the HMAC, then decodes the base64, zlib and JSON (about 0.09 ms, 5% of a lesson's CPU in issue
19's profile). Here a cookie that passed that check once is remembered with its values and the
time it was signed, the least recently used dropped past ``REMEMBERED_COOKIES``, and a request
sending the same cookie string again gets a new session holding a copy of those values.

What stays as Flask does it:

- Only a cookie that was checked with the current keys is remembered; a new key (or fallback
  keys) starts afresh. Any other cookie string is checked in full, as before.
- Flask's limit on a cookie's age (``PERMANENT_SESSION_LIFETIME``) is checked on every request,
  remembered or not, with the signing time the cookie carries: an old cookie is refused as
  itsdangerous refuses it (older than the limit, or signed in the future).
- Each request gets its own mutable session. Only sessions whose values are all immutable
  (strings, numbers, booleans, None) are remembered, so nothing a request changes in its session
  (a flashed message appended to a list) can reach another request's copy.
- Writing the cookie is Flask's own code; only a response that writes nothing skips working out
  the cookie's settings it would not use.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from contextlib import suppress

from flask import Flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

# Checked cookies remembered per worker (each a few hundred bytes), the least recently used dropped.
REMEMBERED_COOKIES = 4096

# The values a remembered session may hold: immutable, so a shallow copy is a full one.
_IMMUTABLE = (str, int, float, bool, type(None))


class _Checked:
    """The serializer for one set of signing keys, and the cookies it has checked: cookie -> (signed at, values)."""

    def __init__(self, keys: tuple, serializer: URLSafeTimedSerializer) -> None:
        self.keys = keys
        self.serializer = serializer
        self.cookies: OrderedDict[str, tuple[int, dict]] = OrderedDict()


class RememberingCookieSessionInterface(SecureCookieSessionInterface):
    """``SecureCookieSessionInterface`` checking each cookie string once per worker (see the module's docstring)."""

    def __init__(self) -> None:
        self._checked: _Checked | None = None

    def _for_keys(self, app: Flask) -> _Checked | None:
        """The serializer and remembered cookies of the app's current signing keys; None without a key."""
        if not app.secret_key:
            return None
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        checked = self._checked
        if checked is None or checked.keys != keys:
            serializer = super().get_signing_serializer(app)
            if serializer is None:
                return None
            checked = self._checked = _Checked(keys, serializer)
        return checked

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, built once per set of keys rather than on every request."""
        checked = self._for_keys(app)
        return None if checked is None else checked.serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The request's session, as Flask's would open it from the same cookie."""
        checked = self._for_keys(app)
        if checked is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        remembered = checked.cookies.get(cookie)
        if remembered is not None:
            signed_at, values = remembered
            age = int(time.time()) - signed_at  # as itsdangerous measures it
            if age > max_age or age < 0:
                return self.session_class()  # itsdangerous's SignatureExpired, which Flask treats as no session
            with suppress(KeyError):  # dropped by another thread meanwhile: the copy below is still good
                checked.cookies.move_to_end(cookie)
            return self.session_class(values)
        try:
            data, signed = checked.serializer.loads(cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(isinstance(value, _IMMUTABLE) for value in data.values()):
            checked.cookies[cookie] = (int(signed.timestamp()), dict(data))
            if len(checked.cookies) > REMEMBERED_COOKIES:
                with suppress(KeyError):  # another thread of a threaded server emptied it first
                    checked.cookies.popitem(last=False)
        return self.session_class(data)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Flask's, but a response that writes no cookie only adds ``Vary: Cookie`` when the session was read."""
        if session and not self.should_set_cookie(app, session):
            # What Flask's does in this case, without first working out every cookie setting.
            # (A subclass whose settings read the session marks it accessed there; the caller's
            # hooks have read it by then all the same, see app/lti's framing_headers.)
            if session.accessed:
                _vary_on_cookie(response)
            return
        super().save_session(app, session, response)


def _vary_on_cookie(response: Response) -> None:
    """``response.vary.add("Cookie")``, without werkzeug's parsing and rewriting of the header.

    Looking a missing header up in werkzeug's Headers raises and catches an exception (about
    4 us), and ``response.vary`` parses the header into a set and writes it back (about 11 us
    when Flask-Compress has already put ``Accept-Encoding`` there, as on every page): one pass
    over the few names, and a split of the value found, do the same.
    """
    headers = response.headers
    for name, value in headers:
        if name.lower() == "vary":  # the first, as response.vary reads it
            if "cookie" not in (part.strip().lower() for part in value.split(",")):
                headers["Vary"] = f"{value}, Cookie" if value.strip() else "Cookie"
            return
    headers.add("Vary", "Cookie")  # what vary.add writes when there is none
