"""Where the LTI tool's signing key comes from: LTI_PRIVATE_KEY, or a key file made once in development."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.services.lti import ToolKey, new_private_key_pem, tool_key_from_pem
from config import secret_key_from_file


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
