"""Redis down fails safe: rate limits count in the process, with a warning, until Redis is back.

The test starts its own redis-server on a free loopback port, kills it mid-test and starts it
again. Without redis-server it is skipped, saying why; under CI (E2E_REQUIRED=1 or CI=true)
that is a failure instead (`.ci/run` installs Debian's redis-server).
"""

from __future__ import annotations

import logging
import time
import uuid

import pytest
import redis

from app import create_app
from app.extensions import db
from tests.conftest import PASSWORD, create_user, csrf_token, make_test_config
from tests.serving import REDIS_SERVER, RedisServer, require

LIMITS = {"RATELIMIT_LOGIN": "3 per minute", "RATELIMIT_REGISTER": "2 per minute", "RATELIMIT_RESET": "2 per minute"}


@pytest.fixture
def redis_server(tmp_path):
    require(REDIS_SERVER, "redis-server is not installed; apt-get install redis-server")
    server = RedisServer(REDIS_SERVER, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_app(tmp_path, redis_server):
    """The app with rate limits on, counting in the test's Redis (fallback as configured for production)."""
    prefix = f"down-{uuid.uuid4().hex}"
    app = create_app(
        make_test_config(
            f"sqlite:///{tmp_path / 'site.db'}",
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI=redis_server.url,
            RATELIMIT_KEY_PREFIX=prefix,
            **LIMITS,
        )
    )
    with app.app_context():
        db.create_all()
    create_user(app, "learner@example.org")
    yield app
    with app.app_context():
        db.engine.dispose()


def post(app, url: str, ip: str, **data) -> int:
    """POST a form from a fresh browser (no one signed in) at address ``ip``; return the status."""
    client = app.test_client()
    data["csrf_token"] = csrf_token(client, url)
    return client.post(url, data=data, environ_base={"REMOTE_ADDR": ip}).status_code


def failed_login(app, ip: str, email: str = "learner@example.org") -> int:
    return post(app, "/auth/login", ip, email=email, password="a wrong password!")


def keys_in_redis(server: RedisServer) -> list[bytes]:
    return redis.Redis.from_url(server.url).keys("*")


def test_login_registration_and_reset_keep_working_and_limited_while_redis_is_down(redis_app, redis_server, caplog):
    app = redis_app
    assert failed_login(app, "10.0.0.1") == 400
    assert keys_in_redis(redis_server), "while Redis is up the counters live there"

    redis_server.stop()
    with caplog.at_level(logging.WARNING):
        assert post(app, "/auth/login", "10.0.0.2", email="learner@example.org", password=PASSWORD) == 302
    assert any(record.levelno == logging.WARNING and "in-memory" in record.getMessage() for record in caplog.records), (
        "falling back is logged as a warning"
    )

    # Still limited, now per process: the same limits, counted in memory.
    assert [failed_login(app, "10.0.0.3") for _ in range(4)] == [400, 400, 400, 429]
    registrations = [
        post(app, "/auth/register", "10.0.0.4", email=f"new{n}@example.org", display_name="New", password=PASSWORD)
        for n in range(3)
    ]
    assert registrations == [302, 302, 429]
    assert [post(app, "/auth/reset", "10.0.0.5", email="x@example.org") for _ in range(3)] == [302, 302, 429]

    # Back up (empty: it saves nothing). Flask-Limiter pings it again after 1, 2, 4 ... 32 s
    # and then counts there again; what was counted in memory meanwhile is not carried over.
    redis_server.start()
    deadline = time.monotonic() + 40
    attempt = 0
    while not keys_in_redis(redis_server):
        assert time.monotonic() < deadline, "counting never went back to Redis"
        time.sleep(0.5)
        attempt += 1
        assert failed_login(app, f"10.0.1.{attempt}", email=f"poll{attempt}@example.org") == 400
    assert [failed_login(app, "10.0.2.1") for _ in range(4)] == [400, 400, 400, 429]
    assert any(b"10.0.2.1" in key for key in keys_in_redis(redis_server))
