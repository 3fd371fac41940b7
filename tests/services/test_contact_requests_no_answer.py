"""A request marked "tried, no answer": it stays open and its holder's, each try is on the trail, the
queue puts it after the new ones, and the person who asked reads it kindly."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import ContactRequest, ContactRequestEvent, Role, User
from app.models.types import utcnow
from app.services.contact_requests import (
    REQUESTER_STATUS_LABELS,
    ContactDetails,
    ContactRequestRefused,
    contact_queue,
    contact_queue_entry,
    contact_request_create,
    contact_request_pick_up,
    contact_request_release,
    contact_request_set_status,
    contact_request_withdraw,
    contact_requests_export,
    contact_requests_waiting,
)
from tests.conftest import create_user

PHONE = ContactDetails(contact_by="phone", phone="07700 900123", topic="alcohol")


@pytest.fixture
def people(app, session):
    ids = {
        "learner": create_user(app, "learner@example.org", name="Lee Learner"),
        "counsellor": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
        "colleague": create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive"),
        "admin": create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada"),
    }
    return {key: session.get(User, user_id) for key, user_id in ids.items()}


def ask(session, requester=None):
    return contact_request_create(session, details=PHONE, requester=requester)


def trail(session, request_id):
    return [
        (e.actor_id, e.action, e.from_status, e.to_status)
        for e in session.scalars(
            select(ContactRequestEvent)
            .where(ContactRequestEvent.request_id == request_id)
            .order_by(ContactRequestEvent.id)
        )
    ]


def no_answer(session, staff, request_id):
    return contact_request_set_status(session, staff=staff, request_id=request_id, status="no_answer")


def test_a_holder_records_each_try_with_no_answer_and_keeps_the_request_open_and_theirs(session, people):
    casey = people["counsellor"]
    request = ask(session)
    contact_request_pick_up(session, staff=casey, request_id=request.id)
    no_answer(session, casey, request.id)
    first_try = request.status_changed_at
    no_answer(session, casey, request.id)  # tried again the next day: recorded again, not refused
    request = session.get(ContactRequest, request.id)
    assert (request.status, request.picked_up_by_id, request.ended_at) == ("no_answer", casey.id, None)
    assert request.status_changed_at >= first_try
    assert trail(session, request.id) == [
        (casey.id, "picked_up", None, None),
        (casey.id, "status", "new", "no_answer"),
        (casey.id, "status", "no_answer", "no_answer"),
    ]
    entry = contact_queue_entry(session, viewer=people["colleague"], request_id=request.id)
    assert entry.tries_without_answer == 2
    assert [h.text for h in entry.history][1:] == ["tried to reach them and got no answer"] * 2
    assert [e.request.id for e in contact_queue(session, viewer=casey).entries] == [request.id]  # still open


def test_trying_with_nobody_holding_it_picks_it_up_and_only_the_holder_or_an_admin_records_it(session, people):
    casey, olive = people["counsellor"], people["colleague"]
    request = ask(session)
    no_answer(session, casey, request.id)
    assert session.get(ContactRequest, request.id).picked_up_by_id == casey.id  # whoever tried holds it
    with pytest.raises(ContactRequestRefused, match="only they, or an admin"):
        no_answer(session, olive, request.id)
    no_answer(session, people["admin"], request.id)
    assert [action[0] for action in trail(session, request.id)] == [casey.id, casey.id, people["admin"].id]


def test_a_withdrawn_request_cannot_be_marked_tried(session, people):
    request = ask(session, people["learner"])
    contact_request_withdraw(session, requester=people["learner"], request_id=request.id)
    with pytest.raises(ContactRequestRefused, match="withdrew"):
        no_answer(session, people["counsellor"], request.id)


def test_the_queue_lists_new_requests_then_those_tried_then_those_under_way(session, people):
    casey = people["counsellor"]
    contacted, tried, new = ask(session), ask(session), ask(session)
    for request, minutes in ((contacted, 30), (tried, 20), (new, 10)):
        request.created_at = utcnow() - timedelta(minutes=minutes)
    session.commit()
    contact_request_set_status(session, staff=casey, request_id=contacted.id, status="contacted")
    no_answer(session, casey, tried.id)
    page = contact_queue(session, viewer=casey)
    assert [e.request.id for e in page.entries] == [new.id, tried.id, contacted.id]
    assert (page.counts["new"], page.counts["no_answer"], page.counts["contacted"]) == (1, 1, 1)


def test_the_requests_waiting_are_the_open_ones_nobody_holds(session, people):
    casey = people["counsellor"]
    assert contact_requests_waiting(session) == 0
    held, handed_back, closed, withdrawn = ask(session), ask(session), ask(session), ask(session, people["learner"])
    ask(session)  # new, nobody has it
    contact_request_pick_up(session, staff=casey, request_id=held.id)
    no_answer(session, casey, handed_back.id)
    contact_request_release(session, staff=casey, request_id=handed_back.id)  # someone must pick it up again
    contact_request_set_status(session, staff=people["admin"], request_id=closed.id, status="closed")
    contact_request_withdraw(session, requester=people["learner"], request_id=withdrawn.id)
    assert contact_requests_waiting(session) == 2
    assert contact_queue(session, viewer=casey).waiting == 2  # the queue counts them the same way


def test_the_person_reads_that_the_clinic_tried_and_the_holder_s_download_says_what_they_did(session, people):
    request = ask(session, people["learner"])
    no_answer(session, people["counsellor"], request.id)
    assert REQUESTER_STATUS_LABELS[session.get(ContactRequest, request.id).status] == (
        "We tried to reach you, and will try again"
    )
    own = contact_requests_export(session, user=people["learner"])["contact_requests"]
    assert [r["status"] for r in own] == ["no_answer"]
    staff = contact_requests_export(session, user=people["counsellor"])
    assert [(a["action"], a["to"]) for a in staff["contact_request_actions_i_took"]] == [
        ("picked_up", None),
        ("status", "no_answer"),
    ]
