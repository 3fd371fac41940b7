"""A person's open contact requests follow their account to a new e-mail address: which move, what
the trail records, that it happens in the e-mail change's own commit, and the old withdrawal link."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ContactRequest, ContactRequestEvent, ContactStatus, Role, User
from app.services import email_change as email_change_module
from app.services.contact_requests import (
    ContactDetails,
    ContactRequestRefused,
    _commit_change,
    contact_queue_entry,
    contact_request_by_link,
    contact_request_create,
    contact_request_set_status,
    contact_request_withdraw,
    contact_request_withdraw_by_link,
    contact_requests_emailing,
    contact_requests_follow_address,
    withdraw_link_holder,
    withdraw_link_token,
)
from app.services.email_change import EmailChangeTaken, email_change_confirm, email_change_from_link, email_change_token
from tests.conftest import create_user

KEY = "k"
OLD = "lee@example.org"
NEW = "lee.new@example.org"


@pytest.fixture
def people(app, session) -> dict[str, User]:
    ids = {
        "lee": create_user(app, OLD, name="Lee Learner"),
        "fred": create_user(app, "fred@example.org"),
        "casey": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
    }
    return {key: session.get(User, user_id) for key, user_id in ids.items()}


def ask(session, requester: User | None, *, email: str | None = None, phone: str | None = None) -> ContactRequest:
    details = (
        ContactDetails(contact_by="email", email=email, topic="alcohol", name="Lee")
        if email is not None
        else ContactDetails(contact_by="phone", phone=phone or "07700 900123", topic="alcohol")
    )
    return contact_request_create(session, details=details, requester=requester)


def fresh(session, request_id: int) -> ContactRequest:
    session.expire_all()
    return session.get(ContactRequest, request_id)


def trail(session, request_id: int) -> list[tuple]:
    return [
        (e.actor_id, e.action, e.from_status, e.to_status)
        for e in session.scalars(
            select(ContactRequestEvent)
            .where(ContactRequestEvent.request_id == request_id)
            .order_by(ContactRequestEvent.id)
        )
    ]


def test_open_requests_at_the_old_address_move_whatever_its_case_and_the_trail_says_so(session, people):
    lee, casey = people["lee"], people["casey"]
    waiting = ask(session, lee, email="Lee@Example.ORG")  # the form keeps the local part's case: "Lee@example.org"
    contacted = ask(session, lee, email=OLD)
    contact_request_set_status(session, staff=casey, request_id=contacted.id, status=ContactStatus.CONTACTED)
    assert waiting.email == "Lee@example.org"
    assert contact_requests_emailing(session, requester=lee, email=OLD) == 2
    versions = {r.id: r.version for r in (waiting, contacted)}

    moved = contact_requests_follow_address(session, requester=lee, old_email=OLD, new_email=NEW)
    session.commit()

    assert moved == 2
    for request_id in (waiting.id, contacted.id):
        row = fresh(session, request_id)
        assert row.email == NEW and row.contact_by == "email" and row.name == "Lee"
        assert row.version == versions[request_id] + 1  # a staff change read before it is refused
        # Who is not named, and neither address is kept: ids and the action only.
        assert trail(session, request_id)[-1] == (None, "email_updated", None, None)
    assert fresh(session, contacted.id).status == "contacted"  # the status is the staff's, untouched
    assert contact_requests_emailing(session, requester=lee, email=OLD) == 0


def test_other_addresses_phone_closed_withdrawn_and_other_peoples_requests_stay_as_they_were(session, people):
    lee, fred, casey = people["lee"], people["fred"], people["casey"]
    elsewhere = ask(session, lee, email="lee.work@example.org")
    by_phone = ask(session, lee, phone="07700 900123")
    closed = ask(session, lee, email=OLD)
    contact_request_set_status(session, staff=casey, request_id=closed.id, status=ContactStatus.CLOSED)
    withdrawn = ask(session, lee, email=OLD)
    contact_request_withdraw(session, requester=lee, request_id=withdrawn.id)
    freds = ask(session, fred, email=OLD)  # someone else's request may name Lee's address
    visitors = ask(session, None, email=OLD)  # and so may anyone's, without an account
    untouched = [elsewhere, by_phone, closed, withdrawn, freds, visitors]
    before = {r.id: (r.email, r.phone, r.status, r.version, trail(session, r.id)) for r in untouched}

    assert contact_requests_emailing(session, requester=lee, email=OLD) == 0
    assert contact_requests_follow_address(session, requester=lee, old_email=OLD, new_email=NEW) == 0
    session.commit()

    for request in untouched:
        row = fresh(session, request.id)
        assert (row.email, row.phone, row.status, row.version, trail(session, row.id)) == before[request.id]


def test_every_letter_is_compared_without_case_on_both_databases(session, people):
    """lower() is Python's on SQLite (app/sqlite_text.py), so a non-ASCII capital matches too."""
    request = ask(session, people["lee"], email="Zoë.Ångström@example.org")
    assert (
        contact_requests_follow_address(
            session, requester=people["lee"], old_email="zoë.ångström@example.org", new_email=NEW
        )
        == 1
    )
    session.commit()
    assert fresh(session, request.id).email == NEW


def test_staff_see_that_the_person_changed_their_address_and_never_the_old_one(session, people):
    lee, casey = people["lee"], people["casey"]
    request = ask(session, lee, email=OLD)
    contact_requests_follow_address(session, requester=lee, old_email=OLD, new_email=NEW)
    session.commit()

    entry = contact_queue_entry(session, viewer=casey, request_id=request.id)

    [line] = entry.history
    assert line.who == "The person who asked" and line.text.startswith("changed their e-mail address")
    assert OLD not in line.text and NEW not in line.text
    assert entry.email_updated_at == line.at
    assert entry.request.email == NEW


def test_a_staff_change_read_before_the_move_is_refused_not_written_over_it(session, people):
    request = ask(session, people["lee"], email=OLD)
    staff_view = session.get(ContactRequest, request.id)  # as a staff member's page read it, version and all
    with Session(session.get_bind()) as confirming:  # the person confirming, meanwhile
        contact_requests_follow_address(confirming, requester=people["lee"], old_email=OLD, new_email=NEW)
        confirming.commit()

    staff_view.status = ContactStatus.CLOSED  # closed on what the page showed: the old address
    with pytest.raises(ContactRequestRefused):
        _commit_change(session)

    row = fresh(session, request.id)
    assert row.email == NEW and row.status == ContactStatus.NEW


# Through the e-mail change itself


def change_for(session, user: User, new_email: str = NEW):
    token = email_change_token(user, new_email=new_email, secret_key=KEY)
    return email_change_from_link(session, token=token, secret_key=KEY, max_age=3600)


def test_confirming_a_change_moves_the_open_requests_in_its_own_commit(session, people):
    lee = people["lee"]
    open_one = ask(session, lee, email="LEE@example.org")
    by_phone = ask(session, lee, phone="07700 900123")

    assert email_change_confirm(session, change=change_for(session, lee), keep_session_token=None) == 1

    session.expire_all()
    assert session.get(User, lee.id).email == NEW
    assert fresh(session, open_one.id).email == NEW
    assert trail(session, open_one.id) == [(None, "email_updated", None, None)]
    assert fresh(session, by_phone.id).phone == "07700 900123" and trail(session, by_phone.id) == []


def test_a_change_refused_at_the_commit_moves_no_request_either(app, session, people, monkeypatch):
    """The account's address and its requests' never disagree: both change, or neither."""
    lee = people["lee"]
    request = ask(session, lee, email=OLD)
    change = change_for(session, lee)
    create_user(app, NEW)  # taken between the page and the button: the unique address refuses it at the commit
    monkeypatch.setattr(email_change_module, "email_change_address_free", lambda session, change: True)

    with pytest.raises(EmailChangeTaken):
        email_change_confirm(session, change=change, keep_session_token=None)

    session.expire_all()
    assert session.get(User, lee.id).email == OLD
    assert fresh(session, request.id).email == OLD and trail(session, request.id) == []


def test_the_old_addresss_withdrawal_link_stops_working_and_a_new_one_works(session, people):
    """Someone else may read the old inbox: its link neither shows nor withdraws the request any more.
    The person withdraws it from /me/, or from an acknowledgement sent to the new address."""
    lee = people["lee"]
    request = ask(session, lee, email="Lee@example.org")
    old_link = withdraw_link_holder(withdraw_link_token(request, secret_key=KEY), secret_key=KEY)
    assert old_link == (request.id, "Lee@example.org")
    assert contact_request_by_link(session, request_id=request.id, email=old_link[1]) is not None

    email_change_confirm(session, change=change_for(session, lee), keep_session_token=None)

    assert contact_request_by_link(session, request_id=request.id, email=old_link[1]) is None
    with pytest.raises(LookupError):
        contact_request_withdraw_by_link(session, request_id=request.id, email=old_link[1])
    row = fresh(session, request.id)
    assert row.status == "new" and row.email == NEW
    new_link = withdraw_link_holder(withdraw_link_token(row, secret_key=KEY), secret_key=KEY)
    assert new_link == (request.id, NEW)
    assert contact_request_withdraw_by_link(session, request_id=request.id, email=NEW).status == "withdrawn"
