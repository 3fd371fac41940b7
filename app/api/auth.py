"""Who is asking: a personal access token in ``Authorization: Bearer``, and nothing else.

The API never reads the session cookie (nor Flask-Login's current_user): a browser that is
signed in to the site gets no more from /api/ than a stranger. So no page can be made to call
the API with someone's cookie, and the API needs no CSRF token (the blueprints are exempt).

Statuses (RFC 6750): no token where one is needed, or a token that is unknown, revoked or of a
deactivated account, is 401 with ``WWW-Authenticate: Bearer``; a good token without the scope
the operation needs, or whose owner may no longer do what the scope allows, is 403 with
``error="insufficient_scope"``. Another person's data is the ordinary 404, as on the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from flask_limiter.util import get_remote_address

from app.api.problems import ApiError
from app.extensions import db
from app.models import ApiToken, User
from app.services.api_tokens import SCOPES, token_allows, token_authenticate, token_hash

F = TypeVar("F", bound=Callable[..., Any])
REALM = "api"
# The OpenAPI security scheme's name (app/api/__init__.py declares it).
SECURITY_SCHEME = "bearerToken"


def _bearer_credentials() -> str | None:
    """The token sent in the Authorization header; None without one; "" for a malformed header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _unauthorised(detail: str, error: str | None = "invalid_token") -> ApiError:
    challenge = f'Bearer realm="{REALM}"' + (f', error="{error}"' if error else "")
    return ApiError(401, detail, headers={"WWW-Authenticate": challenge})


def authenticate() -> None:
    """Before every API request: find the token's owner, or refuse a token that does not work.

    A request without an Authorization header goes on anonymously (public operations answer
    it; the others refuse it in ``require_scope``).
    """
    g.api_token = None
    credentials = _bearer_credentials()
    if credentials is None:
        return
    if not credentials:
        raise _unauthorised("Send the token as “Authorization: Bearer <token>”.", "invalid_request")
    token = token_authenticate(db.session, text=credentials)
    if token is None:
        raise _unauthorised("The token is not valid: it may have been revoked, or its account deactivated.")
    g.api_token = token


def current_token() -> ApiToken | None:
    """The request's token, set by ``authenticate``."""
    return g.get("api_token")


def request_token() -> ApiToken:
    """The request's token; only for views behind ``require_token`` or ``require_scope``."""
    token = current_token()
    if token is None:  # pragma: no cover - the decorators have refused the request already
        raise _unauthorised("This needs a token.", None)
    return token


def token_user() -> User:
    """The owner of the request's token; only for views behind ``require_token`` or ``require_scope``."""
    return request_token().user


def require_token(view: F) -> F:
    """Let the view run only for a request with a working token, whatever its scopes."""

    @wraps(view)
    def checked(*args, **kwargs):
        if current_token() is None:
            raise _unauthorised("This needs a token: send “Authorization: Bearer <token>”.", None)
        return view(*args, **kwargs)

    return checked  # type: ignore[return-value]


def require_scope(scope: str) -> Callable[[F], F]:
    """Let the view run only for a token with ``scope`` whose owner may still use it."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def checked(*args, **kwargs):
            token = current_token()
            if token is None:
                raise _unauthorised(f"This needs a token with the {scope} scope.", None)
            if not token_allows(token, scope):
                raise ApiError(
                    403,
                    f"This token cannot do this: it needs the {scope} scope, on an account allowed to use it.",
                    headers={
                        "WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
                    },
                )
            return view(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorator


def rate_limit_key() -> str:
    """Count API requests per token (the hash of what was sent), or per address without one."""
    credentials = _bearer_credentials()
    if credentials:
        return "api-token:" + token_hash(credentials)
    return "api-address:" + get_remote_address()
