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
    assert (
        "07700 900123" in queue
        and "Please call after work" in queue
        and "Open: 1 new, 0 tried with no answer, 0 contacted" in queue
    )
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


def test_private_notes_are_added_and_too_long_or_empty_ones_are_refused_beside_the_field(app, learner, staff):
    request_id = make_request(app, learner)
    casey = client_as(app, "casey@example.org")
    for text, error in (("x" * 2001, "Keep the note to 2000 characters."), ("", "Write the note to add.")):
        response = post(casey, f"/counsel/requests/{request_id}/notes", staff_note=text)
        assert response.status_code == 400
        assert f'id="staff_note-error">{error}' in response.get_data(as_text=True)
        assert "<title>Error: Contact request" in response.get_data(as_text=True)  # said first, for a screen reader
    response = post(casey, f"/counsel/requests/{request_id}/notes", staff_note="Left a voicemail")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/counsel/requests/{request_id}#notes"
    )
    page = casey.get(f"/counsel/requests/{request_id}").get_data(as_text=True)
    assert "Note added." in page and "Left a voicemail" in page
    assert "Casey added a note" in page.split('id="history"')[1]
    learner_client = client_as(app, "learner@example.org")
    assert "voicemail" not in learner_client.get("/me/").get_data(as_text=True)


def test_a_colleague_adds_a_note_to_a_request_someone_holds_but_cannot_close_it_or_lose_their_note(app, learner, staff):
    """The reviewer's case over HTTP: Casey picks a request up, marks it contacted and notes the
    call. Olive, who cannot hand it back, used to be able to replace the note with "x" and close it."""
    request_id = make_request(app, learner, note="I relapsed last week and am scared")
    page_url = f"/counsel/requests/{request_id}"
    casey, olive = client_as(app, "casey@example.org"), client_as(app, "olive@example.org")
    post(casey, f"{page_url}/pick-up")
    post(casey, f"{page_url}/status", status="contacted")
    post(casey, f"{page_url}/notes", staff_note="Called 6:15pm, no answer. Try again tomorrow.")

    # Olive sees who holds it, no status buttons, and a form to add a note.
    page = olive.get(page_url).get_data(as_text=True)
    assert "Casey has picked this request up: only they, or an admin, can change its status" in page
    assert f'action="{page_url}/status"' not in page and f'action="{page_url}/notes"' in page
    # Her POSTs are refused in the page's words, and change nothing.
    for status in ("closed", "new"):
        refused = post(olive, f"{page_url}/status", status=status, back="detail")
        assert refused.status_code == 302 and refused.headers["Location"].endswith(page_url)
    flashed = olive.get(page_url).get_data(as_text=True)
    assert "only they, or an admin, can change its status. You can add a note for them instead." in flashed
    assert post(olive, f"{page_url}/notes", staff_note="x").status_code == 302
    assert post(olive, f"{page_url}/notes", staff_note="Casey is off today; I called at 3pm").status_code == 302

    page = olive.get(page_url).get_data(as_text=True)
    notes = page.split('id="private-notes"')[1].split('id="history"')[0]
    called, x, three = (
        notes.index("Called 6:15pm, no answer. Try again tomorrow."),
        notes.index('<p class="contact-note">x</p>'),
        notes.index("Casey is off today; I called at 3pm"),
    )
    assert called < x < three  # oldest first, each kept
    assert notes.count("Olive,") == 2 and notes.count("Casey,") == 1
    history = page.split('id="history"')[1]
    assert "changed the notes" not in history and history.count("added a note") == 3
    assert "Olive marked it" not in history
    with app.app_context():
        request = db.session.get(ContactRequest, request_id)
        assert (request.status, request.picked_up_by_id) == ("contacted", staff["counsellor"])
    # The queue shows the latest note, by whom, to everyone on the staff.
    queue = casey.get("/counsel/requests").get_data(as_text=True)
    assert "Casey is off today; I called at 3pm" in queue and "3 notes in all" in queue
    # An admin may still close it.
    ada = client_as(app, "admin@example.org")
    assert f'action="{page_url}/status"' in ada.get(page_url).get_data(as_text=True)
    post(ada, f"{page_url}/status", status="closed")
    with app.app_context():
        assert db.session.get(ContactRequest, request_id).status == "closed"


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
        post(casey, f"/counsel/requests/{request_id}/notes", staff_note=f"Called {n}")
        post(casey, f"/counsel/requests/{first}/notes", staff_note=f"Note {n}")
    after = queries(app, casey, "/counsel/requests"), queries(app, casey, f"/counsel/requests/{first}")
    assert before == after
    # The user; the page of requests; the count per status; their notes; their audit trails; the names
    # and the sharing rule.
    assert after[0] <= 6, after


def test_my_page_runs_a_fixed_number_of_queries_whatever_the_requests(app, learner, staff, course):
    learner_client = client_as(app, "learner@example.org")
    make_request(app, learner)
    learner_client.get("/me/")  # this worker has now cached the course content
    before = queries(app, learner_client, "/me/")
    for _ in range(10):
        make_request(app, learner)
    assert queries(app, learner_client, "/me/") == before
