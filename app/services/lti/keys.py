"""The tool's signing key: where it comes from, its public key set, and signing with it.

The tool's RSA key is configuration, not data: ``LTI_PRIVATE_KEY`` (PEM), or in development and
tests a key made once in ``LTI_PRIVATE_KEY_FILE`` (instance/). Its public half is published at
/lti/jwks with a ``kid`` derived from the key (RFC 7638 thumbprint), so rotating is: publish the
new key, let platforms fetch the key set (they cache it for a while), then switch.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from config import secret_key_from_file


def new_private_key_pem() -> str:
    """A fresh 2048-bit RSA key, as PKCS#8 PEM text."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass(frozen=True)
class ToolKey:
    """The tool's signing key, its public JWK and key id."""

    private_key: rsa.RSAPrivateKey
    jwk: dict[str, Any]

    @property
    def kid(self) -> str:
        """The key id that tokens name in their header."""
        return str(self.jwk["kid"])


@lru_cache(maxsize=4)
def tool_key_from_pem(pem: str) -> ToolKey:
    """Read the PEM once per process (parsing RSA keys is slow) and derive its JWK and ``kid``."""
    private_key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise RuntimeError("LTI_PRIVATE_KEY must be an RSA private key (PEM).")
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    # RFC 7638 thumbprint: the required members in lexical order, no whitespace.
    canonical = json.dumps({k: public_jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    return ToolKey(private_key, {**public_jwk, "kid": kid, "alg": "RS256", "use": "sig"})


def tool_jwks(key: ToolKey) -> dict[str, Any]:
    """The key set published at /lti/jwks."""
    return {"keys": [key.jwk]}


def tool_sign(key: ToolKey, claims: dict[str, Any]) -> str:
    """Sign ``claims`` as the tool (RS256, with the key id platforms look up)."""
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def configured_tool_key(config: Any) -> ToolKey | None:
    """The tool's key, or None when none is configured (the LTI pages then answer 404).

    ``LTI_PRIVATE_KEY`` (PEM) wins; without it, ``LTI_PRIVATE_KEY_FILE`` is read, and made with a
    new key the first time (development and tests). Production sets LTI_PRIVATE_KEY, the same on
    every app server, since platforms check every signature against the one published key set.
    """
    pem = config.get("LTI_PRIVATE_KEY") or ""
    if not pem and config.get("LTI_PRIVATE_KEY_FILE"):
        pem = secret_key_from_file(Path(config["LTI_PRIVATE_KEY_FILE"]), make=new_private_key_pem)
    if not pem:
        return None
    return tool_key_from_pem(pem.strip() + "\n")
