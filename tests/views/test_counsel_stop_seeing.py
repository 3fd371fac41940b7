"""A counsellor stops seeing a client's progress (a client discharged), over HTTP with CSRF on."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CounsellorLink, Role
from tests.conftest import count_queries, create_user, csrf_token, login


@pytest.fixture
def counsellor(app) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


@pytest.fixture
def link(app, course, counsellor, learner) -> int:
    """The learner (Lee Learner) shares with Casey."""
    with app.app_context():
        row = CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_by_id=learner)
        db.session.add(row)
        db.session.commit()
        return row.id


def stop_url(learner: int) -> str:
    return f"/counsel/clients/{learner}/stop"


def link_row(app, link_id: int) -> CounsellorLink:
    with app.app_context():
        row = db.session.get(CounsellorLink, link_id)
        db.session.expunge(row)
        return row


def test_the_client_page_offers_it_and_the_page_asks_first_naming_the_client(client, app, learner, link):
    login(client, "casey@example.org")
    page = client.get(f"/counsel/clients/{learner}").get_data(as_text=True)
    assert f'href="{stop_url(learner)}"' in page and "Stop seeing Lee Learner's progress" in page

    asked = client.get(stop_url(learner))
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "<h1>Stop seeing Lee Learner's progress?</h1>" in text
    assert "is not sent a message" in text and "invite them again" in text
    # A bare POST (no confirmation) only asks too: nothing ends.
    bare = client.post(stop_url(learner), data={"csrf_token": csrf_token(client, stop_url(learner))})
    assert bare.status_code == 200 and link_row(app, link).revoked_at is None


def test_confirmed_the_link_ends_and_the_client_is_gone_from_the_counsellors_pages(client, app, learner, link):
    login(client, "casey@example.org")
    token = csrf_token(client, stop_url(learner))
    response = client.post(stop_url(learner), data={"csrf_token": token, "confirm": "yes"})

    assert response.status_code == 302 and response.headers["Location"] == "/counsel/"
    dashboard = client.get("/counsel/").get_data(as_text=True)
    assert "You no longer see Lee Learner&#39;s progress." in dashboard
    assert f'href="/counsel/clients/{learner}"' not in dashboard
    ended = link_row(app, link)
    assert ended.revoked_at is not None and ended.ended_by_counsellor is True
    assert client.get(f"/counsel/clients/{learner}").status_code == 404
    assert client.get(stop_url(learner)).status_code == 404
    again = client.post(stop_url(learner), data={"csrf_token": token, "confirm": "yes"})
    assert again.status_code == 404


def test_the_client_no_longer_lists_them_and_their_data_says_who_stopped_it(client, app, learner, link):
    login(client, "casey@example.org")
    client.post(stop_url(learner), data={"csrf_token": csrf_token(client, stop_url(learner)), "confirm": "yes"})
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})

    login(client)
    me = client.get("/me/").get_data(as_text=True)
    assert "Casey Counsellor" not in me.split('id="sharing"')[1].split("</section>")[0]
    data = json.loads(client.get("/me/data.json").get_data(as_text=True))
    [shared] = data["sharing"]
    assert (shared["counsellor"], shared["stopped_by"]) == ("Casey Counsellor", "the counsellor")


def test_without_the_csrf_token_nothing_ends(client, app, learner, link):
    login(client, "casey@example.org")
    response = client.post(stop_url(learner), data={"confirm": "yes"})
    assert response.status_code == 400 and link_row(app, link).revoked_at is None


@pytest.mark.parametrize(("email", "role"), [("olive@example.org", Role.COUNSELLOR), ("ada@example.org", Role.ADMIN)])
def test_anyone_but_the_clients_counsellor_gets_404_and_ends_nothing(client, app, learner, link, email, role):
    """Another counsellor, and an admin, who sees every learner but has no link to end."""
    create_user(app, email, role=role)
    login(client, email)
    assert client.get(stop_url(learner)).status_code == 404
    token = csrf_token(client, "/counsel/")
    assert client.post(stop_url(learner), data={"csrf_token": token, "confirm": "yes"}).status_code == 404
    assert link_row(app, link).revoked_at is None
    if role == Role.ADMIN:  # the admin's view of the client page offers no such thing
        assert stop_url(learner) not in client.get(f"/counsel/clients/{learner}").get_data(as_text=True)


def test_the_page_that_asks_reads_a_fixed_three_queries(client, app, learner, link):
    login(client, "casey@example.org")
    client.get(stop_url(learner))
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as queries:
        assert client.get(stop_url(learner)).status_code == 200
    # The signed-in user, then the link with its client, then the header's count of contact requests
    # waiting (app/staff_nav.py).
    assert queries() == 3
    with app.app_context():
        assert db.session.scalar(select(CounsellorLink.revoked_at).where(CounsellorLink.id == link)) is None
