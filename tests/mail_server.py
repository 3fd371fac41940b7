"""A real SMTP server on loopback for tests (aiosmtpd), and helpers to read what it received."""

from __future__ import annotations

import base64
import binascii
import contextlib
import socket
import time
import zlib

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message


class Inbox(Message):
    """Keeps every message the SMTP server receives; refuses the recipients in ``refused``."""

    def __init__(self):
        super().__init__()
        self.messages = []
        self.refused: dict[str, int] = {}  # address -> the code refusing it (550 for good, 450 for now)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            # As real servers do, the answer repeats the address.
            return f"{self.refused[address]} <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def handle_message(self, message):
        self.messages.append(message)

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_inbox() -> tuple[Inbox, Controller]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return inbox, controller


def body_of(message) -> str:
    if message.is_multipart():
        return message.get_payload(0).get_payload(decode=True).decode()
    return message.get_payload(decode=True).decode()


def readable_forms(token: str) -> list[bytes]:
    """What anyone who sees the link can make of it without a key: each part base64-decoded,
    and inflated where it was compressed (as a signed-only token would be)."""
    forms = [token.encode()]
    for part in token.lstrip(".").split("."):
        try:
            decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            continue
        forms.append(decoded)
        with contextlib.suppress(zlib.error):
            forms.append(zlib.decompress(decoded))
    return forms
