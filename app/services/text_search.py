"""Searching text columns for what a person typed, with SQL LIKE's wildcards taken literally.

The admins' user list and the counsellor's dashboard both search this way; a search for
"50%" or "a_b" must find those characters, not treat them as "anything".
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.sql.elements import SQLColumnExpression

LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards (``%``, ``_``) and the escape character itself escaped."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def containing(text: str) -> str:
    """The LIKE pattern of a value containing ``text``, every character taken literally (for ``matches``)."""
    return f"%{escape_like(text)}%"


def matches(
    column: SQLColumnExpression[str] | SQLColumnExpression[str | None], pattern: str | ColumnElement[str]
) -> ColumnElement[bool]:
    """A condition: ``column`` matches ``pattern`` (``containing``'s, or a parameter bound to one), ignoring case."""
    return column.ilike(pattern, escape=LIKE_ESCAPE)


def contains_text(column: SQLColumnExpression[str] | SQLColumnExpression[str | None], text: str) -> ColumnElement[bool]:
    """A condition: ``column`` contains ``text``, ignoring case, every character taken literally."""
    return matches(column, containing(text))
