"""LTI 1.3 tool: platform registrations, the tool's key, login initiation and launch validation.

Built on PyJWT (RS256 with ``cryptography``) rather than pylti1p3next. pylti1p3next 2.0.2 installs
beside this Flask, but it keeps the OIDC state and nonce in the Flask session and a cache, which a
platform's cross-site POST into an iframe does not carry, and its tool configuration is a JSON
file or a dict; here the state and nonce are rows (``lti_launch_states``), used once, so any app
process can take the launch, and the registrations are rows an admin edits. The checks the
standard asks for are all here, each with its own message:

state (and the browser that started the login), signature (the platform's key set), issuer,
audience (and ``azp``), expiry, nonce (used once: a replayed id_token finds no state), deployment,
version, message type, the JSON type of each claim read (an object where the standard says one),
and ``sub``.

The tool's RSA key is configuration, not data: ``LTI_PRIVATE_KEY`` (PEM), or in development and
tests a key made once in ``LTI_PRIVATE_KEY_FILE`` (instance/). Its public half is published at
/lti/jwks with a ``kid`` derived from the key (RFC 7638 thumbprint), so rotating is: publish the
new key, let platforms fetch the key set (they cache it for a while), then switch.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.models import Course, Lesson, LtiGradeTarget, LtiIdentity, LtiLaunchState, LtiPlatform, Role, User
from app.models.types import utcnow
from app.services.accounts import name_without_hidden_marks
from app.services.audit import audit_record, deleted_by_this
from app.services.errors import DomainError, ValidationError

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DEEP_LINKING_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS_ENDPOINT_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
AGS_SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
# The roles (LIS v2's vocabularies, by their last part: ".../membership#Instructor",
# ".../membership/Instructor#TeachingAssistant", ".../institution/person#Faculty") of people who
# teach or run a course in the LMS, and of those who learn in it. Someone with a teaching role and
# no learning one opens the course as a visitor: no account here (teacher_only).
TEACHING_ROLES = frozenset(
    {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator", "Mentor", "Faculty", "SysAdmin"}
)
LEARNING_ROLES = frozenset({"Learner", "Student"})
# A login must be finished within this time; its state row is then worth nothing.
STATE_LIFETIME = timedelta(minutes=10)
# How long a platform's key set is trusted before it is fetched again (a rotation shows up then).
KEY_SET_CACHE_SECONDS = 300

logger = logging.getLogger(__name__)


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


# ---------------------------------------------------------------- the tool's key


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


# ---------------------------------------------------------------- registrations


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


# A host (a name, or an IPv6 address in brackets) and optional port as a CSP source may name them:
# nothing that could end the source or widen it (a space, a ";", a "*").
_CSP_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def csp_origin(url: object, *, loopback_http: bool) -> str | None:
    """The origin of ``url`` as a Content-Security-Policy source (``frame-ancestors``,
    ``form-action``), or None when it is not an address this site accepts from a platform
    (``address_accepted``: https, or http on loopback where allowed) of a plain host and port."""
    if not isinstance(url, str) or not address_accepted(url, loopback_http=loopback_http):
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}" if _CSP_HOST.fullmatch(parts.netloc) else None


def frame_origins(platform: LtiPlatform, claims: Mapping[str, Any], *, loopback_http: bool) -> tuple[str, ...]:
    """The origins that may frame this launch's session: the login URL's, and the ones the signed
    launch names for its own pages (``launch_presentation.return_url``, ``tool_platform.url``).

    An LMS may log in on one host and show its courses on another: Canvas Cloud's login is on
    sso.canvaslms.com while its courses are on the school's instructure.com host, so the login's
    origin alone would leave every framed page refused by the browser. Each is taken only as
    ``csp_origin`` takes it.
    """
    tool_platform = claims.get(CLAIM + "tool_platform")  # not read elsewhere, so not type-checked before
    named = [
        platform.auth_login_url,
        (claims.get(CLAIM + "launch_presentation") or {}).get("return_url"),
        tool_platform.get("url") if isinstance(tool_platform, dict) else None,
    ]
    origins = (csp_origin(url, loopback_http=loopback_http) for url in named)
    return tuple(dict.fromkeys(origin for origin in origins if origin))


# ---------------------------------------------------------------- OIDC login initiation


def lti_login_start(
    session: Session,
    *,
    issuer: str,
    login_hint: str,
    target_link_uri: str,
    launch_url: str,
    client_id: str = "",
    lti_message_hint: str = "",
) -> tuple[str, str]:
    """Record a state and nonce for a platform's login initiation and commit.

    Returns the platform's authorisation URL to redirect to, and the state (which the caller
    also puts in a cookie, so the launch must come back to the same browser).
    """
    if not issuer or not login_hint or not target_link_uri:
        raise LtiLaunchError("The login request lacks iss, login_hint or target_link_uri.")
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id:
        query = query.where(LtiPlatform.client_id == client_id)
    platforms = list(session.scalars(query.limit(2)))
    if not platforms:
        raise LtiLaunchError("This platform (issuer and client id) is not registered with this site.")
    if len(platforms) > 1:
        raise LtiLaunchError("Several registrations share this issuer: the platform must send its client_id.")
    platform = platforms[0]
    # Logins never finished leave rows behind; each new one clears the stale ones.
    session.execute(delete(LtiLaunchState).where(LtiLaunchState.created_at < utcnow() - STATE_LIFETIME))
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(LtiLaunchState(state=state, nonce=nonce, platform_id=platform.id))
    session.commit()
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if lti_message_hint:
        params["lti_message_hint"] = lti_message_hint
    separator = "&" if urlsplit(platform.auth_login_url).query else "?"
    return platform.auth_login_url + separator + urlencode(params), state


# ---------------------------------------------------------------- launch


@dataclass
class Launch:
    """A resource-link launch that passed every check: a learner opening the course or a lesson,
    with the account it signs in to (linked to their ``sub``, made on their first launch)."""

    user: User
    platform: LtiPlatform
    course_slug: str
    lesson_slug: str | None
    # "iframe", "frame" or "window" as the platform said (launch_presentation), else "".
    document_target: str
    # The origins that may frame the session this launch starts (``frame_origins``).
    frame_origins: tuple[str, ...] = ()


@dataclass
class TeacherLaunch:
    """A resource-link launch that passed every check, by someone whose roles say they teach or run
    the course in the LMS and do not learn in it (``teacher_only``): they see the course as a
    visitor, with no account here, so they are never counted among the learners and nothing of
    theirs goes to the gradebook."""

    platform: LtiPlatform
    course_slug: str
    # "iframe", "frame" or "window" as the platform said (launch_presentation), else "".
    document_target: str
    frame_origins: tuple[str, ...] = ()


def teacher_only(claims: Mapping[str, Any]) -> bool:
    """Whether a launch's roles say the person teaches or runs the course and does not learn in it.

    A launch without roles, or with a learner's among others (an instructor enrolled as a student
    too, a platform's "student view"), is a learner's, as before roles were read.
    """
    names = {re.split(r"[#/]", role)[-1] for role in claims.get(CLAIM + "roles") or []}
    return bool(names & TEACHING_ROLES) and not names & LEARNING_ROLES


@dataclass
class DeepLinkingLaunch:
    """A deep-linking request that passed every check: someone in the LMS (an instructor) opening
    the picker to place links to the course. It names nobody to sign in: they learn nothing here,
    so no account is made or linked for them and no score goes anywhere."""

    platform: LtiPlatform
    deployment_id: str
    # "iframe", "frame" or "window" as the platform said (launch_presentation), else "".
    document_target: str
    # Where the picker's signed answer is posted (checked by ``csp_origin``), and the platform's
    # ``data``, which goes back with it.
    return_url: str
    data: str = ""
    # What the request takes: several items at once, and line items. Its settings may leave
    # either out: several are then offered, and line items sent, as before.
    accept_multiple: bool = True
    accept_lineitem: bool = True
    # The origins that may frame the picker (``frame_origins``).
    frame_origins: tuple[str, ...] = ()


@lru_cache(maxsize=32)
def _key_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=KEY_SET_CACHE_SECONDS, timeout=10)


def platform_signing_key(platform: LtiPlatform, token: str) -> Any:
    """The key from the platform's key set that signed ``token`` (by its ``kid``)."""
    try:
        return _key_client(platform.key_set_url).get_signing_key_from_jwt(token).key
    except jwt.PyJWKClientConnectionError as error:
        raise LtiLaunchError(f"The platform's key set could not be fetched from {platform.key_set_url}.") from error
    except (jwt.PyJWKClientError, jwt.DecodeError) as error:
        raise LtiLaunchError(f"Signature: no key in the platform's key set matches this token ({error}).") from error


def _decode(platform: LtiPlatform, token: str) -> dict[str, Any]:
    key = platform_signing_key(platform, token)
    try:
        return jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=platform.client_id,
            issuer=platform.issuer,
            options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
            leeway=60,
        )
    except jwt.InvalidSignatureError as error:
        raise LtiLaunchError("Signature: the id_token is not signed by the registered platform.") from error
    except jwt.InvalidIssuerError as error:
        raise LtiLaunchError("Issuer: the id_token comes from another platform than the login did.") from error
    except jwt.InvalidAudienceError as error:
        raise LtiLaunchError("Audience: the id_token is not addressed to this tool's client id.") from error
    except jwt.ExpiredSignatureError as error:
        raise LtiLaunchError("Expiry: the id_token has expired; launch again from the course.") from error
    except jwt.InvalidTokenError as error:
        raise LtiLaunchError(f"The id_token is not valid: {error}.") from error


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


def _claim_name(name: str) -> str:
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


def _check_claim_types(claims: dict[str, Any]) -> None:
    """Refuse, naming the claim, a claim this tool reads that has another JSON type than the
    standard gives it (a string where an object belongs, say), which would otherwise fail as
    the launch reads it; and a NUL character anywhere, which PostgreSQL cannot compare or keep."""

    def refuse(name: str, wanted: str, value: Any) -> None:
        raise LtiLaunchError(f"Claims: {name} must be {wanted}, not {_json_type(value)}.")

    for name in OBJECT_CLAIMS:
        value = claims.get(name)
        if value and not isinstance(value, dict):
            refuse(_claim_name(name), "a JSON object", value)
    roles = claims.get(CLAIM + "roles")
    if roles and not (isinstance(roles, list) and all(isinstance(role, str) for role in roles)):
        refuse(_claim_name(CLAIM + "roles"), "a JSON array of strings", roles)
    target_link = claims.get(CLAIM + "target_link_uri")
    if target_link is not None and not isinstance(target_link, str):
        refuse(_claim_name(CLAIM + "target_link_uri"), "a JSON string", target_link)
    endpoint = claims.get(AGS_ENDPOINT_CLAIM) or {}
    lineitem, scope = endpoint.get("lineitem"), endpoint.get("scope")
    if lineitem is not None and not isinstance(lineitem, str):
        refuse(f"lineitem in {_claim_name(AGS_ENDPOINT_CLAIM)}", "a JSON string", lineitem)
    if scope and not (isinstance(scope, list) and all(isinstance(item, str) for item in scope)):
        refuse(f"scope in {_claim_name(AGS_ENDPOINT_CLAIM)}", "a JSON array of strings", scope)
    settings_name = DEEP_LINKING_CLAIM + "deep_linking_settings"
    settings = claims.get(settings_name) or {}
    for key in ("deep_link_return_url", "data"):
        if settings.get(key) is not None and not isinstance(settings[key], str):
            refuse(f"{key} in {_claim_name(settings_name)}", "a JSON string", settings[key])
    if _holds_nul(claims):
        raise LtiLaunchError("Claims: a value holds a NUL character, which no claim has.")
    if lineitem and len(lineitem) > LINEITEM_MAX_LENGTH:
        raise LtiLaunchError(
            f"Claims: the lineitem address in {_claim_name(AGS_ENDPOINT_CLAIM)} is longer than the "
            f"{LINEITEM_MAX_LENGTH} characters this site keeps."
        )


def _target(session: Session, claims: dict[str, Any]) -> tuple[str, str | None]:
    """The course (and lesson) the link opens: the custom parameters, else the target link's path."""
    custom = claims.get(CLAIM + "custom") or {}
    course_slug = str(custom.get("course") or "")
    lesson_slug = str(custom.get("lesson") or "") or None
    if not course_slug:
        try:
            path = urlsplit(claims.get(CLAIM + "target_link_uri") or "").path
        except ValueError:  # an unclosed [ in the host, for instance
            raise LtiLaunchError(
                f"Claims: {_claim_name(CLAIM + 'target_link_uri')} is not a web address this site can read."
            ) from None
        parts = path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "courses":
            course_slug = parts[1]
            if len(parts) >= 4 and parts[2] == "lessons":
                lesson_slug = parts[3]
    if not course_slug:
        first = session.scalar(select(Course.slug).order_by(Course.id).limit(1))
        if first is None:
            raise LtiLaunchError("This site has no course to open.")
        return first, None
    course_id = session.scalar(select(Course.id).where(Course.slug == course_slug))
    if course_id is None:
        raise LtiLaunchError(f"The link names a course this site does not have ({course_slug}).")
    if lesson_slug is not None:
        found = session.scalar(
            select(Lesson.id).where(
                Lesson.course_id == course_id, Lesson.slug == lesson_slug, Lesson.retired_at.is_(None)
            )
        )
        if found is None:
            raise LtiLaunchError(f"The link names a lesson this course does not have ({lesson_slug}).")
    return course_slug, lesson_slug


def _lms_name(claims: dict[str, Any]) -> str | None:
    """The name the launch gives the person (``name``, else ``given_name``), as a name here may be;
    None when it gives none (a platform may keep names to itself)."""
    return name_without_hidden_marks(str(claims.get("name") or claims.get("given_name") or ""))[:80] or None


def _follow_lms_name(identity: LtiIdentity, claims: dict[str, Any]) -> None:
    """Take a name changed in the LMS (a learner's new name, a typo mended) as the account's name,
    unless the person has chosen another name here since the LMS last gave one: theirs stays.

    A link made before the LMS's name was kept (``lms_name`` NULL) keeps its account's name: it
    cannot tell a name changed in the LMS from one chosen here. It follows from the next change on.
    """
    given = _lms_name(claims)
    if given is None or given == identity.lms_name:
        return
    if identity.lms_name is not None and identity.user.display_name == identity.lms_name:
        identity.user.display_name = given
    identity.lms_name = given


def _identity(session: Session, platform_id: int, subject: str) -> LtiIdentity | None:
    """The link of a platform's user (``sub``) to an account here, if they have launched before."""
    return session.scalar(
        select(LtiIdentity).where(LtiIdentity.platform_id == platform_id, LtiIdentity.subject == subject)
    )


def _account_for(
    session: Session, platform: LtiPlatform, subject: str, claims: dict[str, Any], hash_method: str
) -> LtiIdentity:
    """The link, with its account, that this launch signs in to: found (following a name changed in
    the LMS), or made the first time."""
    identity = _identity(session, platform.id, subject)
    if identity is None:
        identity = _new_identity(session, platform, subject, claims, hash_method)
    if not identity.user.is_active:
        raise LtiLaunchError("This account is deactivated on this site; ask the site's administrator.")
    identity.last_launch_at = utcnow()
    _follow_lms_name(identity, claims)
    return identity


def _new_identity(
    session: Session, platform: LtiPlatform, subject: str, claims: dict[str, Any], hash_method: str
) -> LtiIdentity:
    """A new person: an account with no e-mail and no usable password (the platform vouches for
    them), linked to their ``sub``.

    Two first launches of one person at once (a double click in the LMS, two tabs) both find no
    link, and the second link breaks the unique (platform, subject): it is inserted in a
    savepoint, so only it is undone, and the link the other launch made is used with its account.
    """
    user = User(
        email=None,
        display_name=_lms_name(claims) or "Learner",
        password_hash=generate_password_hash(secrets.token_urlsafe(32), method=hash_method),
        role=Role.LEARNER.value,
    )
    session.add(user)
    # Flushed before the savepoint, which then runs inside the launch's transaction: on SQLite a
    # savepoint that opens the transaction commits it when released, outside the launch's commit.
    session.flush()
    identity = LtiIdentity(platform_id=platform.id, subject=subject, user_id=user.id, lms_name=_lms_name(claims))
    try:
        with session.begin_nested():
            session.add(identity)
            session.flush()
    except IntegrityError:
        theirs = _identity(session, platform.id, subject)
        if theirs is None:  # not the link's uniqueness: a fault of another kind, not a race
            raise
        session.delete(user)  # made for nobody: the other launch's account is this person's
        return theirs
    return identity


def _grade_target(session: Session, identity_id: int, lineitem: str) -> LtiGradeTarget | None:
    """Where this person's scores for the line item go, if a launch recorded it before."""
    return session.scalar(
        select(LtiGradeTarget).where(LtiGradeTarget.identity_id == identity_id, LtiGradeTarget.lineitem_url == lineitem)
    )


def _record_grade_target(
    session: Session,
    identity_id: int,
    claims: dict[str, Any],
    course_slug: str,
    lesson_slug: str | None,
) -> None:
    """Record the line item the launch's scores go to.

    Two launches of one person to one line item at once both find none: the second insert, in a
    savepoint, breaks the unique (identity, line item), and the row the other made is updated. The
    caller has flushed the launch's account and link, so the savepoint runs inside the launch's
    transaction (see _new_identity).
    """
    endpoint = claims.get(AGS_ENDPOINT_CLAIM) or {}
    lineitem = endpoint.get("lineitem")
    if not lineitem or AGS_SCORE_SCOPE not in (endpoint.get("scope") or []):
        return
    course_id = session.scalar(select(Course.id).where(Course.slug == course_slug))
    lesson_id = (
        session.scalar(select(Lesson.id).where(Lesson.course_id == course_id, Lesson.slug == lesson_slug))
        if lesson_slug
        else None
    )
    target = _grade_target(session, identity_id, lineitem)
    if target is None:
        try:
            with session.begin_nested():
                session.add(
                    LtiGradeTarget(
                        identity_id=identity_id, course_id=course_id, lesson_id=lesson_id, lineitem_url=lineitem
                    )
                )
                session.flush()
            return
        except IntegrityError:
            target = _grade_target(session, identity_id, lineitem)
            if target is None:  # not the line item's uniqueness: a fault of another kind
                raise
    target.course_id, target.lesson_id = course_id, lesson_id  # type: ignore[assignment]


def lti_launch(
    session: Session,
    *,
    id_token: str,
    state: str,
    browser_state: str | None,
    hash_method: str = "scrypt",
    loopback_http: bool = False,
) -> Launch | DeepLinkingLaunch | TeacherLaunch:
    """Check a launch (every check the standard asks for); for a resource link, find or make the
    account it signs in to and record its grade target, and commit.

    A deep-linking request is checked the same way, and nothing is written but its spent state:
    whoever opens the picker (an LMS's instructor) gets no account, link or grade target here, as
    only learners opening the course need one (an account would count them among the learners, on
    the dashboards and in the analytics). So does a resource-link launch by someone who only
    teaches (``teacher_only``): they see the course as a visitor.

    ``browser_state`` is the state cookie set at login initiation; the launch must carry the same.
    A platform registered before plain http:// was refused, with a key set address over http (off
    loopback, or anywhere unless ``loopback_http``), is refused: its key set could be anyone's.
    Raises LtiLaunchError naming the check that failed; nothing is written then, except that the
    state is spent.
    """
    if not state or not id_token:
        raise LtiLaunchError("The launch lacks its state or id_token.")
    if browser_state != state:
        raise LtiLaunchError(
            "State: this launch did not start in this browser (or the browser refused the cookie). "
            "Open the link in a new window."
        )
    row = session.get(LtiLaunchState, state)
    if row is None or row.created_at < utcnow() - STATE_LIFETIME:
        raise LtiLaunchError("State: this launch was used already or has expired; launch again from the course.")
    # Spent now, whatever follows: a state (and so its nonce) works once.
    spent = session.execute(delete(LtiLaunchState).where(LtiLaunchState.state == state))
    session.commit()
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise LtiLaunchError("State: this launch was used already; launch again from the course.")
    platform = session.get(LtiPlatform, row.platform_id)
    if platform is None:
        raise LtiLaunchError("This platform is no longer registered.")
    if not address_accepted(platform.key_set_url, loopback_http=loopback_http):
        raise LtiLaunchError(
            "Signature: the platform's key set address is not https://, so its keys cannot be trusted. "
            "A site administrator changes the platform's addresses to its https:// ones under LMS platforms "
            "(not by removing it and registering it again, which would unlink its learners)."
        )
    claims = _decode(platform, id_token)
    if not secrets.compare_digest(str(claims.get("nonce")), row.nonce):
        raise LtiLaunchError("Nonce: the id_token does not answer this login.")
    audience = claims.get("aud")
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != platform.client_id:
        raise LtiLaunchError("Audience: the id_token's azp is not this tool's client id.")
    deployment_id = str(claims.get(CLAIM + "deployment_id") or "")
    if deployment_id not in platform.deployment_list:
        raise LtiLaunchError(f"Deployment: {deployment_id or '(none)'} is not registered for this platform.")
    if claims.get(CLAIM + "version") != "1.3.0":
        raise LtiLaunchError("Version: only LTI 1.3.0 launches are accepted.")
    message_type = claims.get(CLAIM + "message_type")
    if message_type not in (RESOURCE_LINK, DEEP_LINKING):
        raise LtiLaunchError(f"Message type: {message_type!r} is not one this tool takes.")
    _check_claim_types(claims)
    subject = str(claims.get("sub") or "")
    if not subject or len(subject) > 255:
        raise LtiLaunchError("The id_token names no user (sub): anonymous launches are not supported.")
    if message_type == RESOURCE_LINK and not (claims.get(CLAIM + "resource_link") or {}).get("id"):
        raise LtiLaunchError("The launch lacks its resource link id.")
    settings = claims.get(DEEP_LINKING_CLAIM + "deep_linking_settings") or {}
    if message_type == DEEP_LINKING and not settings.get("deep_link_return_url"):
        raise LtiLaunchError("The deep-linking request lacks its return URL.")
    if message_type == DEEP_LINKING and not csp_origin(settings["deep_link_return_url"], loopback_http=loopback_http):
        # The picker's answer is posted there: the page allows that origin as its form's action.
        raise LtiLaunchError("The deep-linking request's return URL is not an https:// address of a plain host.")
    course_slug, lesson_slug = _target(session, claims)
    presentation = claims.get(CLAIM + "launch_presentation") or {}
    document_target = str(presentation.get("document_target") or "")
    origins = frame_origins(platform, claims, loopback_http=loopback_http)
    if message_type == RESOURCE_LINK and teacher_only(claims):
        return TeacherLaunch(
            platform=platform, course_slug=course_slug, document_target=document_target, frame_origins=origins
        )
    if message_type == DEEP_LINKING:
        return DeepLinkingLaunch(
            platform=platform,
            deployment_id=deployment_id,
            document_target=document_target,
            return_url=settings["deep_link_return_url"],
            data=str(settings.get("data") or ""),
            accept_multiple=settings.get("accept_multiple") is not False,
            accept_lineitem=settings.get("accept_lineitem") is not False,
            frame_origins=origins,
        )
    identity = _account_for(session, platform, subject, claims, hash_method)
    session.flush()
    _record_grade_target(session, identity.id, claims, course_slug, lesson_slug)
    session.commit()
    return Launch(
        user=identity.user,
        platform=platform,
        course_slug=course_slug,
        lesson_slug=lesson_slug,
        document_target=document_target,
        frame_origins=origins,
    )


# ---------------------------------------------------------------- deep linking


@dataclass
class DeepLinkChoice:
    """A course or lesson an instructor picked, as a resource link to place in the LMS."""

    title: str
    course_slug: str
    lesson_slug: str | None
    # Ask the platform for a gradebook column (lessons with a quiz, and courses).
    graded: bool


def deep_link_response(
    key: ToolKey,
    *,
    platform: LtiPlatform,
    deployment_id: str,
    data: str,
    launch_url: str,
    choices: list[DeepLinkChoice],
    lineitems: bool = True,
) -> str:
    """The signed LtiDeepLinkingResponse JWT to post back to the platform's return URL.

    ``lineitems``: whether to ask for a gradebook column for the graded choices (False when the
    platform's request said it does not take them: ``accept_lineitem``).
    """
    items = []
    for choice in choices:
        custom = {"course": choice.course_slug}
        if choice.lesson_slug:
            custom["lesson"] = choice.lesson_slug
        item: dict[str, Any] = {"type": "ltiResourceLink", "title": choice.title, "url": launch_url, "custom": custom}
        if choice.graded and lineitems:
            item["lineItem"] = {"scoreMaximum": 1, "label": choice.title}
        items.append(item)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "iat": now,
        "exp": now + 600,
        "nonce": secrets.token_urlsafe(16),
        CLAIM + "message_type": "LtiDeepLinkingResponse",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": deployment_id,
        DEEP_LINKING_CLAIM + "content_items": items,
    }
    if data:
        claims[DEEP_LINKING_CLAIM + "data"] = data
    return tool_sign(key, claims)


# ---------------------------------------------------------------- personal data


def lti_export(session: Session, *, user_id: int) -> dict[str, Any]:
    """The person's links to LMS platforms, for the data download: which platform, the id and name
    it gives them, when, and where their scores go (two queries)."""
    identities = session.execute(
        select(LtiIdentity, LtiPlatform.name, LtiPlatform.issuer)
        .join(LtiPlatform, LtiPlatform.id == LtiIdentity.platform_id)
        .where(LtiIdentity.user_id == user_id)
        .order_by(LtiIdentity.id)
    ).all()
    targets = session.execute(
        select(
            LtiGradeTarget.identity_id,
            Course.title,
            Lesson.title,
            LtiGradeTarget.lineitem_url,
            LtiGradeTarget.sent_score,
            LtiGradeTarget.sent_at,
        )
        .join(LtiIdentity, LtiIdentity.id == LtiGradeTarget.identity_id)
        .join(Course, Course.id == LtiGradeTarget.course_id)
        .outerjoin(Lesson, Lesson.id == LtiGradeTarget.lesson_id)
        .where(LtiIdentity.user_id == user_id)
        .order_by(LtiGradeTarget.id)
    ).all()
    return {
        "lms_links": [
            {
                "platform": name,
                "issuer": issuer,
                "your_id_there": identity.subject,
                "your_name_there": identity.lms_name,
                "first_launch": identity.created_at.isoformat(),
                "last_launch": identity.last_launch_at.isoformat(),
                "scores_sent_to": [
                    {
                        "course": course,
                        "lesson": lesson,
                        "line_item": url,
                        "last_score_sent": sent_score,
                        "sent_at": sent_at.isoformat() if sent_at else None,
                    }
                    for identity_id, course, lesson, url, sent_score, sent_at in targets
                    if identity_id == identity.id
                ],
            }
            for identity, name, issuer in identities
        ]
    }
