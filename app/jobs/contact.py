"""Contact requests as jobs: the clinic's notice, the person's acknowledgement, and the daily clear-out.

Both e-mails are discreet, because other people may read an inbox: the clinic's notice holds a
link to the request and nothing about the person or what it is about; the acknowledgement
says only that a request was received, and goes only to an address the person gave for
replies. Each job takes the request's id, never its content, so nothing personal sits in the
queue, and reads the row when it runs: a request withdrawn meanwhile gets no acknowledgement.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app, render_template

from app.extensions import db
from app.jobs import crontab, job, periodic_job
from app.models import ContactMethod, ContactRequest, ContactStatus
from app.models.types import utcnow
from app.services.contact_requests import (
    contact_emails_pending,
    contact_emails_waiting,
    contact_requests_purge,
    withdraw_link_token,
)
from app.services.mail import Mail, send_mail
from app.urls import external_url

logger = logging.getLogger(__name__)

NOTICE_SUBJECT = "A new request is waiting"
ACKNOWLEDGEMENT_SUBJECT = "We received your request"


def clinic_notice_mail(request_id: int) -> Mail | None:
    """The notice to the clinic's intake address, or None (no address configured, or the request is gone)."""
    to = current_app.config["CLINIC_INTAKE_EMAIL"]
    if not to or db.session.get(ContactRequest, request_id) is None:
        return None
    link = external_url("counsel.contact_request", request_id=request_id)
    return Mail(to=to, subject=NOTICE_SUBJECT, body=render_template("contact/notice_email.txt", link=link))


def acknowledgement_mail(request_id: int) -> Mail | None:
    """The acknowledgement to the address the person gave, or None when they gave none or withdrew."""
    request = db.session.get(ContactRequest, request_id)
    if (
        request is None
        or request.status == ContactStatus.WITHDRAWN
        or request.contact_by != ContactMethod.EMAIL
        or not request.email
    ):
        return None
    token = withdraw_link_token(request, secret_key=current_app.config["SECRET_KEY"])
    body = render_template(
        "contact/acknowledgement_email.txt", withdraw=external_url("contact.withdraw_by_link", token=token)
    )
    return Mail(to=request.email, subject=ACKNOWLEDGEMENT_SUBJECT, body=body)


def _send(mail: Mail | None) -> bool:
    db.session.rollback()  # only read; end the transaction before talking to the mail server
    if mail is None:
        return False
    send_mail(current_app.config, to=mail.to, subject=mail.subject, body=mail.body, headers=mail.headers)
    return True


@job()
def send_clinic_notice(request_id: int) -> bool:
    """E-mail the clinic's intake address that a request is waiting; False when nothing was sent."""
    return _send(clinic_notice_mail(request_id))


@job()
def send_acknowledgement(request_id: int) -> bool:
    """E-mail the person that their request arrived, if they asked for replies by e-mail; False otherwise."""
    return _send(acknowledgement_mail(request_id))


def queue_waiting_contact_emails() -> int:
    """Queue the e-mails of the requests made while the queue was down; how many requests.

    A request is marked done once both its jobs are queued: if the queue fails again half-way,
    the next run queues the request's e-mails again (a notice twice is better than none).
    """
    waiting = contact_emails_waiting(db.session)
    for request_id in waiting:
        send_clinic_notice(request_id)
        send_acknowledgement(request_id)
        contact_emails_pending(db.session, request_id=request_id, pending=False)
    return len(waiting)


@periodic_job(crontab(minute="*/10"))
def send_waiting_contact_emails() -> None:
    """Every ten minutes: queue the e-mails of requests made while the queue was down."""
    queued = queue_waiting_contact_emails()
    if queued:
        logger.info("Contact requests whose e-mails waited for the queue: %d.", queued)


def purge_ended_requests(now: datetime | None = None) -> int:
    """Delete the requests closed or withdrawn longer ago than the configured retention; return how many."""
    retention = timedelta(days=current_app.config["CONTACT_REQUEST_RETENTION_DAYS"])
    return contact_requests_purge(db.session, now=now or utcnow(), retention=retention)


@periodic_job(crontab(hour="3", minute="30"))
def purge_ended_contact_requests() -> None:
    """Every day at 03:30 UTC: delete the contact requests past their retention period."""
    deleted = purge_ended_requests()
    logger.info("Contact requests past their retention deleted: %d.", deleted)
