"""SQLite's own lower() folds ASCII letters only, so on the embedded database a search for "å"
did not find "Zoë Ångström", nor "ZOË" "Zoë", and names sorted by their case. Each SQLite
connection the app opens replaces it with Python's, which folds every letter as PostgreSQL's
does in a database with a UTF-8 character type (docs/deployment.md; the plain C one folds
ASCII only). That covers every lower() the app runs: the counsellor's search and its name key (written
by the triggers of app/models/caseload_names.py), ``ilike`` (which SQLAlchemy writes as
``lower(x) LIKE lower(y)`` on SQLite), and the sorts by name.

A tool that opens the file without the app (the sqlite3 shell) has SQLite's lower() again: a
name changed there gets an ASCII-folded key until the app next writes it.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


def unicode_lower(value: object) -> str | None:
    """lower() as SQLite defines it (NULL stays NULL, a number becomes its text), for every letter."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).lower()


@event.listens_for(Engine, "connect")
def _unicode_lower_on_sqlite(dbapi_connection, connection_record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_function("lower", 1, unicode_lower, deterministic=True)
