"""Counsellors and clients over HTTP with CSRF on: invite, consent, dashboard, client page, stop sharing."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import CounsellorLink, Invitation, ProgressView, Role, User
from tests.conftest import create_user, csrf_token, lesson_slugs, login, quiz_form, submit_quiz
from tests.mail_server import body_of


@pytest.fixture
def counsellor(app):
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


def log_in_as(client, email):
    token = csrf_token(client, "/")
    client.post("/auth/logout", data={"csrf_token": token})
    assert login(client, email).status_code == 302


def invite(client) -> str:
    token = csrf_token(client, "/counsel/invitations")
    response = client.post("/counsel/invitations", data={"csrf_token": token}, follow_redirects=True)
    assert [r.status_code for r in response.history] == [302] and response.status_code == 200
    return re.search(r'id="invitation-code">([A-Z0-9-]+)<', response.get_data(as_text=True)).group(1)


def answer(client, code, decision):
    token = csrf_token(client, f"/join/{code}")
    return client.post(f"/join/{code}", data={"csrf_token": token, "decision": decision})


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def linked(client, app, course, counsellor, learner):
    """The counsellor invites; the learner accepts. The client ends logged in as the learner."""
    login(client, "casey@example.org")
    code = invite(client)
    log_in_as(client, "learner@example.org")
    assert answer(client, code, "accept").status_code == 302
    return client


def test_invitation_shows_a_code_and_link_once_and_stores_only_a_hash(client, app, course, counsellor):
    login(client, "casey@example.org")
    token = csrf_token(client, "/counsel/invitations")
    page = client.post("/counsel/invitations", data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    code = re.search(r'id="invitation-code">([A-Z0-9-]+)<', page).group(1)
    assert f"/join/{code}" in page
    with app.app_context():
        stored = db.session.scalar(select(Invitation))
        assert code not in stored.code_hash and code.replace("-", "") not in stored.code_hash
        assert stored.expires_at - stored.created_at == timedelta(days=14)
    assert code not in client.get("/counsel/invitations").get_data(as_text=True)


def test_consent_page_says_what_will_and_will_not_be_seen(client, app, course, counsellor, learner):
    login(client, "casey@example.org")
    code = invite(client)
    log_in_as(client, "learner@example.org")
    page = client.get(f"/join/{code}").get_data(as_text=True)
    assert "Casey Counsellor would like to see your progress" in page
    # Which Casey Counsellor: the address their account has here, as /me/ tells two of one name apart.
    assert "Their account on this site: <strong>casey@example.org</strong>" in page
    assert "each quiz you have taken: your score and the answers you chose" in page
    assert "your e-mail address or your password" in page
    # What is recorded, exactly: opening the full progress is; the dashboard's summary row is not.
    said = " ".join(page.split())
    # The counsellor's part names them, before the administrators' part under its own heading (a review
    # read "they" in the next paragraph as the administrators).
    assert "Each time Casey Counsellor opens your full progress, with your answers, it is recorded" in said
    assert said.index("Casey Counsellor opens your full progress") < said.index("Site administrators, whatever you")
    assert "that list is not recorded each time they open it" in " ".join(page.split())
    assert count(app, CounsellorLink) == 0  # opening the page shares nothing


def test_anonymous_visitor_is_asked_to_log_in_first(client, app, course, counsellor):
    login(client, "casey@example.org")
    code = invite(client)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    page = client.get(f"/join/{code}").get_data(as_text=True)
    assert "please log in or create a free account first" in page
    assert f"/auth/login?next=/join/{code}" in page


def test_accept_links_and_the_client_appears_on_the_dashboard(linked, app):
    assert "You are now sharing your course progress with Casey Counsellor" in linked.get("/me/").get_data(as_text=True)
    log_in_as(linked, "casey@example.org")
    assert "Lee Learner" in linked.get("/counsel/").get_data(as_text=True)


def test_decline_makes_no_link_and_uses_the_code(client, app, course, counsellor, learner):
    login(client, "casey@example.org")
    code = invite(client)
    log_in_as(client, "learner@example.org")
    answer(client, code, "decline")
    assert count(app, CounsellorLink) == 0
    assert client.get(f"/join/{code}").status_code == 410


def test_declining_a_new_invitation_while_sharing_says_the_sharing_goes_on(linked, app):
    """The page said "X cannot see your progress" while X still could, through the first invitation."""
    log_in_as(linked, "casey@example.org")
    code = invite(linked)
    log_in_as(linked, "learner@example.org")

    answer(linked, code, "decline")

    page = " ".join(linked.get("/me/").get_data(as_text=True).split())
    assert "You declined this invitation, but you still share your progress with Casey Counsellor" in page
    assert "cannot see your progress" not in page
    assert count(app, CounsellorLink, CounsellorLink.revoked_at.is_(None)) == 1


def test_learners_are_told_the_sites_administrators_can_open_their_progress(client, app, course, counsellor, learner):
    register = " ".join(client.get("/auth/register").get_data(as_text=True).split())
    assert "The clinic's site administrators can also open it" in register
    landing = " ".join(client.get("/").get_data(as_text=True).split())
    assert "the clinic's site administrators can open it to run the service" in landing
    login(client, "casey@example.org")
    code = invite(client)
    log_in_as(client, "learner@example.org")
    consent = " ".join(client.get(f"/join/{code}").get_data(as_text=True).split())
    assert "can open your full progress whether or not you share it" in consent
    # The lists of learners (and their download) are not logged view by view: said, not implied.
    assert "Their list of all learners, which they can download," in consent
    home = " ".join(client.get("/me/").get_data(as_text=True).split())
    assert "and so can the clinic's site administrators" in home
    assert "Their lists of people, which show how far you have got, your quiz average" in home


def test_an_admins_dashboard_says_it_lists_every_learner(client, app, course, counsellor, learner):
    create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada Admin")
    login(client, "admin@example.org")
    page = " ".join(client.get("/counsel/").get_data(as_text=True).split())
    assert "<h1>All learners</h1>" in page and "you see every learner, whether or not they share" in page
    assert "Lee Learner" in page
    log_in_as(client, "casey@example.org")
    page = " ".join(client.get("/counsel/").get_data(as_text=True).split())
    assert "<h1>Your clients</h1>" in page and "<title>Your clients" in page


def test_used_expired_and_unknown_codes_get_clear_pages(client, app, course, counsellor, learner, other_learner):
    login(client, "casey@example.org")
    used, expired = invite(client), invite(client)
    with app.app_context():
        newest = db.session.scalars(select(Invitation).order_by(Invitation.id.desc())).first()
        newest.expires_at = newest.created_at - timedelta(seconds=1)
        db.session.commit()
    log_in_as(client, "learner@example.org")
    answer(client, used, "accept")
    log_in_as(client, "fred@example.org")
    for code, status, text in [
        (used, 410, "This invitation has already been used"),
        (expired, 410, "This invitation has expired"),
        ("ZZZZ-ZZZZ", 404, "We could not find that invitation"),
        ("not a code at all", 404, "We could not find that invitation"),
    ]:
        response = client.get(f"/join/{code}")
        assert response.status_code == status and text in response.get_data(as_text=True), code
        # A code not found is most often mistyped: the page leads back to where codes are typed.
        assert ('href="/join/">Enter the code again</a>' in response.get_data(as_text=True)) == (status == 404)
        assert answer_status(client, code) == status
    assert count(app, CounsellorLink) == 1


def test_a_deactivated_counsellors_invitation_gets_a_clear_page_and_shares_nothing(
    client, app, course, counsellor, learner
):
    login(client, "casey@example.org")
    code = invite(client)
    log_in_as(client, "learner@example.org")
    with app.app_context():
        db.session.execute(update(User).where(User.email == "casey@example.org").values(is_active=False))
        db.session.commit()
    page = client.get(f"/join/{code}")
    text = " ".join(page.get_data(as_text=True).split())
    assert page.status_code == 410 and "This invitation can no longer be used" in text
    assert "can no longer take on clients here" in text and "Nothing has been shared through this invitation" in text
    assert answer_status(client, code) == 410
    assert count(app, CounsellorLink) == 0


def test_opening_a_used_invitation_again_says_what_you_answered(
    client, app, course, counsellor, learner, other_learner
):
    login(client, "casey@example.org")
    accepted, declined = invite(client), invite(client)
    log_in_as(client, "learner@example.org")
    answer(client, accepted, "accept")
    answer(client, declined, "decline")

    page = client.get(f"/join/{accepted}")
    text = page.get_data(as_text=True)
    assert page.status_code == 410
    assert "You have already answered this invitation" in text
    assert "You are sharing your course progress with Casey Counsellor" in text
    assert "Nothing has been shared" not in text
    declined_text = client.get(f"/join/{declined}").get_data(as_text=True)
    assert "You declined it on" in declined_text
    assert "You are sharing your course progress with Casey Counsellor through another invitation" in declined_text

    with app.app_context():
        link_id = db.session.scalar(select(CounsellorLink.id))
    stop = client.post(f"/me/sharing/{link_id}/stop", data={"csrf_token": csrf_token(client, "/me/")})
    assert stop.status_code == 302
    text = client.get(f"/join/{accepted}").get_data(as_text=True)
    assert "You are not sharing your progress with Casey Counsellor now" in text
    assert "Casey Counsellor cannot see your progress" in client.get(f"/join/{declined}").get_data(as_text=True)

    # Anyone else is told only that it was used: not who used it, nor with whom they share.
    log_in_as(client, "fred@example.org")
    text = client.get(f"/join/{accepted}").get_data(as_text=True)
    assert "This invitation has already been used" in text and "Casey Counsellor" not in text
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    text = client.get(f"/join/{accepted}").get_data(as_text=True)
    assert "This invitation has already been used" in text and "Casey Counsellor" not in text
    assert f"/auth/login?next=/join/{accepted}" in text


def test_answering_in_a_second_tab_after_the_first_shows_how_it_was_answered(
    client, app, course, counsellor, learner, monkeypatch
):
    from app.me import routes

    login(client, "casey@example.org")
    code = invite(client)
    log_in_as(client, "learner@example.org")
    token = csrf_token(client, f"/join/{code}")  # both tabs open the consent page
    assert client.post(f"/join/{code}", data={"csrf_token": token, "decision": "accept"}).status_code == 302
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        db.session.expunge(invitation)
    with monkeypatch.context() as patched:
        # The second tab's page checked the code before the first tab's answer was saved.
        patched.setattr(routes, "invitation_by_code", lambda session, **kwargs: invitation)
        second = client.post(f"/join/{code}", data={"csrf_token": token, "decision": "decline"})

    assert second.status_code == 302 and second.headers["Location"] == f"/join/{code}"
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "You are sharing your course progress with Casey Counsellor" in page
    assert count(app, CounsellorLink) == 1


def answer_status(client, code):
    token = csrf_token(client, "/me/")
    return client.post(f"/join/{code}", data={"csrf_token": token, "decision": "accept"}).status_code


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.ADMIN])
def test_staff_opening_an_invitation_are_told_at_once_that_only_learners_share(client, app, course, counsellor, role):
    """No Yes or No buttons that could only be refused: the page says why at once, and uses nothing up."""
    create_user(app, "staff@example.org", role=role)
    login(client, "casey@example.org")
    code = invite(client)
    log_in_as(client, "staff@example.org")
    response = client.get(f"/join/{code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Only learner accounts can share their progress with a counsellor." in page
    assert "Yes, share my progress" not in page and 'name="decision"' not in page
    assert "Casey Counsellor would like to see your progress" in page  # what a client would be asked
    assert count(app, CounsellorLink) == 0 and count(app, Invitation, Invitation.used_at.is_not(None)) == 0


def test_a_counsellor_cannot_accept_an_invitation(client, app, course, counsellor):
    create_user(app, "olive@example.org", role=Role.COUNSELLOR)
    login(client, "casey@example.org")
    code = invite(client)
    log_in_as(client, "olive@example.org")
    response = answer(client, code, "accept")
    assert response.status_code == 302
    assert "Only learner accounts can share" in client.get("/me/").get_data(as_text=True)
    assert count(app, CounsellorLink) == 0


def test_client_page_shows_attempts_and_misconceptions_and_is_audited(linked, app):
    first = lesson_slugs(app)[0]
    submit_quiz(linked, first, quiz_form(app, first, right=False))
    log_in_as(linked, "casey@example.org")
    learner_id = int(re.search(r"/counsel/clients/(\d+)", linked.get("/counsel/").get_data(as_text=True)).group(1))
    page = linked.get(f"/counsel/clients/{learner_id}").get_data(as_text=True)
    assert "1 quiz attempt" in page and "Not passed" in page and "Client’s answer" in page
    assert "Still present" in page
    assert count(app, ProgressView, ProgressView.learner_id == learner_id) == 1
    log_in_as(linked, "learner@example.org")
    me = linked.get("/me/").get_data(as_text=True)
    assert "Who has looked at your progress" in me and "Casey Counsellor" in me and "Counsellor" in me


def test_each_disclosure_on_the_client_page_is_named_for_what_it_opens(linked, app):
    """Someone moving from control to control (a screen reader's list of buttons) hears each
    "Questions where it showed" and "n quiz attempts" apart: the misconception, the lesson."""
    first, second = lesson_slugs(app)[:2]
    submit_quiz(linked, first, quiz_form(app, first, right=True))
    submit_quiz(linked, second, quiz_form(app, second, right=False))
    log_in_as(linked, "casey@example.org")
    learner_id = int(re.search(r"/counsel/clients/(\d+)", linked.get("/counsel/").get_data(as_text=True)).group(1))
    page = linked.get(f"/counsel/clients/{learner_id}").get_data(as_text=True)

    summaries = [re.sub(r"<[^>]+>", "", text) for text in re.findall(r"<summary>(.*?)</summary>", page, re.S)]
    assert "1 quiz attempt at lesson 1" in summaries and "1 quiz attempt at lesson 2" in summaries
    headings = [
        re.sub(r"<[^>]+>|Safety-critical", "", h).strip()
        for h in re.findall(r'<h3 class="insight-title">(.*?)</h3>', page, re.S)
    ]
    assert headings, "the wrong answers showed a misconception"
    for heading in headings:
        assert f"Questions where it showed: {heading}" in summaries
    assert len(set(summaries)) == len(summaries)


def test_struggling_client_is_flagged_and_filterable(linked, app):
    first = lesson_slugs(app)[0]
    for _ in range(3):
        submit_quiz(linked, first, quiz_form(app, first, right=False))
    log_in_as(linked, "casey@example.org")
    page = linked.get("/counsel/?flag=struggling").get_data(as_text=True)
    assert "Lee Learner" in page and "Struggling" in page
    assert "Lee Learner" not in linked.get("/counsel/?flag=finished").get_data(as_text=True)


def test_stop_sharing_ends_access_at_once(linked, app):
    log_in_as(linked, "casey@example.org")
    learner_id = int(re.search(r"/counsel/clients/(\d+)", linked.get("/counsel/").get_data(as_text=True)).group(1))
    assert linked.get(f"/counsel/clients/{learner_id}").status_code == 200
    log_in_as(linked, "learner@example.org")
    page = linked.get("/me/").get_data(as_text=True)
    link_id = re.search(r"/me/sharing/(\d+)/stop", page).group(1)
    token = csrf_token(linked, "/me/")
    response = linked.post(f"/me/sharing/{link_id}/stop", data={"csrf_token": token})
    assert response.status_code == 302
    assert "You have stopped sharing your progress with Casey Counsellor" in linked.get("/me/").get_data(as_text=True)
    log_in_as(linked, "casey@example.org")
    assert linked.get(f"/counsel/clients/{learner_id}").status_code == 404
    assert "Lee Learner" not in linked.get("/counsel/").get_data(as_text=True)


def test_admin_views_of_a_learner_are_audited(client, app, course, learner):
    create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada Admin")
    login(client, "admin@example.org")
    assert client.get(f"/counsel/clients/{learner}").status_code == 200
    with app.app_context():
        view = db.session.scalar(select(ProgressView))
        assert (view.learner_id, view.viewer_role) == (learner, "admin")


def test_an_invitation_can_be_emailed_to_the_client(client, app, course, counsellor):
    from tests.mail_server import body_of, start_inbox

    inbox, controller = start_inbox()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    try:
        login(client, "casey@example.org")
        token = csrf_token(client, "/counsel/invitations")
        data = {"csrf_token": token, "email": "client@example.org"}
        response = client.post("/counsel/invitations", data=data, follow_redirects=True)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        code = re.search(r'id="invitation-code">([A-Z0-9-]+)<', page).group(1)
        assert "We are e-mailing the invitation to the address you gave." in page
        assert 'value="client@example.org"' not in page  # the form is ready for the next client
        message = inbox.wait_for(1)[0]
        assert message["To"] == "client@example.org"
        assert f"/join/{code}" in body_of(message) and "Casey Counsellor" in body_of(message)
    finally:
        controller.stop()
    with app.app_context():
        assert "client@example.org" not in repr(db.session.scalar(select(Invitation)).__dict__)


def test_the_invitation_email_says_where_to_enter_the_code(client, app, course, counsellor, learner, inbox):
    """A client who cannot open the link is told the site's page for the code, and it works."""
    login(client, "casey@example.org")
    token = csrf_token(client, "/counsel/invitations")
    client.post("/counsel/invitations", data={"csrf_token": token, "email": "client@example.org"})
    body = " ".join(body_of(inbox.wait_for(1)[0]).split())
    found = re.search(r"Or go to http://localhost(/join/) and enter this code: ([A-Z0-9]{4}-[A-Z0-9]{4})", body)
    assert found, body
    page, code = found.groups()
    log_in_as(client, "learner@example.org")
    response = client.get(page, query_string={"code": code})
    assert response.status_code == 302 and client.get(response.headers["Location"]).status_code == 200


def test_a_bad_invitation_email_is_refused_and_nothing_is_created(client, app, course, counsellor):
    login(client, "casey@example.org")
    token = csrf_token(client, "/counsel/invitations")
    response = client.post("/counsel/invitations", data={"csrf_token": token, "email": "not an address"})
    assert response.status_code == 400 and "Enter a valid e-mail address" in response.get_data(as_text=True)
    # Listed at the top, linked to the field, where focus goes (as every other form's errors are).
    assert '<div class="error-summary" role="alert"' in response.get_data(as_text=True)
    assert '<a href="#email">' in response.get_data(as_text=True)
    assert count(app, Invitation) == 0


def test_a_code_can_be_typed_in(client, app, course, counsellor, learner):
    login(client, "casey@example.org")
    code = invite(client)
    log_in_as(client, "learner@example.org")
    assert client.get("/join/").status_code == 200
    response = client.get(f"/join/?code={code.lower()}")
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200
