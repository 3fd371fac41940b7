"""Many processes, one site: two gunicorn processes on one PostgreSQL and one Redis.

A login made through one process is valid on the other, a rate limit counts the requests made
to both, and a quiz submission sent to both at once records one attempt. Needs
TEST_DATABASE_URL (PostgreSQL) and Redis on 127.0.0.1:6379.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db
from config import TestConfig
from tests.conftest import (
    PASSWORD,
    create_user,
    factory_course_spec,
    import_course,
    lesson_slugs,
    make_test_config,
    quiz_form,
    scratch_postgres_database,
)

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.stdout.read().decode(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{base} did not start")


@pytest.fixture(scope="module")
def served():
    """A scratch PostgreSQL database with one learner and the factory course, served by two gunicorn
    processes, for the whole module: migrating and starting them took most of its time when each test
    did it. (Their base URLs, the database's URL, the course's first lesson and its quiz's right
    answers), and the prefix of the processes' keys in Redis."""
    if not TestConfig.TEST_DATABASE_URL:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    with scratch_postgres_database(TestConfig.TEST_DATABASE_URL) as database_url:
        app = create_app(make_test_config(database_url))
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
        create_user(app, "learner@example.org")
        course = import_course(app, factory_course_spec())
        first = lesson_slugs(app, course)[0]
        answers = quiz_form(app, first, course_slug=course)
        with app.app_context():
            db.engine.dispose()
        prefix = f"multi-{uuid.uuid4().hex}"
        env = {
            **os.environ,
            "APP_ENV": "development",
            "SECRET_KEY": "one secret shared by every process " * 2,
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "RATELIMIT_KEY_PREFIX": prefix,
            "RATELIMIT_LOGIN": "3 per minute",
        }
        processes, bases = [], []
        try:
            for _ in range(2):
                port = free_port()
                command = [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    str(ROOT / "gunicorn.conf.py"),
                    "--workers",
                    "1",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--access-logfile",
                    "/dev/null",
                    "app:create_app()",
                ]
                process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                processes.append(process)
                bases.append(f"http://127.0.0.1:{port}")
            for base, process in zip(bases, processes, strict=True):
                wait_until_up(base, process)
            yield (bases, database_url, f"/courses/{course}/lessons/{first}", answers), prefix
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)
                process.stdout.close()
            forget_rate_limits(prefix)


def forget_rate_limits(prefix: str) -> None:
    """Delete the processes' counters in Redis (rate limits), so no test spends another's allowance."""
    server = redis.Redis.from_url(REDIS_URL)
    for key in server.scan_iter(f"*{prefix}*"):
        server.delete(key)


@pytest.fixture
def site(served):
    """The module's two processes (``served``), with no requests counted against any rate limit yet:
    the rate-limit test counts from zero whichever tests logged in before it."""
    world, prefix = served
    forget_rate_limits(prefix)
    return world


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect)

    def request(self, url: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, data=body, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def login(self, base: str, password: str) -> int:
        _, page = self.request(f"{base}/auth/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, _ = self.request(
            f"{base}/auth/login", {"email": "learner@example.org", "password": password, "csrf_token": token}
        )
        return status


def test_a_login_through_one_process_is_valid_on_the_other(site):
    (first, second), *_ = site
    browser = Browser()
    assert browser.login(first, PASSWORD) == 302
    status, page = browser.request(f"{second}/me/")
    assert status == 200 and "Who you share your progress with" in page


def test_a_rate_limit_counts_requests_to_both_processes(site):
    (first, second), *_ = site
    browser = Browser()
    statuses = [browser.login(base, "a wrong password!") for base in (first, second, first)]
    assert statuses == [400, 400, 400]
    assert browser.login(second, "a wrong password!") == 429


def test_a_quiz_sent_to_both_processes_at_once_records_one_attempt(site):
    """A double click that two processes answer: one attempt under the key, both sent to it."""
    (first, second), database_url, lesson, answers = site
    browser = Browser()
    assert browser.login(first, PASSWORD) == 302
    _, page = browser.request(f"{first}{lesson}/quiz")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    form = [(name, value) for name, values in answers.items() for value in values]
    form += [("csrf_token", token), ("submission_key", key)]

    def submit(base: str) -> tuple[int, str]:
        try:
            with browser.opener.open(f"{base}{lesson}/quiz", data=urllib.parse.urlencode(form).encode()) as response:
                return response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as error:  # the redirect, which the browser does not follow
            return error.code, error.headers.get("Location", "")

    with ThreadPoolExecutor(max_workers=2) as pool:
        answered = list(pool.map(submit, [first, second]))

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            ids = connection.scalars(
                text("SELECT id FROM quiz_attempts WHERE submission_key = :key"), {"key": key}
            ).all()
    finally:
        engine.dispose()
    assert len(ids) == 1
    assert [status for status, _ in answered] == [302, 302]
    assert {location.rsplit("/", 1)[-1] for _, location in answered} == {str(ids[0])}
