"""Data Integrity proofs with the eddsa-rdfc-2022 cryptosuite (W3C vc-di-eddsa).

Signing, as the specification's algorithm: canonicalise the proof options (with the document's
``@context``) and the document without its proof (RDFC-1.0), hash each with SHA-256, sign the
two hashes (options first) with Ed25519, and write the signature as multibase base58btc.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature

from app.credentials.canonical import canonize
from app.credentials.keys import SigningKey
from app.credentials.multibase import base58btc_decode, base58btc_encode

CRYPTOSUITE = "eddsa-rdfc-2022"


def _hash_data(document: dict[str, Any], proof_options: dict[str, Any]) -> bytes:
    unsigned = {name: value for name, value in document.items() if name != "proof"}
    options = {"@context": document["@context"]} | proof_options
    return hashlib.sha256(canonize(options).encode()).digest() + hashlib.sha256(canonize(unsigned).encode()).digest()


def xml_datetime(moment: datetime) -> str:
    """A UTC instant as the XML Schema dateTime the standards use: "2026-12-04T20:40:00Z"."""
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def sign(document: dict[str, Any], key: SigningKey, *, verification_method: str, created: datetime) -> dict[str, Any]:
    """A copy of ``document`` with an assertion proof by ``key`` (named ``verification_method``)."""
    proof_options = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": xml_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    signature = key.sign(_hash_data(document, proof_options))
    return document | {"proof": proof_options | {"proofValue": base58btc_encode(signature)}}


def proof_matches(document: dict[str, Any], key: SigningKey) -> bool:
    """Whether the document's proof is ``key``'s signature of it as it stands (for the site's own checks).

    Tests of the credentials use an independent verifier (tests/credential_verifier); this is
    for the site's own use, such as checking a key after configuring it.
    """
    proof = dict(document.get("proof") or {})
    try:
        signature = base58btc_decode(proof.pop("proofValue"))
    except (KeyError, ValueError):
        return False
    try:
        key.private_key.public_key().verify(signature, _hash_data(document, proof))
    except InvalidSignature:
        return False
    return True
