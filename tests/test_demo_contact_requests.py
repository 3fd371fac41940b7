"""`flask demo` gives the clinic's queue something to show: requests in each state, and the
sharing rule at work on the ones with progress attached."""

from sqlalchemy import select

from app.devdata.demo import DEMO_COUNSELLOR, DEMO_PASSWORD
from app.extensions import db
from app.models import User
from app.services.contact_requests import contact_queue
from tests.conftest import login


def test_the_demo_counsellor_sees_a_queue_with_the_sharing_rule_applied(app, course):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        counsellor = db.session.scalar(select(User).where(User.email == DEMO_COUNSELLOR))
        queue = contact_queue(db.session, viewer=counsellor)
        assert queue.counts["new"] == 3 and queue.counts["contacted"] == 1
        shown = {entry.client_name for entry in queue.entries if entry.client_id}
        hidden = [entry for entry in queue.entries if entry.progress_hidden]
        assert shown == {"Alex Struggling"}  # linked to the demo counsellor
        assert len(hidden) == 1  # Chris shares with nobody: attached, not shown
        db.session.remove()
    client = app.test_client()
    login(client, DEMO_COUNSELLOR, DEMO_PASSWORD)
    page = client.get("/counsel/requests").get_data(as_text=True)
    assert "Open Alex Struggling's progress" in page and "Attached, but not shared with you" in page
