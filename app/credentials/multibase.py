"""Multibase encodings used by Data Integrity and Multikey: base58btc ("z") and base64url ("u")."""

from __future__ import annotations

import base64

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(_ALPHABET)}


def base58btc_encode(data: bytes) -> str:
    """Multibase base58btc: "z" then the Bitcoin base58 alphabet (leading zero bytes as "1")."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_ALPHABET[remainder])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "z" + "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """The bytes of a multibase base58btc string; ValueError if it is not one."""
    if not text.startswith("z"):
        raise ValueError("not a multibase base58btc string (it must start with 'z')")
    body = text[1:]
    number = 0
    for char in body:
        if char not in _INDEX:
            raise ValueError(f"{char!r} is not a base58 character")
        number = number * 58 + _INDEX[char]
    zeros = len(body) - len(body.lstrip("1"))
    payload = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + payload


def base64url_encode(data: bytes) -> str:
    """Multibase base64url without padding: "u" then the URL-safe alphabet."""
    return "u" + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def base64url_decode(text: str) -> bytes:
    """The bytes of a multibase base64url string; ValueError if it is not one."""
    if not text.startswith("u"):
        raise ValueError("not a multibase base64url string (it must start with 'u')")
    body = text[1:]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
