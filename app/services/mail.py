"""Outgoing e-mail over SMTP; written to the log when no SMTP server is configured.

Nothing here is called from a request: the app's messages are sent by jobs (app/jobs/mail.py),
so a slow or failing SMTP server delays no page.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

import idna

log = logging.getLogger(__name__)

# Python folds headers at 78 characters and writes a header it cannot fold (a List-Unsubscribe
# link has no space to fold at) as RFC 2047 encoded words, which mail clients cannot read as a
# link. SMTP allows lines of 998 characters (RFC 5322), so nothing we send needs folding.
MAIL_POLICY = policy.default.clone(max_line_length=998)

# A refused recipient is quoted by smtplib and often by the server's own answer: blanked wherever
# an error's text is kept (logs, tracebacks, the record of a failed job).
EMAIL_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")


def without_addresses(text: str) -> str:
    """``text`` with every e-mail address in it replaced by ``[address]``."""
    return EMAIL_ADDRESS.sub("[address]", text)


class MailRefused(smtplib.SMTPResponseException):
    """The mail server refused a message: its SMTP code, and its answer with no address in it.

    smtplib's own errors carry the addresses (``SMTPRecipientsRefused`` maps each refused one to
    the answer, which often repeats it; ``SMTPSenderRefused`` and ``SMTPDataError`` may echo them),
    and Huey writes the traceback of a failed job to the worker's log. This one stands in for them,
    so that a counsellor's invitation to a client's address does not leave the address in the log.
    It is still an ``SMTPResponseException`` with the server's code, so the queue retries a 4xx and
    gives up at once on a 5xx (``no_retry_can_cure``).
    """

    def __str__(self) -> str:
        return str(self.smtp_error)

    @classmethod
    def of(cls, error: smtplib.SMTPRecipientsRefused | smtplib.SMTPResponseException) -> MailRefused:
        """The refusal ``error`` reports, named by its smtplib type, without the addresses."""
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            answers = list(error.recipients.values())
            # The lowest code: a 5xx (for good) only when every recipient was refused for good.
            code = min((answer_code for answer_code, _ in answers), default=0)
            text = "; ".join(dict.fromkeys(_text(answer) for _, answer in answers))
        else:
            code, text = error.smtp_code, _text(error.smtp_error)
        return cls(code, f"{type(error).__name__}: {code} {without_addresses(text)}".strip())


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer


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


def with_ascii_domain(address: str) -> str:
    """``address`` with its domain in the ASCII form DNS and every mail server take (IDNA 2008:
    bücher.example is xn--bcher-kva.example). Only a local part beyond ASCII then needs a server
    with SMTPUTF8."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        # IDNA 2008 with UTS 46 mapping, as email-validator reads the address when it is typed.
        # Not Python's "idna" codec: IDNA 2003 maps ß to ss, so faß.de went to fass.de, another
        # domain's owner, reset links and all.
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError:  # not a name IDNA can write: left for the server to refuse, for good
        return address


def sender_domain(sender: str) -> str:
    """The domain of the sender's address, for the Message-ID (``localhost`` if it has none)."""
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


def _body_options(smtp: smtplib.SMTP, message: EmailMessage, body: str) -> tuple[str, ...]:
    """The MAIL FROM options that declare how the body travels, after readying it for this server.

    A body that is not ASCII (a name with an accent) goes as 8-bit text, which a server must be
    told of (RFC 6152: BODY=8BITMIME); one that does not offer 8BITMIME gets it as
    quoted-printable instead, in ASCII lines of at most 76 characters (RFC 2045).
    """
    if message["Content-Transfer-Encoding"] != "8bit":
        return ()
    if not (parseaddr(str(message["From"]))[1] + parseaddr(str(message["To"]))[1]).isascii():
        # An address beyond ASCII goes with SMTPUTF8, for which smtplib adds BODY=8BITMIME itself
        # (or refuses, where the server lacks SMTPUTF8): said twice, a strict server answers 501.
        return ()
    smtp.ehlo_or_helo_if_needed()
    if smtp.has_extn("8bitmime"):
        return ("BODY=8BITMIME",)
    # The policy decides the encoded lines' length: SMTP's 998 would break RFC 2045's 76.
    kept, message.policy = message.policy, message.policy.clone(max_line_length=76)
    try:
        message.set_content(body, cte="quoted-printable")
    finally:
        message.policy = kept
    return ()


def send_mail(
    config: Mapping[str, Any], *, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None
) -> None:
    """Send a plain-text message using the app's MAIL_* settings, with any extra ``headers``
    (e.g. List-Unsubscribe on reminders).

    Raises OSError (smtplib's errors are OSErrors) if the server is down or does not answer
    within MAIL_TIMEOUT seconds, and ``MailRefused`` (one of them) if it refuses; a job that
    raises is retried.
    """
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to = with_ascii_domain(to)
    message["Subject"] = subject
    # Neither EmailMessage nor smtplib adds these, and a submission server may not either: without
    # a Date (RFC 5322 requires one) or a Message-ID, spam filters mark a reset link down.
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender_domain(config["MAIL_SENDER"]))
    # Sent by a program (RFC 3834): an out-of-office reply to the no-reply sender helps nobody.
    message["Auto-Submitted"] = "auto-generated"
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
    refused: MailRefused | None = None
    try:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            smtp.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message, mail_options=_body_options(smtp, message, body))
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
        smtp.close()
        refused = MailRefused.of(error)
    except BaseException:
        smtp.close()
        raise
    if refused is not None:
        # Raised outside the handler, so smtplib's error (and its addresses) is not its context.
        raise refused from None
    # The server has taken the message: an error saying goodbye must not fail the job, which
    # would be retried and send it again (a server answering QUIT with 421 sent six copies).
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        log.warning("The mail server took a message to %s, then failed to close the connection.", to.split("@")[-1])
        smtp.close()
