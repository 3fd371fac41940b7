"""Recording a job that failed on its last try, from Huey's error signal."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from huey import Huey
from huey.signals import SIGNAL_ERROR
from sqlalchemy.orm import Session

from app.extensions import db
from app.services.job_failures import failure_record

logger = logging.getLogger(__name__)


def record_final_failure(signal: str, task: Any, error: BaseException | None = None) -> None:
    """Huey's SIGNAL_ERROR receiver: record the failure when no retries remain.

    Huey sends the signal on every failed try, before it requeues the task and counts its
    retries down, so ``task.retries`` is the number of tries still to come. A failure no retry
    can cure (``no_retry_can_cure``) is made the last try here: five more refusals of a mailbox
    that does not exist would only delay the record by a quarter of an hour. The record is
    written in a session and transaction of its own, so the job's own (rolled back or
    half-done) session cannot lose it or commit along with it.
    """
    if error is None:
        return
    tries = type(task).default_retries + 1
    if task.retries and no_retry_can_cure(error):
        tries -= task.retries
        task.retries = 0  # read by Huey after this signal: no requeue, this try is the last
    if task.retries:
        return
    from app.jobs.queue import _app_for_job

    app = _app_for_job()
    with app.app_context(), Session(db.engine) as session, session.begin():
        failure_record(
            session,
            job_name=task.name,
            task_id=str(task.id),
            tries=tries,
            error=error,
        )
    logger.error("Job %s (%s) failed after its last try: %s", task.name, task.id, type(error).__name__)


def no_retry_can_cure(error: BaseException) -> bool:
    """Whether the mail server refused for good (an SMTP 5xx: no such mailbox, a message refused,
    a login refused), not for now (4xx) or by not answering: trying again gets the same answer.
    So does a server without SMTPUTF8 asked to send to an address beyond ASCII before the @; not
    one that did not offer STARTTLS or AUTH this time (smtplib raises the same error type), which a
    restarted relay may offer again."""
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "SMTPUTF8" in str(error)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(500 <= code < 600 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600


def connect_failure_recording(huey: Huey) -> None:
    """Connect the receiver to ``huey`` once, however many apps are created."""
    if record_final_failure not in huey._signal.receivers.get(SIGNAL_ERROR, ()):
        huey.signal(SIGNAL_ERROR)(record_final_failure)
