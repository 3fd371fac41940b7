"""Outgoing e-mail over SMTP; written to the log when no SMTP server is configured.

Nothing here is called from a request: the app's messages are sent by jobs (app/jobs/mail.py),
so a slow or failing SMTP server delays no page.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

log = logging.getLogger(__name__)

# Python folds headers at 78 characters and writes a header it cannot fold (a List-Unsubscribe
# link has no space to fold at) as RFC 2047 encoded words, which mail clients cannot read as a
# link. SMTP allows lines of 998 characters (RFC 5322), so nothing we send needs folding.
MAIL_POLICY = policy.default.clone(max_line_length=998)


def show_unsent_mail_on_console() -> None:
    """Print the messages that would have been sent, for development without an SMTP server.

    Registration and password reset finish through a link in an e-mail, so a developer must be
    able to read it: the mail log goes to standard error of the process that sends it, the job
    worker that `make run` starts beside the web server, and `make run` shows it.
    """
    if not any(isinstance(handler, logging.StreamHandler) for handler in log.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("\n--- %(message)s\n--- (end of e-mail)\n"))
        log.addHandler(handler)
        # Printed once: a worker that also logs to standard error would print it a second time.
        log.propagate = False
    log.setLevel(logging.INFO)


@dataclass(frozen=True)
class Mail:
    """One plain-text message, ready to send."""

    to: str
    subject: str
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)


def send_mail(
    config: Mapping[str, Any], *, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None
) -> None:
    """Send a plain-text message using the app's MAIL_* settings, with any extra ``headers``
    (e.g. List-Unsubscribe on reminders).

    Raises OSError (smtplib's errors are OSErrors) if the server refuses, is down or does not
    answer within MAIL_TIMEOUT seconds; a job that raises is retried.
    """
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if not config.get("MAIL_SERVER"):
        extra = "".join(f"\n{name}: {value}" for name, value in (headers or {}).items())
        # The body as written, not the MIME text: its encoding would break long links across lines.
        log.info("E-mail not sent (no MAIL_SERVER configured):\nTo: %s\nSubject: %s%s\n\n%s", to, subject, extra, body)
        return
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config.get("MAIL_TIMEOUT", 10)
    context = ssl.create_default_context()
    if config.get("MAIL_USE_SSL"):
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            smtp.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
    except BaseException:
        smtp.close()
        raise
    # The server has taken the message: an error saying goodbye must not fail the job, which
    # would be retried and send it again (a server answering QUIT with 421 sent six copies).
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        log.warning("The mail server took a message to %s, then failed to close the connection.", to.split("@")[-1])
        smtp.close()
