"""The nightly clear-out of invitations that ended long enough ago (``invitations_purge``): a
counsellor's label often names a client, and nothing shows an ended invitation after ``OUTCOMES_KEPT``.
Requests to share with a colleague (``handover_requests_purge``) go with them, by the same rule."""

from __future__ import annotations

import logging

from app.extensions import db
from app.jobs import crontab, periodic_job
from app.models.types import utcnow
from app.services.handover import handover_requests_purge
from app.services.sharing import invitations_purge

logger = logging.getLogger(__name__)


@periodic_job(crontab(hour="3", minute="40"))
def purge_ended_invitations() -> None:
    """Every day at 03:40 UTC: delete the invitations that ended more than ``OUTCOMES_KEPT`` ago,
    keeping the declined ones that still name a learner, without their label; and the requests to
    share with a colleague that ended as long ago, keeping the declined ones."""
    now = utcnow()
    deleted, cleared = invitations_purge(db.session, now=now)
    logger.info("Ended invitations deleted: %d; labels cleared on declined ones kept: %d.", deleted, cleared)
    handovers = handover_requests_purge(db.session, now=now)
    logger.info("Ended requests to share with a colleague deleted: %d.", handovers)
