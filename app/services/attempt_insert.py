"""Writing a graded quiz attempt: its row, its answers' rows, and the question versions they point at.

A submission is the site's busiest write, and on PostgreSQL its cost is mostly round trips, so
there the attempt, its answers and the read of the learner's review cards for its questions are
one statement (``_INSERT_WITH_ANSWERS``):

- the attempt's INSERT ... ON CONFLICT (user_id, submission_key) DO NOTHING is the one-attempt-
  per-key rule: a key used already inserts nothing (a second transaction with the same key waits
  for the first and then does nothing), so no look for an earlier attempt comes first;
- each answer finds the ShownQuestion of its question's version by content hash in the same
  INSERT, so the versions cost no query of their own. A version not stored yet (the first answer
  after an edit, or one another transaction has not committed) matches nothing: its answers are
  inserted after storing it (``shown_question_ids``), in the same transaction;
- the learner's review cards: when the caller has them moved on already (the quiz page's
  submission reads them with the live questions, before the transaction), the same statement
  writes them (``_INSERT_WITH_ANSWERS_AND_CARDS``), only if it inserted the attempt; otherwise
  its final SELECT returns the learner's cards for the quiz's questions, which
  ``app/services/review.py`` moves on and writes (one statement more);
- the final SELECT says whether the learner completed the lesson before: a pass then has
  nothing to complete.

SQLite runs the same steps one statement each (its round trips cost nothing).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Boolean, Integer, String, Table, bindparam, column, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import AttemptAnswer, QuizAttempt, ReviewCard, ShownQuestion
from app.models.types import UTCDateTime, utcnow
from app.services.card_write import CardChanges, cards_write, move_and_make_cards_sql
from app.services.writes import Write, write_alone, write_rows


@dataclass(frozen=True)
class NewAnswer:
    """One graded answer of an attempt about to be recorded."""

    question_id: int
    position: int
    # The question as shown (quizzes.question_version): found or stored as a ShownQuestion.
    version: dict
    is_correct: bool
    # quizzes.answer_columns: the order shown (None when the author's) and the picks, as indexes.
    choice_order: str | None
    chosen: str
    # content_hash(version) when the caller knows it already (quizzes keeps it per live question).
    content_hash: str | None = None


@dataclass(frozen=True)
class RecordedAttempt:
    """A newly inserted attempt, and what was read with it: the learner's cards and progress."""

    attempt_id: int
    # Each card's columns by name; None when not read here (review.cards_record_answers reads them then).
    card_rows: list[dict[str, Any]] | None = None
    # Whether the learner had completed the attempt's lesson already; None when not read here.
    lesson_completed: bool | None = None
    # The cards given to attempt_insert were written with the attempt.
    cards_written: bool = False
    # The attempt, its answers and cards are committed already (attempt_insert's ``alone``).
    committed: bool = False


def content_hash(version: dict) -> str:
    """The identity of a version's content: sha256 of its canonical JSON (keys sorted, no spaces)."""
    canonical = json.dumps(version, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def shown_question_ids(session: Session, versions: Sequence[dict]) -> list[int]:
    """The ShownQuestion id of each version (``question_version``'s dicts), storing the new ones.

    One SELECT by hash when every version is stored already (the usual case); otherwise one
    INSERT ... ON CONFLICT DO NOTHING and one more SELECT. Two transactions storing the same
    version at once both succeed: the second waits for the first and then finds its row.
    """
    hashes = [content_hash(version) for version in versions]
    found = _ids_by_hash(session, set(hashes))
    missing = {h: version for h, version in zip(hashes, versions, strict=True) if h not in found}
    if missing:
        rows = [{**version, "content_hash": h, "created_at": utcnow()} for h, version in missing.items()]
        insert_into = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert_into(ShownQuestion).values(rows).on_conflict_do_nothing(index_elements=["content_hash"]))
        found.update(_ids_by_hash(session, set(missing)))
    return [found[h] for h in hashes]


def _ids_by_hash(session: Session, hashes: set[str]) -> dict[str, int]:
    rows = session.execute(
        select(ShownQuestion.content_hash, ShownQuestion.id).where(ShownQuestion.content_hash.in_(hashes))
    )
    return {content: version_id for content, version_id in rows}


def attempt_insert(
    session: Session,
    attempt: dict,
    answers: Sequence[NewAnswer],
    cards: CardChanges | None = None,
    *,
    alone: bool = False,
) -> RecordedAttempt | None:
    """Insert an attempt and its answers, without committing (but see ``alone``).

    ``attempt`` holds every column of QuizAttempt but its id: user_id, lesson_id, submission_key,
    submitted_at, question_count, correct_count, score, pass_mark and passed.
    ``cards``: the learner's review cards this attempt moves on and makes, written with it (on
    PostgreSQL in the same statement); None: the learner's cards for its questions are read
    instead (``RecordedAttempt.card_rows``) for the caller to move on and write.

    None when the learner has an attempt with this submission key already: then nothing was
    inserted (no card written either), and the caller reads that attempt.

    ``alone``: the caller writes nothing else with this attempt. On PostgreSQL, with ``cards``,
    the statement is then committed by itself when it can be (``writes.write_alone``: while the
    session has nothing under way, and every answer's version is stored already), saving the
    transaction's two round trips; ``RecordedAttempt.committed`` says it was.
    """
    if session.get_bind().dialect.name == "postgresql":
        return _insert_in_one_statement(session, attempt, answers, cards, alone=alone)
    recorded = _insert_step_by_step(session, attempt, answers)
    if recorded is not None and cards is not None:
        cards_write(session, cards)
        return RecordedAttempt(recorded.attempt_id, cards_written=True)
    return recorded


_CARD_COLUMNS = tuple(ReviewCard.__table__.columns)
_CARD_KEYS = tuple(column.key for column in _CARD_COLUMNS)
_ANSWERS = cast(Table, AttemptAnswer.__table__)

# The answers travel as one JSON text (json_to_recordset makes them rows), so the statement's text
# is the same for any number of questions and SQLAlchemy compiles it once; one string costs the
# driver far less than an array per column (each element dumped on its own: about 0.3 ms a
# submission of five questions, profiled on bench_1000).
_ATTEMPT_AND_ANSWERS = """
WITH answer AS (
    SELECT * FROM json_to_recordset(CAST(:answers AS json))
        AS answer (question_id integer, position integer, content_hash text,
                   is_correct boolean, choice_order text, chosen text)
), new_attempt AS (
    INSERT INTO quiz_attempts (user_id, lesson_id, submission_key, submitted_at,
                               question_count, correct_count, score, pass_mark, passed)
    {attempt}
    ON CONFLICT (user_id, submission_key) DO NOTHING
    RETURNING id
), new_answers AS (
    INSERT INTO attempt_answers (attempt_id, question_id, position, shown_question_id, is_correct, choice_order, chosen)
    SELECT new_attempt.id, answer.question_id, answer.position, shown.id,
           answer.is_correct, answer.choice_order, answer.chosen
    FROM new_attempt
    CROSS JOIN answer
    JOIN shown_questions AS shown ON shown.content_hash = answer.content_hash
    RETURNING attempt_answers.position
)"""
_ATTEMPT_VALUES = """VALUES (:user_id, :lesson_id, :submission_key, :submitted_at,
            :question_count, :correct_count, :score, :pass_mark, :passed)"""
# For a statement that is the whole write (committed alone, in autocommit): the attempt only when
# every answer's version is stored already, since an answer it could not insert would be missing
# from a committed attempt. Otherwise nothing is written, as for a key used already.
_ATTEMPT_IF_VERSIONS_STORED = """SELECT :user_id, :lesson_id, :submission_key, :submitted_at,
           :question_count, :correct_count, :score, :pass_mark, :passed
    WHERE NOT EXISTS (
        SELECT FROM answer LEFT JOIN shown_questions AS stored ON stored.content_hash = answer.content_hash
        WHERE stored.id IS NULL
    )"""
# The positions of the answers inserted; NULL where every answer is (the statement run alone).
_INSERTED_POSITIONS = "ARRAY(SELECT position FROM new_answers)"
_RECORDED = """
SELECT new_attempt.id, {positions}, progress.completed_at IS NOT NULL{cards}
FROM new_attempt
LEFT JOIN lesson_progress AS progress ON progress.user_id = :user_id AND progress.lesson_id = :lesson_id"""
_RECORDED_COLUMNS = (
    column("attempt_id", Integer),
    column("positions", ARRAY(Integer)),
    column("lesson_completed", Boolean),
)
_ATTEMPT_BINDS = (bindparam("submitted_at", type_=UTCDateTime()), bindparam("answers", type_=String()))

# The cards unknown: the final SELECT reads them, for review.py to move on.
_INSERT_WITH_ANSWERS = (
    text(
        _ATTEMPT_AND_ANSWERS.format(attempt=_ATTEMPT_VALUES)  # noqa: S608 - the models' own columns  # nosec B608
        + _RECORDED.format(
            positions=_INSERTED_POSITIONS, cards="".join(f", card.{column.name}" for column in _CARD_COLUMNS)
        )
        + """
LEFT JOIN review_cards AS card ON card.user_id = :user_id AND card.question_id IN (SELECT question_id FROM answer)
"""
    )
    .bindparams(*_ATTEMPT_BINDS)
    .columns(
        *_RECORDED_COLUMNS,
        *(column(f"card_{card_column.name}", card_column.type) for card_column in _CARD_COLUMNS),
    )
)

# The cards moved on already (read with the live questions): written in the same statement, and
# only when the attempt is (a key used already writes nothing at all).
_MOVING, _MAKING = move_and_make_cards_sql(only_if="EXISTS (SELECT FROM new_attempt)")


def _with_cards(attempt: str, positions: str) -> Write:
    """The attempt (inserted from ``attempt``), its answers and the moved-on cards, in one statement."""
    return Write(
        text(
            _ATTEMPT_AND_ANSWERS.format(attempt=attempt)
            + f""", moved_cards AS (
    {_MOVING}
), new_cards AS (
    {_MAKING}
)"""
            + _RECORDED.format(positions=positions, cards="")
        )
        .bindparams(*_ATTEMPT_BINDS, bindparam("moved", type_=String()), bindparam("new", type_=String()))
        .columns(*_RECORDED_COLUMNS)
    )


_INSERT_WITH_ANSWERS_AND_CARDS = _with_cards(_ATTEMPT_VALUES, _INSERTED_POSITIONS)
_INSERT_ALONE = _with_cards(_ATTEMPT_IF_VERSIONS_STORED, "NULL")


def _answers_json(answers: Sequence[NewAnswer]) -> str:
    """The answers as the statement's JSON: one object per answer, named as its recordset's columns."""
    return json.dumps(
        [
            {
                "question_id": answer.question_id,
                "position": answer.position,
                "content_hash": answer.content_hash or content_hash(answer.version),
                "is_correct": answer.is_correct,
                "choice_order": answer.choice_order,
                "chosen": answer.chosen,
            }
            for answer in answers
        ],
        separators=(",", ":"),
    )


def _insert_in_one_statement(
    session: Session, attempt: dict, answers: Sequence[NewAnswer], cards: CardChanges | None, *, alone: bool
) -> RecordedAttempt | None:
    params = {**attempt, "answers": _answers_json(answers)}
    rows: Sequence[Sequence[Any]] | None = None
    if cards is None:
        rows = session.execute(_INSERT_WITH_ANSWERS, params).all()
    else:
        params.update(cards.params())
        if alone:
            # Nothing written (a key used already, a version not stored yet) or the session busy:
            # the statement below, in a transaction, sorts out which.
            rows = write_alone(session, _INSERT_ALONE, params) or None
            if rows is not None:
                return RecordedAttempt(rows[0][0], lesson_completed=rows[0][2], cards_written=True, committed=True)
        rows = write_rows(session, _INSERT_WITH_ANSWERS_AND_CARDS, params)
    if not rows:
        return None
    attempt_id, inserted, lesson_completed = rows[0][0], set(rows[0][1]), rows[0][2]
    _insert_answers(session, attempt_id, [answer for answer in answers if answer.position not in inserted])
    if cards is not None:
        return RecordedAttempt(attempt_id, lesson_completed=lesson_completed, cards_written=True)
    # A row per card (one row, its card columns NULL, when the learner has none of them).
    card_rows = [dict(zip(_CARD_KEYS, row[3:], strict=True)) for row in rows if row[3] is not None]
    return RecordedAttempt(attempt_id, card_rows, lesson_completed)


def _insert_step_by_step(session: Session, attempt: dict, answers: Sequence[NewAnswer]) -> RecordedAttempt | None:
    attempt_id = session.scalar(
        sqlite_insert(cast(Table, QuizAttempt.__table__))
        .values(**attempt)
        .on_conflict_do_nothing(index_elements=["user_id", "submission_key"])
        .returning(QuizAttempt.__table__.c.id)
    )
    if attempt_id is None:
        return None
    _insert_answers(session, attempt_id, answers)
    return RecordedAttempt(attempt_id)


def _insert_answers(session: Session, attempt_id: int, answers: Sequence[NewAnswer]) -> None:
    """Insert answers, storing the versions they show that are not stored yet."""
    if not answers:
        return
    version_ids = shown_question_ids(session, [answer.version for answer in answers])
    session.execute(
        insert(_ANSWERS),
        [
            {
                "attempt_id": attempt_id,
                "question_id": answer.question_id,
                "position": answer.position,
                "shown_question_id": version_id,
                "is_correct": answer.is_correct,
                "choice_order": answer.choice_order,
                "chosen": answer.chosen,
            }
            for answer, version_id in zip(answers, version_ids, strict=True)
        ],
    )
