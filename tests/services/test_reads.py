"""Reads outside the session's transaction (app/services/reads.py), on both databases."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import Lesson, LessonProgress, User
from app.services.reads import read_rows
from tests.conftest import count_queries

PROGRESS = select(LessonProgress.lesson_id, LessonProgress.opened_at).where(
    LessonProgress.user_id == bindparam("user_id")
)


def first_lesson_id(session) -> int:
    return session.scalar(select(Lesson.id).order_by(Lesson.id).limit(1))


def test_an_idle_session_reads_in_one_statement_and_stays_idle_on_postgresql(app, session, course, learner):
    session.commit()  # nothing pending: a fresh request
    session.close()
    with count_queries(db.engine) as counted:
        rows = read_rows(db.session, PROGRESS, {"user_id": learner})

    assert rows == []
    assert counted() == 1
    # On PostgreSQL the read happened outside the session, which still has no transaction;
    # SQLite reads through the session.
    assert db.session().in_transaction() == (db.engine.dialect.name == "sqlite")


def test_a_read_sees_what_the_request_wrote_but_has_not_committed(app, session, course, learner):
    lesson_id = first_lesson_id(session)
    session.commit()
    session.close()
    opened = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    session.add(LessonProgress(user_id=learner, lesson_id=lesson_id, opened_at=opened))  # pending, not flushed

    assert read_rows(db.session, PROGRESS, {"user_id": learner}) == [(lesson_id, opened)]

    session.rollback()
    assert read_rows(db.session, PROGRESS, {"user_id": learner}) == []


def test_a_read_inside_a_transaction_sees_its_flushed_rows(app, session, course, learner):
    lesson_id = first_lesson_id(session)
    session.add(LessonProgress(user_id=learner, lesson_id=lesson_id))
    session.flush()

    assert [row[0] for row in read_rows(db.session, PROGRESS, {"user_id": learner})] == [lesson_id]
    session.rollback()


def test_timestamps_come_back_as_aware_utc(app, session, course, learner):
    lesson_id = first_lesson_id(session)
    local = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    session.add(LessonProgress(user_id=learner, lesson_id=lesson_id, opened_at=local))
    session.commit()
    session.close()

    [(_, opened_at)] = read_rows(db.session, PROGRESS, {"user_id": learner})

    assert opened_at == local and opened_at.tzinfo == UTC and opened_at.hour == 12


def test_a_user_read_outside_can_still_be_changed_and_saved(app, learner):
    from app.auth.routes import load_user
    from app.models.types import utcnow
    from app.services.user_sessions import SessionLimits, user_session_start

    with app.test_request_context():
        token = user_session_start(
            db.session,
            user=db.session.get(User, learner),
            remember=False,
            now=utcnow(),
            limits=SessionLimits.from_config(app.config),
        )
        db.session.remove()
        user = load_user(token)
        user.display_name = "Renamed"
        db.session.commit()
        db.session.remove()
        assert db.session.get(User, learner).display_name == "Renamed"


def postgresql_only():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the reads outside a transaction are PostgreSQL's")


def test_the_connection_goes_back_to_the_pool_out_of_autocommit(app, session, course, learner):
    postgresql_only()
    session.close()
    read_rows(db.session, PROGRESS, {"user_id": learner})

    raw = db.engine.raw_connection()  # the pool hands back the connection just used
    try:
        assert raw.driver_connection.autocommit is False
    finally:
        raw.close()


def test_a_connection_that_cannot_be_handed_back_clean_is_discarded(ctx):
    from app.services.reads import _hand_back

    postgresql_only()
    raw = db.engine.raw_connection()
    raw.driver_connection.execute("SELECT 1")  # leaves a transaction open, as an interrupted read might

    _hand_back(raw, raw.driver_connection, None)

    assert raw.dbapi_connection is None  # invalidated, never reused


def test_statement_timing_listeners_get_the_ordinary_path(app, session, course, learner):
    from sqlalchemy import event

    postgresql_only()
    session.close()
    timed = []

    def after(conn, cursor, statement, parameters, context, executemany):
        timed.append(context)

    event.listen(db.engine, "after_cursor_execute", after)
    try:
        read_rows(db.session, PROGRESS, {"user_id": learner})
    finally:
        event.remove(db.engine, "after_cursor_execute", after)

    assert len(timed) == 1 and timed[0] is not None
    assert db.session().in_transaction()
