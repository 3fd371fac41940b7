"""A database error says what happened: unreachable is a 503 with Retry-After, anything else a 500.

The statements here fail for real on the database under test (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set); tests/test_database_down.py stops a real PostgreSQL server.
"""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import exc as sqlalchemy_exc
from sqlalchemy import text

import app.main.routes as main_routes
from app import create_app
from app.errors import is_connection_error
from app.extensions import db
from app.models import Role, User
from tests.conftest import make_test_config

# A statement that fails on a working database, and the error each database raises for it.
FAILING_STATEMENTS = {
    # SQLite calls this an OperationalError, PostgreSQL a ProgrammingError: a 500 all the same.
    "missing table": "SELECT secret_column FROM no_such_table",
    # DataError on PostgreSQL; SQLite casts 'x' to 0 without complaint, so that case skips there.
    "bad value": "SELECT CAST('not a number' AS INTEGER)",
}


def _fail_in_the_view(monkeypatch, failure) -> None:
    """Make the home page's first read run ``failure`` instead."""
    monkeypatch.setattr(main_routes, "course_outline_by_slug", lambda *args, **kwargs: failure())


def _assert_friendly_500(response, caplog, *hidden: str) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 500, page[:300]
    assert "Retry-After" not in response.headers
    assert "Something went wrong on our side" in page
    for secret in ("Traceback", "sqlalchemy", "psycopg", "sqlite3", "SELECT", "INSERT", *hidden):
        assert secret not in page, secret
    # The log has the whole story, for us.
    assert "Database error" in caplog.text and "Traceback" in caplog.text


@pytest.mark.parametrize("statement", FAILING_STATEMENTS.values(), ids=FAILING_STATEMENTS.keys())
def test_a_failing_statement_is_a_logged_500_and_never_shown(app, learner_client, monkeypatch, caplog, statement):
    def run():
        return db.session.execute(text(statement)).all()

    with app.app_context():
        try:
            run()
        except sqlalchemy_exc.DBAPIError:
            pass
        else:
            pytest.skip(f"{db.engine.dialect.name} runs this statement without an error")
        finally:
            db.session.remove()
    _fail_in_the_view(monkeypatch, run)
    with caplog.at_level("ERROR"):
        response = learner_client.get("/")
    _assert_friendly_500(response, caplog, "no_such_table", "secret_column", "not a number")
    # The failed transaction was rolled back: the same signed-in client goes on normally.
    monkeypatch.undo()
    assert learner_client.get("/me/").status_code == 200


def test_a_broken_constraint_is_a_logged_500(app, learner, client, monkeypatch, caplog):
    def duplicate():
        twin = User(email="learner@example.org", display_name="Twin", password_hash="x", role=Role.LEARNER.value)
        db.session.add(twin)
        db.session.flush()

    _fail_in_the_view(monkeypatch, duplicate)
    with caplog.at_level("ERROR"):
        response = client.get("/")
    _assert_friendly_500(response, caplog, "learner@example.org", "UNIQUE", "unique")
    assert "IntegrityError" in caplog.text


def test_a_lost_connection_is_a_503_with_retry_after(app, client, monkeypatch, caplog):
    def lost():
        # What psycopg raises when the server is gone (no SQLSTATE: the client's own words),
        # wrapped by SQLAlchemy as it does when connecting.
        raise sqlalchemy_exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("connection failed: refused"))

    _fail_in_the_view(monkeypatch, lost)
    with caplog.at_level("ERROR"):
        response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "We are having trouble right now" in page and "refused" not in page and "Traceback" not in page
    assert "Database unreachable" in caplog.text and "Traceback" in caplog.text


def test_a_sqlite_file_that_cannot_be_opened_is_a_503(tmp_path):
    """A real connection failure: the database's path is a folder, which SQLite cannot open."""
    (tmp_path / "test.db").mkdir()
    app = create_app(make_test_config(f"sqlite:///{tmp_path / 'test.db'}", PROPAGATE_EXCEPTIONS=False))
    response = app.test_client().get("/")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "We are having trouble right now" in response.get_data(as_text=True)


def _wrapped(orig: psycopg.Error | sqlite3.Error) -> sqlalchemy_exc.DBAPIError:
    """``orig`` as SQLAlchemy hands it over: the matching subclass of DBAPIError."""
    driver_base = psycopg.Error if isinstance(orig, psycopg.Error) else sqlite3.Error
    wrapped = sqlalchemy_exc.DBAPIError.instance("SELECT 1", {}, orig, driver_base)
    assert isinstance(wrapped, sqlalchemy_exc.DBAPIError)
    return wrapped


def _sqlite_error(database: str, statement: str) -> sqlite3.Error:
    try:
        sqlite3.connect(database).execute(statement)
    except sqlite3.Error as error:
        return error
    raise AssertionError("the statement should have failed")


@pytest.mark.parametrize(
    ("error", "unreachable"),
    [
        # Connection errors: the database could not be reached.
        (sqlalchemy_exc.OperationalError("SELECT 1", {}, Exception("gone"), connection_invalidated=True), True),
        (psycopg.OperationalError("connection failed: Connection refused"), True),
        (psycopg.errors.lookup("08006")("connection failure"), True),
        (psycopg.errors.lookup("57P01")("terminating connection due to administrator command"), True),
        (psycopg.errors.lookup("57P03")("the database system is starting up"), True),
        (psycopg.errors.lookup("53300")("too many connections"), True),
        (_sqlite_error("/nonexistent-folder/test.db", "SELECT 1"), True),
        (sqlalchemy_exc.TimeoutError("QueuePool limit reached"), True),
        # The server answered: the statement or the data is wrong, and waiting does not help.
        (psycopg.errors.lookup("55P03")("could not obtain lock"), False),  # an OperationalError too
        (psycopg.errors.lookup("57014")("canceling statement due to statement timeout"), False),
        (psycopg.errors.lookup("23505")("duplicate key value"), False),
        (psycopg.errors.lookup("42P01")("relation does not exist"), False),
        (psycopg.errors.lookup("22P02")("invalid input syntax for type integer"), False),
        (_sqlite_error(":memory:", "SELECT * FROM no_such_table"), False),  # an OperationalError too
        (sqlite3.IntegrityError("UNIQUE constraint failed"), False),
        (sqlalchemy_exc.NoResultFound("no row"), False),
        (ZeroDivisionError(), False),
    ],
    ids=repr,
)
def test_which_errors_mean_the_database_is_unreachable(error, unreachable):
    assert is_connection_error(error) is unreachable
    if isinstance(error, (psycopg.Error, sqlite3.Error)):
        assert is_connection_error(_wrapped(error)) is unreachable
