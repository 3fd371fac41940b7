"""A registered write on the driver in the session's transaction (app/services/writes.py), on
SQLite and PostgreSQL: the same rows and changes as SQLAlchemy's path, the session's transaction,
SQLAlchemy's exceptions; and a write committed by itself (``write_alone``), only while the session
has nothing under way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Integer, bindparam, column, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, InvalidRequestError

from app.extensions import db
from app.models import Lesson, LessonProgress
from app.models.types import UTCDateTime
from app.services.writes import Write, write_alone, write_rows
from tests.conftest import count_queries
from tests.services.test_reads import _drop

# A progress row in, its id and opened time back (a time: the one column with a result processor).
OPEN_LESSON = Write(
    text(
        "INSERT INTO lesson_progress (user_id, lesson_id, opened_at) VALUES (:user_id, :lesson_id, :opened_at) "
        "RETURNING id, opened_at"
    )
    .bindparams(bindparam("opened_at", type_=UTCDateTime()))
    .columns(column("id", Integer), column("opened_at", UTCDateTime()))
)
# No rows back.
FORGET_LESSON = Write(text("DELETE FROM lesson_progress WHERE user_id = :user_id").columns())


def first_lesson_id(session) -> int:
    return session.scalar(select(Lesson.id).order_by(Lesson.id).limit(1))


def progress_rows(session, user_id: int) -> int:
    return session.scalar(select(func.count()).where(LessonProgress.user_id == user_id))


def test_a_write_returns_what_sqlalchemy_returns_in_the_sessions_transaction(session, course, learner):
    lesson_id = first_lesson_id(session)
    session.commit()
    # Given in another zone: stored and returned as the same instant, aware, in UTC.
    opened = datetime(2026, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))

    ((progress_id, opened_at),) = write_rows(
        db.session, OPEN_LESSON, {"user_id": learner, "lesson_id": lesson_id, "opened_at": opened}
    )

    assert db.session().in_transaction()  # the session's own: nothing committed yet
    assert opened_at == opened and opened_at.tzinfo is not None and opened_at.utcoffset() == timedelta(0)
    assert session.get(LessonProgress, progress_id).opened_at == opened
    session.rollback()
    assert progress_rows(session, learner) == 0

    ((again_id, again_at),) = write_rows(
        db.session, OPEN_LESSON, {"user_id": learner, "lesson_id": lesson_id, "opened_at": opened}
    )
    session.commit()
    assert progress_rows(session, learner) == 1 and again_at == opened.astimezone(UTC)
    # SQLAlchemy's own path (taken while statements are listened to) gives the same values.
    assert write_rows(db.session, FORGET_LESSON, {"user_id": learner}) == []
    with count_queries(db.engine) as counted:
        ((_, through_sqlalchemy),) = write_rows(
            db.session, OPEN_LESSON, {"user_id": learner, "lesson_id": lesson_id, "opened_at": opened}
        )
    assert counted() == 1
    assert through_sqlalchemy == again_at and type(through_sqlalchemy) is type(again_at)


def test_a_write_that_breaks_a_unique_key_raises_sqlalchemys_integrity_error(session, course, learner):
    lesson_id = first_lesson_id(session)
    params = {"user_id": learner, "lesson_id": lesson_id, "opened_at": datetime.now(UTC)}
    write_rows(db.session, OPEN_LESSON, params)
    session.commit()

    with pytest.raises(IntegrityError):
        write_rows(db.session, OPEN_LESSON, params)
    session.rollback()  # as the submission does on it
    assert progress_rows(session, learner) == 1


def test_a_missing_parameter_is_refused_as_sqlalchemy_refuses_it(session, course, learner):
    session.commit()
    with pytest.raises(InvalidRequestError, match="opened_at"):
        write_rows(db.session, OPEN_LESSON, {"user_id": learner, "lesson_id": first_lesson_id(session)})
    session.rollback()
    assert progress_rows(session, learner) == 0


def test_a_write_on_a_dropped_connection_is_sqlalchemys_error_and_the_connection_is_discarded(session, course, learner):
    lesson_id = first_lesson_id(session)
    session.commit()
    connection = session.connection()
    dead = connection.connection.dbapi_connection
    _drop(dead)

    with pytest.raises(DBAPIError) as failed:
        write_rows(
            db.session, OPEN_LESSON, {"user_id": learner, "lesson_id": lesson_id, "opened_at": datetime.now(UTC)}
        )

    assert failed.value.connection_invalidated
    session.rollback()
    # The next transaction runs on a new connection.
    write_rows(db.session, OPEN_LESSON, {"user_id": learner, "lesson_id": lesson_id, "opened_at": datetime.now(UTC)})
    assert session.connection().connection.dbapi_connection is not dead
    session.commit()
    assert progress_rows(session, learner) == 1


def pooled_connections_in_autocommit(engine) -> list[bool]:
    """Whether each connection resting in the engine's pool is in autocommit (none should be)."""
    checked_out = [engine.raw_connection() for _ in range(engine.pool.checkedin())]
    try:
        return [getattr(pooled.dbapi_connection, "autocommit", False) is True for pooled in checked_out]
    finally:
        for pooled in checked_out:
            pooled.close()


def rows_seen_elsewhere(user_id: int) -> int:
    """The learner's progress rows as another connection sees them: only what is committed."""
    with db.engine.connect() as other:
        return other.scalar(select(func.count()).where(LessonProgress.user_id == user_id))


def test_a_write_alone_is_committed_by_itself_and_leaves_the_session_idle(session, course, learner):
    lesson_id = first_lesson_id(session)
    session.commit()  # nothing under way
    opened = datetime(2026, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))

    rows = write_alone(db.session, OPEN_LESSON, {"user_id": learner, "lesson_id": lesson_id, "opened_at": opened})

    ((progress_id, opened_at),) = rows
    assert opened_at == opened and opened_at.utcoffset() == timedelta(0)
    assert not db.session().in_transaction()  # the session began nothing
    assert rows_seen_elsewhere(learner) == 1  # committed without a commit of the session's
    assert not any(pooled_connections_in_autocommit(db.engine))  # its connection went back as it came
    # While statements are listened to, SQLAlchemy's path commits it by itself the same way.
    with count_queries(db.engine) as counted:
        assert write_alone(db.session, FORGET_LESSON, {"user_id": learner}) == []
    assert counted() == 1 and not db.session().in_transaction()
    assert rows_seen_elsewhere(learner) == 0


@pytest.mark.parametrize("under_way", ["a transaction", "an unsaved change"])
def test_a_write_alone_runs_nothing_while_the_session_has_work_under_way(session, course, learner, under_way):
    lesson_id = first_lesson_id(session)
    session.commit()
    if under_way == "a transaction":
        session.scalar(select(func.count()).select_from(Lesson))
    else:
        session.add(LessonProgress(user_id=learner, lesson_id=lesson_id, opened_at=datetime.now(UTC)))

    params = {"user_id": learner, "lesson_id": lesson_id, "opened_at": datetime.now(UTC)}
    assert write_alone(db.session, OPEN_LESSON, params) is None

    session.rollback()
    assert rows_seen_elsewhere(learner) == 0


def test_a_write_alone_that_fails_saves_nothing_and_raises_sqlalchemys_error(session, course, learner):
    lesson_id = first_lesson_id(session)
    params = {"user_id": learner, "lesson_id": lesson_id, "opened_at": datetime.now(UTC)}
    write_rows(db.session, OPEN_LESSON, params)
    session.commit()

    with pytest.raises(IntegrityError):
        write_alone(db.session, OPEN_LESSON, params)
    with pytest.raises(InvalidRequestError, match="opened_at"):
        write_alone(db.session, OPEN_LESSON, {"user_id": learner, "lesson_id": lesson_id})

    assert rows_seen_elsewhere(learner) == 1
    assert not any(pooled_connections_in_autocommit(db.engine))
    # The pool's connections still hold transactions: a write in the session's is rolled back.
    write_rows(db.session, FORGET_LESSON, {"user_id": learner})
    session.rollback()
    assert rows_seen_elsewhere(learner) == 1


def test_a_write_alone_on_a_dropped_connection_is_sqlalchemys_error_and_the_connection_is_discarded(
    session, course, learner
):
    lesson_id = first_lesson_id(session)
    session.commit()
    db.engine.dispose()  # the pool empty: write_alone takes the one connection below
    pooled = db.engine.raw_connection()
    dead = pooled.dbapi_connection
    pooled.close()
    _drop(dead)

    params = {"user_id": learner, "lesson_id": lesson_id, "opened_at": datetime.now(UTC)}
    try:
        write_alone(db.session, OPEN_LESSON, params)
        wrote = True
    except DBAPIError as failed:
        assert failed.connection_invalidated
        wrote = False
    # sqlite3 knows its connection closed before anything is sent: the write is made on a new
    # one. PostgreSQL's drop shows only as the statement goes: whether it ran is unknown, so it is
    # raised (as SQLAlchemy would); the next write gets a new connection.
    assert wrote == (db.engine.dialect.name == "sqlite")
    if not wrote:
        write_alone(db.session, OPEN_LESSON, params)
    assert rows_seen_elsewhere(learner) == 1
    fresh = db.engine.raw_connection()
    try:
        assert fresh.dbapi_connection is not dead
    finally:
        fresh.close()
