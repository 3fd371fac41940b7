"""The health check: a reachable database passes, a failing one is reported and leaves the session usable."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.services.health import database_reachable


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
