"""What every API view shares: documenting an operation, the course it names, pages of a list,
and the ETags of what it answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from flask import jsonify, request
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import ETags

from app.api.auth import SECURITY_SCHEME, require_scope, require_token
from app.api.problems import ApiError
from app.extensions import db
from app.models import Course
from app.services.default_course import course_or_default
from app.urls import external_url

F = TypeVar("F", bound=Callable[..., Any])
NO_SUCH_COURSE = "There is no such course."


class _QueryAsSchemasSay(FlaskParser):
    """webargs' parser, but a query string's unknown parameters are as its schema's ``Meta.unknown`` says.

    webargs ignores them whatever a schema says (its default for the location wins over
    ``Meta.unknown``), so ``?sotr=name`` was answered as if unasked, and the typo was copied into
    the page links. Every other location keeps webargs' default: a headers schema, say, must
    still ignore the headers it does not name.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}


class ApiBlueprint(Blueprint):
    """flask-smorest's Blueprint whose query schemas refuse (422) the parameters they do not name."""

    ARGUMENTS_PARSER = _QueryAsSchemasSay()


class NoQuerySchema(Schema):
    """An operation that takes no query parameters: any is refused (422), as a typo would
    otherwise be answered as if unasked."""

    class Meta:
        unknown = RAISE


def no_query(blp: Blueprint) -> Callable[[F], F]:
    """Refuse (422, naming each) any query parameter sent to an operation that takes none.

    Put it under ``scoped`` or ``signed_in``, as the other arguments: the token is checked first.
    The view is given no argument for it.
    """
    return blp.arguments(NoQuerySchema, location="query", as_kwargs=True)


class _Paged(Protocol):
    @property
    def pages(self) -> int: ...


P = TypeVar("P", bound=_Paged)


def last_page(page: Callable[[int], P | None]) -> P:
    """The last page of a list that ``page`` reads a page of (None past the last; page 1 always
    exists): what a list answers for a page asked past its end. Two reads: page 1 says how many."""
    first = page(1)
    assert first is not None, "page 1 always exists"
    # An item erased meanwhile (an account deleted) could empty the last page: then page 1.
    return (page(first.pages) if first.pages > 1 else None) or first


def scoped(blp: Blueprint, scope: str) -> Callable[[F], F]:
    """Require ``scope`` of the request's token, and say so in the OpenAPI description.

    Put it just under ``blp.route``: the token is checked before the request's arguments, so
    nobody without the right token learns which arguments would have been accepted.
    """

    def decorator(view: F) -> F:
        view = require_scope(scope)(view)
        return blp.doc(security=[{SECURITY_SCHEME: [scope]}], **{"x-required-scope": scope})(view)

    return decorator


def signed_in(blp: Blueprint) -> Callable[[F], F]:
    """Require a working token, whatever its scopes, and say so in the OpenAPI description."""

    def decorator(view: F) -> F:
        view = require_token(view)
        return blp.doc(security=[{SECURITY_SCHEME: []}])(view)

    return decorator


def body_etag(schema: Schema, data: Any) -> str:
    """The ETag a read answering ``data`` with ``schema`` sends: the digest ``conditional_read``
    takes of the body, written as flask-smorest writes it (the schema's dump, as Flask's JSON)."""
    response = jsonify(schema.dump(data))
    response.add_etag()
    return response.get_etag()[0] or ""


def names_etag(tags: ETags, etag: str) -> bool:
    """Whether If-None-Match's or If-Match's ``tags`` name ``etag`` (strong comparison: a weak tag never does).

    Flask-Compress, which runs after ``conditional_read``, sends a compressed body's ETag as
    "<etag>:gzip" (the strong validator of that encoding), so a client that got the gzipped
    body sends that back: it names the same data, and matches too. "*" is the caller's to judge.
    """
    # A tag werkzeug cannot read (If-None-Match: "") comes back as None: it names nothing.
    return any(tag and (tag == etag or tag.startswith(f"{etag}:")) for tag in tags.as_set())


def course_named(slug: str | None) -> Course:
    """The course ``slug`` names (the first course when None), or a 404 problem."""
    course = course_or_default(db.session, slug)
    if course is None:
        raise ApiError(404, NO_SUCH_COURSE)
    return course


def page_links(page: int, pages: int) -> dict[str, str]:
    """Absolute links to this list's self, first, last, previous and next pages, keeping its query."""
    # The path's own values win over the query's: a query parameter named like one (or "endpoint")
    # must never change where the links point, or reach the URL builder as a path value it cannot take.
    path = request.view_args or {}
    args = {name: value for name, value in request.args.items() if name not in path and name != "endpoint"}
    values = {**args, **path}
    endpoint = request.endpoint or ""

    def to(number: int) -> str:
        return external_url(endpoint, **{**values, "page": number})

    links = {"self": to(page), "first": to(1), "last": to(pages)}
    if page > 1:
        links["prev"] = to(min(page - 1, pages))
    if page < pages:
        links["next"] = to(page + 1)
    return links


def link_header(links: dict[str, str]) -> str:
    """The same links as an RFC 8288 Link header."""
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if rel != "self")
