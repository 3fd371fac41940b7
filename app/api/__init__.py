"""The JSON API, /api/v1: the published outline, a learner's own progress, a counsellor's clients,
and for admins the analytics and the course draft. Described by /api/v1/openapi.json, shown at
/api/v1/docs.

Built with flask-smorest: each view declares its arguments and responses as marshmallow schemas
(app/api/schemas.py), which validate the request and make the OpenAPI description. The views
are thin, like the pages': they call the same services, under the same permission rules
(app/permissions.py, through the token's scopes in app/services/api_tokens.py, and
``visible_learner_ids`` for clients). Tokens only, never the session cookie (app/api/auth.py);
every error is a problem document (app/api/problems.py); every successful read has an ETag and
answers If-None-Match with 304, and the draft's changes honour If-Match with 412 (app/api/authoring.py);
lists come a page at a time with links to the others.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from apispec import BasePlugin
from flask import Flask, Response, current_app, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from app.api import authoring, clients, courses, me
from app.api.auth import REALM, SECURITY_SCHEME, authenticate, rate_limit_key
from app.api.common import names_etag
from app.api.docs import bp as docs_bp
from app.api.problems import PROBLEM_JSON, ApiError
from app.api.schemas import ProblemSchema
from app.extensions import csrf, limiter
from app.parsing import ID_MAX, IdConverter
from app.services.api_tokens import SCOPES, TOKEN_PREFIX

BLUEPRINTS = (courses.blp, me.blp, clients.blp, authoring.blp)
# Statuses every operation may answer: input no database can take (a NUL), a token that does not
# work (even where none is needed), an unsupported method, the rate limit, and the database down.
EVERY_OPERATION = {
    "400": "BAD_REQUEST",
    "401": "UNAUTHORIZED",
    "405": "METHOD_NOT_ALLOWED",
    "429": "TOO_MANY_REQUESTS",
    "503": "SERVICE_UNAVAILABLE",
}
# And those that take a JSON body: too large, or not JSON.
WITH_A_BODY = {"413": "REQUEST_ENTITY_TOO_LARGE", "415": "UNSUPPORTED_MEDIA_TYPE"}
IF_MATCH = {
    "name": "If-Match",
    "required": False,
    "description": "The ETag you read, or `*`. The change is made only if it still matches: otherwise "
    "412 Precondition Failed, and nothing is changed. Without it the change is made whatever changed meanwhile.",
    "schema": {"type": "string"},
}
DESCRIPTION = f"""\
Read a course's outline, your own progress, your clients' progress with their consent, and the
analytics; change the course draft and publish it. Each operation uses the same rules as the
site's pages.

**Tokens.** Make a personal access token on your page (/me/tokens) with the scopes you need, and
send it as `Authorization: Bearer {TOKEN_PREFIX}...`. Cookies are not accepted. The course outline
needs no token.

**Errors** are `{PROBLEM_JSON}` (RFC 9457); a refused request body or query lists each problem
in `errors`, at a JSON Pointer into the body (`pointer`) or by parameter name (`parameter`).

**Reads** send an `ETag`; send it back in `If-None-Match` to get `304 Not Modified` when nothing
changed. **Lists** come a page at a time, with links to the other pages in `links` and in the
`Link` header. Requests are limited per token (429 with `Retry-After` beyond it).

**Changes to the draft** take the draft's `ETag` (from `GET /api/v1/courses/{{course_slug}}/draft`,
or from your last change's answer, which has the new one) in `If-Match`: if the draft has changed
since you read it, the change is refused with `412 Precondition Failed` and nothing is changed, so
you never overwrite someone else's edit; read it again and make your change to that. Without
`If-Match` a change is made whatever changed meanwhile.
"""


class ApiConventions(BasePlugin):
    """Adds to every operation what they all share: the errors any of them can answer, the
    scope errors of those that need a token, ETag, If-None-Match and 304 on reads, ETag on the
    200 of a PATCH, and If-Match on those that may answer 412 (the draft's changes, app/api/authoring.py)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            for status, name in EVERY_OPERATION.items():
                responses.setdefault(status, name)
            if any(scopes for requirement in operation.get("security", []) for scopes in requirement.values()):
                responses.setdefault("403", "FORBIDDEN")
            names_something = "{" in (path or "") or any(
                isinstance(p, dict) and p.get("name") == "course" for p in operation.get("parameters", [])
            )
            if names_something:  # a course, lesson or client that may not be there (or not yours)
                responses.setdefault("404", "NOT_FOUND")
            if "requestBody" in operation:
                for status, name in WITH_A_BODY.items():
                    responses.setdefault(status, name)
            if method == "get":
                operation.setdefault("parameters", []).append("IF_NONE_MATCH")
                responses.setdefault("304", "NOT_MODIFIED")
            if "412" in responses or 412 in responses:  # a change made only if what was read is unchanged
                operation.setdefault("parameters", []).append("IF_MATCH")
            ok = responses.get(200, responses.get("200"))  # flask-smorest's own keys are still numbers here
            if method in ("get", "patch") and isinstance(ok, dict):  # conditional_read's ETag
                ok.setdefault("headers", {})["ETag"] = "ETAG"


class PlatformApi(Api):
    """flask-smorest's Api, answering errors the platform's way.

    The site's error handlers (app/errors.py) already answer every error, and answer those of
    /api/ requests as problem documents, so flask-smorest's own handler (JSON in its own shape,
    for the whole app, pages included) is not registered; nor is its catch-all "default"
    response, since every status an operation can answer is listed.

    The description is written when it is first read, not as the app starts: flask-smorest
    describes each blueprint as it registers it, most of the time a new app takes (about 14 of
    25 ms), and a worker may never be asked for it. The routes are registered at once, as
    before. Once ``ready`` is called (when the app is set up), reading ``spec`` (the docs page,
    ``flask openapi print``) first writes what is still undescribed, once, whichever thread asks.
    """

    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._undescribed: list[Callable[[], None]] = []  # before super(): its init_app queues the responses
        self._ready = False
        self._describing = threading.RLock()
        self._describer: int | None = None  # the thread writing the description, which reads spec as it goes
        self._spec: Any = None
        super().__init__(*args, **kwargs)

    @property
    def spec(self) -> Any:
        """The APISpec, with every registered blueprint described once the app is ``ready``."""
        if self._undescribed and self._ready and self._describer != threading.get_ident():
            with self._describing:  # two threads of a worker asking at once describe it once
                self._describer = threading.get_ident()
                try:
                    while self._undescribed:
                        self._undescribed.pop(0)()
                finally:
                    self._describer = None
        return self._spec

    @spec.setter
    def spec(self, value: Any) -> None:  # flask-smorest sets it in init_app
        self._spec = value

    def ready(self) -> None:
        """Everything is registered: reading ``spec`` from now on writes the description first."""
        self._ready = True

    def _register_error_handlers(self):
        return None

    def _register_responses(self):
        self._undescribed.append(self._describe_responses)

    def register_blueprint(self, blp, *, parameters=None, **options):
        """Register the blueprint's routes now and describe its operations later (flask-smorest's
        ``register_blueprint`` split in two: the same steps, in the same order)."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undescribed.append(functools.partial(self._describe_blueprint, blp, name, parameters))

    def _describe_blueprint(self, blp, name: str, parameters) -> None:
        blp.register_views_in_doc(self, self._app, self.spec, name=name, parameters=parameters)
        self.spec.tag({"name": name, "description": blp.description})

    def _describe_responses(self):
        """Every error status as a problem document; 304 with its ETag."""
        for status in HTTPStatus:
            if status < 400:
                continue
            response: dict[str, Any] = {"description": status.phrase, "schema": ProblemSchema}
            if status == HTTPStatus.UNAUTHORIZED:
                response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
            if status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE):
                response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            "NOT_MODIFIED", {"description": "Not Modified: the ETag sent still matches", "headers": {"ETag": "ETAG"}}
        )
        # flask-smorest's own IF_MATCH (registered lazily, unused until now) says the header is
        # required; here it is not: without it a change is made as before, whatever changed meanwhile.
        self.spec.components.parameter("IF_MATCH", "header", IF_MATCH, lazy=True)


def _idconverter2paramschema(converter: IdConverter) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": ID_MAX}


# No change the API takes is nested more than a few levels (a draft's lesson: front, quiz, a
# question, its choices, one choice); far deeper is no course, and only costs the checks.
DEEPEST_BODY = 32
TOO_DEEP = f"The JSON is nested too deeply: at most {DEEPEST_BODY} levels of objects and lists."


def check_the_body() -> None:
    """A change must come as a JSON body (415 otherwise, 400 when empty), and hold only storable text.

    A NUL or a lone surrogate in a string is refused (400): no database can store either in text.
    """
    if request.method not in ("POST", "PUT", "PATCH") or request.url_rule is None:
        return
    documented = getattr(current_app.view_functions.get(request.endpoint or ""), "_apidoc", {})
    if not any(argument["in"] == "json" for argument in documented.get("arguments", {}).get("parameters", [])):
        return
    if not request.is_json:
        raise ApiError(415, "Send the change as JSON, with “Content-Type: application/json”.")
    if not request.content_length and not request.get_data():
        raise ApiError(400, "Send a JSON object with the fields to change.")
    try:
        body = request.get_json(silent=True)  # None for a body that is not JSON: the view's arguments say so
    except RecursionError:  # the parser gives up on thousands of nested brackets; silent= covers only ValueError
        raise ApiError(400, TOO_DEEP) from None
    # Looked through without recursion, so no depth of nesting the parser takes can overflow the stack.
    waiting: list[tuple[Any, int]] = [(body, 0)]
    while waiting:
        value, depth = waiting.pop()
        if isinstance(value, str):
            if "\x00" in value or _has_surrogate(value):
                raise ApiError(400, "Text in the request may not contain NUL characters or unpaired surrogates.")
        elif isinstance(value, dict | list):
            if depth >= DEEPEST_BODY:
                raise ApiError(400, TOO_DEEP)
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            waiting.extend((item, depth + 1) for item in items)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def conditional_read(response: Response) -> Response:
    """Give a successful read its ETag, and answer an If-None-Match that names it with 304.

    A successful PATCH answers with the new state of what it changed (the draft's, as a read of
    it would), so it gets that ETag too: the client's next If-Match. A tag Flask-Compress gave a
    gzipped body ("<etag>:gzip") matches as well (``names_etag``).
    """
    if request.method in ("GET", "HEAD", "PATCH") and response.status_code == 200 and response.is_json:
        response.add_etag()
    if request.method in ("GET", "HEAD") and response.status_code == 200 and response.is_json:
        etag = response.get_etag()[0] or ""  # add_etag has just set it
        held = request.if_none_match
        if held.star_tag or names_etag(held, etag):
            not_modified = current_app.response_class(status=304)
            not_modified.set_etag(etag)
            for name in ("Cache-Control", "Vary"):
                if name in response.headers:
                    not_modified.headers[name] = response.headers[name]
            response = not_modified
    if response.is_json or response.mimetype == PROBLEM_JSON:
        # Data, never a page: nothing in it may run or be framed (the docs page keeps the site's policy).
        response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
    return response


for _blueprint in BLUEPRINTS:
    _blueprint.before_request(authenticate)
    _blueprint.before_request(check_the_body)
    _blueprint.after_request(conditional_read)
    # Tokens in a header, never cookies: there is no cross-site request to forge.
    csrf.exempt(_blueprint)
    # One budget per token (per address without one), shared by every operation.
    limiter.limit(lambda: current_app.config["RATELIMIT_API"], key_func=rate_limit_key)(_blueprint)


def init_app(app: Flask) -> None:
    """Register the API's blueprints, its description and its docs page."""
    api = PlatformApi(
        spec_kwargs={
            "title": "How Naltrexone Works API",
            "version": "1",
            "openapi_version": "3.1.0",
            "info": {"description": DESCRIPTION},
            "extra_plugins": [ApiConventions()],
        }
    )
    # No doc blueprint of flask-smorest's (its UIs load from a CDN): app/api/docs.py serves both.
    app.config.setdefault("OPENAPI_URL_PREFIX", None)
    api.init_app(app)
    api.register_converter(IdConverter, _idconverter2paramschema)
    api.spec.components.security_scheme(
        SECURITY_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": f"A personal access token from /me/tokens ({TOKEN_PREFIX}...), realm {REALM!r}; "
            + "scopes: "
            + "; ".join(f"{scope.name}: {scope.label}" for scope in SCOPES.values()),
        },
    )
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    api.ready()
    app.register_blueprint(docs_bp)
