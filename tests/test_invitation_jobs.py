"""The nightly clear-out of ended invitations (app/jobs/invitations.py): scheduled, and run as the
scheduler runs it. What it deletes is tested in tests/services/test_invitation_purge.py."""

from datetime import datetime, timedelta

from app.extensions import db
from app.jobs.invitations import purge_ended_invitations
from app.models import Invitation, Role, User
from app.models.types import utcnow
from app.services.sharing import OUTCOMES_KEPT, invitation_create
from tests.conftest import create_user


def test_the_clear_out_runs_every_night(app):
    """Scheduled for 03:40 UTC each day, after the contact requests' (03:30)."""
    validate = purge_ended_invitations.s().validate_datetime
    assert validate(datetime(2027, 1, 1, 3, 40))
    assert not validate(datetime(2027, 1, 1, 3, 30)) and not validate(datetime(2027, 1, 1, 15, 40))


def test_the_job_deletes_what_ended_long_ago_and_keeps_what_waits(app):
    counsellor = create_user(app, "casey@example.org", role=Role.COUNSELLOR)
    with app.app_context():
        user = db.session.get(User, counsellor)
        old, _ = invitation_create(db.session, counsellor=user, secret_key="k", label="Sam")
        old.expires_at = utcnow() - OUTCOMES_KEPT - timedelta(minutes=1)
        invitation_create(db.session, counsellor=user, secret_key="k", label="Lee")
        db.session.commit()
        db.session.remove()
    with app.app_context():
        purge_ended_invitations.call_local()
        db.session.remove()
    with app.app_context():
        assert db.session.query(Invitation.label).all() == [("Lee",)]


def test_the_job_clears_requests_to_share_with_a_colleague_by_the_same_rule(app):
    """Requests to share with a colleague (app/services/handover.py) are purged with the invitations."""
    from app.models import CounsellorLink, HandoverRequest
    from app.services.handover import handover_request

    casey = create_user(app, "casey@example.org", role=Role.COUNSELLOR)
    olive = create_user(app, "olive@example.org", role=Role.COUNSELLOR)
    sam = create_user(app, "sam@example.org")
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=casey, learner_id=sam))
        db.session.commit()
        user = db.session.get(User, casey)
        long_ago = utcnow() - OUTCOMES_KEPT - timedelta(days=30)
        handover_request(db.session, actor=user, from_counsellor=user, to_counsellor_id=olive, now=long_ago)
        db.session.remove()
    with app.app_context():
        purge_ended_invitations.call_local()
        db.session.remove()
    with app.app_context():
        assert db.session.query(HandoverRequest).count() == 0
