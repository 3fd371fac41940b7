"""The public documents a verifier fetches: the issuer's DID document and the revocation lists."""

from __future__ import annotations

from flask import Blueprint, Response, abort, json

from app.credentials import issuing
from app.credentials.status_list import list_in_use
from app.extensions import db

bp = Blueprint("credentials", __name__)

# Verifiers fetch these on every check; a few minutes of caching spares the site, and a
# revocation reaches them within as long.
_MAX_AGE = 300


def _json(document: dict, media_type: str) -> Response:
    response = Response(json.dumps(document, indent=2) + "\n", mimetype=media_type)
    response.headers["Cache-Control"] = f"public, max-age={_MAX_AGE}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # browser-based verifiers fetch these too
    return response


@bp.get("/.well-known/did.json")
def did_document():
    """The did:web document: the site's public key, allowed to sign credentials."""
    return _json(issuing.did_document(), "application/did+json")


@bp.get("/credentials/status/<int:list_number>")
def status_list(list_number: int):
    """A signed Bitstring Status List: which certificates are revoked (a set bit), as of now.

    A list no certificate can be on yet is not found (404), however large its number."""
    if not list_in_use(db.session, list_number):
        abort(404)
    return _json(issuing.status_list_credential(db.session, list_number), "application/vc+ld+json")
