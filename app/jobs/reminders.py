"""Reminders as jobs: a daily run that queues the reminders due, and one job per e-mail.

Who gets one, the message and the unsubscribe link are app/services/reminders.py's; here is
only when they run. ``flask reminders send`` runs the same daily work from cron.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app

from app.extensions import db
from app.jobs import crontab, job, periodic_job
from app.models.types import utcnow
from app.services.mail import send_mail
from app.services.reminders import reminder_email, reminders_send
from app.urls import external_url

logger = logging.getLogger(__name__)


@job()
def send_reminder(user_id: int) -> bool:
    """E-mail one person their reminder; False when they should no longer get it (nothing sent).

    A mail server that refuses or does not answer raises, and the queue retries with backoff.
    """
    message = reminder_email(
        db.session, user_id=user_id, secret_key=current_app.config["SECRET_KEY"], external_url=external_url
    )
    db.session.rollback()  # only read; end the transaction before talking to the mail server
    if message is None:
        logger.info("Reminder for user %s not sent: reminders off, account inactive or nothing left to do.", user_id)
        return False
    send_mail(current_app.config, to=message.to, subject=message.subject, body=message.body, headers=message.headers)
    return True


def queue_due_reminders(now: datetime | None = None) -> list[int]:
    """Queue the reminders due at ``now`` (the current time by default); return the people's ids."""
    return reminders_send(db.session, now=now or utcnow(), enqueue=send_reminder)


@periodic_job(crontab(hour="9", minute="0"))
def send_due_reminders() -> None:
    """Every day at 09:00 UTC: queue a reminder for everyone due one."""
    sent = queue_due_reminders()
    logger.info("Reminders queued: %d.", len(sent))
