"""Outgoing e-mail over SMTP; written to the log when no SMTP server is configured."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

log = logging.getLogger(__name__)


def send_mail(config: dict[str, Any], *, to: str, subject: str, body: str) -> None:
    """Send a plain-text message using the app's MAIL_* settings.

    Raises OSError/smtplib.SMTPException if the server refuses; callers decide whether the
    person should know (a password reset must not reveal whether an account exists).
    """
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not config.get("MAIL_SERVER"):
        log.info("E-mail not sent (no MAIL_SERVER configured):\n%s", message)
        return
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config.get("MAIL_TIMEOUT", 10)
    context = ssl.create_default_context()
    if config.get("MAIL_USE_SSL"):
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            smtp.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
