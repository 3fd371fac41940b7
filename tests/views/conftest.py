"""Fixtures for the view tests that read the mail the app sends."""

import pytest

from tests.mail_server import start_inbox


@pytest.fixture
def inbox(app):
    """A real SMTP server on loopback (aiosmtpd) that the app sends its mail to."""
    inbox, controller = start_inbox()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    yield inbox
    controller.stop()
