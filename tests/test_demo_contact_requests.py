"""`flask demo` gives the clinic's queue something to show: requests in each state, and the
sharing rule at work on the ones with progress attached."""

import re

from sqlalchemy import select

from app.devdata.demo import DEMO_COUNSELLOR, DEMO_PASSWORD
from app.extensions import db
from app.models import User
from app.services.contact_requests import contact_queue
from tests.conftest import login, visible_text


def test_the_demo_counsellor_sees_a_queue_with_the_sharing_rule_applied(app, course):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        counsellor = db.session.scalar(select(User).where(User.email == DEMO_COUNSELLOR))
        queue = contact_queue(db.session, viewer=counsellor)
        assert queue.counts["new"] == 3 and queue.counts["no_answer"] == 1 and queue.counts["contacted"] == 1
        shown = {entry.client_name for entry in queue.entries if entry.client_id}
        hidden = [entry for entry in queue.entries if entry.progress_hidden]
        assert shown == {"Alex Struggling"}  # linked to the demo counsellor
        assert len(hidden) == 1  # Chris shares with nobody: attached, not shown
        db.session.remove()
    client = app.test_client()
    login(client, DEMO_COUNSELLOR, DEMO_PASSWORD)
    page = client.get("/counsel/requests").get_data(as_text=True)
    assert "Open Alex Struggling's progress" in page and "Attached, but not shared with you" in page


def test_the_demo_queue_has_a_request_tried_twice_with_no_answer_and_its_trail(app, course):
    """Jo asked to be phoned; the demo counsellor picked it up, tried twice and noted each try."""
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        counsellor = db.session.scalar(select(User).where(User.email == DEMO_COUNSELLOR))
        [entry] = [e for e in contact_queue(db.session, viewer=counsellor).entries if e.request.status == "no_answer"]
        assert entry.picked_up_by_name == "Casey Counsellor" and entry.tries_without_answer == 2
        assert [(h.action, h.from_status, h.to_status) for h in entry.history] == [
            ("picked_up", None, None),
            ("status", "new", "no_answer"),
            ("note_added", None, None),
            ("status", "no_answer", "no_answer"),
            ("note_added", None, None),
        ]
        assert [h.at for h in entry.history] == sorted(h.at for h in entry.history)
        assert entry.request.status_changed_at == entry.history[-1].at  # the last try
        assert [note.author for note in entry.notes] == ["Casey Counsellor", "Casey Counsellor"]
        request_id = entry.request.id
        db.session.remove()

    client = app.test_client()
    login(client, DEMO_COUNSELLOR, DEMO_PASSWORD)
    page = visible_text(client.get(f"/counsel/requests/{request_id}").get_data(as_text=True))
    assert "Tried, no answer 2 times" in page and "Tried again, no answer" in page
    assert page.count("tried to reach them and got no answer") == 2
    assert "Will try tomorrow evening." in page
    # Jo, signed in, reads that the clinic tried, and never the staff's notes.
    client = app.test_client()
    login(client, "jo@demo.local", DEMO_PASSWORD)
    me = client.get("/me/").get_data(as_text=True)
    assert "We tried to reach you, and will try again" in me
    assert not re.search("voicemail|tomorrow evening", me, re.I)
