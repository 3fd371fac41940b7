"""Whether the app can do its work: the health check behind ``/healthz``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.jobs.heartbeat import GONE_AFTER, worker_last_seen
from app.models.types import utcnow

log = logging.getLogger(__name__)


def database_reachable(session: Session) -> bool:
    """Whether ``session`` can read the app's tables now; a failure is logged and leaves the session usable.

    A real table, not ``SELECT 1``: a database that answers but holds no schema (a wrong or new
    SQLite file, which SQLite makes silently) cannot serve a page either.
    """
    try:
        session.execute(text("SELECT 1 FROM users LIMIT 1"))
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        log.exception("Health check failed")
        session.rollback()
        return False
    return True


@dataclass(frozen=True)
class QueueState:
    """What the job queue looks like now: reachable, how many jobs wait, when a worker last beat."""

    reachable: bool
    waiting: int = 0  # jobs ready to run and not yet taken (retries waiting for their time not counted)
    worker_seen: datetime | None = None  # the last heartbeat of any worker (app/jobs/heartbeat.py), UTC
    now: datetime | None = None

    @property
    def worker_running(self) -> bool:
        """Whether a worker beat within ``GONE_AFTER``."""
        return self.worker_seen is not None and self.now is not None and self.now - self.worker_seen <= GONE_AFTER

    @property
    def stalled(self) -> bool:
        """Jobs wait and no worker runs to take them: e-mails are not going out."""
        return self.reachable and self.waiting > 0 and not self.worker_running


def queue_state(queue: Any, now: datetime | None = None) -> QueueState | None:
    """The job queue (a Huey instance) now; None when jobs run inline (tests). No database query.

    Two reads of the queue's store (on Redis an LLEN and an HGET); the first failing (the queue
    down) skips the second. A queue that is down holds back e-mails and the rest, though pages
    still load: the health check reports it beside the database, without failing.
    """
    if queue.immediate:
        return None
    try:
        waiting = queue.pending_count()
        seen = worker_last_seen(queue)
    except Exception:  # noqa: BLE001 - any failure means the queue cannot take jobs
        log.exception("Health check: the job queue cannot be read")
        return QueueState(reachable=False)
    return QueueState(reachable=True, waiting=waiting, worker_seen=seen, now=now or utcnow())


def queue_reachable(queue: Any) -> bool | None:
    """Whether the job queue (a Huey instance) can be read now; None when jobs run inline (tests)."""
    state = queue_state(queue)
    return None if state is None else state.reachable
