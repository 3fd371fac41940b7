"""gunicorn serving the app, or the ceiling, on a free loopback port, stopped by its own pid; its
workers' memory and its log's tracebacks; and how busy the machine is."""

from __future__ import annotations

import os
import signal
import socket
import subprocess  # noqa: S404 - the benchmark runs gunicorn, wrk and flask
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.credentials.keys import new_secret_key_text
from bench.client import http_request
from bench.settings import ROOT, VENV_BIN, BenchError


@contextmanager
def checkout(commit: str, where: Path) -> Iterator[Path]:
    """A checkout of ``commit`` at ``where`` (a detached git worktree of this repository), removed afterwards.

    Served with this tree's virtualenv: a compared commit whose requirements differ needs them installed.
    """
    git = ["git", "-C", str(ROOT), "worktree"]
    added = subprocess.run([*git, "add", "--detach", "--force", str(where), commit], capture_output=True, text=True)  # noqa: S603,S607
    if added.returncode:
        raise BenchError(f"could not check out {commit[:12]} to compare with: {added.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run([*git, "remove", "--force", str(where)], capture_output=True, check=False)  # noqa: S603,S607


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_env(database_url: str, secret: str) -> dict[str, str]:
    """The environment gunicorn serves the app with: production, on loopback."""
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "FLASK_APP", "FLASK_DEBUG")}
    env.update(
        APP_ENV="production",
        SECRET_KEY=secret,
        DATABASE_URL=database_url,
        PROXY_HOPS="0",
        PUBLIC_URL="http://127.0.0.1",  # production requires it; the Host wrk sends must match it
        # Production requires a mail server; nothing a run does sends mail, and this port is closed.
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(free_port()),
        # Production requires a signing key for certificates' credentials; a fresh one per run.
        CREDENTIAL_SIGNING_KEY=new_secret_key_text(),
        ISSUER_NAME="Benchmark Clinic",  # production requires the issuer's name
        # The pool logs in through the real form from one address: lift the per-address login limit.
        RATELIMIT_LOGIN="100000 per minute",
        PYTHONUNBUFFERED="1",
    )
    return env


class Server:
    """gunicorn with an app, on a free loopback port, in its own process group."""

    def __init__(self, app: str, env: dict[str, str], log: Path, extra: tuple[str, ...] = (), *, root: Path = ROOT):
        """``root``: the tree whose app and gunicorn.conf.py are served (another commit's checkout, say)."""
        self.port = free_port()
        self.log = log
        self.env = env
        self.root = root
        # As gunicorn.conf.py decides, unless --workers or WEB_CONCURRENCY says otherwise.
        workers = extra[extra.index("--workers") + 1] if "--workers" in extra else env.get("WEB_CONCURRENCY")
        self.expected_workers = int(workers) if workers else (os.cpu_count() or 1) * 2 + 1
        self.command = [
            str(VENV_BIN / "gunicorn"),
            "-c",
            str(root / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            *extra,
            app,
        ]
        self.start()

    def start(self) -> None:
        """Start gunicorn and wait until every worker is ready."""
        self.handle = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            self.command,
            cwd=self.root,
            env=self.env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait for the health check and every worker, or stop gunicorn and raise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"gunicorn exited at start (code {self.process.returncode}); see {self.log}:\n" + tail(self.log)
                )
            try:
                status, _, _ = http_request(self.port, "GET", "/healthz", timeout=2)
                # The ceiling has no health check but answers every path; wait for every worker too.
                if status == 200 and len(self.workers()) >= self.expected_workers:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise BenchError(f"gunicorn did not answer within {timeout:.0f} s; see {self.log}")

    def workers(self) -> list[int]:
        """The worker processes: children of the gunicorn master."""
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid:
                children.append(int(entry.name))
        return sorted(children)

    def stop(self, *, quick: bool = False) -> None:
        """Stop gunicorn: gracefully (SIGTERM), or at once (SIGINT) dropping queued requests."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT if quick else signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.handle.close()

    def log_size(self) -> int:
        """The log's size in bytes, to read what a run adds to it."""
        return self.log.stat().st_size if self.log.exists() else 0

    def worker_timeouts(self, since: int) -> int:
        """WORKER TIMEOUT lines in the log after byte ``since``: requests gunicorn aborted."""
        with self.log.open("rb") as log:
            log.seek(since)
            return log.read().count(b"WORKER TIMEOUT")


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log, for an error message."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def rss_kib(pid: int) -> int | None:
    """A process's resident memory in KiB, or None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def tracebacks(log: Path, limit: int = 3) -> list[str]:
    """The first few tracebacks in a gunicorn log: the errors behind failed requests.

    A worker stopped at once by the benchmark (to drop a queue) logs ``SystemExit: 0`` from
    inside its request; those are left out. gunicorn's WORKER TIMEOUT shows as ``SystemExit: 1``.
    """
    found, current = [], None
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("Traceback (most recent call last)"):
            current = [line]
        elif current is not None:
            current.append(line)
            if line and not line.startswith((" ", "\t")):
                if line.strip() != "SystemExit: 0":
                    found.append("\n".join(current))
                current = None
                if len(found) >= limit:
                    break
    return found


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def background_cpu(seconds: float = 1.0) -> float:
    """Share of the machine's CPU in use while the benchmark itself is idle (0 to 1)."""
    busy_before, total_before = cpu_times()
    time.sleep(seconds)
    busy_after, total_after = cpu_times()
    return round((busy_after - busy_before) / max(1, total_after - total_before), 3)
