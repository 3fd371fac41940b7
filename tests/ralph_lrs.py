"""Ralph, a real learning record store, run on loopback for the xAPI tests.

Ralph lives in a venv of its own (.peers/ralph, made by `make peers` from requirements/ralph.txt:
its pins clash with ours). It stores statements in a file (the fs backend) in a folder of the
test's, so stopping and starting it again keeps what it had, as a real store that went down would.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

RALPH_BIN = Path(__file__).resolve().parent.parent / ".peers" / "ralph" / "bin"
USERNAME = "naltrexone-site"
PASSWORD = "a-store-secret"  # noqa: S105 - a throwaway credential for a store on loopback
# Ralph's own API (validation, statement ids, duplicates, queries) on its file backend, with one
# fix: Ralph 5.1.0's file backend writes each request's statements with the operation "create",
# which refuses once its one file exists, so every write after the first answered 500
# ("Statement indexation failed"). A file store must append; the rest is Ralph as released.
SERVE = """
import sys

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND
uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


class Ralph:
    """One Ralph server: ``start``, ``stop``, and the statements it holds (``statements``)."""

    def __init__(self, folder: Path):
        if not (RALPH_BIN / "ralph").exists():
            raise RuntimeError("Ralph is not installed: run `make peers` (the README's `make test` does).")
        self.folder = folder
        (folder / ".ralph").mkdir(parents=True, exist_ok=True)
        (folder / "store").mkdir(exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.env = {
            **os.environ,
            "RALPH_APP_DIR": str(folder / ".ralph"),
            "RALPH_AUTH_FILE": str(folder / ".ralph" / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__DATA__FS__DEFAULT_DIRECTORY_PATH": str(folder / "store"),
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(folder / "store"),
        }
        self.process: subprocess.Popen | None = None
        subprocess.run(  # noqa: S603 - our own venv's command, fixed arguments
            [
                str(RALPH_BIN / "ralph"),
                "auth",
                "-u",
                USERNAME,
                "-p",
                PASSWORD,
                "-s",
                "all",
                "-M",
                "mailto:lrs@example.org",
            ]
            + ["-w"],
            env=self.env,
            cwd=folder / "store",
            check=True,
            capture_output=True,
        )

    @property
    def endpoint(self) -> str:
        """The xAPI base URL the site is configured with."""
        return f"http://127.0.0.1:{self.port}/xAPI/"

    def _get(self, path: str) -> tuple[int, bytes]:
        credentials = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"http://127.0.0.1:{self.port}{path}",
            headers={"Authorization": f"Basic {credentials}", "X-Experience-API-Version": "1.0.3"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read()

    def start(self) -> None:
        """Serve on the same port as before; return once it answers an authenticated request."""
        self.process = subprocess.Popen(  # noqa: S603
            [str(RALPH_BIN / "python"), "-c", SERVE, str(self.port)],
            env=self.env,
            cwd=self.folder / "store",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Ralph exited at start with status {self.process.returncode}")
            try:
                if self._get("/whoami")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("Ralph did not answer within a minute")

    def stop(self) -> None:
        """Stop the server (its stored statements stay on disk)."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def statements(self) -> list[dict]:
        """Every statement the store holds, as its API returns them."""
        status, body = self._get("/xAPI/statements?limit=1000")
        assert status == 200
        return json.loads(body)["statements"]
