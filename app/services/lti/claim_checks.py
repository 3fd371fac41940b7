"""The JSON types of the claims a launch reads, checked before it reads them.

Apart from the launch because it is one check among its many, and the longest: each claim read
must have the type the standard gives it, and no NUL character anywhere.
"""

from __future__ import annotations

from typing import Any

from app.models import LtiGradeTarget
from app.services.lti.claims import AGS_ENDPOINT_CLAIM, CLAIM, DEEP_LINKING_CLAIM
from app.services.lti.refusals import LtiLaunchError

# The claims read here that the standard makes JSON objects. An empty value of another type is
# taken as absent, as it always was: platforms written in PHP send an empty object as [].
OBJECT_CLAIMS = (
    CLAIM + "custom",
    CLAIM + "launch_presentation",
    CLAIM + "resource_link",
    CLAIM + "context",
    AGS_ENDPOINT_CLAIM,
    DEEP_LINKING_CLAIM + "deep_linking_settings",
)
# The longest line item address a grade target keeps: its column's length.
LINEITEM_MAX_LENGTH: int = LtiGradeTarget.__table__.c.lineitem_url.type.length  # type: ignore[attr-defined]


def _json_type(value: Any) -> str:
    """What a JSON value is, in the words of the JSON standard: "a string", "an array"..."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true or false"
    return "a number" if isinstance(value, int | float) else "null"


def claim_name(name: str) -> str:
    """A claim as a refusal names it: its short name and, for the LTI ones, its full one."""
    short = name.rsplit("/", 1)[-1]
    return f"{short} ({name})" if short != name else name


def _holds_nul(value: Any) -> bool:
    """Whether a NUL character is anywhere in a JSON value, its objects' keys included."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    return isinstance(value, list) and any(_holds_nul(item) for item in value)


def check_claim_types(claims: dict[str, Any]) -> None:
    """Refuse, naming the claim, a claim this tool reads that has another JSON type than the
    standard gives it (a string where an object belongs, say), which would otherwise fail as
    the launch reads it; and a NUL character anywhere, which PostgreSQL cannot compare or keep."""

    def refuse(name: str, wanted: str, value: Any) -> None:
        raise LtiLaunchError(f"Claims: {name} must be {wanted}, not {_json_type(value)}.")

    for name in OBJECT_CLAIMS:
        value = claims.get(name)
        if value and not isinstance(value, dict):
            refuse(claim_name(name), "a JSON object", value)
    roles = claims.get(CLAIM + "roles")
    if roles and not (isinstance(roles, list) and all(isinstance(role, str) for role in roles)):
        refuse(claim_name(CLAIM + "roles"), "a JSON array of strings", roles)
    target_link = claims.get(CLAIM + "target_link_uri")
    if target_link is not None and not isinstance(target_link, str):
        refuse(claim_name(CLAIM + "target_link_uri"), "a JSON string", target_link)
    endpoint = claims.get(AGS_ENDPOINT_CLAIM) or {}
    lineitem, scope = endpoint.get("lineitem"), endpoint.get("scope")
    if lineitem is not None and not isinstance(lineitem, str):
        refuse(f"lineitem in {claim_name(AGS_ENDPOINT_CLAIM)}", "a JSON string", lineitem)
    if scope and not (isinstance(scope, list) and all(isinstance(item, str) for item in scope)):
        refuse(f"scope in {claim_name(AGS_ENDPOINT_CLAIM)}", "a JSON array of strings", scope)
    settings_name = DEEP_LINKING_CLAIM + "deep_linking_settings"
    settings = claims.get(settings_name) or {}
    for key in ("deep_link_return_url", "data"):
        if settings.get(key) is not None and not isinstance(settings[key], str):
            refuse(f"{key} in {claim_name(settings_name)}", "a JSON string", settings[key])
    if _holds_nul(claims):
        raise LtiLaunchError("Claims: a value holds a NUL character, which no claim has.")
    if lineitem and len(lineitem) > LINEITEM_MAX_LENGTH:
        raise LtiLaunchError(
            f"Claims: the lineitem address in {claim_name(AGS_ENDPOINT_CLAIM)} is longer than the "
            f"{LINEITEM_MAX_LENGTH} characters this site keeps."
        )
