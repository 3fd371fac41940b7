"""Reads outside the session's transaction (app/services/reads.py), on SQLite and PostgreSQL."""

import gc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, create_engine, event, literal_column, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from app.extensions import db
from app.models import Choice, CounsellorLink, Course, Lesson, LessonProgress, ProgressView, QuizAttempt, Role, User
from app.models.types import utcnow
from app.services.progress import _VERSION_AND_PROGRESS
from app.services.reads import Read, read_in_autocommit, read_rows
from app.services.sharing import _SHARING_OVERVIEW
from app.services.signed_in_user import _USER_BY_SESSION
from app.services.user_sessions import SessionLimits, session_token_hash, user_session_start
from tests.conftest import count_queries, create_user

PROGRESS = select(LessonProgress.lesson_id, LessonProgress.opened_at).where(
    LessonProgress.user_id == bindparam("user_id")
)


def first_lesson_id(session) -> int:
    return session.scalar(select(Lesson.id).order_by(Lesson.id).limit(1))


def fresh_request(session) -> None:
    """Nothing pending and no transaction, as at the start of a request."""
    session.commit()
    session.close()


def session_is_idle() -> bool:
    return not db.session().in_transaction()


def driver_autocommits(connection) -> bool:
    """Whether the driver's own connection under a SQLAlchemy Connection is in autocommit now."""
    driver = connection.connection.driver_connection
    return driver.isolation_level is None if db.engine.dialect.name == "sqlite" else driver.autocommit


def test_an_idle_session_reads_in_one_statement_outside_and_stays_idle(app, session, course, learner):
    fresh_request(session)
    with count_queries(db.engine) as counted:
        rows = read_rows(db.session, PROGRESS, {"user_id": learner})

    assert rows == []
    assert counted() == 1
    assert session_is_idle()  # the read did not open the session's transaction


def test_a_read_sees_what_the_request_wrote_but_has_not_committed(app, session, course, learner):
    lesson_id = first_lesson_id(session)
    fresh_request(session)
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
    fresh_request(session)

    [(_, opened_at)] = read_rows(db.session, PROGRESS, {"user_id": learner})

    assert opened_at == local and opened_at.tzinfo == UTC and opened_at.hour == 12


# --- both paths give the same rows --------------------------------------------------------


def the_ordinary_path(session, statement, params) -> list[tuple]:
    """The same statement through the ORM session, in its transaction (then rolled back)."""
    rows = [tuple(row) for row in session.execute(statement, params)]
    session.rollback()
    return rows


@contextmanager
def connections_opened() -> Iterator[list]:
    """The SQLAlchemy Connections opened in the block (a Read on the driver's cursor opens none)."""
    opened: list = []

    def on_connect(connection):
        opened.append(connection)

    event.listen(db.engine, "engine_connect", on_connect)
    try:
        yield opened
    finally:
        event.remove(db.engine, "engine_connect", on_connect)


def three_ways(session, read: Read, params: dict) -> list[tuple]:
    """A Read's rows on the driver's cursor, checked against Core in autocommit and the ORM session."""
    with connections_opened() as opened:
        on_the_driver = read_rows(db.session, read, params)
    assert opened == [], "the Read did not run on the driver's cursor"
    assert session_is_idle()
    in_core = read_in_autocommit(db.engine, read.statement, params)
    through_the_session = the_ordinary_path(session, read.statement, params)
    assert on_the_driver == in_core == through_the_session
    return on_the_driver


def test_every_column_type_comes_back_as_through_the_session(app, session, course, learner):
    lesson_id = first_lesson_id(session)
    session.execute(Course.__table__.update().values(reviewed_on=date(2026, 3, 1), next_review_on=date(2027, 3, 1)))
    session.get(Lesson, lesson_id).sources = [{"title": "A source", "url": None}]
    opened = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    session.add(LessonProgress(user_id=learner, lesson_id=lesson_id, opened_at=opened, completed_at=utcnow()))
    fresh_request(session)
    read = Read(
        select(
            Course.reviewed_on,  # Date
            Course.pass_mark,  # Float
            Course.updated_at,  # UTCDateTime (a TypeDecorator)
            Lesson.sources,  # JSON
            Lesson.retired_at,  # NULL
            Choice.is_correct,  # Boolean
            User.is_active,
            User.role,
            LessonProgress.completed_at,
        )
        .join(Lesson, Lesson.course_id == Course.id)
        .join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
        .join(User, User.id == LessonProgress.user_id)
        .join(Choice, Choice.question_id.is_not(None))  # every choice, for both booleans
        .where(
            User.id == bindparam("user_id"),
            User.is_active == bindparam("active"),  # parameters go through their types too:
            LessonProgress.opened_at == bindparam("opened"),  # an aware time, stored in UTC
        )
        .order_by(Choice.id)
    )
    in_paris = opened.astimezone(timezone(timedelta(hours=2)))

    rows = three_ways(session, read, {"user_id": learner, "active": True, "opened": in_paris})

    assert len(rows) > 1
    reviewed_on, pass_mark, updated_at, sources, retired_at, is_correct, is_active, role, completed_at = rows[0]
    assert type(reviewed_on) is date and reviewed_on == date(2026, 3, 1)
    assert isinstance(pass_mark, float)
    assert updated_at.tzinfo == UTC and completed_at.tzinfo == UTC
    assert sources == [{"title": "A source", "url": None}]
    assert retired_at is None
    assert {type(row[5]) for row in rows} == {bool} and {row[5] for row in rows} == {True, False}
    assert is_active is True and role == "learner"


def test_the_apps_registered_reads_give_the_same_rows_every_way(app, session, course, learner):
    counsellor = create_user(app, "counsellor@example.org", role=Role.COUNSELLOR)
    lesson_id = first_lesson_id(session)
    slug = session.scalar(select(Course.slug))
    user = session.get(User, learner)
    token = user_session_start(
        session, user=user, remember=True, now=utcnow(), limits=SessionLimits.from_config(app.config)
    )
    session.add(LessonProgress(user_id=learner, lesson_id=lesson_id, opened_at=utcnow(), completed_at=utcnow()))
    session.add(CounsellorLink(counsellor_id=counsellor, learner_id=learner))
    session.add(ProgressView(viewer_id=counsellor, learner_id=learner, viewer_role=Role.COUNSELLOR))
    session.add(
        QuizAttempt(
            user_id=learner,
            lesson_id=lesson_id,
            submission_key="a" * 32,
            question_count=5,
            correct_count=4,
            score=0.8,
            pass_mark=0.8,
            passed=True,
        )
    )
    fresh_request(session)
    reads = [
        (_USER_BY_SESSION, {"token_hash": session_token_hash(token)}),
        (_SHARING_OVERVIEW, {"learner_id": learner, "view_limit": 100}),
        (_VERSION_AND_PROGRESS[(False, True, False)], {"slug": slug, "learner_id": learner}),
        (_VERSION_AND_PROGRESS[(True, True, False)], {"learner_id": learner}),
        (_VERSION_AND_PROGRESS[(False, False, False)], {"slug": slug}),
        (_VERSION_AND_PROGRESS[(True, False, False)], {}),
        (_VERSION_AND_PROGRESS[(False, True, True)], {"slug": slug, "learner_id": learner}),
        (_VERSION_AND_PROGRESS[(True, True, True)], {"learner_id": learner}),
    ]

    for read, params in reads:
        assert three_ways(session, read, params), read
    # With attempts, the attempt's row comes back typed: an aware time, a boolean.
    (attempt_row,) = [row for row in three_ways(session, *reads[-1]) if row[5] is not None]
    assert attempt_row[2] == lesson_id and attempt_row[6].tzinfo is not None and attempt_row[9] is True


def test_a_read_sqlalchemy_must_render_at_execution_runs_in_core(app, session, course, learner, other_learner):
    fresh_request(session)
    read = Read(select(User.id).where(User.id.in_(bindparam("ids", expanding=True))).order_by(User.id))

    with connections_opened() as opened:
        rows = read_rows(db.session, read, {"ids": [learner, other_learner]})

    assert rows == [(learner,), (other_learner,)]
    assert len(opened) == 1  # an ordinary Connection, in autocommit
    assert session_is_idle()


# --- SQLAlchemy's machinery, not a copy of it ---------------------------------------------


def test_a_thousand_statements_built_per_call_leave_no_thousand_entries(app, session, course, learner):
    fresh_request(session)
    alive = []
    for n in range(1000):
        statement = select(literal_column(str(n)).label(f"n{n}"), User.id).where(User.id == bindparam("user_id"))
        assert read_rows(db.session, statement, {"user_id": learner}) == [(n, learner)]
        alive.append(weakref.ref(statement))
        del statement
    gc.collect()

    still_alive = sum(ref() is not None for ref in alive)
    cache = db.engine._compiled_cache  # SQLAlchemy's LRU, sized by query_cache_size
    assert still_alive < 1000, "every statement kept alive"
    assert len(cache) <= cache.capacity * (1 + cache.threshold) < 1000


def test_reads_made_per_call_leave_nothing_behind(app, session, course, learner):
    fresh_request(session)
    alive = []
    for n in range(100):
        read = Read(select(literal_column(str(n)).label(f"n{n}"), User.id).where(User.id == bindparam("user_id")))
        assert read_rows(db.session, read, {"user_id": learner}) == [(n, learner)]
        alive.append((weakref.ref(read), weakref.ref(read.statement)))
        del read
    gc.collect()

    assert [(r(), s()) for r, s in alive if r() is not None or s() is not None] == []


def listened(statement, params) -> list[tuple]:
    """Run a read while a statement listener is registered; what the listener saw of each statement."""
    seen = []

    def after(conn, cursor, sql, parameters, context, executemany):
        seen.append((conn, context, driver_autocommits(conn)))

    event.listen(db.engine, "after_cursor_execute", after)
    try:
        read_rows(db.session, statement, params)
    finally:
        event.remove(db.engine, "after_cursor_execute", after)
    return seen


def test_statement_listeners_see_every_read_with_its_connection_and_context(app, session, course, learner):
    fresh_request(session)

    for statement in (PROGRESS, Read(PROGRESS)):  # a Read too leaves the driver's cursor to be seen
        [(conn, context, autocommit)] = listened(statement, {"user_id": learner})
        assert conn is not None and context is not None
        assert autocommit
        assert session_is_idle()


def test_the_connection_goes_back_to_the_pool_out_of_autocommit(app, session, course, learner):
    lesson_id = first_lesson_id(session)
    fresh_request(session)
    for statement in (PROGRESS, Read(PROGRESS)):
        db.engine.dispose()  # an empty pool: the read's connection is the one the session gets next
        read_rows(db.session, statement, {"user_id": learner})

        session.add(LessonProgress(user_id=learner, lesson_id=lesson_id))
        session.flush()
        assert not driver_autocommits(session.connection())
        session.rollback()

        assert read_rows(db.session, statement, {"user_id": learner}) == []  # the write was undone


def _drop(dbapi_connection) -> None:
    """Cut a pooled connection from the database behind the pool's back, as a restart would."""
    if db.engine.dialect.name == "sqlite":
        dbapi_connection.close()
        return
    other = create_engine(db.engine.url, poolclass=NullPool)
    try:
        with other.connect() as killer:
            pid = dbapi_connection.info.backend_pid
            killer.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    finally:
        other.dispose()


def test_a_read_on_a_dropped_connection_is_run_again_on_a_new_one(app, session, course, learner):
    lesson_id = first_lesson_id(session)
    session.add(LessonProgress(user_id=learner, lesson_id=lesson_id))
    fresh_request(session)
    attempts = []

    def drop_the_first(conn, cursor, statement, parameters, context, executemany):
        attempts.append(conn.connection.dbapi_connection)
        if len(attempts) == 1:
            _drop(conn.connection.dbapi_connection)

    event.listen(db.engine, "before_cursor_execute", drop_the_first)
    try:
        rows = read_rows(db.session, PROGRESS, {"user_id": learner})
    finally:
        event.remove(db.engine, "before_cursor_execute", drop_the_first)

    assert [row[0] for row in rows] == [lesson_id]
    assert len(attempts) == 2 and attempts[0] is not attempts[1]  # a new connection, not the dead one
    assert read_rows(db.session, PROGRESS, {"user_id": learner}) == rows  # and the pool works on


def test_a_read_whose_pooled_connection_was_dropped_is_recovered(app, session, course, learner):
    lesson_id = first_lesson_id(session)
    session.add(LessonProgress(user_id=learner, lesson_id=lesson_id))
    fresh_request(session)
    made = []

    def on_connect(dbapi_connection, record):
        made.append(dbapi_connection)

    db.engine.dispose()
    event.listen(db.engine, "connect", on_connect)
    try:
        read = Read(PROGRESS)
        first = read_rows(db.session, read, {"user_id": learner})
        assert len(made) == 1  # the pool holds this one connection now

        _drop(made[0])  # the database restarts while the connection waits in the pool
        again = read_rows(db.session, read, {"user_id": learner})
    finally:
        event.remove(db.engine, "connect", on_connect)

    assert [row[0] for row in first] == [lesson_id]
    assert again == first
    assert len(made) >= 2  # a new connection answered; the dead one was discarded
    assert read_rows(db.session, read, {"user_id": learner}) == first


def test_a_read_that_fails_for_another_reason_is_not_run_again(app, session, course, learner):
    fresh_request(session)
    with count_queries(db.engine) as counted, pytest.raises(DBAPIError) as failed:
        read_rows(db.session, select(literal_column("no_such_column")).select_from(User), {})

    assert not failed.value.connection_invalidated
    assert counted() == 1


# --- the user read outside the session ----------------------------------------------------


def test_a_user_read_outside_can_still_be_changed_and_saved(app, learner):
    from app.auth.routes import load_user

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


def test_a_read_with_a_percent_sign_and_a_value_used_twice_gives_sqlalchemys_rows(app, session, course, learner):
    """The driver's way converts the placeholders once (PostgreSQL's $n on psycopg): a literal %
    and a parameter named twice come out as through SQLAlchemy."""
    create_user(app, "percent%sign@example.org", name="Per Cent")
    fresh_request(session)
    read = Read(
        select(User.email, literal_column("'100%'"))
        .where((User.email.like("%\\%%", escape="\\")) | (User.id == bindparam("user_id")))
        .where(User.id != bindparam("user_id") + 1000000)
        .order_by(User.email)
    )
    through_driver = read_rows(db.session, read, {"user_id": learner})
    with count_queries(db.engine):  # listened to: SQLAlchemy's own path
        through_sqlalchemy = read_rows(db.session, read, {"user_id": learner})
    assert through_driver == through_sqlalchemy
    assert [row[0] for row in through_driver] == sorted(["learner@example.org", "percent%sign@example.org"])
    assert {row[1] for row in through_driver} == {"100%"}


# --- reads before the request's session has started ----------------------------------------


def test_a_read_before_any_session_starts_none(app, session, course, learner):
    lesson_id = first_lesson_id(session)
    session.add(LessonProgress(user_id=learner, lesson_id=lesson_id))
    session.commit()
    db.session.remove()  # as at the start of a request

    for statement in (PROGRESS, Read(PROGRESS)):
        rows = read_rows(db.session, statement, {"user_id": learner})
        assert [row[0] for row in rows] == [lesson_id]
        assert not db.session.registry.has()  # no ORM session made, none to close at the end


def test_without_an_engine_to_read_from_a_read_starts_the_session_as_before(app, session, course, learner, monkeypatch):
    from app.services import reads

    monkeypatch.setitem(reads._ENGINE_FINDERS, db.session, lambda: None)  # as with several binds
    db.session.remove()

    assert read_rows(db.session, PROGRESS, {"user_id": learner}) == []
    assert db.session.registry.has()
    assert session_is_idle()  # started, but no transaction: still read outside one


def test_an_app_with_other_binds_names_no_engine_to_read_from(app, session, monkeypatch):
    from app.extensions import Database, _the_only_engine

    assert _the_only_engine() is db.engine
    engines = {None: db.engine, "archive": db.engine}
    monkeypatch.setattr(Database, "engines", property(lambda self: engines))

    assert _the_only_engine() is None  # a table might live elsewhere: reads start the session
