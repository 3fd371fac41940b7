"""Reads outside the session's transaction, for the busiest pages.

Every learner page reads the signed-in user, then the course version with the learner's
progress. Through the ORM session each such read costs three round trips to PostgreSQL
(BEGIN, the query, and a ROLLBACK when the request ends) and SQLAlchemy's ORM work; profiled
under load that was over half of a lesson request (bench/PLANS.md). Here a read is one round
trip in autocommit: on psycopg on a connection kept for reads (app/services/read_connections.py),
otherwise on a pooled connection switched into autocommit on the client alone (sqlite3).

The rule that keeps this safe: a read goes outside only while the session has neither a
database transaction nor unsaved changes, so it can never miss what the request has written.
A read made before the request has started its session at all starts none, when the scoped
session was told its engine (``reads_before_a_session``).

Two ways out, both with SQLAlchemy's dialect and types:

- A ``Read`` is a statement registered once, at import, for a page that runs it on every
  request. It owns its SQL (compiled by SQLAlchemy once per database) and its result types
  (each column's own result processor: aware UTC timestamps, booleans, dates, JSON...), and
  runs on the driver's cursor: SQLAlchemy's Connection and result objects cost more CPU than
  the rest of the read (about 140 of 240 microseconds, measured on PostgreSQL). Nothing is
  cached for statements built per call, so nothing grows.
- Any other statement, a Read whose statement needs SQLAlchemy's execution-time rendering
  (expanding IN lists), and every Read while the engine has statement listeners
  (``before_cursor_execute``/``after_cursor_execute``: query counting, tracing) runs as an
  ordinary Core statement on a Connection in ``isolation_level="AUTOCOMMIT"``: SQLAlchemy's
  bounded compiled cache, events with their Connection and context, and its error handling.

A Read that fails on the driver is never diagnosed here: its connection is discarded and the
read runs again the ordinary way, where SQLAlchemy raises its usual errors and, on a dropped
connection (a restarted database), invalidates the pool's older connections. Since a read
in autocommit changes nothing, one that meets a dropped connection there is run once more
on a new connection ("a readonly version of transparent reconnect", in SQLAlchemy's
documentation) instead of failing the page; the engine keeps ``pool_pre_ping`` off, which
would cost a round trip on every checkout.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.selectable import CompoundSelect, Select, TextualSelect

from app.services import read_connections

_USING_DATABASE = "reads.using_database"
_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


@event.listens_for(Session, "after_begin")
def _note_database_transaction(session: Session, transaction, connection) -> None:
    session.info[_USING_DATABASE] = True


@event.listens_for(Session, "after_transaction_end")
def _note_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_USING_DATABASE, None)


# Scoped sessions whose sessions read every table from one engine, and how to find it (see below).
_ENGINE_FINDERS: WeakKeyDictionary[scoped_session, Callable[[], Engine | None]] = WeakKeyDictionary()


def reads_before_a_session(session: scoped_session, engine: Callable[[], Engine | None]) -> None:
    """Say that ``session``'s sessions read every table from ``engine()`` (None: not now, they
    may not): then a read made before the request has started its session starts none
    (``engine_before_a_session``).

    A page that only reads (a learner's lesson) then never makes an ORM session, nor closes
    one at the end of the request: 9% of a lesson's CPU, 17% of /me/'s (docs/performance.md).
    """
    _ENGINE_FINDERS[session] = engine


def engine_before_a_session(session: Session | scoped_session) -> Engine | None:
    """The engine to read from while ``session`` is a scoped session that has no session yet
    (so nothing is under way) and was given its engine (``reads_before_a_session``); else None."""
    if not isinstance(session, scoped_session) or session.registry.has():
        return None
    finder = _ENGINE_FINDERS.get(session)
    return None if finder is None else finder()


def dialect_name(session: Session | scoped_session) -> str:
    """The name of the database ``session`` reads from ("postgresql", "sqlite"), without starting a session."""
    engine = engine_before_a_session(session)
    bind = engine if engine is not None else (session() if isinstance(session, scoped_session) else session).get_bind()
    return bind.dialect.name


def session_is_idle(session: Session) -> bool:
    """True when the session holds no database transaction and no unsaved change."""
    return not session.info.get(_USING_DATABASE) and not (session.new or session.dirty or session.deleted)


# SQLAlchemy's psycopg SQL: "%(name)s" for a parameter, "%%" for a percent sign.
_PYFORMAT = re.compile(r"%(?:(%)|\(([^)]+)\)s)|%|\$")


def native_placeholders(sql: str) -> tuple[str, tuple[str, ...]] | None:
    """SQL in psycopg's pyformat as PostgreSQL's own placeholders ($1, $2...), and the parameter name of each.

    psycopg converts a query's placeholders on every run unless the query is short enough for
    its cache (4,096 characters): the /me/ page's read is longer, and converting it was 9% of the
    page's CPU. Converted here once, a Read runs on a ``psycopg.RawCursor``, which converts
    nothing. None when the SQL holds anything else this does not know to convert (a lone % or a $).
    """
    names: list[str] = []
    numbers: dict[str, int] = {}
    unknown = False

    def placeholder(found: re.Match) -> str:
        nonlocal unknown
        if found.group(1):
            return "%"
        name = found.group(2)
        if name is None:
            unknown = True
            return found.group(0)
        if name not in numbers:
            names.append(name)
            numbers[name] = len(names)
        return f"${numbers[name]}"

    converted = _PYFORMAT.sub(placeholder, sql)
    return None if unknown else (converted, tuple(names))


@dataclass
class ReadPlan:
    """A Read compiled for one database: its SQL, how to pass parameters, how to read columns."""

    compiled: Any  # SQLAlchemy's Compiled
    bind_processors: dict[str, Callable]
    # psycopg: the SQL with PostgreSQL's own placeholders and the name of each (native_placeholders).
    native: tuple[str, tuple[str, ...]] | None = None
    # Filled on the first run: some types read the driver's column type codes (PostgreSQL's numbers).
    # Only the columns that have a conversion, as (position, conversion): most have none.
    converted: tuple[tuple[int, Callable], ...] | None = None

    def parameters(self, params: dict) -> dict | tuple:
        values = self.compiled.construct_params(params)  # the literals and the call's values, checked
        for name, process in self.bind_processors.items():
            values[name] = process(values[name])
        if self.native is not None:
            return tuple(values[name] for name in self.native[1])
        if self.compiled.positional:
            return tuple(values[name] for name in self.compiled.positiontup)
        return values

    def execute(self, dbapi_connection: Any, parameters: dict | tuple) -> Any:
        """A new cursor of ``dbapi_connection`` that has run the SQL with ``parameters`` (see ``parameters``)."""
        if self.native is not None:
            import psycopg  # only here: a plan is native only on psycopg

            cursor = psycopg.RawCursor(dbapi_connection)
            cursor.execute(self.native[0], parameters)
            return cursor
        cursor = dbapi_connection.cursor()
        cursor.execute(self.compiled.string, parameters)
        return cursor


@dataclass(eq=False)
class Read:
    """A read-only SELECT registered once, at import, for the fast path (see the module's docstring).

    Build its statement with a named ``bindparam`` for each value that changes per call.
    """

    statement: Select | CompoundSelect | TextualSelect  # a text() with .columns(): writes.Write's
    _plans: WeakKeyDictionary[Dialect, ReadPlan | None] = field(
        default_factory=WeakKeyDictionary, init=False, repr=False
    )

    def plan(self, dialect: Dialect) -> ReadPlan | None:
        """The statement compiled for this database, or None when it must run the ordinary way."""
        if dialect not in self._plans:
            compiled = self.statement.compile(dialect=dialect)
            binds = compiled.bind_names
            if compiled.escaped_bind_names or any(bind.expanding or bind.literal_execute for bind in binds):
                self._plans[dialect] = None  # parameters rendered at execution: SQLAlchemy's to do
            else:
                processors = {name: _bind_processor(bind, dialect) for bind, name in binds.items()}
                native = native_placeholders(compiled.string) if dialect.driver == "psycopg" else None
                self._plans[dialect] = ReadPlan(
                    compiled, {name: p for name, p in processors.items() if p is not None}, native
                )
        return self._plans[dialect]

    def conversions(self, plan: ReadPlan, dialect: Dialect, cursor) -> tuple[tuple[int, Callable], ...]:
        """The columns that need converting from the driver's values, as SQLAlchemy's result would convert them.

        As (position, conversion), for ``converted_rows``. Worked out from the driver's column
        types (``cursor.description``) on the plan's first run, and kept on the plan: psycopg
        builds the description afresh each time it is asked (35 us for the 24 columns of
        signed_in_user.py's user-and-course read).
        """
        if plan.converted is None:
            processors = (
                column.type.dialect_impl(dialect).result_processor(dialect, type_code)
                for column, (_, type_code, *_) in zip(self.statement.selected_columns, cursor.description, strict=True)
            )
            plan.converted = tuple((index, process) for index, process in enumerate(processors) if process is not None)
        return plan.converted


def _bind_processor(bind, dialect: Dialect) -> Callable | None:
    return bind.type.dialect_impl(dialect).bind_processor(dialect)


def read_rows(session: Session | scoped_session[Session], statement: Read | Executable, params: dict) -> list[tuple]:
    """Run a read-only statement (a registered Read, or any SELECT) with ``params``; its rows as tuples.

    Outside any transaction when that is safe (see above), otherwise through the session.
    Either way the rows are the ones ``session.execute`` would give, with the same Python values.
    """
    unstarted = engine_before_a_session(session)
    if unstarted is not None:
        return read_rows_on(unstarted, statement, params)
    own = session() if isinstance(session, scoped_session) else session  # the request's own session
    executable = statement.statement if isinstance(statement, Read) else statement
    clause = executable if isinstance(executable, ClauseElement) else None
    engine = own.get_bind(clause=clause) if session_is_idle(own) else None
    # In a transaction, or bound to one Connection (no pool to borrow from): through the session.
    if not isinstance(engine, Engine):
        return [tuple(row) for row in own.execute(executable, params)]
    return read_rows_on(engine, statement, params)


def read_rows_on(engine: Engine, statement: Read | Executable, params: dict) -> list[tuple]:
    """Run a read-only statement on ``engine`` in autocommit, outside any session; its rows as tuples."""
    executable = statement.statement if isinstance(statement, Read) else statement
    if isinstance(statement, Read) and not has_statement_listeners(engine):
        plan = statement.plan(engine.dialect)
        if plan is not None:
            rows = _read_on_the_driver(engine, statement, plan, params)
            if rows is not None:
                return rows
    return read_in_autocommit(engine, executable, params)


def has_statement_listeners(engine: Engine) -> bool:
    """Whether anything listens to the engine's statements (query counting, tracing): they need SQLAlchemy's path."""
    return bool(engine.dispatch.before_cursor_execute or engine.dispatch.after_cursor_execute)


def read_in_autocommit(engine: Engine, statement: Executable, params: dict) -> list[tuple]:
    """Run a read-only Core statement on a pooled Connection in autocommit; its rows as tuples.

    The connection goes back to the pool in its usual isolation level (SQLAlchemy resets it on
    check-in). A dropped connection (a restarted database) is retried once on a new one:
    SQLAlchemy has already invalidated the pool's connections from before the failure.
    """
    try:
        return run_in_autocommit(engine, statement, params)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return run_in_autocommit(engine, statement, params)


def run_in_autocommit(engine: Engine, statement: Executable, params: dict) -> list[tuple]:
    """Run a Core statement once on a pooled Connection in autocommit (its own transaction); its rows as tuples."""
    with engine.connect() as connection:
        connection.execution_options(**_AUTOCOMMIT)
        result = connection.execute(statement, params)
        return [tuple(row) for row in result] if result.returns_rows else []


def _read_on_the_driver(engine: Engine, read: Read, plan: ReadPlan, params: dict) -> list[tuple] | None:
    """Run a Read's SQL on the driver's cursor, in autocommit: on psycopg a kept connection's
    (app/services/read_connections.py), elsewhere a pooled connection's.

    None when anything went wrong: the connection is then discarded (never used again, nor
    handed back in autocommit or mid-query) and the caller runs the read the ordinary way.
    """
    parameters = plan.parameters(params)  # a missing parameter raises here, as SQLAlchemy's would
    if plan.native is not None:
        return _read_on_a_kept_connection(engine, read, plan, parameters)
    dialect = engine.dialect
    try:
        pooled = engine.raw_connection()
    except Exception:  # noqa: BLE001 - no connection (a stopped database): SQLAlchemy's path says so
        return None
    clean = False
    try:
        dbapi_connection = pooled.dbapi_connection
        if dbapi_connection is None:  # only after a detach or invalidation, never fresh from the pool
            return None
        autocommit(dialect, dbapi_connection, on=True)
        cursor = plan.execute(dbapi_connection, parameters)
        rows = cursor.fetchall()
        conversions = read.conversions(plan, dialect, cursor)
        cursor.close()
        autocommit(dialect, dbapi_connection, on=False)
        clean = True
    except Exception:  # noqa: BLE001 - SQLAlchemy's ordinary path reports whatever it was
        return None
    finally:
        if not clean:
            pooled.invalidate()
        pooled.close()
    return converted_rows(rows, conversions)


def _read_on_a_kept_connection(engine: Engine, read: Read, plan: ReadPlan, parameters: Any) -> list[tuple] | None:
    kept = read_connections.take(engine)
    if kept is None:
        return None
    try:
        cursor = kept.cursor
        assert plan.native is not None  # noqa: S101 - only native plans come here
        cursor.execute(plan.native[0], parameters)
        rows = cursor.fetchall()
        conversions = read.conversions(plan, engine.dialect, cursor)
    except Exception:  # noqa: BLE001 - SQLAlchemy's ordinary path reports whatever it was
        read_connections.discard(kept)
        return None
    read_connections.give_back(engine, kept)
    return converted_rows(rows, conversions)


def autocommit(dialect: Dialect, dbapi_connection, *, on: bool) -> None:
    """Switch a pooled driver connection into autocommit, or back to the pool's usual isolation level.

    On psycopg only its autocommit flag changes (the isolation level stays as the pool set it):
    a third of SQLAlchemy's switching, which also sets and checks the isolation level both ways.
    """
    if dialect.driver == "psycopg":
        dbapi_connection.autocommit = on
    elif on:
        dialect.set_isolation_level(dbapi_connection, "AUTOCOMMIT")
    else:
        dialect.reset_isolation_level(dbapi_connection)


def converted_rows(rows: Sequence, converted: tuple[tuple[int, Callable], ...]) -> list[tuple]:
    """The driver's rows with each column that has a result processor converted, as tuples.

    Only those columns are visited (7 of the 24 in signed_in_user.py's user-and-course read,
    whose ~200 cells a lesson's request went through one by one). NULL is None for every type,
    as each processor would return it, so it skips the call.
    """
    if not converted:
        return [tuple(row) for row in rows]
    result = []
    for row in rows:
        values = list(row)
        for index, process in converted:
            value = values[index]
            if value is not None:
                values[index] = process(value)
        result.append(tuple(values))
    return result
