"""The health check: a reachable database passes, a failing one is reported and leaves the session usable."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.services.health import database_reachable, queue_reachable


def test_a_reachable_database_is_healthy(session):
    assert database_reachable(session) is True


def test_a_failing_database_is_unhealthy_and_the_session_still_works(session, monkeypatch):
    real_execute = session.execute

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("down"))

    monkeypatch.setattr(session, "execute", broken)
    assert database_reachable(session) is False
    monkeypatch.setattr(session, "execute", real_execute)
    assert session.execute(text("SELECT 1")).scalar() == 1


def test_a_database_without_the_apps_tables_is_unhealthy(tmp_path):
    """SQLite makes a missing file silently: it answers SELECT 1, but no page can be served from it."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    with Session(create_engine(f"sqlite:///{tmp_path / 'empty.db'}")) as empty:
        assert empty.execute(text("SELECT 1")).scalar() == 1
        assert database_reachable(empty) is False


def test_the_queue_is_reported_unless_jobs_run_inline(tmp_path):
    from huey import SqliteHuey

    assert queue_reachable(SimpleNamespace(immediate=True)) is None
    assert queue_reachable(SqliteHuey("health", filename=str(tmp_path / "jobs.sqlite"))) is True
    from huey import RedisHuey

    from tests.mail_server import free_port

    nobody_there = RedisHuey("health", url=f"redis://127.0.0.1:{free_port()}/0")
    assert queue_reachable(nobody_there) is False
