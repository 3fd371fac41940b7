"""The counsellor's pages state their rules' numbers from the constants the services use."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.counsel import routes as counsel_routes
from app.extensions import db
from app.models import CounsellorLink, Invitation, Role, User
from app.models.types import utcnow
from app.services import dashboard, sharing
from tests.conftest import create_user, csrf_token, login


def test_the_inactive_flag_and_the_key_follow_the_thresholds(client, app, course, learner, monkeypatch):
    # Changed from 7 days and 3 tries: a page that wrote the numbers out would still say those.
    monkeypatch.setattr(dashboard, "INACTIVE_AFTER", timedelta(days=3))
    monkeypatch.setattr(dashboard, "STRUGGLING_FAILS", 5)
    counsellor = create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=counsellor, learner_id=learner))
        # Joined 5 days ago and never active: inactive at 3 days, not at 7.
        db.session.execute(update(User).where(User.id == learner).values(created_at=utcnow() - timedelta(days=5)))
        db.session.commit()
        db.session.remove()
    assert login(client, "casey@example.org").status_code == 302
    page = client.get("/counsel/").get_data(as_text=True)
    assert "Lee Learner" in page
    # The badge, the filter and the key say what the rule computes: more than the threshold, not "3+".
    assert '<span class="flag flag-inactive">Inactive over 3 days</span>' in page
    assert '<option value="inactive">Inactive over 3 days</option>' in page
    assert "7 days" not in page and "3+" not in page
    assert "Struggling: 5 or more failed tries" in page
    assert "nothing done in the course for more than 3 days" in page


def test_the_invitation_page_states_the_lifetime_invitations_get(client, app, course, monkeypatch):
    monkeypatch.setattr(sharing, "INVITATION_LIFETIME", timedelta(days=10))
    monkeypatch.setattr(counsel_routes, "INVITATION_LIFETIME", sharing.INVITATION_LIFETIME)
    create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    assert login(client, "casey@example.org").status_code == 302
    token = csrf_token(client, "/counsel/invitations")
    page = client.post("/counsel/invitations", data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "expires after 10 days" in page
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert invitation.expires_at - invitation.created_at == timedelta(days=10)
