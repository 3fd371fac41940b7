"""The LTI launch: the platform's signed id_token, checked, and what it opens.

The checks the standard asks for are all here (the claims' JSON types in claim_checks.py), each
with its own message:

state (and the browser that started the login), signature (the platform's key set), issuer,
audience (and ``azp``), expiry, nonce (used once: a replayed id_token finds no state), deployment,
version, message type, the JSON type of each claim read (an object where the standard says one),
and ``sub``.

A resource link signs a learner in to their account (identities.py) and records where their
scores go (grade_targets.py); a deep-linking request opens the picker (deep_linking.py).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import jwt
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import Course, Lesson, LtiLaunchState, LtiPlatform, User
from app.models.types import utcnow
from app.services.lti.claim_checks import check_claim_types, claim_name
from app.services.lti.claims import CLAIM, DEEP_LINKING, DEEP_LINKING_CLAIM, RESOURCE_LINK
from app.services.lti.framing import csp_origin, frame_origins
from app.services.lti.grade_targets import record_grade_target
from app.services.lti.identities import account_for
from app.services.lti.login import STATE_LIFETIME
from app.services.lti.platforms import address_accepted
from app.services.lti.refusals import LtiLaunchError

# The roles (LIS v2's vocabularies, by their last part: ".../membership#Instructor",
# ".../membership/Instructor#TeachingAssistant", ".../institution/person#Faculty") of people who
# teach or run a course in the LMS, and of those who learn in it. Someone with a teaching role and
# no learning one opens the course as a visitor: no account here (teacher_only).
TEACHING_ROLES = frozenset(
    {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator", "Mentor", "Faculty", "SysAdmin"}
)
LEARNING_ROLES = frozenset({"Learner", "Student"})
# How long a platform's key set is trusted before it is fetched again (a rotation shows up then).
KEY_SET_CACHE_SECONDS = 300


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
                f"Claims: {claim_name(CLAIM + 'target_link_uri')} is not a web address this site can read."
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
    check_claim_types(claims)
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
    identity = account_for(session, platform, subject, claims, hash_method)
    session.flush()
    record_grade_target(session, identity.id, claims, course_slug, lesson_slug)
    session.commit()
    return Launch(
        user=identity.user,
        platform=platform,
        course_slug=course_slug,
        lesson_slug=lesson_slug,
        document_target=document_target,
        frame_origins=origins,
    )
