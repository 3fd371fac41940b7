"""The health check: a reachable database passes, a failing one is reported and leaves the session usable."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.jobs.heartbeat import GONE_AFTER, beat, start_heartbeat, worker_last_seen
from app.services.health import database_reachable, queue_reachable, queue_state


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


def test_the_queue_state_counts_the_jobs_waiting_and_reads_the_workers_heartbeat(tmp_path):
    from huey import SqliteHuey

    queue = SqliteHuey("health", filename=str(tmp_path / "jobs.sqlite"))
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert queue_state(SimpleNamespace(immediate=True)) is None

    never = queue_state(queue, now=now)
    assert (never.reachable, never.waiting, never.worker_seen, never.worker_running, never.stalled) == (
        True,
        0,
        None,
        False,
        False,  # nothing waits: nothing is held back yet
    )

    for _ in range(3):
        queue.storage.enqueue(b"a job")  # what it holds does not matter: only counted
    assert queue_state(queue, now=now).stalled  # jobs wait, no worker ever seen

    beat(queue, at=(now - GONE_AFTER).timestamp())
    at_the_limit = queue_state(queue, now=now)
    assert at_the_limit.worker_seen == now - GONE_AFTER and at_the_limit.waiting == 3
    assert at_the_limit.worker_running and not at_the_limit.stalled
    gone = queue_state(queue, now=now + timedelta(seconds=1))
    assert not gone.worker_running and gone.stalled

    unreachable = queue_state(SimpleNamespace(immediate=False, pending_count=lambda: 1 / 0))
    assert (unreachable.reachable, unreachable.stalled) == (False, False)


def test_the_heartbeat_beats_at_once_then_every_interval_until_stopped(tmp_path):
    from huey import SqliteHuey

    queue = SqliteHuey("health", filename=str(tmp_path / "jobs.sqlite"))
    stop = start_heartbeat(queue, every=0.05)
    try:
        deadline = time.monotonic() + 5
        while worker_last_seen(queue) is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        first = worker_last_seen(queue)
        while worker_last_seen(queue) == first:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        stop()
    last = worker_last_seen(queue)
    time.sleep(0.2)
    assert worker_last_seen(queue) == last  # stopped: no more beats
    assert abs((datetime.now(UTC) - last).total_seconds()) < 5


def test_a_heartbeat_that_cannot_be_written_does_not_stop_the_beating():
    tries = []

    class Flaky:
        def put(self, key, value):
            tries.append(value)
            if len(tries) == 1:
                raise ConnectionError("Redis is down")

    stop = start_heartbeat(Flaky(), every=0.02)
    try:
        deadline = time.monotonic() + 5
        while len(tries) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        stop()
