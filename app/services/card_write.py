"""Writing review cards back: the cards an answer moved on and the cards it made.

Moving a card on is app/services/review.py's (FSRS); this is only how the result is saved, in
its own module so that the quiz's attempt insert (app/services/attempt_insert.py, which review.py
depends on through quizzes.py) can write the cards in its own statement.

On PostgreSQL the cards travel as two JSON texts that ``json_to_recordset`` makes rows, so the
statement's text is the same for any number of cards (compiled once), and the driver converts
two strings instead of an array per column, each element on its own: 0.52 -> 0.30 ms of CPU for a
submission moving four cards and making one (A/B on bench_1000, the same rows written).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, insert, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from app.models import ReviewCard

# What moving a card on changes (review.card_schedule).
SCHEDULE_COLUMNS = ("due", "state", "step", "stability", "difficulty", "last_review", "last_rating")
# What a new card's INSERT writes.
NEW_CARD_COLUMNS = tuple(column.key for column in ReviewCard.__table__.columns if column.key != "id")
MOVED_KEYS = ("id", *SCHEDULE_COLUMNS)


@dataclass(frozen=True)
class CardChanges:
    """One learner's cards to save: ``moved`` (existing cards moved on, with their ids) and ``new`` (cards to make).

    Each is any object with the cards' attributes (review.CardRow, or a ReviewCard not added to a
    session).
    """

    user_id: int
    moved: Sequence[Any]
    new: Sequence[Any]

    def __bool__(self) -> bool:
        return bool(self.moved or self.new)

    def params(self) -> dict[str, str | int]:
        """What ``MOVE_AND_MAKE_CARDS`` takes: ``:moved`` and ``:new`` as JSON texts, and ``:user_id``."""
        moved_rows = [{key: getattr(card, key) for key in MOVED_KEYS} for card in self.moved]
        new_rows = [{key: getattr(card, key) for key in NEW_CARD_COLUMNS} for card in self.new]
        return {
            "moved": json.dumps(moved_rows, default=_json_time),
            "new": json.dumps(new_rows, default=_json_time),
            "user_id": self.user_id,
        }


def _json_time(value: Any) -> str:
    """A card's time in the write's JSON: ISO 8601 with its offset, the same instant for timestamptz."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat()
    raise TypeError(f"not a card value for the JSON write: {value!r}")


def _recordset_columns(keys: Iterable[str]) -> str:
    """``name type, ...`` for json_to_recordset: each card column with its own PostgreSQL type."""
    dialect = postgresql.dialect()
    return ", ".join(f"{key} {ReviewCard.__table__.c[key].type.compile(dialect=dialect)}" for key in keys)


def move_and_make_cards_sql(*, only_if: str = "TRUE") -> tuple[str, str]:
    """PostgreSQL: the UPDATE of the moved cards and the INSERT of the new ones, from ``:moved`` and ``:new``.

    Two statements' texts, to be a data-modifying WITH item and the statement after it (or two
    WITH items). ``only_if``: a condition both must meet to write anything (the attempt's insert
    writes the cards only when it inserted the attempt).

    The moved cards are found among ``:user_id``'s by the unique index on (user_id, question_id):
    by id alone, PostgreSQL took json_to_recordset's 100 rows (its default guess) for more than
    an index lookup each was worth and read the whole table instead (bench_1000, EXPLAIN ANALYZE).
    And a card id sent with another learner's id changes nothing.
    """
    moving = f"""UPDATE review_cards AS card
    SET {", ".join(f"{key} = moved.{key}" for key in SCHEDULE_COLUMNS)}
    FROM json_to_recordset(CAST(:moved AS json)) AS moved ({_recordset_columns(MOVED_KEYS)})
    WHERE card.user_id = :user_id AND card.id = moved.id AND {only_if}"""  # noqa: S608 - the names are the model's own columns  # nosec B608
    making = f"""INSERT INTO review_cards ({", ".join(NEW_CARD_COLUMNS)})
    SELECT {", ".join(NEW_CARD_COLUMNS)}
    FROM json_to_recordset(CAST(:new AS json)) AS new ({_recordset_columns(NEW_CARD_COLUMNS)})
    WHERE {only_if}"""  # noqa: S608  # nosec B608
    return moving, making


_MOVING, _MAKING = move_and_make_cards_sql()
MOVE_AND_MAKE_CARDS = text(f"WITH moved AS (\n    {_MOVING}\n)\n{_MAKING}").bindparams(
    bindparam("moved", type_=String()), bindparam("new", type_=String()), bindparam("user_id", type_=Integer())
)


def cards_write(session: Session, changes: CardChanges) -> None:
    """Write back the cards moved on and insert the new ones, without committing.

    A submission runs the same number of statements whether its mistakes are new or made before:
    on PostgreSQL one (``MOVE_AND_MAKE_CARDS``); elsewhere one UPDATE by primary key for the moved
    and one INSERT for the new (each one round trip).
    """
    if not changes:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(MOVE_AND_MAKE_CARDS, changes.params())
        return
    if changes.moved:
        session.execute(
            # Only this learner's; the session holds no card of theirs to bring up to date (the
            # moved are plain copies), which SQLAlchemy cannot do with a WHERE anyway.
            update(ReviewCard).where(ReviewCard.user_id == changes.user_id),
            [{key: getattr(card, key) for key in MOVED_KEYS} for card in changes.moved],
            execution_options={"synchronize_session": None},
        )
    if changes.new:
        session.execute(
            insert(ReviewCard), [{key: getattr(card, key) for key in NEW_CARD_COLUMNS} for card in changes.new]
        )
