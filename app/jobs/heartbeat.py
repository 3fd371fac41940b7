"""The job worker's heartbeat: how the web app knows whether any worker is running.

Huey's queue holds a job's name and arguments but not when it was enqueued, so the web app can
count the jobs waiting (``pending_count``: one LLEN on Redis, one COUNT on the SQLite queue) but
not say how long they have waited. The worker says instead that it is alive: ``flask jobs
worker`` writes the time into the queue's own key-value store (a field of Redis's
``huey.results.<queue>`` hash, a row of the SQLite queue's ``kv`` table) when it starts and every
``BEAT_EVERY`` seconds after, from a thread of its own, so a long job never delays a beat. Jobs
waiting and no beat for ``GONE_AFTER`` means no worker is taking them: /author/ warns the admins
and /healthz says so (app/services/health.py).

A beat shows that a worker process runs and reaches the queue, not that it keeps up: a growing
``jobs_waiting`` on /healthz beside a recent beat means too few workers. The beat is the
worker's clock and the check the web server's: a few seconds apart is well inside ``GONE_AFTER``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

HEARTBEAT_KEY = "worker-last-seen"
BEAT_EVERY = 30.0  # seconds between two beats of a running worker
# No beat for this long: no worker. Ten missed beats, so a slow Redis or a busy machine is no alarm.
GONE_AFTER = timedelta(minutes=5)

logger = logging.getLogger(__name__)


def beat(queue: Any, at: float | None = None) -> None:
    """Record in ``queue`` (a Huey instance) that a worker is alive now (or at ``at``, a Unix time)."""
    queue.put(HEARTBEAT_KEY, time.time() if at is None else at)


def worker_last_seen(queue: Any) -> datetime | None:
    """When a worker of ``queue`` last beat (UTC), or None if none ever did (or the queue was emptied)."""
    value = queue.get(HEARTBEAT_KEY, peek=True)
    if not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, UTC)


def start_heartbeat(queue: Any, every: float = BEAT_EVERY) -> Callable[[], None]:
    """Beat now and then every ``every`` seconds from a daemon thread; returns the function that stops it.

    A beat that fails (Redis down) is skipped: the worker's own log already says the queue cannot
    be reached (app/jobs/outage_log.py), and the next beat tries again.
    """
    stopping = threading.Event()

    def run() -> None:
        while True:
            try:
                beat(queue)
            except Exception:  # noqa: BLE001 - the worker goes on; the next beat tries again
                logger.debug("The worker's heartbeat could not be written", exc_info=True)
            if stopping.wait(every):
                return

    thread = threading.Thread(target=run, name="jobs-heartbeat", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=5)

    return stop
