"""Managing invitations over HTTP with CSRF on: label, expiry, cancel, copy buttons, and the client's answer."""

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CounsellorLink, Invitation, Role
from tests.conftest import create_user, csrf_token, inline_scripts, login
from tests.mail_server import body_of


@pytest.fixture
def counsellor(app):
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


def log_in_as(client, email):
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    assert login(client, email).status_code == 302


def invite(client, label: str = "") -> tuple[str, str]:
    """Create an invitation; return its code and the page that showed it."""
    token = csrf_token(client, "/counsel/invitations")
    response = client.post("/counsel/invitations", data={"csrf_token": token, "label": label}, follow_redirects=True)
    assert [r.status_code for r in response.history] == [302] and response.status_code == 200
    page = response.get_data(as_text=True)
    return re.search(r'id="invitation-code">([A-Z0-9-]+)<', page).group(1), page


def invitation_id(app, label: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Invitation.id).where(Invitation.label == label))


def cancel(client, invitation: int, token: str | None = None, confirm: str = "yes"):
    """Press the confirmation page's button (``confirm=""``: a bare POST, as an old page's button sent)."""
    token = token if token is not None else csrf_token(client, "/counsel/invitations")
    data = {"csrf_token": token} | ({"confirm": confirm} if confirm else {})
    return client.post(f"/counsel/invitations/{invitation}/cancel", data=data)


def cancelled_at(app, label: str):
    with app.app_context():
        return db.session.scalar(select(Invitation.cancelled_at).where(Invitation.label == label))


def test_the_label_tells_waiting_invitations_apart_with_their_expiry(client, app, course, counsellor):
    login(client, "casey@example.org")
    _, page = invite(client, "Sam, Tuesday group")
    assert "Your new invitation for Sam, Tuesday group" in page
    assert 'value="Sam, Tuesday group"' not in page  # the form is ready for the next one
    invite(client, "Alex")
    listing = client.get("/counsel/invitations").get_data(as_text=True)
    waiting = listing.split('id="pending"')[1]
    assert "Sam, Tuesday group" in waiting and "Alex" in waiting
    # Dates as "19 Nov", on one line with their words.
    assert len(re.findall(r"Expires \d{1,2} [A-Z][a-z]{2}<", waiting)) == 2


def test_reloading_the_new_invitation_shows_its_code_and_makes_no_other(client, app, course, counsellor, inbox):
    """Post/Redirect/Get: reloading the page after creating sends no second invitation or e-mail."""
    login(client, "casey@example.org")
    token = csrf_token(client, "/counsel/invitations")
    data = {"csrf_token": token, "label": "Sam", "email": "client@example.org"}
    response = client.post("/counsel/invitations", data=data)
    ident = invitation_id(app, "Sam")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/counsel/invitations/{ident}")
    first = client.get(response.headers["Location"]).get_data(as_text=True)
    code = re.search(r'id="invitation-code">([A-Z0-9-]+)<', first).group(1)
    assert "We are e-mailing the invitation to the address you gave." in first
    again = client.get(f"/counsel/invitations/{ident}")  # the browser's reload
    assert again.status_code == 200 and f'id="invitation-code">{code}<' in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 1
    [message] = inbox.wait_for(1)
    assert code in body_of(message)
    assert len(inbox.wait_for(2, timeout=0.5)) == 1


def test_the_counsellors_label_stays_out_of_the_invitation_mail(client, app, course, counsellor, inbox):
    """The label is the counsellor's own note of whom it is for: the client never sees it."""
    login(client, "casey@example.org")
    token = csrf_token(client, "/counsel/invitations")
    label = "Sam W. (court referral)"
    client.post("/counsel/invitations", data={"csrf_token": token, "label": label, "email": "client@example.org"})
    [message] = inbox.wait_for(1)
    for part in (label, "court referral", "Sam W."):
        assert part not in body_of(message) and part not in message["Subject"]
    # It expires at the time it was made, a week on: the day alone let a client open it that evening, too late.
    # And the zone it is in: the client may read it in another.
    assert re.search(
        r"expires on \d{1,2} [A-Z][a-z]{2} \d{4}, \d{1,2}:\d\d[ap]m (GMT|BST)\.", " ".join(body_of(message).split())
    )


def session_cookie_contents(client, app) -> str:
    """What anyone holding the session cookie can read of it without the key: it is only signed."""
    cookie = client.get_cookie("session")
    return repr(app.session_interface.get_signing_serializer(app).loads(cookie.value)) if cookie else ""


def test_the_new_code_is_sealed_in_the_session_and_gone_at_logout(client, app, course, counsellor):
    """The code lets a client share with the counsellor: the database keeps only its hash, and the
    cookie must not hold it readable either (nor the client's address, in a message)."""
    login(client, "casey@example.org")
    token = csrf_token(client, "/counsel/invitations")
    client.post("/counsel/invitations", data={"csrf_token": token, "label": "Sam", "email": "client@example.org"})
    held = session_cookie_contents(client, app)
    page = client.get(f"/counsel/invitations/{invitation_id(app, 'Sam')}").get_data(as_text=True)
    code = re.search(r'id="invitation-code">([A-Z0-9-]+)<', page).group(1)
    assert "new_invitation" in held
    for form in (code, code.replace("-", ""), "client@example.org"):
        assert form not in held
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    assert "new_invitation" not in session_cookie_contents(client, app)


def test_only_the_counsellor_who_made_it_opens_an_invitation_s_page(client, app, course, counsellor):
    create_user(app, "olive@example.org", role=Role.COUNSELLOR)
    login(client, "casey@example.org")
    code, _ = invite(client, "Sam")
    ident = invitation_id(app, "Sam")
    log_in_as(client, "olive@example.org")
    assert client.get(f"/counsel/invitations/{ident}").status_code == 404
    # Back as its maker on a new session: the page is there, but the code was only in the old session.
    log_in_as(client, "casey@example.org")
    page = client.get(f"/counsel/invitations/{ident}").get_data(as_text=True)
    assert code not in page and "we cannot show it again" in page


def test_a_label_too_long_is_refused_and_nothing_is_created(client, app, course, counsellor):
    login(client, "casey@example.org")
    token = csrf_token(client, "/counsel/invitations")
    response = client.post("/counsel/invitations", data={"csrf_token": token, "label": "x" * 81})
    assert response.status_code == 400
    assert "Keep the label to 80 characters or fewer" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_the_client_never_sees_the_label(client, app, course, counsellor, learner):
    login(client, "casey@example.org")
    code, _ = invite(client, "Sam who drinks on Fridays")
    log_in_as(client, "learner@example.org")
    assert "Fridays" not in client.get(f"/join/{code}").get_data(as_text=True)
    token = csrf_token(client, f"/join/{code}")
    client.post(f"/join/{code}", data={"csrf_token": token, "decision": "accept"})
    assert "Fridays" not in client.get("/me/").get_data(as_text=True)
    assert "Fridays" not in client.get("/me/data.json").get_data(as_text=True)
    assert "Fridays" not in client.get("/me/data").get_data(as_text=True)


def test_cancel_stops_the_code_and_the_client_gets_a_clear_page(client, app, course, counsellor, learner):
    login(client, "casey@example.org")
    code, _ = invite(client, "Sam")
    response = cancel(client, invitation_id(app, "Sam"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/counsel/invitations")
    page = client.get("/counsel/invitations").get_data(as_text=True)
    assert "The invitation for Sam is cancelled" in page
    assert "No invitations are waiting." in page
    log_in_as(client, "learner@example.org")
    response = client.get(f"/join/{code}")
    text = response.get_data(as_text=True)
    # 410 Gone, like a used or expired code (an unknown one is 404).
    assert response.status_code == 410
    assert "This invitation was cancelled" in text and "Ask your counsellor for a new code" in text
    token = csrf_token(client, "/me/")
    assert client.post(f"/join/{code}", data={"csrf_token": token, "decision": "accept"}).status_code == 410
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CounsellorLink)) == 0


def test_cancel_asks_first_naming_the_invitation_and_what_the_client_will_see(client, app, course, counsellor):
    login(client, "casey@example.org")
    invite(client, "Sam")
    url = f"/counsel/invitations/{invitation_id(app, 'Sam')}/cancel"
    listing = client.get("/counsel/invitations").get_data(as_text=True)
    assert f'<a class="button button-secondary" href="{url}">Cancel<' in listing and f'action="{url}"' not in listing

    response = client.get(url)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Cancel the invitation for Sam?</h1>" in page
    assert "Its code and link stop working at once" in page and "This cannot be undone" in page
    assert '<input type="hidden" name="confirm" value="yes">' in page and ">Keep it</a>" in page
    assert cancelled_at(app, "Sam") is None


def test_a_bare_post_only_asks_and_the_code_still_works(client, app, course, counsellor, learner):
    login(client, "casey@example.org")
    code, _ = invite(client, "Sam")

    response = cancel(client, invitation_id(app, "Sam"), confirm="")

    assert response.status_code == 200
    assert "Cancel the invitation for Sam?" in response.get_data(as_text=True)
    assert cancelled_at(app, "Sam") is None
    log_in_as(client, "learner@example.org")
    assert client.get(f"/join/{code}").status_code == 200


def test_an_invitation_no_longer_waiting_has_nothing_to_cancel(client, app, course, counsellor):
    login(client, "casey@example.org")
    invite(client, "Sam")
    ident = invitation_id(app, "Sam")
    assert cancel(client, ident).status_code == 302

    page = client.get(f"/counsel/invitations/{ident}/cancel").get_data(as_text=True)

    assert "It is no longer waiting for an answer" in page and 'name="confirm"' not in page


def test_cancel_needs_the_csrf_token(client, app, course, counsellor):
    login(client, "casey@example.org")
    invite(client, "Sam")
    assert cancel(client, invitation_id(app, "Sam"), token="").status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Invitation.cancelled_at)) is None


def test_another_counsellor_cannot_cancel_it(client, app, course, counsellor, learner):
    create_user(app, "olive@example.org", role=Role.COUNSELLOR)
    login(client, "casey@example.org")
    code, _ = invite(client, "Sam")
    log_in_as(client, "olive@example.org")
    assert cancel(client, invitation_id(app, "Sam")).status_code == 404
    assert client.get(f"/counsel/invitations/{invitation_id(app, 'Sam')}/cancel").status_code == 404
    assert cancel(client, invitation_id(app, "Sam"), confirm="").status_code == 404
    log_in_as(client, "learner@example.org")
    assert client.get(f"/join/{code}").status_code == 200


def test_a_used_invitation_cannot_be_cancelled(client, app, course, counsellor, learner):
    login(client, "casey@example.org")
    code, _ = invite(client, "Sam")
    ident = invitation_id(app, "Sam")
    log_in_as(client, "learner@example.org")
    client.post(f"/join/{code}", data={"csrf_token": csrf_token(client, f"/join/{code}"), "decision": "accept"})
    log_in_as(client, "casey@example.org")
    response = cancel(client, ident)
    assert response.status_code == 302
    assert "already answered this invitation" in client.get("/counsel/invitations").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CounsellorLink)) == 1


def test_copy_buttons_come_from_a_served_script_and_the_page_works_without_it(client, app, course, counsellor):
    login(client, "casey@example.org")
    code, page = invite(client)
    # Without script the code and link are plain text, and the buttons are hidden until the script shows them.
    assert f'id="invitation-code">{code}<' in page and f"/join/{code}</span>" in page
    assert len(re.findall(r'<button type="button"[^>]*data-copy="invitation-(?:code|link)" hidden>', page)) == 2
    # The copy buttons' script is a file of our own, and there is no inline script, which the policy would block.
    assert not inline_scripts(page)
    src = re.search(r'<script src="(/assets/js/copy\.[0-9a-f]{10}\.js)"', page).group(1)
    assert "script-src 'self'" in client.get("/counsel/invitations").headers["Content-Security-Policy"]
    script = client.get(src)
    assert script.status_code == 200 and script.mimetype in ("text/javascript", "application/javascript")
    assert "navigator.clipboard" in script.get_data(as_text=True)
    # The list page has nothing to copy, so no copying script.
    assert "/js/copy." not in client.get("/counsel/invitations").get_data(as_text=True)


def test_answered_invitations_stay_on_the_page_saying_how_without_naming_who_declined(
    client, app, course, counsellor, learner, other_learner
):
    login(client, "casey@example.org")
    accepted_code, _ = invite(client, "Sam")
    declined_code, _ = invite(client, "Robin")
    for code, who, decision in [
        (accepted_code, "learner@example.org", "accept"),
        (declined_code, "fred@example.org", "decline"),
    ]:
        log_in_as(client, who)
        client.post(f"/join/{code}", data={"csrf_token": csrf_token(client, f"/join/{code}"), "decision": decision})
    # The one who declined is told what the counsellor will see.
    assert "only that this invitation was declined" in client.get("/me/").get_data(as_text=True)
    log_in_as(client, "casey@example.org")
    page = client.get("/counsel/invitations").get_data(as_text=True)
    waiting, ended = page.split('id="pending"')[1].split('id="ended"')
    assert "Sam" not in waiting and "Robin" not in waiting
    items = ended.split("<li")[1:]
    sam, robin = (next(item for item in items if name in item) for name in ("Sam", "Robin"))
    assert "Accepted" in sam and f'href="/counsel/clients/{learner}"' in sam
    assert "Declined" in robin and "href" not in robin
    assert "Fred" not in page and "fred@example.org" not in page
    assert client.get(f"/counsel/clients/{learner}").status_code == 200  # the link leads somewhere


def test_the_consent_page_says_what_declining_tells_the_counsellor(client, app, course, counsellor, learner):
    login(client, "casey@example.org")
    code, _ = invite(client)
    log_in_as(client, "learner@example.org")
    page = client.get(f"/join/{code}").get_data(as_text=True)
    assert "If you say no, Casey Counsellor sees only that this invitation was declined" in page
