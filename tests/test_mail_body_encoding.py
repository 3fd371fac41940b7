"""A body beyond ASCII is declared to the mail server as 8-bit, or sent as 7-bit where it cannot be."""

from __future__ import annotations

import email
from email import policy

import pytest
from aiosmtpd.controller import Controller

from app.services.mail import send_mail
from tests.mail_server import Inbox, free_port

BODY = "Hello Zoë,\n\nThe lesson on naltrexone is ready: " + "https://course.example.org/" + "x" * 120 + "\n"


class Envelopes(Inbox):
    """Keeps each envelope as the server received it; offers 8BITMIME only when told to."""

    def __init__(self, *, eight_bit: bool):
        super().__init__()
        self.eight_bit = eight_bit
        self.envelopes = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses if self.eight_bit else [line for line in responses if "8BITMIME" not in line]

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(params=[True, False], ids=["8BITMIME offered", "7-bit only"])
def server(request, app):
    handler = Envelopes(eight_bit=request.param)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    yield handler
    controller.stop()


def test_a_body_beyond_ascii_arrives_whole_however_the_server_takes_it(app, server):
    send_mail(app.config, to="zoe@example.org", subject="Your lesson", body=BODY)
    server.wait_for(1)
    (envelope,) = server.envelopes
    raw = envelope.original_content
    received = email.message_from_bytes(raw, policy=policy.default)
    assert received.get_content().replace("\r\n", "\n") == BODY
    if server.eight_bit:
        assert "BODY=8BITMIME" in envelope.mail_options
        assert received["Content-Transfer-Encoding"] == "8bit"
    else:
        assert not any(option.startswith("BODY=") for option in envelope.mail_options)
        assert received["Content-Transfer-Encoding"] == "quoted-printable"
        assert raw.isascii()
        _, _, encoded = raw.partition(b"\r\n\r\n")
        assert max(len(line) for line in encoded.split(b"\r\n")) <= 76


def test_a_sender_named_beyond_ascii_still_declares_the_body(app, server):
    """Only the addresses decide SMTPUTF8: a name beside the sender's address does not."""
    app.config.update(MAIL_SENDER="Clinique Zoë <noreply@example.org>")
    send_mail(app.config, to="lee@example.org", subject="Your lesson", body=BODY)
    server.wait_for(1)
    (envelope,) = server.envelopes
    assert ("BODY=8BITMIME" in envelope.mail_options) is server.eight_bit
    received = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert received.get_content().replace("\r\n", "\n") == BODY


def test_an_ascii_body_is_sent_as_it_is_with_no_body_option(app, server):
    send_mail(app.config, to="lee@example.org", subject="Your lesson", body="Hello Lee,\n\nA plain line.\n")
    server.wait_for(1)
    (envelope,) = server.envelopes
    assert not any(option.startswith("BODY=") for option in envelope.mail_options)
    received = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert received["Content-Transfer-Encoding"] == "7bit"
    assert received.get_content().replace("\r\n", "\n") == "Hello Lee,\n\nA plain line.\n"


def test_an_address_beyond_ascii_gets_the_body_option_once_from_smtputf8(app):
    """smtplib adds SMTPUTF8 and BODY=8BITMIME itself for such an address: ours would say it twice."""
    handler = Envelopes(eight_bit=True)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=True)
    controller.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
        send_mail(app.config, to="zoë@example.org", subject="Your lesson", body=BODY)
        handler.wait_for(1)
        (envelope,) = handler.envelopes
        assert envelope.mail_options.count("BODY=8BITMIME") == 1 and "SMTPUTF8" in envelope.mail_options
        received = email.message_from_bytes(envelope.original_content, policy=policy.default)
        assert received.get_content().replace("\r\n", "\n") == BODY
    finally:
        controller.stop()
