"""The dashboard states the flags' thresholds from the same constants its queries use."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.extensions import db
from app.models import CounsellorLink, Role, User
from app.models.types import utcnow
from app.services import dashboard
from tests.conftest import create_user, login


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
    assert "Inactive 3+ days" in page and "Inactive 7+ days" not in page
    assert "Struggling: 5 or more failed tries" in page
    assert "nothing done in the course for more than 3 days" in page
