"""The LMS platforms an admin registers: adding, changing and removing one, and the rule its
addresses must follow.

Apart from the launch because these are an admin's forms, audited, while the launch only reads
the rows they leave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import LtiGradeTarget, LtiIdentity, LtiPlatform, User
from app.services.audit import audit_record, deleted_by_this
from app.services.errors import ValidationError


@dataclass
class PlatformDetails:
    """What an admin types to register a platform."""

    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    deployment_ids: list[str] = field(default_factory=list)


# Plain http:// is taken for these hosts only (when allowed): traffic to them never leaves the machine.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def address_rule(*, loopback_http: bool) -> str:
    """What a platform address may be, as the registration form says it beside each field."""
    if loopback_http:
        return (
            "Enter a full address starting with https://. Plain http:// is accepted only for this "
            "machine (localhost, 127.0.0.1 or [::1])."
        )
    return "Enter a full address starting with https://."


def address_accepted(value: str, *, loopback_http: bool) -> bool:
    """Whether ``value`` is an https address, or (if ``loopback_http``) an http one on loopback.

    Launches are trusted by the key set fetched from the platform's key set address, and scores go
    with a token from its token address: over plain http across a network, anyone on the path could
    put in a key of their own and sign in as any of the platform's people.
    """
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:  # an unclosed [ in the host, a port of 99999, for instance
        return False
    if not parts.netloc or not host or parts.username is not None or parts.password is not None:
        return False  # no credentials in an address shown on the admin page and sent in requests
    return parts.scheme == "https" or (parts.scheme == "http" and loopback_http and host in LOOPBACK_HOSTS)


def _check_url(field_name: str, value: str, *, loopback_http: bool) -> None:
    if not address_accepted(value, loopback_http=loopback_http):
        raise ValidationError(field_name, address_rule(loopback_http=loopback_http))


def lti_platforms(session: Session) -> list[LtiPlatform]:
    """Every registered platform, by name (one query)."""
    return list(session.scalars(select(LtiPlatform).order_by(LtiPlatform.name, LtiPlatform.id)))


def lti_platform_register(
    session: Session, *, actor: User, details: PlatformDetails, loopback_http: bool = False
) -> LtiPlatform:
    """Register a platform, audit it as ``lti_platform_registered`` and commit; ValidationError
    (with its field) for bad or duplicate input, which records nothing.

    Every address must be https://; ``loopback_http`` (config LTI_LOOPBACK_HTTP: development and
    tests) lets http:// through for localhost, 127.0.0.1 and ::1 as well.
    """
    for name in ("issuer", "client_id"):
        if not getattr(details, name).strip():
            raise ValidationError(name, "This is needed.")
    _check_url("issuer", details.issuer.strip(), loopback_http=loopback_http)
    platform = LtiPlatform(
        issuer=details.issuer.strip(), client_id=details.client_id.strip(), **_editable(details, loopback_http)
    )
    session.add(platform)
    try:
        session.flush()  # the id, for the audit record; a twin registered a moment ago fails here
    except IntegrityError:
        session.rollback()
        raise ValidationError("client_id", "This issuer and client id are registered already.") from None
    audit_record(session, actor=actor, action="lti_platform_registered", details=_platform_details(platform))
    session.commit()
    return platform


# What an admin may change of a registered platform. Not its issuer and client id: those say which
# LMS it is, and whose users' accounts hang on it (another LMS is another registration).
EDITABLE = ("name", "auth_login_url", "auth_token_url", "key_set_url", "deployment_ids")


def _editable(details: PlatformDetails, loopback_http: bool) -> dict[str, str]:
    """The editable fields of ``details``, checked and cleaned as a platform row keeps them;
    ValidationError (with its field) for the first wrong one."""
    if not details.name.strip():
        raise ValidationError("name", "This is needed.")
    for name in ("auth_login_url", "auth_token_url", "key_set_url"):
        _check_url(name, getattr(details, name).strip(), loopback_http=loopback_http)
    deployments = [d.strip() for d in details.deployment_ids if d.strip()]
    if not deployments:
        raise ValidationError("deployment_ids", "Give at least one deployment id, one per line.")
    return {
        "name": details.name.strip(),
        "auth_login_url": details.auth_login_url.strip(),
        "auth_token_url": details.auth_token_url.strip(),
        "key_set_url": details.key_set_url.strip(),
        "deployment_ids": "\n".join(dict.fromkeys(deployments)),
    }


def lti_platform_update(
    session: Session, *, actor: User, platform_id: int, details: PlatformDetails, loopback_http: bool = False
) -> list[str] | None:
    """Change a registered platform's name, addresses or deployments, keeping its id (so the
    accounts it launched, and the gradebook columns their scores go to, stay with it); audit the
    change as ``lti_platform_changed`` with the names of the fields changed, and commit.

    Returns those names (empty when nothing changed, which records nothing), or None when the
    platform is not registered. ``details``' issuer and client id are not read. ValidationError,
    with its field, as for registering; nothing is changed then.
    """
    values = _editable(details, loopback_http)
    platform = session.get(LtiPlatform, platform_id, with_for_update=True)
    if platform is None:
        return None
    changed = [name for name in EDITABLE if getattr(platform, name) != values[name]]
    if changed:
        for name in changed:
            setattr(platform, name, values[name])
        audit_record(
            session,
            actor=actor,
            action="lti_platform_changed",
            details=_platform_details(platform) | {"fields": changed},
        )
    session.commit()
    return changed


def _platform_details(platform: LtiPlatform) -> dict[str, Any]:
    """What an audit record keeps of a platform: its id, and its issuer (the LMS's address, no
    person's), so the record still says which LMS it was once the registration is removed."""
    return {"platform_id": platform.id, "issuer": platform.issuer}


@dataclass(frozen=True)
class PlatformUsage:
    """What removing a platform would cut: the people it launched and the grades it takes."""

    platform: LtiPlatform
    people: int  # accounts linked to the platform's users; they stay, unlinked
    line_items: int  # grade columns the course's scores are sent to; no score goes there again


def lti_platform_usage(session: Session, *, platform_id: int) -> PlatformUsage | None:
    """The platform and how many people and line items hang on it (one query), or None if unknown."""
    people = select(func.count()).where(LtiIdentity.platform_id == LtiPlatform.id).scalar_subquery()
    line_items = (
        select(func.count())
        .select_from(LtiGradeTarget)
        .join(LtiIdentity, LtiGradeTarget.identity_id == LtiIdentity.id)
        .where(LtiIdentity.platform_id == LtiPlatform.id)
        .scalar_subquery()
    )
    row = session.execute(select(LtiPlatform, people, line_items).where(LtiPlatform.id == platform_id)).first()
    return PlatformUsage(*row) if row else None


def lti_platform_delete(session: Session, *, actor: User, platform_id: int) -> bool:
    """Remove a platform and its people's links (their accounts stay: the database cascades to the
    links), audit it as ``lti_platform_removed`` and commit. False, recording nothing, if unknown
    or removed meanwhile (another admin, another tab): only the removal that took the row records it."""
    platform = session.get(LtiPlatform, platform_id)
    if platform is None:
        return False
    details = _platform_details(platform)
    if not deleted_by_this(session, delete(LtiPlatform).where(LtiPlatform.id == platform_id)):
        session.rollback()
        return False
    audit_record(session, actor=actor, action="lti_platform_removed", details=details)
    session.expunge(platform)  # gone: not to be refreshed after the commit
    session.commit()
    return True
