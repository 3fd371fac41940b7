"""A counsellor's private label for a client, changed after the client accepted the invitation.

The label comes from the invitation (``sharing.invitation_respond`` copies it onto the link when
the client accepts); here the counsellor sets one they never gave, changes it or clears it, on
their own live link only. It is theirs alone: never shown to the client, and cleared when the
link ends.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from app.models import CounsellorLink, User
from app.services.sharing import invitation_label


def link_label_change(session: Session, *, counsellor: User, learner_id: int, label: str | None) -> str | None:
    """Set, change or (empty) clear the counsellor's label on their live link with the learner, and
    commit; return the label as stored (one line, trimmed; None when cleared).

    Raises ValidationError when the label is too long (the invitation label's rule), and
    LookupError when the counsellor has no live link with the learner: not their client, or no
    longer. A conditional UPDATE, so a label is never written back onto a link that ended (by the
    client, at the same moment too), whose label went when it ended.
    """
    stored = invitation_label(label)
    changed = cast(
        "CursorResult[Any]",
        session.execute(
            update(CounsellorLink)
            .where(
                CounsellorLink.counsellor_id == counsellor.id,
                CounsellorLink.learner_id == learner_id,
                CounsellorLink.revoked_at.is_(None),
            )
            .values(label=stored)
            .execution_options(synchronize_session=False)
        ),
    )
    if changed.rowcount != 1:
        session.rollback()
        raise LookupError(learner_id)
    session.commit()
    return stored
