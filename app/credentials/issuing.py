"""Signed documents for the routes: a learner's credential, a status list, the DID document.

The key and the issuer come from the app's configuration (``init_app`` reads and checks them at
start-up); the certificates' rules (which one is the learner's, what name it shows) are
``app.services.certificates``'.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.credentials import documents, proof, status_list
from app.credentials.keys import SigningKey, issuer_did, new_secret_key_text, verification_method_id
from app.models import Course, User
from app.models.types import utcnow
from app.services.certificates import certificate_for, shown_name, verification_url
from app.timefmt import current_zone, start_of_local_day
from app.urls import external_url
from config import secret_key_from_file

_EXTENSION = "credentials"


def init_app(app: Flask) -> None:
    """Read and check the signing key (making one in instance/ in development) and add the routes.

    A key that cannot be read stops the app here, with the reason, rather than at the first download.
    """
    if not app.config["CREDENTIAL_SIGNING_KEY"] and app.config["CREDENTIAL_SIGNING_KEY_FILE"]:
        path = Path(app.config["CREDENTIAL_SIGNING_KEY_FILE"])
        app.config["CREDENTIAL_SIGNING_KEY"] = secret_key_from_file(path, make=new_secret_key_text)
    if not app.config["CREDENTIAL_SIGNING_KEY"]:
        raise RuntimeError(
            "CREDENTIAL_SIGNING_KEY must be set to the site's Ed25519 signing key; "
            "make one with `flask credentials new-key`."
        )
    key = SigningKey.from_text(app.config["CREDENTIAL_SIGNING_KEY"])
    did = issuer_did(app.config["PUBLIC_URL"])
    app.extensions[_EXTENSION] = (
        key,
        documents.Issuer(
            did=did,
            verification_method=verification_method_id(did, key),
            public_key_multibase=key.public_key_multibase,
            name=app.config["ISSUER_NAME"],
            url=app.config["PUBLIC_URL"],
        ),
    )

    from app.credentials import cli, routes

    app.register_blueprint(routes.bp)
    cli.register(app)


def _key_and_issuer() -> tuple[SigningKey, documents.Issuer]:
    return current_app.extensions[_EXTENSION]


def did_document() -> dict[str, Any]:
    """The site's DID document (public; no secret in it)."""
    return documents.did_document(_key_and_issuer()[1])


def _status_list_url(list_number: int) -> str:
    return external_url("credentials.status_list", list_number=list_number)


def learner_credential(session: Session, *, learner: User, course_slug: str) -> dict[str, Any] | None:
    """The learner's live certificate for the course as a signed Open Badges 3.0 credential.

    None when the course is unknown or the learner has no live certificate for it (a revoked one
    is not handed out again: its credential would only verify as revoked).
    """
    course = session.scalar(select(Course).where(Course.slug == course_slug))
    if course is None:
        return None
    certificate = certificate_for(session, learner=learner, course_id=course.id)
    if certificate is None or certificate.is_revoked:
        return None
    key, issuer = _key_and_issuer()
    list_number, index = status_list.status_position(certificate.id)
    unsigned = documents.open_badge_credential(
        issuer=issuer,
        credential_id=verification_url(certificate.code),
        # The day of completion, not its time: the instant would match the learning record of the
        # completion (xAPI), and so tie a named credential to a pseudonymous learner's records.
        valid_from=start_of_local_day(certificate.issued_at, current_zone()),
        holder_name=shown_name(certificate.name_at_issue, certificate.name_display),
        course_title=course.title,
        course_summary=course.summary,
        course_url=external_url("learn.course", course_slug=course.slug),
        status=documents.StatusEntry(_status_list_url(list_number), index),
    )
    # Signed as of the start of today: the instant of the download, often a moment after the
    # completion (the last page links to it), would give the completion's time away just the same.
    signed_on = start_of_local_day(utcnow(), current_zone())
    return proof.sign(unsigned, key, verification_method=issuer.verification_method, created=signed_on)


def status_list_credential(session: Session, list_number: int) -> dict[str, Any]:
    """The signed revocation list number ``list_number``, as it stands now (1 query)."""
    encoded = status_list.encode_bits(status_list.valid_indexes(session, list_number))
    key, issuer = _key_and_issuer()
    return _signed_status_list(key, issuer, _status_list_url(list_number), encoded)


@lru_cache(maxsize=8)
def _signed_status_list(key: SigningKey, issuer: documents.Issuer, list_url: str, encoded: str) -> dict[str, Any]:
    # Signing costs a canonicalisation (tens of milliseconds); the list changes only when a
    # certificate is issued or revoked, so the same list is signed once and served many times.
    unsigned = documents.status_list_credential(issuer=issuer, list_url=list_url, encoded_list=encoded)
    return proof.sign(unsigned, key, verification_method=issuer.verification_method, created=utcnow())
