"""Reads outside the session's transaction, for the busiest pages.

Every learner page reads the signed-in user, then the course version with the learner's
progress. Through the ORM session each such read costs three round trips to PostgreSQL
(BEGIN, the query, and a ROLLBACK when the request ends) and SQLAlchemy's per-statement
work; profiled under load that was over half of a lesson request (bench/PLANS.md). Here a
read is one round trip on a pooled connection in autocommit, with SQL compiled once.

The rule that keeps this safe: a read goes outside only while the session has neither a
database transaction nor unsaved changes, so it can never miss what the request has written.
This is for PostgreSQL through psycopg 3. SQLite (the embedded default, and half the test
runs) always reads through the session: an in-process database has no round trips to save.

Statements passed here are built once, at import, with a named ``bindparam`` for each value
that changes per call; the SQL text is compiled once per engine and reused.
"""

from __future__ import annotations

from datetime import datetime
from weakref import WeakKeyDictionary

from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.sql import Executable

from app.models.types import as_utc

_compiled: WeakKeyDictionary[Engine, dict[int, tuple[Executable, str, dict]]] = WeakKeyDictionary()
_USING_DATABASE = "reads.using_database"


def _sql(engine: Engine, statement: Executable) -> tuple[str, dict]:
    """The statement's SQL for this engine, compiled on first use, with its literal values."""
    by_statement = _compiled.setdefault(engine, {})
    entry = by_statement.get(id(statement))
    if entry is None or entry[0] is not statement:
        compiled = statement.compile(dialect=engine.dialect)
        entry = by_statement[id(statement)] = (statement, str(compiled), dict(compiled.params))
    return entry[1], entry[2]


@event.listens_for(Session, "after_begin")
def _note_database_transaction(session: Session, transaction, connection) -> None:
    session.info[_USING_DATABASE] = True


@event.listens_for(Session, "after_transaction_end")
def _note_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_USING_DATABASE, None)


def _session_is_idle(session: Session) -> bool:
    """True when the session holds no database transaction and no unsaved change."""
    return not session.info.get(_USING_DATABASE) and not (session.new or session.dirty or session.deleted)


def _utc(value):
    return as_utc(value) if isinstance(value, datetime) else value


def read_rows(session: Session | scoped_session, statement: Executable, params: dict) -> list[tuple]:
    """Run a prebuilt read-only statement with ``params``; return its rows as tuples.

    Outside any transaction when that is safe (see above), otherwise through the session.
    Timestamps come back as aware UTC datetimes either way, as UTCDateTime columns give them.
    """
    if isinstance(session, scoped_session):
        session = session()  # the request's own session
    engine = session.get_bind()
    # Tools that time statements (after_cursor_execute: query recording, tracing) need the
    # Connection and context this path does not have: they get the ordinary one.
    if engine.dialect.driver != "psycopg" or engine.dispatch.after_cursor_execute or not _session_is_idle(session):
        return [tuple(row) for row in session.execute(statement, params)]
    sql, literals = _sql(engine, statement)
    rows = _run_outside(engine, sql, {**literals, **params})
    return [tuple(_utc(value) for value in row) for row in rows]


def _run_outside(engine: Engine, sql: str, params: dict) -> list[tuple]:
    """Run SQL on a pooled psycopg connection switched to autocommit for the one statement.

    psycopg switches autocommit on the client alone (no round trip). Straight on the driver:
    SQLAlchemy's Connection and result objects were a fifth of a lesson request's CPU. Engine
    listeners for ``before_cursor_execute`` still see the statement, with no Connection or
    context (read_rows does not come here when statement-timing listeners are registered).
    Errors come out as SQLAlchemy's, like every other query's.
    """
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        raw = engine.raw_connection()
    except dbapi_error as error:
        # The pool hands out the driver's own error when it cannot connect (a stopped server).
        raise DBAPIError.instance(None, None, error, dbapi_error) from error
    driver = raw.driver_connection
    cursor = None
    try:
        cursor = driver.cursor()
        for listener in engine.dispatch.before_cursor_execute:
            listener(None, cursor, sql, params, None, False)
        driver.autocommit = True
        cursor.execute(sql, params)
        return cursor.fetchall()
    except dbapi_error as error:
        if engine.dialect.is_disconnect(error, raw.dbapi_connection, cursor):
            # Likely a restarted database: every pooled connection is as dead as this one.
            raw.invalidate(error)
            engine.dispose()
        raise DBAPIError.instance(sql, params, error, dbapi_error) from error
    finally:
        _hand_back(raw, driver, cursor)


def _hand_back(raw, driver, cursor) -> None:
    """Return the connection to the pool exactly as it came out, or discard it.

    A connection left in autocommit would make the next request's transaction commit each
    statement on its own; one that cannot be switched back (broken, or interrupted mid-query)
    is thrown away instead.
    """
    if raw.dbapi_connection is None:  # already invalidated
        raw.close()
        return
    try:
        if cursor is not None:
            cursor.close()
        driver.autocommit = False
        clean = driver.info.transaction_status == TransactionStatus.IDLE
    except Exception:  # noqa: BLE001 - whatever went wrong, the connection must not be reused
        clean = False
    if not clean:
        raw.invalidate()
    raw.close()
