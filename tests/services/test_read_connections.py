"""Connections kept in autocommit for Reads on psycopg (app/services/read_connections.py)."""

import pytest
from sqlalchemy import bindparam, create_engine, func, select, text
from sqlalchemy.pool import NullPool

from app.extensions import db
from app.models import LessonProgress
from app.services import read_connections
from app.services.reads import Read, read_rows

BACKEND = Read(select(func.pg_backend_pid().label("pid"), bindparam("tag")))
PROGRESS = Read(select(LessonProgress.lesson_id).where(LessonProgress.user_id == bindparam("user_id")))


@pytest.fixture(autouse=True)
def _postgresql_only(ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("connections are kept for psycopg only; SQLite reads on the pool's")
    db.engine.dispose()  # each test starts with no connection kept (the tests before leave theirs)


def backend_pid() -> int:
    return read_rows(db.session, BACKEND, {"tag": "x"})[0][0]


def kill(connection) -> None:
    """End a kept connection's backend behind its back, as a database restart would."""
    other = create_engine(db.engine.url, poolclass=NullPool)
    try:
        with other.connect() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": connection.info.backend_pid})
    finally:
        other.dispose()


def test_reads_use_one_kept_connection_in_autocommit_outside_the_pool(app, learner):
    pids = {backend_pid() for _ in range(5)}

    assert len(pids) == 1  # one connection, used again and again
    (kept,) = read_connections.idle(db.engine)
    assert kept.connection.autocommit
    assert kept.connection.info.backend_pid in pids
    assert db.engine.pool.checkedout() == 0  # nothing borrowed from the pool is still out
    with db.engine.connect() as pooled:  # and the pool's own connections are another
        assert pooled.connection.dbapi_connection is not kept.connection
        assert not pooled.connection.dbapi_connection.autocommit


def test_a_read_on_a_kept_connection_sees_what_others_committed(app, learner, session, course):
    from app.models import Lesson

    assert read_rows(db.session, PROGRESS, {"user_id": learner}) == []
    lesson_id = session.scalar(select(Lesson.id).limit(1))
    session.add(LessonProgress(user_id=learner, lesson_id=lesson_id))
    session.commit()

    assert read_rows(db.session, PROGRESS, {"user_id": learner}) == [(lesson_id,)]


def test_a_kept_connection_that_dropped_is_closed_and_the_read_still_answered(app, learner):
    first = backend_pid()
    (kept,) = read_connections.idle(db.engine)
    kill(kept.connection)

    again = backend_pid()  # answered the ordinary way, not an error page

    assert again != first
    assert kept.connection.closed
    assert kept not in read_connections.idle(db.engine)
    assert backend_pid() != first  # the next read opens a connection of its own


def test_disposing_of_the_engine_closes_its_idle_kept_connections(app, learner):
    backend_pid()
    (kept,) = read_connections.idle(db.engine)

    db.engine.dispose()

    assert kept.connection.closed
    assert read_connections.idle(db.engine) == ()
    backend_pid()  # reads go on, on a new connection
    (new,) = read_connections.idle(db.engine)
    assert new is not kept and not new.connection.closed


def test_no_more_than_kept_connections_stay_idle(app):
    taken = [read_connections.take(db.engine) for _ in range(read_connections.KEPT + 2)]
    assert all(kept is not None for kept in taken)

    for kept in taken:
        read_connections.give_back(db.engine, kept)

    idle = read_connections.idle(db.engine)
    assert len(idle) == read_connections.KEPT
    assert [kept.connection.closed for kept in taken if kept not in idle] == [True, True]


def test_after_a_fork_the_parents_connections_are_neither_used_nor_closed(app, monkeypatch):
    parents_pid = backend_pid()
    (parents,) = read_connections.idle(db.engine)
    monkeypatch.setattr(read_connections.os, "getpid", lambda: -1)  # as a forked child sees it: another process

    childs_pid = backend_pid()

    assert childs_pid != parents_pid
    assert not parents.connection.closed  # closing it would end it for the parent
    (childs,) = read_connections.idle(db.engine)
    assert childs is not parents
    monkeypatch.undo()
    for kept in (parents, childs):  # really one process's: closed here, as a test leaves nothing open
        kept.connection.close()
