"""RDF canonicalisation (RDFC-1.0, PyLD's URDNA2015) with the bundled contexts and no network.

Only the contexts in ``contexts/`` can be loaded: a document naming any other context fails
to canonicalise instead of fetching it, so signing never depends on, or leaks to, another site.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pyld import jsonld  # type: ignore[import-untyped]  # PyLD ships no type hints

CONTEXTS_DIR = Path(__file__).parent / "contexts"
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_V3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
_FILES = {VC_V2_CONTEXT: "credentials-v2.jsonld", OB_V3_CONTEXT: "ob-context-3.0.3.jsonld"}


class UnknownContextError(LookupError):
    """A document named a JSON-LD context that is not bundled."""


@cache
def _bundled(url: str) -> dict[str, Any]:
    try:
        name = _FILES[url]
    except KeyError:
        raise UnknownContextError(f"the JSON-LD context {url} is not bundled in {CONTEXTS_DIR}") from None
    return json.loads((CONTEXTS_DIR / name).read_text(encoding="utf-8"))


def bundled_document_loader(url: str, options: dict | None = None) -> dict[str, Any]:
    """PyLD document loader serving the bundled contexts; any other URL raises UnknownContextError."""
    return {"contextUrl": None, "documentUrl": url, "document": _bundled(url), "contentType": "application/ld+json"}


def canonize(document: dict[str, Any]) -> str:
    """The canonical N-Quads of a JSON-LD document (RDFC-1.0), with the bundled contexts only."""
    return jsonld.normalize(
        document,
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": bundled_document_loader},
    )
