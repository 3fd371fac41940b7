"""The documents the site publishes, as plain dictionaries: the Open Badges 3.0 credential of a
certificate, the status list credential, and the DID document that lists the signing key.

No signing and no database here (``issuing`` does both); the shapes follow Open Badges 3.0
(1EdTech), the Verifiable Credentials Data Model 2.0 and Bitstring Status List (W3C). Every
property used is defined by the two bundled contexts: a term they do not define would be dropped
by canonicalisation, and a strict verifier refuses such a credential.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.credentials.canonical import OB_V3_CONTEXT, VC_V2_CONTEXT
from app.credentials.proof import xml_datetime

# True of every course: a lesson without a quiz is completed by marking it done.
CRITERIA = "Completed every lesson of the course."


@dataclass(frozen=True)
class Issuer:
    """The site as an issuer: its DID, the id of its key in the DID document, its name and address."""

    did: str
    verification_method: str
    public_key_multibase: str
    name: str
    url: str


@dataclass(frozen=True)
class StatusEntry:
    """Where a credential's revocation bit is: the status list credential's URL and the bit index."""

    list_url: str
    index: int


def open_badge_credential(
    *,
    issuer: Issuer,
    credential_id: str,
    valid_from: datetime,
    holder_name: str | None,
    course_title: str,
    course_summary: str,
    course_url: str,
    status: StatusEntry,
) -> dict[str, Any]:
    """An unsigned OpenBadgeCredential saying the holder completed the course.

    The holder is named as they chose on the certificate (an IdentityObject of type "name", not
    hashed, as shown on the verification page), or not at all; either way the subject has an
    ``id`` (Open Badges 3.0 requires an id or an identifier), a UUID drawn from the credential's
    own id, which says nothing about the holder. ``valid_from`` is when it holds from (the caller
    gives the start of the day of completion: ``issuing``).
    """
    subject: dict[str, Any] = {
        "id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, credential_id)}",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": course_url,
            "type": ["Achievement"],
            "achievementType": "Certificate",
            "name": course_title,
            "description": course_summary or course_title,
            "criteria": {"narrative": CRITERIA},
        },
    }
    if holder_name:
        subject["identifier"] = [
            {"type": "IdentityObject", "identityHash": holder_name, "identityType": "name", "hashed": False}
        ]
    return {
        "@context": [VC_V2_CONTEXT, OB_V3_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Certificate of completion: {course_title}",
        "issuer": {"id": issuer.did, "type": ["Profile"], "name": issuer.name, "url": issuer.url},
        "validFrom": xml_datetime(valid_from),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": f"{status.list_url}#{status.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(status.index),
            "statusListCredential": status.list_url,
        },
    }


def status_list_credential(*, issuer: Issuer, list_url: str, encoded_list: str) -> dict[str, Any]:
    """An unsigned BitstringStatusListCredential for revocation, from the same issuer as the credentials."""
    return {
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.did,
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list,
        },
    }


def did_document(issuer: Issuer) -> dict[str, Any]:
    """The did:web document served at /.well-known/did.json: the key, allowed to assert credentials."""
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": issuer.did,
        "verificationMethod": [
            {
                "id": issuer.verification_method,
                "type": "Multikey",
                "controller": issuer.did,
                "publicKeyMultibase": issuer.public_key_multibase,
            }
        ],
        "assertionMethod": [issuer.verification_method],
    }
