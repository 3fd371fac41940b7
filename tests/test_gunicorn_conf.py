"""The production gunicorn settings' hooks (gunicorn.conf.py)."""

from __future__ import annotations

import gc
import logging
import os
import runpy
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.serving import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_the_master_hides_its_objects_from_the_collector_before_forking_a_worker():
    """What the master loaded lives as long as each worker: its full collections must not walk it."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["preload_app"] is True  # the app is loaded in the master, then forked
    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        settings["pre_fork"](server=None, worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process goes on collecting as before


def test_workers_are_recycled_at_spread_out_times():
    """Workers started together must not all restart (and go cold) together: the jitter is wide."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["max_requests"] > 0  # recycled, so slow growth cannot pile up
    assert settings["max_requests_jitter"] >= settings["max_requests"] // 5


class Said:
    """A stand-in for gunicorn's logger: what was logged, at which level."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []

    def warning(self, message, *args):
        self.lines.append((logging.WARNING, message % args))


@pytest.mark.parametrize("app_env", [None, "development", "testing"])
def test_the_master_warns_at_start_when_not_on_production_settings(monkeypatch, app_env):
    """Forgetting APP_ENV=production served the development settings without a word."""
    if app_env is None:
        monkeypatch.delenv("APP_ENV", raising=False)
    else:
        monkeypatch.setenv("APP_ENV", app_env)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    log = Said()
    settings["on_starting"](SimpleNamespace(log=log))
    [(level, line)] = log.lines
    assert level == logging.WARNING
    assert ("APP_ENV is not set" if app_env is None else f"APP_ENV is {app_env!r}") in line
    assert f"serving the {app_env or 'development'} settings" in line and "set APP_ENV=production" in line


def test_the_master_says_nothing_on_production_settings(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    log = Said()
    settings["on_starting"](SimpleNamespace(log=log))
    assert log.lines == []


TINY_APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def serve_and_read_the_start(tmp_path, app_env: str | None) -> str:
    """Start gunicorn with gunicorn.conf.py on a tiny app; what it logged until its worker booted."""
    (tmp_path / "tiny_wsgi.py").write_text(TINY_APP)
    env = {**os.environ, "BIND": f"127.0.0.1:{free_port()}", "WEB_CONCURRENCY": "1"}
    env.pop("APP_ENV", None)
    if app_env is not None:
        env["APP_ENV"] = app_env
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--chdir",
            str(tmp_path),
            "tiny_wsgi:app",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = threading.Timer(30, server.kill)
    deadline.start()
    lines = []
    try:
        while not any("Booting worker" in line for line in lines):
            lines.append(server.stdout.readline())
            assert lines[-1], "".join(lines)  # gunicorn stopped before its worker booted
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
    finally:
        deadline.cancel()
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()
    return "".join(lines)


def test_gunicorn_itself_warns_before_serving_without_app_env(tmp_path):
    """The hook's name is one gunicorn calls (a misspelt one is ignored silently), and its line
    comes before the worker serves."""
    said = serve_and_read_the_start(tmp_path, None)
    warning, _, rest = said.partition("APP_ENV is not set")
    assert "[WARNING]" in warning.splitlines()[-1] and "Booting worker" in rest, said
    assert "APP_ENV" not in serve_and_read_the_start(tmp_path, "production")
