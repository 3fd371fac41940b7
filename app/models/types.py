"""Column types shared by the models."""

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

# SQLite gives a new row the highest id plus one, so deleting the newest row and adding another
# gives the new one the old id, unless the table is AUTOINCREMENT (PostgreSQL's sequences never
# reuse an id). Tables whose ids are named where no foreign key follows them take this: a
# draft's or publication's content rows, an audit record's details (a counsellor's or a
# platform's id), a credential's revocation bit (a certificate's id).
NEVER_REUSED_IDS = {"sqlite_autoincrement": True}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """The same instant as an aware UTC datetime (a naive one is taken to be UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite drops the offset, PostgreSQL keeps it; this type makes both behave the same so
    Python code can compare timestamps from either database.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return None if value is None else as_utc(value)
