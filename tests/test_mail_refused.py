"""A recipient the mail server refuses: the job still fails, so the queue retries it or records
it, and the address is in no log record, traceback or failure record (a counsellor's invitation
promises the client's address is not kept)."""

from __future__ import annotations

import logging
import smtplib

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.failures import no_retry_can_cure
from app.models import JobFailure
from app.services.mail import MailRefused, send_mail, with_ascii_domain
from tests.test_mail_jobs import invite

REFUSED = "robin.reject@example.org"


def _chain(error: BaseException | None) -> list[BaseException]:
    """``error`` and every exception a traceback of it could show."""
    found = []
    while error is not None and error not in found:
        found.append(error)
        error = error.__cause__ or error.__context__
    return found


def test_a_refused_invitation_leaves_no_address_in_the_log_and_is_recorded(app, course, inbox, caplog):
    inbox.refused[REFUSED] = 550
    with caplog.at_level(logging.DEBUG):
        response = invite(app, REFUSED)
    assert response.status_code == 200 and not inbox.messages

    huey_failures = [record for record in caplog.records if record.name.startswith("huey") and record.exc_info]
    assert huey_failures, "Huey logged no failure: the refused mail did not fail the job"
    formatter = logging.Formatter()
    for record in caplog.records:
        if record.name == "mail.log":
            continue  # the test's SMTP server (aiosmtpd), not the app
        assert REFUSED not in formatter.format(record), record.name  # the message and any traceback
        if record.exc_info:
            assert all(REFUSED not in repr(error.args) for error in _chain(record.exc_info[1]))

    with app.app_context():
        [failure] = db.session.scalars(select(JobFailure)).all()
        assert (failure.job_name, failure.tries, failure.error_type) == ("send_email", 1, "MailRefused")
        assert failure.message == "SMTPRecipientsRefused: 550 <[address]>: Recipient address rejected"


@pytest.mark.parametrize("code", [550, 450])
def test_a_refusal_keeps_its_code_and_nothing_else_of_smtplibs_error(app, inbox, code):
    inbox.refused[REFUSED] = code
    with pytest.raises(MailRefused) as raised:
        send_mail(app.config, to=REFUSED, subject="Hello", body="Hi")
    error = raised.value
    assert isinstance(error, OSError)  # what the jobs' callers and the queue expect of a mail failure
    assert error.smtp_code == code and no_retry_can_cure(error) is (code == 550)  # 450: tried again
    assert error.__cause__ is None and error.__context__ is None
    assert REFUSED not in str(error) and REFUSED not in repr(error.args)


def test_other_refusals_are_blanked_too():
    sender = smtplib.SMTPSenderRefused(553, b"<clinic@example.org> not allowed", "clinic@example.org")
    data = smtplib.SMTPDataError(554, b"message for <robin@example.org> refused")
    assert str(MailRefused.of(sender)) == "SMTPSenderRefused: 553 <[address]> not allowed"
    assert str(MailRefused.of(data)) == "SMTPDataError: 554 message for <[address]> refused"
    assert MailRefused.of(data).smtp_code == 554


def test_a_domain_beyond_ascii_is_sent_in_its_idna_form(app, inbox):
    """Every mail server takes an IDNA domain; a Unicode one needs SMTPUTF8, which many lack."""
    send_mail(app.config, to="robin@bücher.example", subject="Hello", body="Hi")
    [message] = inbox.wait_for(1)
    assert message["To"] == "robin@xn--bcher-kva.example"
    assert with_ascii_domain("robin@example.org") == "robin@example.org"
    assert with_ascii_domain("zoë@bücher.example") == "zoë@xn--bcher-kva.example"  # the local part is the server's
    # IDNA 2008, not Python's IDNA 2003 codec, which maps ß to ss: faß.de is not fass.de.
    assert with_ascii_domain("someone@faß.de") == "someone@xn--fa-hia.de"
    assert with_ascii_domain("someone@Bücher.Example") == "someone@xn--bcher-kva.example"


def test_a_server_without_smtputf8_is_not_asked_again_for_an_address_beyond_ascii():
    """smtplib raises this before sending, when the server does not offer SMTPUTF8: the same on every try."""
    utf8 = (
        "One or more source or delivery addresses require internationalized email support, but the "
        "server does not advertise the required SMTPUTF8 capability"
    )  # smtplib's own words
    assert no_retry_can_cure(smtplib.SMTPNotSupportedError(utf8))
    assert not no_retry_can_cure(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
    # The same error type from a relay that did not offer STARTTLS or AUTH this time: tried again.
    assert not no_retry_can_cure(smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."))
    assert not no_retry_can_cure(smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server."))
