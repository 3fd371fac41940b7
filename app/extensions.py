"""Extension objects, created unbound and bound to the app in create_app()."""

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, request
from flask.globals import request_ctx
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name, get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import DeclarativeBase, Session

from app.services.reads import reads_before_a_session

# Stable constraint names so Alembic can alter or drop them later, on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Database(SQLAlchemy):
    """Flask-SQLAlchemy's extension; it differs only in how a type checker sees ``session``."""

    if TYPE_CHECKING:
        # db.session is a scoped_session, which passes every call on to the current request's
        # Session and has all of its methods, so it is what the services' ``session: Session``
        # parameters take; Flask-SQLAlchemy types it as the proxy, which is no Session subclass.
        session: Session  # type: ignore[assignment]


# Sessions keep SQLAlchemy's default expire_on_commit=True, on purpose. Measured (issue 12) on
# the pages of tests/views/test_query_counts.py and every author page and form post: turning it
# off saved one query, on logging in; every other page ran the same number, because views
# already render before they commit (or redirect after it). Left on, a commit makes loaded
# objects read fresh, so code that commits and then reads again (a re-check, a count after a
# change) never trusts a value another request has changed since; off, each such place would
# need refresh() or populate_existing(), and forgetting one is a stale-data bug no test sees.
db = Database(model_class=Base)


def _the_only_engine() -> Engine | None:
    """The app's engine, when it has no other (no SQLALCHEMY_BINDS): every table is read from it."""
    engines = db.engines
    return engines.get(None) if len(engines) == 1 else None


# A read made before a request has started its ORM session then starts none (app/services/reads.py).
reads_before_a_session(db.session, _the_only_engine)  # type: ignore[arg-type] # db.session is the scoped_session
# The base class of every model. A type checker cannot use the attribute db.Model as a base
# class, so it is told the declarative base that db.Model is built from (same metadata).
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()


class _LoginManager(LoginManager):
    """Flask-Login's, with its session protection off, and not worked out on every request then.

    Its "basic" protection only marks a login not fresh when the address or browser changes,
    and no view here asks for a fresh login (there is no ``fresh_login_required``); "strong"
    would log out a phone that moves between networks. Logins are guarded by the app's own
    login sessions instead (app/services/user_sessions.py: ended by logging out, expiry,
    idleness, a new password, "log out everywhere"). Flask-Login hashes the address and browser
    before it looks at the mode, about 15 us of every signed-in page (issue 19): with the mode
    off, this skips the hash.
    """

    def _session_protection_failed(self) -> bool:
        if not current_app.config.get("SESSION_PROTECTION", self.session_protection):
            return False
        return super()._session_protection_failed()


login_manager = _LoginManager()
login_manager.session_protection = None  # see _LoginManager
csrf = CSRFProtect()
# Storage (memory, or Redis when REDIS_URL is set) comes from RATELIMIT_STORAGE_URI in config.
limiter = Limiter(key_func=get_remote_address)
# Flask-Limiter's own logger has only a NullHandler, so "Rate limit storage unreachable -
# falling back to in-memory storage" would go nowhere; log it with the app's messages instead.
limiter.logger = logging.getLogger("app.rate_limits")


def skip_rate_limit_checks_where_none_apply(app: Flask) -> None:
    """Run Flask-Limiter's before-request check only for endpoints that some limit covers.

    The check resolves every limit that could apply on every request (about 0.3 ms, 9% of a
    lesson request in issue 19's profile), though the app sets no default, application or
    meta limit: only some routes (logging in, registering, the API's blueprint...) have one.
    An endpoint is left out once Flask-Limiter itself has resolved no limit for it in the
    middleware; routes with their own ``@limiter.limit`` check it in their decorator anyway.
    Nothing is skipped while any app-wide limit (default, application, meta or in-memory
    fallback) is configured, since those cover every route.
    """
    check = limiter._check_request_limit
    functions = app.before_request_funcs.get(None, [])
    if check not in functions:
        return
    unlimited: set[str] = set()

    def check_rate_limits() -> None:
        endpoint = request.endpoint
        if endpoint in unlimited:
            return
        check()
        if endpoint is not None and _no_limit_covers(endpoint):
            unlimited.add(endpoint)

    functions[functions.index(check)] = check_rate_limits
    _skip_where_unused(
        app.after_request_funcs.get(None, []), "Limiter.__inject_headers", then=_retry_after_only_if_refused
    )
    _skip_where_unused(app.teardown_request_funcs.get(None, []), "Limiter.__release_context")


# Where Flask-Limiter keeps a request's state, made on the request context the first time it is used.
_LIMITER_STATE = "_limiter_request_context"


def _retry_after_only_if_refused(response: Any, retry_after_before: str | None) -> Any:
    """Take back the Retry-After that Flask-Limiter's header hook puts on every limited answer.

    The hook sets it to when the limit's window ends, on a 200 as on a 429, but the header
    means "ask again after this" (RFC 9110, 10.2.3): on an answer that was given it tells a
    client's retry logic to wait for nothing. It stays on a 429 and on an answer that had its
    own (the 503 of an unreachable database, app/errors.py).
    """
    if response.status_code != 429 and retry_after_before is None:
        response.headers.pop("Retry-After", None)
    return response


def _skip_where_unused(functions: list, name: str, *, then: Callable | None = None) -> None:
    """Replace Flask-Limiter's hook ``name`` in ``functions`` by one that returns at once when no limit was used.

    Its after-request hook adds the headers of the limits checked during the request (and
    counts the limits that deduct by response), its teardown resets that state: a request
    whose limits were never checked (the learner pages, above) has none, and each hook only
    looked for it (about 2% of a lesson request's CPU). A route's own ``@limiter.limit``
    makes the state, and its hooks then run as before. ``then(response, its Retry-After before
    the hook)`` mends the header hook's answer.
    """
    for index, function in enumerate(functions):
        hook = getattr(function, "func", function)  # the header hook is registered as a partial
        if getattr(hook, "__qualname__", "") != name:
            continue

        def skipping(*args: Any, _hook: Callable = function) -> Any:
            if not hasattr(request_ctx, _LIMITER_STATE):
                return args[0]  # the response, or the teardown's error (whose return Flask ignores)
            if then is None:
                return _hook(*args)
            before = args[0].headers.get("Retry-After")  # the header hook's only argument is the response
            return then(_hook(*args), before)

        functions[index] = skipping


def _no_limit_covers(endpoint: str) -> bool:
    """Whether Flask-Limiter's before-request check has nothing to count for ``endpoint``."""
    manager = limiter.limit_manager
    if limiter._meta_limits or limiter._in_memory_fallback or manager.application_limits or manager.default_limits:
        return False
    view = current_app.view_functions.get(endpoint)
    name = get_qualified_name(view) if view else ""
    marked = name in limiter._marked_for_limiting or manager.has_hints(endpoint)
    defaults, decorated = manager.resolve_limits(current_app, endpoint, request.blueprint, name, True, marked)
    return not defaults and not decorated
