"""The job queue's set-up: the backend each config picks, reconfiguring the one Huey instance,
the app context jobs run in, the ``flask jobs`` commands and the count on the authoring home."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from app import create_app
from app.extensions import db
from app.jobs import huey, job
from app.jobs.queue import configure_queue, describe, redact
from app.models import Role
from app.models.types import utcnow
from app.services.job_failures import failure_record
from config import BASE_DIR
from tests.conftest import count_queries, create_user, login, make_test_config

SEEN: list[tuple[str, bool]] = []


@job(retries=0)
def note_the_app(label: str) -> None:
    SEEN.append((current_app.config["JOBS_QUEUE_NAME"], current_app.testing))
    SEEN.append((label, db.session is not None))


def queue_config(**overrides) -> dict:
    base = {
        "JOBS_BACKEND": "immediate",
        "JOBS_QUEUE_NAME": "naltrexone",
        "JOBS_SQLITE_PATH": Path("/nonexistent/jobs.sqlite"),
        "REDIS_URL": "",
    }
    return {**base, **overrides}


@pytest.fixture
def restore_queue():
    """Put the queue back in immediate mode, as every other test expects it."""
    yield
    configure_queue(queue_config())


def config_in_environment(**env: str) -> str:
    """JOBS_BACKEND as config.py derives it from a given environment, in a fresh interpreter."""
    clean = {"PATH": "/usr/bin:/bin", **env}
    result = subprocess.run(
        [sys.executable, "-c", "import config; print(config.Config.JOBS_BACKEND, config.Config.JOBS_SQLITE_PATH)"],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_redis_when_redis_url_is_set_else_a_sqlite_file_in_the_instance_folder():
    assert config_in_environment(REDIS_URL="redis://127.0.0.1:6379/0").startswith("redis ")
    assert config_in_environment() == f"sqlite {BASE_DIR / 'instance' / 'jobs.sqlite'}"
    assert config_in_environment(JOBS_SQLITE_PATH="/srv/site/q.sqlite") == "sqlite /srv/site/q.sqlite"


def test_tests_run_jobs_inline(app):
    assert app.config["JOBS_BACKEND"] == "immediate"
    assert huey.immediate and isinstance(huey.storage, MemoryStorage)


def test_init_jobs_points_the_one_huey_at_each_backend(tmp_path, restore_queue):
    path = tmp_path / "queue" / "jobs.sqlite"
    configure_queue(queue_config(JOBS_BACKEND="sqlite", JOBS_SQLITE_PATH=path, JOBS_QUEUE_NAME="q1"))
    assert not huey.immediate and isinstance(huey.storage, SqliteStorage)
    assert (huey.storage.filename, huey.storage.name, huey.name) == (str(path), "q1", "q1")
    sqlite_storage = huey.storage

    configure_queue(queue_config(JOBS_BACKEND="sqlite", JOBS_SQLITE_PATH=path, JOBS_QUEUE_NAME="q1"))
    assert huey.storage is sqlite_storage  # the same settings keep the same connection

    configure_queue(queue_config(JOBS_BACKEND="redis", REDIS_URL="redis://127.0.0.1:6399/3", JOBS_QUEUE_NAME="q2"))
    assert not huey.immediate and isinstance(huey.storage, RedisStorage)
    pool_settings = huey.storage.conn.connection_pool.connection_kwargs
    assert (pool_settings["port"], pool_settings["db"]) == (6399, 3)
    assert (pool_settings["socket_connect_timeout"], pool_settings["socket_timeout"]) == (1, 3)
    assert sqlite_storage._conn is None  # the previous storage was closed

    configure_queue(queue_config())
    memory = huey.storage
    assert huey.immediate and isinstance(memory, MemoryStorage)
    configure_queue(queue_config())
    assert huey.storage is not memory  # each immediate-mode app starts from an empty store


def test_an_unknown_backend_is_a_clear_error(restore_queue):
    with pytest.raises(RuntimeError, match="JOBS_BACKEND must be one of"):
        configure_queue(queue_config(JOBS_BACKEND="rabbit"))


def test_each_app_reconfigures_the_queue(tmp_path, restore_queue):
    create_app(make_test_config("sqlite://", JOBS_BACKEND="sqlite", JOBS_SQLITE_PATH=tmp_path / "j.sqlite"))
    assert isinstance(huey.storage, SqliteStorage) and not huey.immediate

    create_app(make_test_config("sqlite://"))
    assert isinstance(huey.storage, MemoryStorage) and huey.immediate


def test_a_job_runs_in_an_app_context_of_its_own(app):
    SEEN.clear()
    with app.test_request_context():
        outer = db.session()
        note_the_app("inside a request")
        assert SEEN == [("naltrexone", True), ("inside a request", True)]
        assert db.session() is outer  # the request's session is untouched

    SEEN.clear()
    note_the_app("no context at all")  # as in a worker thread: the app init_jobs saw
    assert SEEN == [("naltrexone", True), ("no context at all", True)]


def test_describe_says_which_queue_is_used():
    assert describe(queue_config(JOBS_BACKEND="sqlite", JOBS_SQLITE_PATH=Path.cwd() / "instance/jobs.sqlite")) == (
        "SQLite queue at instance/jobs.sqlite"
    )
    assert describe(queue_config(JOBS_BACKEND="redis", REDIS_URL="redis://:secret@cache:6379/0")) == (
        "Redis at redis://***@cache:6379/0, queue 'naltrexone'"
    )
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_the_worker_refuses_the_immediate_backend(runner):
    result = runner.invoke(args=["jobs", "worker"])

    assert result.exit_code == 1 and "immediate" in result.output


def add_failures(app, count: int, *, days_ago: float = 0) -> None:
    with app.app_context():
        for n in range(count):
            failure = failure_record(
                db.session, job_name="password_reset_mail", task_id=f"t{n}", tries=6, error=TimeoutError("timed out")
            )
            failure.failed_at = utcnow() - timedelta(days=days_ago)
        db.session.commit()
        db.session.remove()


def test_flask_jobs_failed_lists_time_job_tries_and_error(app, runner):
    assert "No failed jobs in the last 1 day(s)." in runner.invoke(args=["jobs", "failed"]).output
    add_failures(app, 1)
    add_failures(app, 1, days_ago=3)

    output = runner.invoke(args=["jobs", "failed"]).output
    assert "password_reset_mail  6 tries  TimeoutError: timed out" in output
    assert "1 failed job(s) in the last 1 day(s)." in output
    assert "2 failed job(s) in the last 7 day(s)." in runner.invoke(args=["jobs", "failed", "--days", "7"]).output


@pytest.fixture
def admin(app, client, course):
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    return client


def test_the_authoring_home_counts_the_last_days_failed_jobs(app, admin):
    assert "failed job" not in admin.get("/author/").get_data(as_text=True)

    add_failures(app, 1, days_ago=2)
    assert "failed job" not in admin.get("/author/").get_data(as_text=True)

    add_failures(app, 2)
    page = admin.get("/author/").get_data(as_text=True)
    assert "2 failed jobs in the last day" in page and "flask jobs failed" in page


def test_the_failed_job_count_costs_the_same_queries_however_many_failed(app, admin):
    add_failures(app, 1)
    admin.get("/author/")
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as counted:
        admin.get("/author/")
    before = counted()
    add_failures(app, 30)
    with count_queries(engine) as counted:
        assert "31 failed jobs" in admin.get("/author/").get_data(as_text=True)
    assert counted() == before
