"""The one rule for reading ids and page numbers from URLs, query strings and forms.

An id is ASCII digits only, from 1 to 2**31 - 1: the range of the database's integer
columns. ``str.isdigit`` is not enough ("²" passes it, then ``int`` fails), and a larger
number would overflow the query on PostgreSQL. Anything else is not an id: a URL with one
is a 404, a form or query value with one is refused or ignored by its caller.
"""

from __future__ import annotations

import re

from werkzeug.routing import BaseConverter, ValidationError

ID_MAX = 2**31 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_id(value: object) -> int | None:
    """Return ``value`` as an id (ASCII digits, 1..2**31-1), or None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= ID_MAX else None
    if not isinstance(value, str) or not _ASCII_DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= ID_MAX else None


def parse_page(value: object, default: int = 1) -> int:
    """Return a page number from a query string, or ``default`` for anything that is not one."""
    number = parse_id(value)
    return default if number is None else number


class IdConverter(BaseConverter):
    """``<id:name>`` in a route: an id by the rule above; anything else does not match (404)."""

    regex = r"[0-9]{1,10}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


def register(app) -> None:
    """Make ``<id:...>`` available to every route."""
    app.url_map.converters["id"] = IdConverter
