"""Short texts sealed with the app's secret key: encrypted and authenticated (Fernet, from
``cryptography``), each purpose with a key of its own derived from ``SECRET_KEY``.

For what must travel through a place others can read (a link in an e-mail, a cookie) and must
not be read there: a signed-only token (itsdangerous) is merely base64, readable by anyone who
sees it in an access log, a proxy, browser history or the cookie jar.
"""

from __future__ import annotations

import base64
import functools
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@functools.cache
def _cipher(secret_key: str, purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(text: str, *, secret_key: str, purpose: str) -> str:
    """``text`` sealed for ``purpose``: URL- and cookie-safe, unreadable and unforgeable without the key."""
    return _cipher(secret_key, purpose).encrypt(text.encode()).decode("ascii")


def unseal(token: str, *, secret_key: str, purpose: str, max_age: int | None = None) -> str | None:
    """The text ``seal`` sealed for ``purpose``; None when forged, altered, for another purpose,
    or older than ``max_age`` seconds."""
    try:
        return _cipher(secret_key, purpose).decrypt(token.encode("ascii"), ttl=max_age).decode()
    except (InvalidToken, UnicodeError, ValueError):
        return None


def unseal_with_time(
    token: str, *, secret_key: str, purpose: str, max_age: int | None = None
) -> tuple[str, datetime] | None:
    """What ``unseal`` gives, with when it was sealed (whole seconds, UTC); None as ``unseal``."""
    cipher = _cipher(secret_key, purpose)
    try:
        text = cipher.decrypt(token.encode("ascii"), ttl=max_age).decode()
    except (InvalidToken, UnicodeError, ValueError):
        return None
    # Read from the token only once it is known to be ours: the time is inside what it authenticates.
    return text, datetime.fromtimestamp(cipher.extract_timestamp(token.encode("ascii")), UTC)
