"""Reads outside the session's transaction, for the busiest pages.

Every learner page reads the signed-in user, then the course version with the learner's
progress. Through the ORM session each such read costs three round trips to PostgreSQL
(BEGIN, the query, and a ROLLBACK when the request ends) and SQLAlchemy's ORM work; profiled
under load that was over half of a lesson request (bench/PLANS.md). Here a read is one round
trip: a SQLAlchemy Core statement on a pooled connection in autocommit
(``isolation_level="AUTOCOMMIT"``, switched on the client alone by psycopg and sqlite3).

The rule that keeps this safe: a read goes outside only while the session has neither a
database transaction nor unsaved changes, so it can never miss what the request has written.

Everything else is SQLAlchemy's own, on both databases: the compiled-statement cache (an LRU
bounded by the engine's ``query_cache_size``, keyed by the statement's structure, so a
statement built per call costs a cache look-up, not an entry for ever), result processing
(each column comes back as its type gives it: aware UTC timestamps, booleans, dates, JSON),
engine events with their Connection and context, and disconnect handling (the dead connection
and every older pooled one are invalidated). A read in autocommit changes nothing, so one
that meets a dropped connection is simply run again on a fresh one, as SQLAlchemy's
documentation suggests ("a readonly version of transparent reconnect"), instead of failing
the page; the engine keeps ``pool_pre_ping`` off, which would cost a round trip per checkout.
"""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.sql import ClauseElement, Executable

_USING_DATABASE = "reads.using_database"
_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


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


def read_rows(session: Session | scoped_session[Session], statement: Executable, params: dict) -> list[tuple]:
    """Run a read-only statement with ``params``; return its rows as tuples.

    In autocommit, outside any transaction, when that is safe (see above), otherwise through
    the session. Either way the rows are the ones ``session.execute`` would give, with the same
    Python values. Statements are best built once, at import, with a named ``bindparam`` for
    each value that changes per call: SQLAlchemy then skips compiling them again.
    """
    own = session() if isinstance(session, scoped_session) else session  # the request's own session
    if _session_is_idle(own):
        bind = own.get_bind(clause=statement if isinstance(statement, ClauseElement) else None)
        # A session bound to one Connection (not an Engine) has no pool to borrow from: it reads as usual.
        if isinstance(bind, Engine):
            return read_in_autocommit(bind, statement, params)
    return [tuple(row) for row in own.execute(statement, params)]


def read_in_autocommit(engine: Engine, statement: Executable, params: dict) -> list[tuple]:
    """Run a read-only statement on a pooled connection in autocommit; its rows as tuples.

    The connection goes back to the pool in its usual isolation level (SQLAlchemy resets it on
    check-in). A dropped connection (a restarted database) is retried once on a new one:
    SQLAlchemy has already invalidated the pool's connections from before the failure.
    """
    try:
        return _read_once(engine, statement, params)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return _read_once(engine, statement, params)


def _read_once(engine: Engine, statement: Executable, params: dict) -> list[tuple]:
    with engine.connect() as connection:
        connection.execution_options(**_AUTOCOMMIT)
        return [tuple(row) for row in connection.execute(statement, params)]
