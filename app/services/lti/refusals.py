"""A refused LTI login or launch: the error that says which check failed, and the warning it logs.

Apart because the login, the launch and the accounts a launch reaches all refuse with it, and the
views log every refusal the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from app.services.errors import DomainError
from app.services.lti.claims import CLAIM

# Named after the package, not this module: it is the logger docs/integrations.md tells an admin
# to watch for refused launches.
logger = logging.getLogger("app.services.lti")


class LtiLaunchError(DomainError):
    """A login or launch this tool refuses; the message says which check failed, for the LMS's admin."""


@dataclass(frozen=True)
class RefusalSource:
    """Where a refused login or launch said it came from, unchecked, as text fit for a log line."""

    issuer: str = ""
    client_id: str = ""
    deployment_id: str = ""


def login_refusal_source(params: Mapping[str, str]) -> RefusalSource:
    """The platform a login initiation names: its ``iss``, ``client_id`` and ``lti_deployment_id``."""
    return RefusalSource(
        _logged(params.get("iss")), _logged(params.get("client_id")), _logged(params.get("lti_deployment_id"))
    )


def launch_refusal_source(id_token: str) -> RefusalSource:
    """The platform an id_token names, read without checking it (its signature may be what failed);
    empty for a token that cannot be read at all."""
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return RefusalSource()
    audience = claims.get("aud")
    if isinstance(audience, list):  # several audiences: azp says which is the tool
        audience = claims.get("azp") or audience
    return RefusalSource(_logged(claims.get("iss")), _logged(audience), _logged(claims.get(CLAIM + "deployment_id")))


def _logged(value: Any, limit: int = 200) -> str:
    """A value a platform sent, as a log line may hold it: on one line, without control characters
    (a line break could forge another line of the log), and cut short."""
    text = value if isinstance(value, str) else "" if value is None else json.dumps(value)
    return "".join(char if char.isprintable() else "?" for char in text[:limit])


def lti_refusal_log(step: str, error: LtiLaunchError, source: RefusalSource) -> None:
    """Log a refused login or launch (warning): the check that failed, as the page says it, and
    the platform the request named, for an admin asked why a launch did not work. Never the
    id_token (anyone reading the log could replay it while it lasts) nor anything of the person."""
    logger.warning(
        "LTI %s refused: %s (issuer %s, client id %s, deployment id %s)",
        step,
        _logged(str(error), limit=500),
        source.issuer or "(none)",
        source.client_id or "(none)",
        source.deployment_id or "(none)",
    )
