"""The audit log of what admins do: one ``AuditEvent`` per action, written in the action's own
transaction, with ids and non-personal details only (never a name, an e-mail address or text a
learner wrote).

Every action the app records is named here, by kind, so the site-wide activity page
(app/services/admin_activity.py), its filter and the "Read my data" page's words
(app/me/data_page.py) cover every one; ``audit_record`` refuses any other name.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Delete
from sqlalchemy.orm import Session

from app.models import AuditEvent, User

# Actions on one account (app/services/user_admin.py): the event's subject is that account.
# ``account_erased`` outlives its subject: the erasure unlinks it (SET NULL), so its details hold the role only.
# ``data_downloaded``: an admin downloaded everything held about the account, for its owner; no details.
# ``caseload_handover_asked``: an admin asked a counsellor's clients to share with a colleague
# (app/services/handover.py); details name the colleague (``counsellor_id``) and how many were asked.
ACCOUNT_ACTIONS = (
    "created",
    "role_changed",
    "deactivated",
    "reactivated",
    "reset_link_sent",
    "link_created",
    "account_erased",
    "data_downloaded",
    "caseload_handover_asked",
)
# LMS (LTI) platforms registered and removed (app/services/lti/platforms.py): details name the platform's id.
LTI_ACTIONS = ("lti_platform_registered", "lti_platform_changed", "lti_platform_removed")
# A list of learners with their progress downloaded by an admin (app/services/dashboard.py).
DOWNLOAD_ACTIONS = ("learners_downloaded", "learners_listed")
# API tokens with staff scopes an admin made or revoked (app/services/api_tokens.py).
TOKEN_ACTIONS = ("api_token_created", "api_token_revoked")
ACTIONS = frozenset(ACCOUNT_ACTIONS + LTI_ACTIONS + DOWNLOAD_ACTIONS + TOKEN_ACTIONS)


def audit_record(
    session: Session, *, actor: User, action: str, subject: User | None = None, details: dict[str, Any] | None = None
) -> AuditEvent:
    """Add a record of ``actor``'s action to the caller's transaction; the caller commits.

    ``subject`` is the account the action was on, None when it was on no one account (a
    platform, a download, a token). Raises ValueError for an action not named in ACTIONS.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}: name it in app/services/audit.py")
    event = AuditEvent(
        actor_id=actor.id, subject_id=subject.id if subject is not None else None, action=action, details=details or {}
    )
    session.add(event)
    return event


def deleted_by_this(session: Session, statement: Delete) -> bool:
    """Run the DELETE ``statement`` in the caller's transaction: whether it removed exactly one row.

    A removal recorded after the ORM's delete was recorded twice when two admins (or two tabs)
    removed the same row at once: the second found it loaded, deleted nothing and audited all the
    same. Only the DELETE that took the row may record it. (Rows that point at it go with it by
    the database's ON DELETE rules, not the ORM's cascades.)
    """
    result = cast("CursorResult[Any]", session.execute(statement.execution_options(synchronize_session=False)))
    return result.rowcount == 1
