"""Reads outside the session's transaction, for the busiest pages.

Every learner page reads the signed-in user, then the course version with the learner's
progress. Through the ORM session each such read costs three round trips to PostgreSQL
(BEGIN, the query, and a ROLLBACK when the request ends) and SQLAlchemy's per-statement
work; profiled under load that was over half of a lesson request (bench/PLANS.md). Here a
read is one round trip on a pooled connection in autocommit, with SQL compiled once.

The rule that keeps this safe: a read goes outside only while the session has neither a
database transaction nor unsaved changes, so it can never miss what the request has written.
This is for PostgreSQL through psycopg 3. SQLite (the embedded default, and tests) always
reads through the session: there the in-memory database is one shared connection, and its
transactions cost no round trips anyway.

Statements passed here are built once, at import, with named ``bindparam``s; the SQL text is
compiled once per engine and reused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.sql import Select

_compiled: WeakKeyDictionary[Engine, dict[int, tuple[Select, str]]] = WeakKeyDictionary()
_USING_DATABASE = "reads.using_database"


def _sql(engine: Engine, statement: Select) -> str:
    """The statement's SQL for this engine, compiled on first use."""
    by_statement = _compiled.setdefault(engine, {})
    entry = by_statement.get(id(statement))
    if entry is None or entry[0] is not statement:
        entry = by_statement[id(statement)] = (statement, str(statement.compile(dialect=engine.dialect)))
    return entry[1]


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
    if not isinstance(value, datetime):
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_rows(session: Session | scoped_session, statement: Select, params: dict) -> list[tuple]:
    """Run a prebuilt read-only statement with ``params``; return its rows as tuples.

    Outside any transaction when that is safe (see above), otherwise through the session.
    Timestamps come back as aware UTC datetimes either way, as UTCDateTime columns give them.
    """
    if isinstance(session, scoped_session):
        session = session()  # the request's own session
    engine = session.get_bind()
    if engine.dialect.driver != "psycopg" or not _session_is_idle(session):
        return [tuple(row) for row in session.execute(statement, params)]
    sql = _sql(engine, statement)
    # With psycopg, autocommit is a client-side switch (no round trip), and SQLAlchemy hands the
    # connection back to the pool in the session's isolation level.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        rows = connection.exec_driver_sql(sql, params).all()
    return [tuple(_utc(value) for value in row) for row in rows]
