"""A learner's open request to be e-mailed by the clinic follows their account to a new address,
over HTTP with CSRF on: asked for on /contact, the address changed on /me/email and confirmed from
the link, then seen on /me/ and by the clinic's staff, and the old acknowledgement's link."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ContactRequest, Role
from tests.conftest import create_user, csrf_token, login, visible_text
from tests.views.test_contact import ask as ask_clinic
from tests.views.test_contact import withdraw_path
from tests.views.test_email_change import NEW, OLD, confirm, link_from, mail_for
from tests.views.test_email_change import ask as ask_to_move


def the_requests(app) -> list[ContactRequest]:
    with app.app_context():
        rows = list(db.session.scalars(select(ContactRequest).order_by(ContactRequest.id)))
        db.session.expunge_all()
        return rows


def move_to_new_address(client, inbox) -> tuple[str, str]:
    """Ask to move to NEW and open the link that went there: the confirm page's path and text."""
    inbox.messages.clear()
    assert ask_to_move(client).status_code == 302
    path = link_from(mail_for(inbox, 2)[NEW])
    page = client.get(path)
    assert page.status_code == 200
    return path, visible_text(page.get_data(as_text=True))


def test_a_request_by_e_mail_moves_to_the_new_address_and_the_staff_see_that_it_changed(
    app, learner_client, learner, inbox
):
    # Typed with capitals: the form keeps them, the account's address has none; it is the same address.
    asked = ask_clinic(learner_client, contact_by="email", email="Learner@Example.org", topic="opioids")
    assert asked.status_code == 302
    [acknowledgement] = inbox.wait_for(1)
    assert acknowledgement["To"] == "Learner@example.org"
    old_withdraw_link = withdraw_path(acknowledgement)

    path, page = move_to_new_address(learner_client, inbox)

    assert "You have an open request asking the clinic to e-mail you at learner@example.org" in page
    assert "it will use the new address instead" in page
    assert the_requests(app)[0].email == "Learner@example.org"  # opening the link changes nothing

    inbox.messages.clear()
    response = confirm(learner_client, path)

    assert response.status_code == 302 and response.headers["Location"].endswith("/me/")
    home = visible_text(learner_client.get("/me/").get_data(as_text=True))
    assert "Your open request to the clinic now uses your new address too" in home
    assert f"by e-mail at {NEW}" in home and "learner@example.org" not in home.lower()
    [request] = the_requests(app)
    assert (request.email, request.status, request.topic) == (NEW, "new", "opioids")
    assert "We received your request" not in [m["Subject"] for m in inbox.wait_for(2)]  # only the change's notes

    # The clinic's staff: the new address, that it changed, and the old one nowhere.
    create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey")
    staff = app.test_client()
    assert login(staff, "casey@example.org").status_code == 302
    for url in (f"/counsel/requests/{request.id}", "/counsel/requests"):
        html = staff.get(url).get_data(as_text=True)
        assert f'href="mailto:{NEW}"' in html and "learner@example.org" not in html.lower()
        assert "The person changed their address" in visible_text(html)
    detail = visible_text(staff.get(f"/counsel/requests/{request.id}").get_data(as_text=True))
    assert "The person who asked changed their e-mail address, and the request now uses the new one" in detail

    # The acknowledgement's link went to the old inbox, which someone else may read: it no longer
    # shows or withdraws the request, and says where the person can.
    stranger = app.test_client()
    refused = stranger.get(old_withdraw_link)
    assert refused.status_code == 400 and "This link does not work" in refused.get_data(as_text=True)
    assert 'href="/me/#contact-requests"' in refused.get_data(as_text=True)
    posted = stranger.post(old_withdraw_link, data={"csrf_token": csrf_token(stranger, "/contact")})
    assert posted.status_code == 400
    assert the_requests(app)[0].status == "new" and the_requests(app)[0].email == NEW


def test_phone_other_address_and_closed_requests_stay_and_nothing_is_said_of_them(app, learner_client, learner, inbox):
    for way in ({"phone": "07700 900123"}, {"email": "lee.work@example.org"}, {"email": OLD}):
        contact_by = "phone" if "phone" in way else "email"
        assert ask_clinic(learner_client, contact_by=contact_by, topic="alcohol", **way).status_code == 302
    with app.app_context():  # the clinic closed the one at the account's address
        closed = db.session.scalars(select(ContactRequest).where(ContactRequest.email == OLD)).one()
        closed.status = "closed"
        db.session.commit()
    inbox.wait_for(2)

    path, page = move_to_new_address(learner_client, inbox)
    assert "open request" not in page

    confirm(learner_client, path)

    home = visible_text(learner_client.get("/me/").get_data(as_text=True))
    assert "Your e-mail address has been changed" in home and "now use" not in home and "now uses" not in home
    assert [(r.phone, r.email, r.status) for r in the_requests(app)] == [
        ("07700 900123", None, "new"),
        (None, "lee.work@example.org", "new"),
        (None, OLD, "closed"),
    ]
