"""Real servers for the serving tests: redis-server, gunicorn and nginx on free loopback ports.

Each is a subprocess the test starts and stops itself; nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from config import TestConfig

ROOT = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf"
# CI installs these, so there a missing one fails the run instead of skipping tests.
REQUIRED = TestConfig.E2E_REQUIRED or os.environ.get("CI") == "true"


def find_binary(name: str) -> str | None:
    """The program on PATH, or in /usr/sbin and /usr/bin (Debian's nginx is in /usr/sbin)."""
    found = shutil.which(name)
    if found:
        return found
    return next((str(path) for path in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if path.exists()), None)


NGINX = find_binary("nginx")
REDIS_SERVER = find_binary("redis-server")


def require(binary: str | None, reason: str) -> None:
    """Skip the test when a program is missing, or fail it under CI."""
    if binary is None:
        if REQUIRED:
            pytest.fail(f"{reason} (required under CI: .ci/run installs it)")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """Stop a process the test started: politely, then for certain."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stdout:
        process.stdout.close()


LISTEN, ESTABLISHED = "0A", "01"  # the states in /proc/net/tcp


def loopback_sockets(port: int) -> list[tuple[str, int]]:
    """Linux's TCP sockets on 127.0.0.1:``port`` (/proc/net/tcp): (state, receive queue) each.
    A listening socket's queue is the connections waiting to be accepted; a connection's, the
    bytes received that the program has not read yet."""
    sockets = []
    for line in Path("/proc/net/tcp").read_text(encoding="ascii").splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}":
            sockets.append((fields[3], int(fields[4].split(":")[1], 16)))
    return sockets


def poll(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Wait until ``condition()`` holds; fail if it does not within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{condition.__doc__ or condition} did not come about within {seconds} s")
        time.sleep(0.02)


def output_of(process: subprocess.Popen) -> str:
    return process.stdout.read().decode(errors="replace") if process.stdout else ""


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    """Poll ``url`` until it answers 200; fail with the process's output if it exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited: {output_of(process)}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


class RedisServer:
    """A throwaway redis-server on a free loopback port that saves nothing; can be stopped and started again."""

    def __init__(self, binary: str, directory: Path):
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--daemonize", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: {output_of(self.process)}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def start_gunicorn(port: int, env: dict[str, str], *extra: str) -> subprocess.Popen:
    """gunicorn with the production gunicorn.conf.py, bound to 127.0.0.1:port, quiet access log."""
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}"]
    command += ["--access-logfile", "/dev/null", *extra, "app:create_app()"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603


def render_nginx_config(*, listen: str, app_server: str, state_dir: Path) -> str:
    """deploy/nginx.conf with its placeholders filled in, as `envsubst` would in production."""
    values = {
        "NGINX_USER": getpass.getuser(),  # ignored by nginx unless it runs as root
        "LISTEN": listen,
        "APP_SERVER": app_server,
        "PID_FILE": str(state_dir / "nginx.pid"),
        "STATE_DIR": str(state_dir),
        "LOG_DIR": str(state_dir),
    }
    text = NGINX_TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return text


def start_nginx(port: int, app_server: str, directory: Path) -> subprocess.Popen:
    """nginx in the foreground with the repository's config, listening on 127.0.0.1:port."""
    state_dir = directory / "nginx"
    state_dir.mkdir()
    config = directory / "nginx.conf"
    config.write_text(render_nginx_config(listen=f"127.0.0.1:{port}", app_server=app_server, state_dir=state_dir))
    command = [NGINX, "-c", str(config), "-p", str(state_dir), "-e", "stderr", "-g", "daemon off;"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603


SITE_WORKERS = 2
SITE_LOGIN_LIMIT = 3  # per minute, per address, counted in each worker's memory


@contextmanager
def site_behind_nginx(directory: Path) -> Iterator[dict[str, str]]:
    """gunicorn (2 sync workers, PROXY_HOPS=1) on an empty SQLite schema, and nginx in front of it;
    their addresses, "direct" and "front"."""
    from app import create_app
    from app.extensions import db
    from tests.conftest import make_test_config

    require(NGINX, "nginx is not installed; apt-get install nginx")
    database_url = f"sqlite:///{directory / 'site.db'}"
    app = create_app(make_test_config(database_url))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    env = {
        **os.environ,
        "APP_ENV": "development",
        "SECRET_KEY": "one secret shared by every process " * 2,
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "PROXY_HOPS": "1",
        "RATELIMIT_LOGIN": f"{SITE_LOGIN_LIMIT} per minute",
    }
    app_port, nginx_port = free_port(), free_port()
    processes = []
    try:
        processes.append(start_gunicorn(app_port, env, "--workers", str(SITE_WORKERS)))
        processes.append(start_nginx(nginx_port, f"127.0.0.1:{app_port}", directory))
        direct, front = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{nginx_port}"
        wait_until_up(f"{direct}/healthz", processes[0])
        wait_until_up(f"{front}/healthz", processes[1])
        yield {"direct": direct, "front": front}
    finally:
        for process in reversed(processes):
            stop(process)
