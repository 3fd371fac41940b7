"""OIDC login initiation: the platform's first request, answered with a state and a nonce the
launch must bring back.

Apart from the launch because it is its own request, with its own refusals; the launch spends
the state this records.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models import LtiLaunchState, LtiPlatform
from app.models.types import utcnow
from app.services.lti.refusals import LtiLaunchError

# A login must be finished within this time; its state row is then worth nothing.
STATE_LIFETIME = timedelta(minutes=10)


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
