"""A registered statement that writes, run on the driver's cursor in the session's transaction.

The quiz submission is the busiest write, and its one statement (the attempt, its answers and
the learner's review cards: app/services/attempt_insert.py) cost as much CPU in SQLAlchemy's
execution and result objects as in the driver (profiled on bench_1000: about 40% of the
statement's share of a submission was SQLAlchemy's Connection, execution context and result).
Here it is run as reads.py runs a ``Read``: compiled once per database, its parameters passed
through each type's bind processor and its columns through each type's result processor, on the
driver's cursor of the Connection the ORM session holds for its transaction. The transaction
is the session's: it commits or rolls back with it.

SQLAlchemy's own path is taken whenever the fast one would hide something: while the engine has
statement listeners (query counting, tracing) and for a statement whose parameters SQLAlchemy
renders at execution. A driver error is raised as SQLAlchemy raises it (``IntegrityError`` for
a unique key, ``DBAPIError`` otherwise), and a dropped connection is invalidated as SQLAlchemy
would, so callers catch the same exceptions either way.

A write that is one statement needs no transaction around it: PostgreSQL runs a statement
alone as its own transaction, all or nothing. ``write_alone`` runs such a write in autocommit
on a pooled connection, as reads.py runs a read: no BEGIN and no COMMIT to wait for (two round
trips of a quiz submission's three) and none of the ORM session's transaction. It is only for
a statement that is the request's whole write, and only while the session has nothing of its
own under way.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

from app.services.reads import (
    Read,
    ReadPlan,
    autocommit,
    converted_rows,
    has_statement_listeners,
    run_in_autocommit,
    session_is_idle,
)


class Write(Read):
    """A statement that writes (and may return rows), registered once at import for ``write_rows``.

    Build it with a named ``bindparam`` for each value that changes per call; a ``text()``
    statement says its result's columns with ``.columns(...)``.
    """


def write_rows(session: Session | scoped_session[Session], write: Write, params: dict) -> list[tuple]:
    """Run ``write`` with ``params`` in the session's transaction (begun if none is); its rows as tuples.

    The rows and the database's changes are those ``session.execute(write.statement, params)``
    gives. Like that call, it does not flush the session first.
    """
    own = session() if isinstance(session, scoped_session) else session
    connection = own.connection()  # the session's transaction, as session.execute would begin it
    dialect = connection.dialect
    plan = None if has_statement_listeners(connection.engine) else write.plan(dialect)
    if plan is None:
        return [tuple(row) for row in own.execute(write.statement, params)]
    parameters = plan.parameters(params)  # a missing parameter raises here, as SQLAlchemy's would
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is None:  # only after a detach or invalidation: SQLAlchemy's path says so
        return [tuple(row) for row in own.execute(write.statement, params)]
    return _run(write, plan, dialect, dbapi_connection, parameters, on_disconnect=connection.invalidate)


def write_alone(session: Session | scoped_session[Session], write: Write, params: dict) -> list[tuple] | None:
    """Run ``write`` as a transaction of its own (autocommit): committed, or undone whole, when it ends.

    For a statement that is all a request writes: its rows as tuples, as ``write_rows`` gives
    them. None, having run nothing, while the session has a transaction or unsaved changes of
    its own: the caller then writes in the session's transaction as usual. Errors are raised
    as ``write_rows`` raises them: after the database refused the statement nothing of it was
    saved; after a dropped connection whether it was is unknown, as for any commit.
    """
    own = session() if isinstance(session, scoped_session) else session
    engine = own.get_bind() if session_is_idle(own) else None
    if not isinstance(engine, Engine):  # busy, or bound to one Connection (no pool to borrow from)
        return None
    dialect = engine.dialect
    plan = None if has_statement_listeners(engine) else write.plan(dialect)
    if plan is None:
        return run_in_autocommit(engine, write.statement, params)
    parameters = plan.parameters(params)  # a missing parameter raises here, before any connection
    pooled = engine.raw_connection()
    try:
        dbapi_connection = pooled.dbapi_connection
        if dbapi_connection is None:  # only after a detach or invalidation, never fresh from the pool
            return run_in_autocommit(engine, write.statement, params)
        try:
            autocommit(dialect, dbapi_connection, on=True)
        except dialect.loaded_dbapi.Error:  # found closed before anything ran: SQLAlchemy's path, afresh
            pooled.invalidate()
            return run_in_autocommit(engine, write.statement, params)
        try:
            return _run(write, plan, dialect, dbapi_connection, parameters, on_disconnect=pooled.invalidate)
        finally:
            if pooled.dbapi_connection is not None:  # not discarded for a drop
                _out_of_autocommit(pooled, dialect)
    finally:
        pooled.close()


def _out_of_autocommit(pooled, dialect: Dialect) -> None:
    """Put a connection back as the pool handed it out (not in autocommit), or discard it if that fails."""
    try:
        autocommit(dialect, pooled.dbapi_connection, on=False)
    except Exception:  # noqa: BLE001 - never back to the pool in an unknown state
        pooled.invalidate()


def _run(
    write: Write, plan: ReadPlan, dialect: Dialect, dbapi_connection, parameters, *, on_disconnect: Callable
) -> list[tuple]:
    """Execute a Write's plan on a driver connection; its rows converted, driver errors raised as SQLAlchemy's."""
    cursor = None
    rows: list = []
    conversions: tuple[tuple[int, Callable], ...] = ()
    try:
        cursor = plan.execute(dbapi_connection, parameters)
        if write.statement.selected_columns:  # a statement without .columns(...) returns no rows
            rows = cursor.fetchall()
            conversions = write.conversions(plan, dialect, cursor)
    except dialect.loaded_dbapi.Error as error:
        dropped = dialect.is_disconnect(error, dbapi_connection, cursor)
        if dropped:
            on_disconnect(error)
        raise DBAPIError.instance(
            plan.compiled.string,
            parameters,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=dropped,
            dialect=dialect,
        ) from error
    finally:
        if cursor is not None:
            with suppress(dialect.loaded_dbapi.Error):  # a dropped connection's cursor: reported above
                cursor.close()
    return converted_rows(rows, conversions)
