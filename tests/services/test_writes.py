"""A registered write on the driver in the session's transaction (app/services/writes.py), on
SQLite and PostgreSQL: the same rows and changes as SQLAlchemy's path, the session's transaction,
SQLAlchemy's exceptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Integer, bindparam, column, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, InvalidRequestError

from app.extensions import db
from app.models import Lesson, LessonProgress
from app.models.types import UTCDateTime
from app.services.writes import Write, write_rows
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
