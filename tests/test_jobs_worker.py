"""A real worker: Huey's consumer runs jobs from Redis (127.0.0.1:6379) and from the SQLite
queue, retries with backoff, and records the job that never succeeds; ``flask jobs worker``
starts, says which queue it works, beats (app/jobs/heartbeat.py), and stops on a signal; jobs
waiting with no worker running are shown to admins and on /healthz.

Each test has a queue name of its own, flushed afterwards. Without Redis the Redis tests are
skipped, saying why; under CI (E2E_REQUIRED=1 or CI=true) that is a failure instead.
"""

from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from flask import current_app
from huey.consumer import Consumer, Scheduler

from app import create_app
from app.extensions import db
from app.jobs import huey, job
from app.jobs.heartbeat import GONE_AFTER, beat, start_heartbeat, worker_last_seen
from app.jobs.queue import configure_queue
from app.models import Role
from app.models.types import utcnow
from app.services.job_failures import failures_since
from config import BASE_DIR, TestConfig
from tests.conftest import count_queries, create_user, login, make_test_config, visible_text
from tests.serving import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
REDIS_REQUIRED = TestConfig.E2E_REQUIRED or os.environ.get("CI") == "true"

# label -> one (monotonic time, retry delay of that try, queue name of the app it ran in) per try
TRIES: dict[str, list[tuple[float, float, str]]] = {}
_tries_lock = threading.Lock()


def _note_try(label: str, retry_delay: float) -> int:
    with _tries_lock:
        TRIES.setdefault(label, []).append((time.monotonic(), retry_delay, current_app.config["JOBS_QUEUE_NAME"]))
        return len(TRIES[label])


@job(retries=3, retry_delay=0.05, retry_backoff=2, context=True)
def fails_twice(label: str, task=None) -> None:
    if _note_try(label, task.retry_delay) <= 2:
        raise ConnectionError("the mail server did not answer")


@job(retries=2, retry_delay=0.05, retry_backoff=2, context=True)
def always_fails(label: str, task=None) -> None:
    _note_try(label, task.retry_delay)
    raise TimeoutError("the mail server never answers")


@job(retries=3, retry_delay=0.05, retry_backoff=2, context=True)
def mailbox_unknown(label: str, temporary: bool, task=None) -> None:
    _note_try(label, task.retry_delay)
    code = 451 if temporary else 550
    raise smtplib.SMTPRecipientsRefused({"nobody@example.org": (code, b"mailbox unavailable")})


@job()
def waits_for_a_worker(label: str) -> None:
    _note_try(label, 0.0)


def redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        if REDIS_REQUIRED:
            pytest.fail("Redis on 127.0.0.1:6379 is required here (E2E_REQUIRED or CI) but does not answer")
        pytest.skip("needs Redis on 127.0.0.1:6379")


def immediate_again() -> None:
    configure_queue(
        {name: getattr(TestConfig, name) for name in dir(TestConfig) if name.startswith(("JOBS_", "REDIS"))}
    )


@pytest.fixture(params=["redis", "sqlite"])
def queue_app(request, tmp_path):
    """An app on a SQLite database whose queue is Redis or a SQLite file, with a queue name of its own."""
    name = f"test-jobs-{uuid.uuid4().hex}"
    if request.param == "redis":
        redis_or_skip()
        overrides = {"JOBS_BACKEND": "redis", "REDIS_URL": REDIS_URL}
    else:
        overrides = {"JOBS_BACKEND": "sqlite", "JOBS_SQLITE_PATH": tmp_path / "jobs.sqlite"}
    app = create_app(make_test_config(f"sqlite:///{tmp_path / 'app.db'}", JOBS_QUEUE_NAME=name, **overrides))
    with app.app_context():
        db.create_all()
    try:
        yield app
    finally:
        huey.flush()
        if request.param == "redis":
            assert not redis.Redis.from_url(REDIS_URL).keys(f"*{name}*"), "the test left queue data in Redis"
        immediate_again()
        with app.app_context():
            db.engine.dispose()


class EagerScheduler(Scheduler):
    """Huey's scheduler, which moves a retry to the queue once its delay is over, looks once a
    second at the most often: this one every 0.05 s, so that each retry waits its own 0.05-0.2 s
    backoff (which the tests measure) rather than until the next whole second."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.interval = 0.05


class EagerConsumer(Consumer):
    scheduler_class = EagerScheduler


@contextmanager
def running_worker(workers: int = 2) -> Iterator[None]:
    """Huey's consumer in this process: its scheduler and worker threads, without its signal handlers."""
    consumer = EagerConsumer(
        huey, workers=workers, periodic=False, worker_type="thread", initial_delay=0.05, max_delay=0.2
    )
    consumer.scheduler.start()
    for _, thread in consumer.worker_threads:
        thread.start()
    try:
        yield
    finally:
        consumer.stop(graceful=True)  # sets the stop flag and joins every thread


def wait_for(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        time.sleep(0.05)


def test_a_worker_retries_with_backoff_and_records_the_job_that_never_succeeds(queue_app):
    name = queue_app.config["JOBS_QUEUE_NAME"]
    flaky, hopeless = f"flaky-{name}", f"hopeless-{name}"
    assert not huey.immediate

    with running_worker():
        fails_twice(flaky)
        always_fails(hopeless)
        with queue_app.app_context():
            wait_for(lambda: len(TRIES.get(flaky, ())) == 3 and failures_since(db.session, utcnow().replace(year=2000)))
            db.session.remove()
    # The worker stopped gracefully, finishing the try in hand: a wrongly scheduled fourth try
    # would be waiting in the schedule or the queue now (asserted empty below).

    # Tried three times, in the app's context; each retry waited longer than the one before.
    times, delays, queues = zip(*TRIES[flaky], strict=True)
    assert delays == (0.05, 0.1, 0.2)
    assert times[1] - times[0] >= 0.05 and times[2] - times[1] >= 0.1
    assert set(queues) == {name}
    assert [delay for _, delay, _ in TRIES[hopeless]] == [0.05, 0.1, 0.2]
    assert huey.pending_count() == 0 and huey.scheduled_count() == 0

    with queue_app.app_context():
        [failure] = failures_since(db.session, utcnow().replace(year=2000))
        assert (failure.job_name, failure.tries, failure.error_type) == ("always_fails", 3, "TimeoutError")
        db.session.remove()

    output = queue_app.test_cli_runner().invoke(args=["jobs", "failed"]).output
    assert "always_fails  3 tries  TimeoutError: the mail server never answers" in output
    create_user(queue_app, "admin@example.org", role=Role.ADMIN)
    admin = queue_app.test_client()
    assert login(admin, "admin@example.org").status_code == 302
    assert "1 failed job in the last day" in admin.get("/author/").get_data(as_text=True)


def test_a_refusal_for_good_is_not_tried_again_and_is_recorded_at_once(queue_app):
    """An SMTP 550 (no such mailbox) gets the same answer every time: one try, then the record.
    A 451 (try later) is retried as before."""
    name = queue_app.config["JOBS_QUEUE_NAME"]
    for_good, for_now = f"for-good-{name}", f"for-now-{name}"

    with running_worker():
        mailbox_unknown(for_good, False)
        mailbox_unknown(for_now, True)
        with queue_app.app_context():
            wait_for(lambda: len(failures_since(db.session, utcnow().replace(year=2000))) == 2)
            db.session.remove()

    assert len(TRIES[for_good]) == 1 and len(TRIES[for_now]) == 4
    # A wrongly scheduled retry would be waiting there, the worker having stopped gracefully.
    assert huey.pending_count() == 0 and huey.scheduled_count() == 0
    with queue_app.app_context():
        tries = sorted(failure.tries for failure in failures_since(db.session, utcnow().replace(year=2000)))
        db.session.remove()
    assert tries == [1, 4]


STALLED = "E-mails are not going out"


def test_jobs_waiting_with_no_worker_are_shown_to_admins_and_on_healthz_without_failing_it(queue_app):
    """Six e-mails queued and no worker: /healthz said "ok" and /author/ nothing. Now both say so,
    /healthz still with a 200 (pages load; a load balancer must keep the server), and neither
    once a worker runs, nor while one that beat a moment ago is busy."""
    label = f"waiting-{queue_app.config['JOBS_QUEUE_NAME']}"
    create_user(queue_app, "admin@example.org", role=Role.ADMIN)
    admin = queue_app.test_client()
    assert login(admin, "admin@example.org").status_code == 302
    health = queue_app.test_client()
    with queue_app.app_context():
        engine = db.engine

    def author_page() -> tuple[str, int]:
        with count_queries(engine) as queries:
            response = admin.get("/author/")
        assert response.status_code == 200
        return visible_text(response.get_data(as_text=True)), queries()

    quiet_page, quiet_queries = author_page()
    assert STALLED not in quiet_page
    assert health.get("/healthz").json == {
        "status": "ok",
        "database": "ok",
        "queue": "ok",
        "jobs_waiting": 0,
        "worker": "not seen",
        "worker_last_seen": None,
    }

    for _ in range(6):
        waits_for_a_worker(label)

    # No worker has ever run on this queue.
    page, queries = author_page()
    assert f"{STALLED}: 6 jobs are waiting and no job worker has been seen." in page
    assert "flask jobs worker" in page and "docs/deployment.md" in page
    assert queries == quiet_queries  # read from the queue, not the database
    response = health.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "degraded",
        "database": "ok",
        "queue": "ok",
        "jobs_waiting": 6,
        "worker": "not seen",
        "worker_last_seen": None,
    }

    # The worker stopped ten minutes ago.
    stopped = time.time() - 600
    beat(huey, at=stopped)
    with queue_app.test_request_context():
        shown = queue_app.jinja_env.filters["local_datetime"](worker_last_seen(huey))
    page = author_page()[0]
    assert f"{STALLED}: 6 jobs are waiting and no job worker has run since {shown}" in page
    assert health.get("/healthz").json["worker_last_seen"] == worker_last_seen(huey).isoformat(timespec="seconds")
    assert health.get("/healthz").json["status"] == "degraded"

    # A worker beat just now (its threads busy with long jobs, say): nothing is wrong yet.
    beat(huey, at=time.time() - GONE_AFTER.total_seconds() + 60)
    assert STALLED not in author_page()[0]
    assert health.get("/healthz").json | {"worker_last_seen": None} == {
        "status": "ok",
        "database": "ok",
        "queue": "ok",
        "jobs_waiting": 6,
        "worker": "ok",
        "worker_last_seen": None,
    }

    # Stale again, then a real worker with its heartbeat: it takes the jobs, and all is well.
    beat(huey, at=stopped)
    assert STALLED in author_page()[0]
    stop_heartbeat = start_heartbeat(huey, every=0.05)
    try:
        with running_worker():
            wait_for(lambda: len(TRIES.get(label, ())) == 6 and huey.pending_count() == 0)
    finally:
        stop_heartbeat()
    assert STALLED not in author_page()[0]
    assert health.get("/healthz").json | {"worker_last_seen": None} == {
        "status": "ok",
        "database": "ok",
        "queue": "ok",
        "jobs_waiting": 0,
        "worker": "ok",
        "worker_last_seen": None,
    }


def worker_env(tmp_path, **changes: str) -> dict[str, str]:
    """The environment of a `flask jobs worker` started by a test: development, its own database."""
    return {
        **os.environ,
        "APP_ENV": "development",
        "SECRET_KEY": "a key for this test only " * 2,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "PYTHONUNBUFFERED": "1",
        **changes,
    }


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    """`flask jobs worker` in a process of its own, its output (stderr too) read as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "jobs", "worker", *args],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def catches(pid: int, signum: int) -> bool:
    """Whether the process has a handler of its own for the signal (Linux's /proc/PID/status SigCgt)."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.MULTILINE).group(1), 16)
    return bool(caught >> (signum - 1) & 1)


# Each backend with one of the signals: what a signal does does not depend on the queue (the
# consumer's main thread handles it the same way, whatever its worker threads read), and the
# queue's line and heartbeat do not depend on the signal; the other two pairs took 2 more
# worker start-ups (about 5 s) to check nothing these two do not.
@pytest.mark.parametrize(("backend", "stop"), [("sqlite", signal.SIGINT), ("redis", signal.SIGTERM)])
def test_flask_jobs_worker_says_which_queue_and_stops_on_a_signal(tmp_path, backend, stop):
    name = f"test-jobs-{uuid.uuid4().hex}"
    env = worker_env(tmp_path, JOBS_QUEUE_NAME=name)
    env.pop("REDIS_URL", None)
    if backend == "redis":
        redis_or_skip()
        env["REDIS_URL"] = REDIS_URL
        expected = f"Jobs: Redis at {REDIS_URL}, queue '{name}', worker started (2 at once"
    else:
        env["JOBS_SQLITE_PATH"] = str(tmp_path / "jobs.sqlite")
        expected = f"Jobs: SQLite queue at {tmp_path / 'jobs.sqlite'}, worker started (2 at once"
    # This process reads the worker's queue, to see its heartbeat.
    configure_queue(
        {
            "JOBS_BACKEND": backend,
            "REDIS_URL": env.get("REDIS_URL", ""),
            "JOBS_SQLITE_PATH": tmp_path / "jobs.sqlite",
            "JOBS_QUEUE_NAME": name,
        }
    )
    worker = start_worker(env, "--workers", "2")
    try:
        first_line = worker.stdout.readline()
        assert expected in first_line
        wait_for(lambda: worker_last_seen(huey) is not None, timeout=10)  # it beats as it starts
        assert abs((utcnow() - worker_last_seen(huey)).total_seconds()) < 10
        # Huey sets its handlers last, SIGHUP's after SIGINT's and SIGTERM's, as it enters its loop.
        wait_for(lambda: catches(worker.pid, signal.SIGTERM) and catches(worker.pid, signal.SIGHUP), timeout=10)
        # Ctrl-C, or what systemd, Docker and Kubernetes send: either finishes the jobs in hand, then stops.
        worker.send_signal(stop)
        assert worker.wait(timeout=15) == 0
        said = worker.stdout.read()
        assert "Shutting down gracefully" in said and "Consumer exiting." in said
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        worker.stdout.close()
        huey.flush()  # the heartbeat, kept in the queue's store
        immediate_again()
        if backend == "redis":
            assert not redis.Redis.from_url(REDIS_URL).keys(f"*{name}*")


# `flask jobs worker` with a log handler more, on Huey's logger (so before the app's filter on the
# root logger's handlers): it notes each failed read in a file, for the test to wait for them.
NOTING_WORKER = """
import logging
from flask.cli import main

class NoteFailedReads(logging.Handler):
    def emit(self, record):
        if record.exc_info:
            with open({notes!r}, "a") as notes:
                notes.write(record.name + "\\n")

logging.getLogger("huey").addHandler(NoteFailedReads())
main()
"""


def test_a_worker_whose_redis_is_down_says_so_in_one_line_not_a_traceback_a_second(tmp_path):
    """Huey logs each failed read of the queue with its traceback, about a hundred lines a second;
    the worker's log says it once (app/jobs/outage_log.py) and still stops cleanly."""
    notes = tmp_path / "failed-reads.txt"
    worker = subprocess.Popen(
        [sys.executable, "-c", NOTING_WORKER.format(notes=str(notes)), "--app", "app", "jobs", "worker"],
        cwd=BASE_DIR,
        env=worker_env(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"),  # nothing listens
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def failed_reads() -> Counter[str]:
        return Counter(notes.read_text(encoding="utf-8").split()) if notes.exists() else Counter()

    deadline = threading.Timer(60, worker.kill)  # readline must not wait for ever on a silent worker
    deadline.start()
    try:
        lines = []
        while not any("cannot be reached" in line for line in lines):  # the first failed read
            lines.append(worker.stdout.readline())
            assert lines[-1], "".join(lines)  # the worker stopped without saying so
        # More failed reads: the scheduler's (every second) and the worker's (backing off).
        wait_for(lambda: min(failed_reads()[f"huey.consumer.{name}"] for name in ("Scheduler", "Worker")) >= 2)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
        said = "".join(lines) + worker.stdout.read()
    finally:
        deadline.cancel()
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        worker.stdout.close()
    assert "Traceback" not in said, said
    assert said.count("The job queue's Redis cannot be reached") == 1, said
    assert "Consumer exiting." in said
