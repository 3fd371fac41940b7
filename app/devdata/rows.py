"""Rows keyed by column name, collected per table and written in bulk.

Every row names each column of its table, no more and no fewer: a row that misses or misnames
a column is refused at once with a message naming the table and the columns, so a column added
to a model makes seeding fail loudly instead of shifting values into the wrong columns.

PostgreSQL gets ``COPY ... FROM STDIN`` in text format, with the columns listed by name; any
other database gets executemany of SQLAlchemy Core inserts (so its column types apply). Ids are
assigned here, after each table's current maximum, and each id sequence is moved past the rows
after every batch, so ordinary inserts keep working. Nothing else may write to the same tables
while rows are written.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from app.models import (
    AttemptAnswer,
    AuditEvent,
    CounsellorLink,
    Invitation,
    LessonProgress,
    ProgressView,
    QuizAttempt,
    ReviewCard,
    User,
)

# Every table seeding writes; foreign keys point backwards in this order.
TABLES = (
    User,
    LessonProgress,
    QuizAttempt,
    AttemptAnswer,
    ReviewCard,
    Invitation,
    CounsellorLink,
    ProgressView,
    AuditEvent,
)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_BATCH = 20_000
_INSERT_BATCH = 5_000


class RowError(Exception):
    """A row does not name exactly the columns of its table (a programming error in seeding)."""


def columns_of(model) -> tuple[str, ...]:
    """The table's column names, in the table's order."""
    return tuple(column.name for column in model.__table__.columns)


def row_problem(model, row: dict) -> str | None:
    """What is wrong with a row for this model's table, or None when it names exactly its columns."""
    expected = columns_of(model)
    missing = [name for name in expected if name not in row]
    unknown = [name for name in row if name not in expected]
    if not missing and not unknown:
        return None
    parts = []
    if missing:
        parts.append(f"misses {', '.join(missing)}")
    if unknown:
        parts.append(f"names {', '.join(unknown)}, which the table does not have")
    return (
        f"A seeded {model.__tablename__} row {' and '.join(parts)}. Its columns are: {', '.join(expected)}. "
        "If a column was added to the model, give it a value where app/devdata builds these rows."
    )


class Prepared:
    """A value that repeats over many rows (a prompt, a JSON document), with its COPY text
    escaped once. ``value`` is what executemany writes; ``copy_text`` what COPY writes."""

    __slots__ = ("value", "copy_text")

    def __init__(self, value: Any, *, json_text: str | None = None):
        self.value = value
        self.copy_text = json_text.translate(_COPY_ESCAPES) if json_text is not None else copy_text(value)


def json_value(value: Any) -> Prepared:
    """A JSON document, written as the JSON column type would have written it."""
    return Prepared(value, json_text=json.dumps(value))


# A value's text in COPY's text format, by the value's type. Each converter is a C-level
# callable rather than a Python function: millions of values go through them.
_COPY_TEXT: dict[type, Callable[[Any], str]] = {
    type(None): {None: "\\N"}.__getitem__,
    bool: {True: "t", False: "f"}.__getitem__,
    int: str,
    float: str,
    str: operator.methodcaller("translate", _COPY_ESCAPES),
    datetime: datetime.isoformat,
    Prepared: operator.attrgetter("copy_text"),
}


def copy_text(value: Any) -> str:
    """A value in COPY's text format, escaped."""
    convert = _COPY_TEXT.get(type(value))
    if convert is None:
        raise TypeError(f"Seeding cannot write a {type(value).__name__} with COPY: {value!r}")
    return convert(value)


class Sink:
    """Rows waiting to be written, per table, and the next free id of each table."""

    def __init__(self, session: Session):
        self.session = session
        self.columns = {model: columns_of(model) for model in TABLES}
        self._names = {model: frozenset(names) for model, names in self.columns.items()}
        self.next_id = {model: (session.scalar(select(func.max(model.id))) or 0) + 1 for model in TABLES}
        self.written = dict.fromkeys(TABLES, 0)
        self.memo: dict = {}  # for callers: values prepared once and reused over many rows

    def take_id(self, model) -> int:
        """The next free id of the model's table."""
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    def add(self, model, row: dict[str, Any]) -> None:
        """Queue a row, keyed by column name; raise RowError unless it names exactly the table's columns."""
        if row.keys() != self._names[model]:
            raise RowError(row_problem(model, row))
        self._add(model, row)

    def _add(self, model, row: dict[str, Any]) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        """Write every waiting row in the session's transaction, then move each id sequence past them.

        The caller commits (batch by batch for a large population, once for the demo)."""
        raise NotImplementedError


class CopySink(Sink):
    """PostgreSQL: COPY ... FROM STDIN in text format, one statement per table per batch."""

    def __init__(self, session: Session):
        super().__init__(session)
        self.lines: dict[type, list[str]] = {model: [] for model in TABLES}
        # Only a superuser may switch off the foreign-key triggers; anyone else's rows are checked.
        self.may_skip_reference_checks = session.scalar(text("SELECT current_setting('is_superuser')")) == "on"

    def _add(self, model, row: dict[str, Any]) -> None:
        values = map(row.__getitem__, self.columns[model])
        self.lines[model].append("\t".join([_COPY_TEXT[type(value)](value) for value in values]))

    def flush(self) -> None:
        from psycopg import sql

        connection = self.session.connection()
        driver = connection.connection.driver_connection
        if driver is None:  # only after the pool has closed it, which a live session prevents
            raise RuntimeError("The session's connection is closed; cannot COPY the seeded rows.")
        cursor = driver.cursor()
        if self.may_skip_reference_checks:
            # The rows are built consistent (ids taken here, parents written first, tested in
            # tests/services/test_seeding.py); checking each foreign key row by row was over a
            # third of the time seeding a million learners took. For this transaction only.
            cursor.execute("SET LOCAL session_replication_role = replica")
        for model in TABLES:
            lines = self.lines[model]
            if not lines:
                continue
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(model.__tablename__), sql.SQL(", ").join(map(sql.Identifier, self.columns[model]))
            )
            with cursor.copy(statement) as copy:
                for start in range(0, len(lines), _COPY_BATCH):
                    copy.write("\n".join(lines[start : start + _COPY_BATCH]) + "\n")
            self.written[model] += len(lines)
            lines.clear()
        for model in TABLES:
            if self.written[model]:
                # setval is not undone by a rollback: at worst the sequence skips some ids.
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"),
                    {"table": model.__tablename__, "last": self.next_id[model] - 1},
                )


class ExecutemanySink(Sink):
    """Any other database (SQLite): executemany of Core inserts, in the same batches."""

    def __init__(self, session: Session):
        super().__init__(session)
        self.rows: dict[type, list[dict]] = {model: [] for model in TABLES}

    def _add(self, model, row: dict[str, Any]) -> None:
        self.rows[model].append(
            {name: value.value if type(value) is Prepared else value for name, value in row.items()}
        )

    def flush(self) -> None:
        for model in TABLES:
            rows = self.rows[model]
            for start in range(0, len(rows), _INSERT_BATCH):
                self.session.execute(insert(cast(Table, model.__table__)), rows[start : start + _INSERT_BATCH])
            self.written[model] += len(rows)
            rows.clear()


def sink_for(session: Session) -> Sink:
    """The fastest writer for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return CopySink(session)
    return ExecutemanySink(session)
