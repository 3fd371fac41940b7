"""Errors as the API answers them: ``application/problem+json`` (RFC 9457), for every status.

The site's error handlers (app/errors.py) ask ``is_api_request`` first and answer a request
under /api/ with ``problem_for``, so a 404 for an unknown API path, a 405, a 413 and a 429 from
the rate limiter come out in this shape as well as the API's own refusals, and the site's
pages keep their HTML error pages.

A problem has ``type`` (``about:blank``: the status says it all, RFC 9457 section 4.2.1),
``title`` (the status's phrase), ``status`` and ``detail``; a request that fails validation
adds ``errors``, one entry per message, located by a JSON Pointer into the body (``pointer``)
or by the name of a query or path parameter (``parameter``), as in the RFC's own example.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from flask import Response, current_app, has_request_context, request
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/"
PROBLEM_JSON = "application/problem+json"
VALIDATION_DETAIL = "The request has problems: see errors."
# Where webargs found what it validated -> the key of a problem's error entry.
_LOCATIONS = {"json": "pointer", "query": "parameter", "view_args": "parameter", "headers": "parameter"}
# A position in the course files' field names ("sources[2].url") counts from 1; a JSON Pointer from 0.
_POSITION = re.compile(r"\[(\d+)\]")


def is_api_request() -> bool:
    """Whether the current request is for the API, whose errors are problem documents."""
    return has_request_context() and request.path.startswith(API_PREFIX)


class ApiError(HTTPException):
    """A refusal raised by the API's own code: a status, a sentence, and perhaps errors and headers."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(description=detail)
        self.code = status
        self.errors = errors
        self.extra_headers = dict(headers or {})


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """A problem document for ``status``, with ``detail`` and validation ``errors`` when given."""
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in headers:
        response.headers[name] = value
    return response


def _walk(messages: Any, path: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], str]]:
    """(path, message) for every message in marshmallow's nested error dict."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(messages, list | tuple):
        for message in messages:
            yield from _walk(message, path)
    else:
        yield path, str(messages)


def pointer(parts: Iterable[str]) -> str:
    """A JSON Pointer (RFC 6901) in URI fragment form, "#/review/reviewed_on"."""
    return "#" + "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def validation_errors(messages: Mapping[str, Any]) -> list[dict[str, str]]:
    """webargs' messages (by location, then field) as a problem's ``errors``."""
    errors = []
    for location, fields in messages.items():
        key = _LOCATIONS.get(location, "parameter")
        for path, message in _walk(fields, ()):
            where = pointer(path) if key == "pointer" else ".".join(path)
            errors.append({key: where, "detail": message})
    return errors


def field_pointer(field: str, prefix: tuple[str, ...] = ()) -> str:
    """A course-file field name ("review.reviewed_on", "sources[2].url") as a JSON Pointer into the body."""
    parts = list(prefix)
    for part in field.split(".") if field else []:
        name, _, _ = part.partition("[")
        if name:
            parts.append(name)
        parts += [str(int(position) - 1) for position in _POSITION.findall(part)]
    return pointer(parts)


def problem_for(error: HTTPException) -> Response:
    """The problem document for an HTTP error raised while answering an API request."""
    status = error.code or 500
    if isinstance(error, ApiError):
        return problem_response(status, error.description, errors=error.errors, headers=error.extra_headers.items())
    data = getattr(error, "data", None) or {}
    if "messages" in data:  # webargs (through flask-smorest) refused the request's arguments
        return problem_response(status, VALIDATION_DETAIL, errors=validation_errors(data["messages"]))
    # Keep what the error says about itself (Allow on a 405, Retry-After), not its HTML.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    detail = error.description if status < 500 else "Something went wrong on our side. Please try again."
    return problem_response(status, detail, headers=headers)
