"""The clinic's queue, /counsel/requests, over HTTP with CSRF on: staff only, picking up and status
changes audited, the client link under the sharing rule, and a fixed number of queries."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ContactRequest, ContactRequestEvent, CounsellorLink, Role, User
from app.services.contact_requests import ContactDetails, contact_request_create
from tests.conftest import count_queries, create_user, csrf_token, login


def make_request(app, requester_id=None, **overrides) -> int:
    details = {"contact_by": "phone", "phone": "07700 900123", "topic": "alcohol", "name": "Samwise", **overrides}
    with app.app_context():
        requester = db.session.get(User, requester_id) if requester_id else None
        request_id = contact_request_create(db.session, details=ContactDetails(**details), requester=requester).id
        db.session.remove()
        return request_id


@pytest.fixture
def staff(app, learner):
    """A counsellor the learner shares progress with, a colleague they do not, and an admin."""
    ids = {
        "counsellor": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
        "colleague": create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive"),
        "admin": create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada"),
    }
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=ids["counsellor"], learner_id=learner, created_by_id=learner))
        db.session.commit()
        db.session.remove()
    return ids


def client_as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/counsel/requests"), **data})


def test_nobody_but_the_clinic_staff_sees_any_request(app, client, learner, staff):
    request_id = make_request(app, learner)
    urls = ["/counsel/requests", "/counsel/requests?show=ended", f"/counsel/requests/{request_id}"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    learner_client = client_as(app, "learner@example.org")
    token = csrf_token(learner_client, "/me/")
    for url in urls:
        assert learner_client.get(url).status_code == 403
    for action in ("pick-up", "release", "status", "notes"):
        url = f"/counsel/requests/{request_id}/{action}"
        assert learner_client.post(url, data={"csrf_token": token, "status": "closed"}).status_code == 403
    with app.app_context():
        assert db.session.get(ContactRequest, request_id).status == "new"
        assert db.session.scalars(select(ContactRequestEvent)).all() == []


def test_a_counsellor_picks_a_request_up_and_marks_it_contacted(app, learner, staff):
    request_id = make_request(app, note="Please call after work")
    casey = client_as(app, "casey@example.org")
    queue = casey.get("/counsel/requests").get_data(as_text=True)
    assert "07700 900123" in queue and "Please call after work" in queue and "Open: 1 new, 0 contacted" in queue
    response = post(casey, f"/counsel/requests/{request_id}/pick-up")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/counsel/requests#request-{request_id}"
    )
    response = post(casey, f"/counsel/requests/{request_id}/status", status="contacted", back="detail")
    assert response.headers["Location"].endswith(f"/counsel/requests/{request_id}")
    page = casey.get(f"/counsel/requests/{request_id}").get_data(as_text=True)
    assert "Contacted" in page and "Picked up by</dt>" in page
    history = page.split('id="history"')[1]
    assert history.index("Casey picked it up") < history.index("Casey marked it contacted")
    # A colleague cannot take it over while Casey has it, and is told so.
    olive = client_as(app, "olive@example.org")
    post(olive, f"/counsel/requests/{request_id}/pick-up")
    assert "already picked up by someone else" in olive.get("/counsel/requests").get_data(as_text=True)


def test_closing_from_the_queue_goes_back_to_its_top_not_to_a_request_no_longer_there(app, learner, staff):
    """Closed, the request leaves the open requests: an anchor to it landed nowhere, focus lost.
    A change that keeps it there goes back to it; reopening from the ended list goes to the top."""
    request_id = make_request(app)
    casey = client_as(app, "casey@example.org")
    contacted = post(casey, f"/counsel/requests/{request_id}/status", status="contacted")
    assert contacted.headers["Location"].endswith(f"/counsel/requests#request-{request_id}")
    closed = post(casey, f"/counsel/requests/{request_id}/status", status="closed")
    assert closed.status_code == 302 and closed.headers["Location"].endswith("/counsel/requests")
    reopened = post(casey, f"/counsel/requests/{request_id}/status", status="new", back="ended")
    assert reopened.headers["Location"].endswith("/counsel/requests?show=ended")


@pytest.mark.parametrize(
    ("action", "data", "expected"),
    [
        ("status", {}, 400),  # no status given
        ("status", {"status": "withdrawn"}, 400),  # only the person withdraws
        ("status", {"status": "contacted", "back": "https://evil.example"}, 400),  # no open redirect
        ("pick-up", {}, 302),
    ],
)
def test_malformed_actions_are_400_and_change_nothing(app, learner, staff, action, data, expected):
    request_id = make_request(app)
    casey = client_as(app, "casey@example.org")
    assert post(casey, f"/counsel/requests/{request_id}/{action}", **data).status_code == expected
    if expected == 400:
        with app.app_context():
            assert db.session.get(ContactRequest, request_id).status == "new"


def test_an_unknown_request_is_404_for_staff(app, learner, staff):
    casey = client_as(app, "casey@example.org")
    assert casey.get("/counsel/requests/999999").status_code == 404
    for action in ("pick-up", "release", "notes"):
        assert post(casey, f"/counsel/requests/999999/{action}").status_code == 404
    assert post(casey, "/counsel/requests/999999/status", status="closed").status_code == 404


def test_private_notes_are_saved_and_too_long_ones_are_refused_beside_the_field(app, learner, staff):
    request_id = make_request(app, learner)
    casey = client_as(app, "casey@example.org")
    response = post(casey, f"/counsel/requests/{request_id}/notes", staff_note="x" * 2001)
    assert response.status_code == 400
    assert 'id="staff_note-error">Keep the notes to 2000 characters.' in response.get_data(as_text=True)
    assert "<title>Error: Contact request" in response.get_data(as_text=True)  # said first, for a screen reader
    assert post(casey, f"/counsel/requests/{request_id}/notes", staff_note="Left a voicemail").status_code == 302
    assert "Left a voicemail" in casey.get(f"/counsel/requests/{request_id}").get_data(as_text=True)
    learner_client = client_as(app, "learner@example.org")
    assert "voicemail" not in learner_client.get("/me/").get_data(as_text=True)


def test_notes_saved_from_a_page_opened_before_someone_else_saved_theirs_are_refused(app, learner, staff):
    """Two staff open the notes; one saves. The other's save would replace those notes unseen."""
    import re

    request_id = make_request(app, learner)
    page_url = f"/counsel/requests/{request_id}"
    casey, ada = client_as(app, "casey@example.org"), client_as(app, "admin@example.org")
    opened = {
        who: re.search(r'name="opened_as" type="hidden" value="([^"]*)"', c.get(page_url).get_data(as_text=True))
        for who, c in (("casey", casey), ("ada", ada))
    }
    assert (
        post(casey, f"{page_url}/notes", staff_note="Left a voicemail", opened_as=opened["casey"].group(1)).status_code
        == 302
    )

    late = post(ada, f"{page_url}/notes", staff_note="Rang twice", opened_as=opened["ada"].group(1))

    assert late.status_code == 400
    assert "Someone else changed these notes after you opened them" in late.get_data(as_text=True)
    assert "Rang twice" in late.get_data(as_text=True)  # Ada's text is kept in the form
    assert "Left a voicemail" in casey.get(page_url).get_data(as_text=True)  # Casey's notes stand


def test_attached_progress_links_to_the_client_page_only_for_whom_the_learner_shares_with(app, learner, staff):
    request_id = make_request(app, learner, attach_progress=True)
    link = f'href="/counsel/clients/{learner}"'
    assert link in client_as(app, "casey@example.org").get("/counsel/requests").get_data(as_text=True)
    assert link in client_as(app, "admin@example.org").get(f"/counsel/requests/{request_id}").get_data(as_text=True)
    olive_page = client_as(app, "olive@example.org").get("/counsel/requests").get_data(as_text=True)
    assert link not in olive_page and "Attached, but not shared with you" in olive_page
    assert "Lee Learner" not in olive_page  # nothing of the account either


def test_a_withdrawn_request_shows_only_that_it_was_withdrawn(app, learner, staff):
    request_id = make_request(app, learner, note="A private note")
    learner_client = client_as(app, "learner@example.org")
    url = f"/me/contact-requests/{request_id}/withdraw"
    learner_client.post(url, data={"csrf_token": csrf_token(learner_client, "/me/")})
    casey = client_as(app, "casey@example.org")
    page = casey.get("/counsel/requests?show=ended").get_data(as_text=True)
    assert "do not contact them about it" in page
    assert "07700" not in page and "A private note" not in page and "Samwise" not in page
    assert f"/counsel/requests/{request_id}/pick-up" not in page  # no buttons left
    assert "07700" not in casey.get("/counsel/requests").get_data(as_text=True)


def queries(app, client, url) -> int:
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as counted:
        assert client.get(url).status_code == 200
    return counted()


def test_the_queue_and_a_request_run_a_fixed_number_of_queries(app, learner, staff):
    first = make_request(app, learner, attach_progress=True)
    casey = client_as(app, "casey@example.org")
    post(casey, f"/counsel/requests/{first}/pick-up")
    before = queries(app, casey, "/counsel/requests"), queries(app, casey, f"/counsel/requests/{first}")
    for n in range(15):
        request_id = make_request(app, learner if n % 2 else None, attach_progress=True)
        post(casey, f"/counsel/requests/{request_id}/status", status="contacted")
    after = queries(app, casey, "/counsel/requests"), queries(app, casey, f"/counsel/requests/{first}")
    assert before == after
    # The user; the page of requests; the count per status; their audit trails; the names and the sharing rule.
    assert after[0] <= 5, after


def test_my_page_runs_a_fixed_number_of_queries_whatever_the_requests(app, learner, staff, course):
    learner_client = client_as(app, "learner@example.org")
    make_request(app, learner)
    learner_client.get("/me/")  # this worker has now cached the course content
    before = queries(app, learner_client, "/me/")
    for _ in range(10):
        make_request(app, learner)
    assert queries(app, learner_client, "/me/") == before
