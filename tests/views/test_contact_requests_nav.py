"""Over HTTP with CSRF on: the staff header's count of contact requests waiting (and no cost to anyone
else), "tried, no answer" from the queue to the person's /me/, and a deactivated holder's requests
back in the queue."""

import html
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ContactRequest, Role
from tests.conftest import create_user, csrf_token, login, visible_text
from tests.views.test_contact_queue import client_as, make_request, post

NAV = re.compile(r'<nav aria-label="Main">.*?</nav>', re.S)


def header(response) -> str:
    assert response.status_code == 200
    return NAV.search(response.get_data(as_text=True)).group(0)


@pytest.fixture
def staff(app, course):
    return {
        "counsellor": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
        "admin": create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada"),
    }


def test_the_staff_header_counts_the_requests_nobody_has_picked_up_in_the_links_name(app, staff):
    casey, ada = client_as(app, "casey@example.org"), client_as(app, "admin@example.org")
    assert ">Contact requests</a>" in header(casey.get("/counsel/"))  # nobody waiting: no count
    first, _ = make_request(app), make_request(app)
    for client in (casey, ada):
        nav = header(client.get("/counsel/"))
        assert (
            '<a href="/counsel/requests" aria-label="Contact requests, 2 waiting">Contact requests'
            '<span class="nav-count">(2)</span></a>'
        ) in nav
    post(casey, f"/counsel/requests/{first}/pick-up")
    assert 'aria-label="Contact requests, 1 waiting"' in header(ada.get("/author/"))


def test_learners_see_no_link_and_their_pages_never_count(app, monkeypatch, learner_client, staff, course):
    make_request(app)

    def counted(session):
        raise AssertionError("a learner's page counted the clinic's requests")

    monkeypatch.setattr("app.staff_nav.contact_requests_waiting", counted)
    for url in ("/", "/me/", "/contact", f"/courses/{course}/"):
        page = learner_client.get(url, follow_redirects=True).get_data(as_text=True)
        assert "/counsel/requests" not in page and "Contact requests" not in header(learner_client.get(url))


def test_the_queue_shows_the_count_it_made_with_its_own_figures(app, monkeypatch, staff):
    make_request(app)
    casey = client_as(app, "casey@example.org")

    def counted(session):
        raise AssertionError("the queue counted twice")

    monkeypatch.setattr("app.staff_nav.contact_requests_waiting", counted)
    assert 'aria-label="Contact requests, 1 waiting"' in header(casey.get("/counsel/requests"))


def test_a_holder_records_a_try_with_no_answer_and_the_person_reads_it_kindly(app, learner, staff):
    request_id = make_request(app, learner)
    casey = client_as(app, "casey@example.org")
    queue = casey.get("/counsel/requests").get_data(as_text=True)
    assert 'name="status" value="no_answer"' in queue and "Tried, no answer<span" in queue
    response = post(casey, f"/counsel/requests/{request_id}/status", status="no_answer", back="detail")
    assert response.status_code == 302
    page = casey.get(f"/counsel/requests/{request_id}").get_data(as_text=True)
    assert "Your try is recorded: the request stays open, and yours, to try again." in page
    assert '<span class="request-status request-status-no_answer">Tried, no answer</span>' in page
    assert "Tried again, no answer<span" in page and "<dt>Tried, no answer</dt>\n        <dd>1 time</dd>" in page
    assert "Casey tried to reach them and got no answer" in page.split('id="history"')[1]
    post(casey, f"/counsel/requests/{request_id}/status", status="no_answer")  # and again
    assert "<dd>2 times</dd>" in casey.get(f"/counsel/requests/{request_id}").get_data(as_text=True)
    queue = casey.get("/counsel/requests").get_data(as_text=True)
    assert "Open: 0 new, 1 tried with no answer, 0 contacted" in queue
    learner_page = client_as(app, "learner@example.org").get("/me/").get_data(as_text=True)
    assert "We tried to reach you, and will try again" in learner_page


def test_a_colleague_cannot_record_a_try_on_a_request_someone_else_holds(app, staff):
    request_id = make_request(app)
    post(client_as(app, "casey@example.org"), f"/counsel/requests/{request_id}/pick-up")
    create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive")
    olive = client_as(app, "olive@example.org")
    response = post(olive, f"/counsel/requests/{request_id}/status", status="no_answer")
    assert response.status_code == 302
    assert "only they, or an admin, can change its status" in olive.get("/counsel/requests").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ContactRequest.status).where(ContactRequest.id == request_id)) == "new"


def test_deactivating_a_holder_puts_their_request_back_in_the_queue_saying_why(app, staff):
    request_id = make_request(app)
    post(client_as(app, "casey@example.org"), f"/counsel/requests/{request_id}/pick-up")
    ada = client_as(app, "admin@example.org")
    url = f"/author/users/{staff['counsellor']}/deactivate"
    asked = ada.post(url, data={"csrf_token": csrf_token(ada, f"/author/users/{staff['counsellor']}")})
    assert (
        "The 1 open contact request they picked up goes back to the clinic's queue for someone else to pick up, "
        "marked as handed back because this account was deactivated."
    ) in visible_text(html.unescape(asked.get_data(as_text=True)))
    token = csrf_token(ada, f"/author/users/{staff['counsellor']}")
    assert ada.post(url, data={"csrf_token": token, "confirm": "yes"}).status_code == 302
    queue = ada.get("/counsel/requests").get_data(as_text=True)
    assert "the account that held it was deactivated, so they cannot call." in queue
    assert f"/counsel/requests/{request_id}/pick-up" in queue  # anyone may pick it up now
    assert 'aria-label="Contact requests, 1 waiting"' in header(ada.get("/counsel/"))
    page = ada.get(f"/counsel/requests/{request_id}").get_data(as_text=True)
    assert "Ada deactivated the account that held it, which handed it back to the queue" in page


def test_a_status_post_without_its_form_token_changes_nothing(app, staff):
    request_id = make_request(app)
    casey = client_as(app, "casey@example.org")
    assert casey.post(f"/counsel/requests/{request_id}/status", data={"status": "no_answer"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(ContactRequest.status).where(ContactRequest.id == request_id)) == "new"


def test_logging_in_still_works_for_staff_with_requests_waiting(app, client, staff):
    make_request(app)
    assert login(client, "casey@example.org").status_code == 302
    assert 'aria-label="Contact requests, 1 waiting"' in header(client.get("/counsel/"))
