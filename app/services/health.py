"""Whether the app can do its work: the health check behind ``/healthz``."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def database_reachable(session: Session) -> bool:
    """Whether ``session`` can run a query now; a failure is logged and leaves the session usable."""
    try:
        session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        log.exception("Health check failed")
        session.rollback()
        return False
    return True
