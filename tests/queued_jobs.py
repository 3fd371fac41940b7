"""Jobs held in a real queue instead of run inline, so a test can see what a request enqueued
and then play the worker.

Tests run jobs inline (JOBS_BACKEND "immediate"); ``queued`` points the one queue at a SQLite file
for the length of a ``with`` block, so calling a job stores it as a worker would find it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from app.jobs.queue import configure_queue, huey


@contextlib.contextmanager
def queued(app, folder: Path) -> Iterator[None]:
    """Hold the jobs enqueued inside the block in a SQLite queue in ``folder``."""
    configure_queue({**app.config, "JOBS_BACKEND": "sqlite", "JOBS_SQLITE_PATH": folder / "jobs.sqlite"})
    try:
        yield
    finally:
        huey.storage.flush_all()
        configure_queue(app.config)


def enqueued() -> list[tuple[str, tuple, dict]]:
    """The jobs waiting to run: (name, args, kwargs), oldest first."""
    return [(task.name, task.args, task.kwargs) for task in huey.pending()]


def run_enqueued() -> int:
    """Run every waiting job once, as the worker does (a job that raises is scheduled for a retry)."""
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    return ran
