"""Handing a caseload to a colleague, over HTTP with CSRF on: the counsellor's (or an admin's) page
that asks and lists the answers, and the client's request on /me/ with its Accept and Decline."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CounsellorLink, HandoverRequest, Role, User
from app.services.handover import handover_request
from app.services.sharing import active_link
from tests.conftest import create_user, csrf_token, login, visible_text
from tests.views.test_query_counts import queries_for

CONSENT_WORDS = "which lessons you have opened and finished, and when"  # the /join consent screen's list


@pytest.fixture
def people(app, course, learner):
    """Casey (a counsellor) whose client is the learner (Lee); Olive, a colleague; Ada, an admin."""
    ids = {
        "casey": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
        "olive": create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive"),
        "ada": create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada"),
        "lee": learner,
    }
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=ids["casey"], learner_id=learner, label="Tuesday group"))
        db.session.commit()
        db.session.remove()
    return ids


def page_url(counsellor_id: int) -> str:
    return f"/counsel/caseloads/{counsellor_id}/handover"


def add_clients(app, counsellor_id: int, n: int) -> list[int]:
    ids = [create_user(app, f"client{i}-{counsellor_id}@example.org", name=f"Client {i}") for i in range(n)]
    with app.app_context():
        db.session.add_all(CounsellorLink(counsellor_id=counsellor_id, learner_id=i) for i in ids)
        db.session.commit()
        db.session.remove()
    return ids


def ask_from_the_page(client, people, counsellor_id=None) -> str:
    """Choose Olive and the ticked clients, see the confirmation, confirm; return the page after."""
    url = page_url(counsellor_id or people["casey"])
    token = csrf_token(client, url)
    form = {"csrf_token": token, "colleague": str(people["olive"]), "clients": [str(people["lee"])]}
    confirm = client.post(url, data=form)
    assert confirm.status_code == 200
    assert "Ask 1 client to share with Olive?" in visible_text(confirm.get_data(as_text=True))
    done = client.post(url, data={**form, "confirm": "yes"}, follow_redirects=True)
    assert done.status_code == 200
    return visible_text(done.get_data(as_text=True))


def handovers(app) -> list[HandoverRequest]:
    with app.app_context():
        rows = list(db.session.scalars(select(HandoverRequest)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def test_the_counsellors_page_lists_colleagues_and_ticked_clients_in_a_fieldset(client, app, people):
    login(client, "casey@example.org")
    html = client.get("/counsel/invitations").get_data(as_text=True)
    assert page_url(people["casey"]) in html  # the way in, from the invitations page
    page = client.get(page_url(people["casey"]))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<label class="label" for="colleague">Colleague to take over</label>' in html
    assert "Olive (olive@example.org)" in html and "Casey (casey@example.org)" not in html
    assert "<legend" in html and "Which clients to ask" in html
    assert re.search(
        rf'<input type="checkbox" name="clients" value="{people["lee"]}" id="clients-{people["lee"]}" checked>', html
    )
    assert f'<label for="clients-{people["lee"]}">' in html


def test_asking_confirms_first_then_shares_nothing_until_the_client_answers(client, app, people):
    login(client, "casey@example.org")
    url = page_url(people["casey"])
    token = csrf_token(client, url)
    client.post(url, data={"csrf_token": token, "colleague": str(people["olive"]), "clients": [str(people["lee"])]})
    assert handovers(app) == []  # the confirmation only asks
    text = ask_from_the_page(client, people)
    assert "1 client asked." in text
    assert "Lee Learner" in text and "Waiting for an answer" in text
    [request] = handovers(app)
    assert (request.learner_id, request.counsellor_id, request.from_counsellor_id) == (
        people["lee"],
        people["olive"],
        people["casey"],
    )
    with app.app_context():
        assert active_link(db.session, counsellor_id=people["olive"], learner_id=people["lee"]) is None


def test_asking_again_makes_no_duplicate(client, app, people):
    login(client, "casey@example.org")
    ask_from_the_page(client, people)
    text = ask_from_the_page(client, people)
    assert "No client was asked. Not asked again: 1 already has a request waiting." in text
    assert len(handovers(app)) == 1


def test_without_a_colleague_or_a_client_the_page_says_what_to_choose(client, app, people):
    login(client, "casey@example.org")
    url = page_url(people["casey"])
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "colleague": "0"})
    assert response.status_code == 400
    text = visible_text(response.get_data(as_text=True))
    assert "Choose the colleague to take over." in text and "Choose at least one client to ask." in text
    assert handovers(app) == []


def test_without_the_csrf_token_nothing_is_asked(client, app, people):
    login(client, "casey@example.org")
    form = {"colleague": str(people["olive"]), "clients": [str(people["lee"])], "confirm": "yes"}
    assert client.post(page_url(people["casey"]), data=form).status_code == 400
    assert handovers(app) == []


@pytest.mark.parametrize("email", ["olive@example.org", "learner@example.org"])
def test_anyone_elses_caseload_is_not_there(client, app, people, email):
    login(client, email)
    expected = 404 if email.startswith("olive") else 403  # a learner is kept out of the whole area
    assert client.get(page_url(people["casey"])).status_code == expected


def test_an_admin_asks_for_a_counsellor_and_the_client_is_told_the_clinic_asked(client, app, people):
    login(client, "ada@example.org")
    assert page_url(people["casey"]) in client.get(f"/author/users/{people['casey']}").get_data(as_text=True)
    assert client.get(page_url(people["ada"])).status_code == 404  # an admin has no caseload of their own
    text = ask_from_the_page(client, people)
    assert "Lee Learner" in text
    # Audited, as every admin action is: on the counsellor's account page and in the activity log.
    account = visible_text(client.get(f"/author/users/{people['casey']}").get_data(as_text=True))
    assert "1 of their clients asked to share with counsellor Olive" in account
    activity = visible_text(client.get("/author/activity").get_data(as_text=True))
    assert "asked 1 of the clients of Casey to share with the counsellor Olive" in activity
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    login(client)
    text = visible_text(client.get("/me/").get_data(as_text=True))
    assert "The clinic has asked Olive to take over from Casey. Share your progress with Olive?" in text


def test_the_client_sees_the_request_on_me_in_the_consent_screens_words_and_accepts(client, app, people):
    login(client, "casey@example.org")
    ask_from_the_page(client, people)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    login(client)
    html = client.get("/me/").get_data(as_text=True)
    text = visible_text(html)
    assert "Casey has asked Olive to take over. Share your progress with Olive?" in text
    assert CONSENT_WORDS in text and "If you say yes, Olive will see" in text
    assert "Their account on this site: olive@example.org" in text
    [request] = handovers(app)
    response = client.post(
        f"/me/handovers/{request.id}",
        data={"csrf_token": csrf_token(client, "/me/"), "decision": "accept"},
        follow_redirects=True,
    )
    text = visible_text(response.get_data(as_text=True))
    assert "You are now sharing your course progress with Olive." in text
    assert "Share your progress with Olive?" not in text
    with app.app_context():
        link = active_link(db.session, counsellor_id=people["olive"], learner_id=people["lee"])
        assert link is not None and link.label is None  # Casey's label stays Casey's
        assert active_link(db.session, counsellor_id=people["casey"], learner_id=people["lee"]) is not None
    # Casey's page says how it went.
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    login(client, "casey@example.org")
    assert "Accepted on" in visible_text(client.get(page_url(people["casey"])).get_data(as_text=True))


def test_the_client_declines_and_nothing_is_shared(client, app, people):
    login(client, "casey@example.org")
    ask_from_the_page(client, people)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    login(client)
    [request] = handovers(app)
    response = client.post(
        f"/me/handovers/{request.id}",
        data={"csrf_token": csrf_token(client, "/me/"), "decision": "decline"},
        follow_redirects=True,
    )
    assert "You declined. Olive cannot see your progress." in visible_text(response.get_data(as_text=True))
    [answered] = handovers(app)
    assert answered.accepted is False
    with app.app_context():
        assert active_link(db.session, counsellor_id=people["olive"], learner_id=people["lee"]) is None


def test_only_the_client_asked_can_answer(client, app, people, other_learner):
    with app.app_context():
        handover_request(
            db.session,
            actor=db.session.get(User, people["casey"]),
            from_counsellor=db.session.get(User, people["casey"]),
            to_counsellor_id=people["olive"],
        )
        db.session.remove()
    [request] = handovers(app)
    login(client, "fred@example.org")
    token = csrf_token(client, "/me/")
    assert (
        client.post(f"/me/handovers/{request.id}", data={"csrf_token": token, "decision": "accept"}).status_code == 404
    )
    [unanswered] = handovers(app)
    assert unanswered.answered_at is None


def test_me_still_reads_one_query_with_requests_waiting(client, app, people):
    login(client)
    client.get("/me/")
    before = queries_for(app, lambda: client.get("/me/"))
    for i in range(3):
        colleague = create_user(app, f"colleague{i}@example.org", role=Role.COUNSELLOR, name=f"Colleague {i}")
        with app.app_context():
            casey = db.session.get(User, people["casey"])
            handover_request(db.session, actor=casey, from_counsellor=casey, to_counsellor_id=colleague)
            db.session.remove()
    after = queries_for(app, lambda: client.get("/me/"))
    assert before == after == 1
    assert client.get("/me/").get_data(as_text=True).count("Share your progress with Colleague") == 3


def test_the_handover_page_reads_the_same_queries_for_1_or_12_clients(client, app, people):
    login(client, "casey@example.org")
    url = page_url(people["casey"])
    client.get(url)
    with_one = queries_for(app, lambda: client.get(url))
    add_clients(app, people["casey"], 11)
    ask_from_the_page(client, people)
    with app.app_context():
        casey = db.session.get(User, people["casey"])
        handover_request(db.session, actor=casey, from_counsellor=casey, to_counsellor_id=people["olive"])
        db.session.remove()
    with_twelve = queries_for(app, lambda: client.get(url))
    assert with_one == with_twelve <= 6
    assert visible_text(client.get(url).get_data(as_text=True)).count("Waiting for an answer") == 12


def answer_as_lee(client, app, decision: str, *, with_token: bool = True):
    """Log Casey out and Lee in, and POST Lee's answer to the one request (with the page's token or none)."""
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    login(client)
    [request] = [r for r in handovers(app) if r.answered_at is None]
    form = {"decision": decision, **({"csrf_token": csrf_token(client, "/me/")} if with_token else {})}
    return client.post(f"/me/handovers/{request.id}", data=form)


def test_an_answer_without_the_csrf_token_answers_nothing(client, app, people):
    login(client, "casey@example.org")
    ask_from_the_page(client, people)
    assert answer_as_lee(client, app, "accept", with_token=False).status_code == 400
    [request] = handovers(app)
    assert request.answered_at is None


def test_a_client_who_said_no_is_not_asked_again_and_the_counsellor_is_told_why(client, app, people):
    login(client, "casey@example.org")
    ask_from_the_page(client, people)
    assert answer_as_lee(client, app, "decline").status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    login(client, "casey@example.org")
    text = ask_from_the_page(client, people)
    assert "No client was asked. Not asked again: 1 said no to that colleague when asked before." in text
    assert len(handovers(app)) == 1
