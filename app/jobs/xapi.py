"""xAPI statements as jobs: send what waits in the outbox, after each event and every few minutes.

The rules (what a statement says, who the actor is, what counts as stored) are
app/services/xapi.py's. Here is only when sending runs: right after the commit that queued a
statement, and every five minutes, which is the retry while the store is down.
"""

from __future__ import annotations

import logging

from flask import current_app

from app.extensions import db
from app.jobs import crontab, job, periodic_job
from app.services.xapi import SendReport, StoreUnavailable, xapi_send_pending, xapi_store

logger = logging.getLogger(__name__)


def send_waiting_statements() -> SendReport | None:
    """Send the statements waiting, if a store is configured; None when none is (nothing sent).

    Raises StoreUnavailable when the store is down: the statements stay for the next run.
    """
    store = xapi_store(current_app.config)
    if store is None:
        return None
    report = xapi_send_pending(db.session, store)
    logger.info("xAPI statements sent: %d; still waiting: %d.", report.sent, report.waiting)
    return report


@job(retries=0)
def send_statements() -> None:
    """Send the statements waiting for the learning record store, right after an event.

    Not retried: while the store is down, every event's job retrying and then failing filled the
    failed jobs with one row per event; the statements wait in the outbox, and the five-minute
    run (below) is the retry.
    """
    try:
        send_waiting_statements()
    except StoreUnavailable as error:
        logger.warning("xAPI statements wait for the next run: %s", error)


@periodic_job(crontab(minute="*/5"))
def send_statements_regularly() -> None:
    """Every five minutes: send any statement still waiting (the store may have come back)."""
    try:
        send_waiting_statements()
    except StoreUnavailable as error:  # the next run is the retry; one warning, not a failed job each time
        logger.warning("xAPI statements wait: %s", error)
