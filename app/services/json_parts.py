"""A SELECT's rows as one JSON column, and back: lists read beside a row on PostgreSQL.

The learner pages read the signed-in user with their course rows and the page's own lists.
As a UNION ALL (what SQLite runs), each list is a part of its own, and every row carries
every part's columns, the others NULL. PostgreSQL spends 25-30 us of CPU on each such part
and as much again on the width, against about 16 us for the same rows as one ``json_agg``
column of a single row (docs/performance.md, round seven of issue 19). So there the
signed-in read is one row, with each list as a ``json_part`` column, and ``PartReader``
turns each list back into the tuples the UNION ALL would have given: the same values, of the
same Python types, as SQLAlchemy reads those columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Enum, Float, Integer, Select, String, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import Cast, ColumnElement, Label, Null, TypeCoerce
from sqlalchemy.sql.selectable import ScalarSelect
from sqlalchemy.types import NullType, TypeDecorator, TypeEngine


def _is_null(column: ColumnElement) -> bool:
    """Whether ``column`` is a NULL literal (typed or not): a UNION ALL's padding."""
    element: Any = column
    while isinstance(element, Label | Cast | TypeCoerce):
        element = element.element if isinstance(element, Label) else element.clause
    return isinstance(element, Null)


def json_part(part: Select) -> ScalarSelect:
    """``part``'s rows as one JSON value: an array of arrays, one per row, its columns in order
    but the NULL literals, which PartReader puts back (NULL when it has no rows). Its rows in no
    particular order, as a UNION ALL's part."""
    keeps_rows_as_they_are = not (
        part._group_by_clauses or part._having_criteria or part._distinct or part._limit_clause is not None
    )
    if keeps_rows_as_they_are:  # the part's own FROM and WHERE, aggregated: no derived table to scan
        kept = [column for column in part.selected_columns if not _is_null(column)]
        aggregated = select(func.json_agg(func.json_build_array(*kept), type_=JSON))
        aggregated = aggregated.select_from(*part.get_final_froms())  # its joins as it made them
        if part.whereclause is not None:
            aggregated = aggregated.where(part.whereclause)
        return aggregated.scalar_subquery()
    rows = part.subquery()
    kept = [column for column, own in zip(rows.c, part.selected_columns, strict=True) if not _is_null(own)]
    return select(func.json_agg(func.json_build_array(*kept), type_=JSON)).select_from(rows).scalar_subquery()


def _from_json(kind: TypeEngine, dialect: Dialect) -> Callable[[Any], Any] | None:
    """How a value of a column of type ``kind`` read from JSON becomes the one SQLAlchemy reads
    (None: as it is). Raises TypeError for a type this module does not know to read back."""
    base = kind.impl_instance if isinstance(kind, TypeDecorator) else kind
    parse: Callable[[Any], Any] | None
    if isinstance(base, Enum) and base.enum_class is not None:
        raise TypeError(f"a column of {kind!r} would come back from JSON as a string, not its enum")
    if isinstance(base, DateTime):
        parse = datetime.fromisoformat  # PostgreSQL writes ISO 8601, with the offset for timestamptz
    elif isinstance(base, Date):
        parse = date.fromisoformat
    elif isinstance(base, Float):
        parse = float  # a whole-valued float8 is written without a point, and would read as an int
    elif isinstance(base, Integer | String | Boolean | NullType):
        parse = None
    else:
        raise TypeError(f"no way to read a column of {kind!r} back from JSON")
    if not isinstance(kind, TypeDecorator):
        return parse
    decorated: Any = kind.dialect_impl(dialect)  # the TypeDecorator's own, for this database

    def read(value: Any) -> Any:
        return decorated.process_result_value(parse(value) if parse else value, dialect)

    return read


class PartReader:
    """Turns a ``json_part`` of ``part`` back into ``part``'s rows, as tuples of Python values."""

    def __init__(self, part: Select, dialect: Dialect) -> None:
        columns = part.selected_columns
        self._width = len(columns)
        # Where each value of a JSON row goes in the part's row: None if they are the same.
        positions = [index for index, column in enumerate(columns) if not _is_null(column)]
        self._positions = None if len(positions) == self._width else positions
        # Only the values sent need reading back: a NULL padding's type never meets a value.
        readers = ((index, _from_json(columns[index].type, dialect)) for index in positions)
        self._converted = tuple((index, read) for index, read in readers if read is not None)

    def rows(self, value: Sequence[list] | None) -> list[tuple]:
        """The rows of the JSON ``value`` read (none for NULL)."""
        if not value:
            return []
        result = []
        for kept in value:
            row = kept
            if self._positions is not None:
                row = [None] * self._width
                for index, cell in zip(self._positions, kept, strict=True):
                    row[index] = cell
            for index, read in self._converted:
                cell = row[index]
                if cell is not None:
                    row[index] = read(cell)
            result.append(tuple(row))
        return result
