"""Whether the app can do its work: the health check behind ``/healthz``."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

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


def queue_reachable(queue: Any) -> bool | None:
    """Whether the job queue (a Huey instance) can be read now; None when jobs run inline (tests).

    A queue that is down holds back e-mails and the rest, though pages still load: the health
    check reports it beside the database, without failing (this server can still serve pages).
    """
    if queue.immediate:
        return None
    try:
        queue.pending_count()
    except Exception:  # noqa: BLE001 - any failure means the queue cannot take jobs
        log.exception("Health check: the job queue cannot be read")
        return False
    return True
