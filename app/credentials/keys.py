"""The site's Ed25519 signing key and the issuer identifier that publishes it.

The key is configured as CREDENTIAL_SIGNING_KEY, written as a Multikey secret key: multibase
base58btc of the multicodec ``ed25519-priv`` header (0x80 0x26) and the 32-byte seed, the form
``flask credentials new-key`` prints and Digital Bazaar's ed25519-multikey exports. Development
without one makes one in instance/ (``config.secret_key_from_file``); production refuses to start
without one (``ProductionConfig.check``).

The issuer is ``did:web:<host>`` of PUBLIC_URL: anyone resolves it to the site's
``/.well-known/did.json``, which lists the public key (``documents.did_document``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from app.credentials.multibase import base58btc_decode, base58btc_encode

# Multicodec varint headers (https://github.com/multiformats/multicodec): ed25519-pub, ed25519-priv.
PUBLIC_KEY_HEADER = b"\xed\x01"
SECRET_KEY_HEADER = b"\x80\x26"


class SigningKeyError(RuntimeError):
    """CREDENTIAL_SIGNING_KEY is not an Ed25519 Multikey secret key (the app refuses to start)."""


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key and the Multikey form of its public half."""

    private_key: Ed25519PrivateKey

    @classmethod
    def from_text(cls, text: str) -> SigningKey:
        """Read a Multikey secret key ("z3u2..."); SigningKeyError with the reason if it is not one."""
        try:
            raw = base58btc_decode(text.strip())
        except ValueError as error:
            raise SigningKeyError(f"CREDENTIAL_SIGNING_KEY is not multibase base58btc: {error}") from None
        if not raw.startswith(SECRET_KEY_HEADER) or len(raw) != len(SECRET_KEY_HEADER) + 32:
            raise SigningKeyError(
                "CREDENTIAL_SIGNING_KEY must be an Ed25519 Multikey secret key (32 bytes after the 0x8026 "
                "header); make one with `flask credentials new-key`."
            )
        return cls(Ed25519PrivateKey.from_private_bytes(raw[len(SECRET_KEY_HEADER) :]))

    @cached_property
    def public_key_multibase(self) -> str:
        """The public key as Multikey ``publicKeyMultibase`` ("z6Mk...")."""
        raw = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base58btc_encode(PUBLIC_KEY_HEADER + raw)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self.private_key.sign(data)


def new_secret_key_text() -> str:
    """A fresh random Ed25519 key, written as a Multikey secret key."""
    seed = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base58btc_encode(SECRET_KEY_HEADER + seed)


def issuer_did(public_url: str) -> str:
    """The site's did:web identifier: its host, with a port written as %3A (did:web's rule)."""
    parts = urlsplit(public_url)
    if not parts.hostname:
        raise ValueError("PUBLIC_URL must be an absolute URL to name the credential issuer")
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return "did:web:" + quote(host, safe="")


def verification_method_id(did: str, key: SigningKey) -> str:
    """The key's id in the DID document: the DID and the public key as fragment.

    Naming the key by itself means a new key gets a new id, so a verifier never checks an old
    proof against a different key under the same name.
    """
    return f"{did}#{key.public_key_multibase}"
