"""A request's holder who leaves the staff (deactivated, made a learner, or their account deleted or
erased) hands their open requests back to the queue in the same commit, each recorded on its trail
by the admin who did it (or by nobody named, for the holder's own deletion)."""

import pytest
from sqlalchemy import select

from app.models import AuditEvent, ContactRequest, ContactRequestEvent, Role, User
from app.services.contact_requests import (
    ContactDetails,
    contact_queue,
    contact_request_create,
    contact_request_pick_up,
    contact_request_set_status,
    contact_requests_held,
    contact_requests_unhold,
    contact_requests_waiting,
)
from app.services.personal_data import account_delete
from app.services.user_admin import user_deactivate, user_erase, user_reactivate, user_role_change
from tests.conftest import PASSWORD, create_user

PHONE = ContactDetails(contact_by="phone", phone="07700 900123", topic="opioids")


@pytest.fixture
def people(app, session):
    ids = {
        "counsellor": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
        "colleague": create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive"),
        "admin": create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada"),
    }
    return {key: session.get(User, user_id) for key, user_id in ids.items()}


def held_by(session, staff, status: str | None = None) -> int:
    request = contact_request_create(session, details=PHONE, requester=None)
    contact_request_pick_up(session, staff=staff, request_id=request.id)
    if status is not None:
        contact_request_set_status(session, staff=staff, request_id=request.id, status=status)
    return request.id


def holders(session) -> dict[int, int | None]:
    return dict(session.execute(select(ContactRequest.id, ContactRequest.picked_up_by_id)).all())


def left_events(session) -> list[tuple]:
    return list(
        session.execute(
            select(ContactRequestEvent.request_id, ContactRequestEvent.actor_id, ContactRequestEvent.action)
            .where(ContactRequestEvent.action.like("holder_%"))
            .order_by(ContactRequestEvent.id)
        ).all()
    )


def test_deactivating_a_counsellor_hands_their_open_requests_back_to_the_queue(session, people):
    casey, olive, ada = people["counsellor"], people["colleague"], people["admin"]
    new, tried, contacted = (
        held_by(session, casey),
        held_by(session, casey, "no_answer"),
        held_by(session, casey, "contacted"),
    )
    closed = held_by(session, casey, "closed")
    olives = held_by(session, olive)
    assert contact_requests_held(session, holder_id=casey.id) == 3
    assert user_deactivate(session, actor=ada, user=casey)
    # The open ones are nobody's now, their status as it was; the closed one keeps who dealt with it.
    assert holders(session) == {new: None, tried: None, contacted: None, closed: casey.id, olives: olive.id}
    statuses = dict(session.execute(select(ContactRequest.id, ContactRequest.status)).all())
    assert [statuses[i] for i in (new, tried, contacted)] == ["new", "no_answer", "contacted"]
    assert left_events(session) == [(i, ada.id, "holder_deactivated") for i in (new, tried, contacted)]
    assert contact_requests_waiting(session) == 3
    # The deactivation itself is audited as before, in the same commit.
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.subject_id == casey.id)) == "deactivated"


def test_the_queue_says_why_a_request_came_back_until_someone_picks_it_up(session, people):
    casey, olive, ada = people["counsellor"], people["colleague"], people["admin"]
    request_id = held_by(session, casey, "no_answer")
    user_deactivate(session, actor=ada, user=casey)
    entry = next(e for e in contact_queue(session, viewer=olive).entries if e.request.id == request_id)
    assert (entry.returned_by_leaving.action, entry.returned_by_leaving.who) == ("holder_deactivated", "Ada")
    assert entry.history[-1].text == "deactivated the account that held it, which handed it back to the queue"
    assert entry.tries_without_answer == 1  # what Casey did stays on the trail
    contact_request_pick_up(session, staff=olive, request_id=request_id)
    entry = contact_queue(session, viewer=olive).entries[0]
    assert entry.returned_by_leaving is None and entry.picked_up_by_name == "Olive"


def test_reactivating_the_account_does_not_give_the_requests_back(session, people):
    casey, ada = people["counsellor"], people["admin"]
    request_id = held_by(session, casey)
    user_deactivate(session, actor=ada, user=casey)
    user_reactivate(session, actor=ada, user=casey)
    assert holders(session)[request_id] is None  # someone else may have called by now: Casey picks it up again


def test_a_counsellor_made_a_learner_hands_their_requests_back_but_one_made_an_admin_keeps_them(session, people):
    casey, olive, ada = people["counsellor"], people["colleague"], people["admin"]
    caseys, olives = held_by(session, casey), held_by(session, olive)
    assert user_role_change(session, actor=ada, user=olive, role=Role.ADMIN)
    assert user_role_change(session, actor=ada, user=casey, role=Role.LEARNER)
    assert holders(session) == {caseys: None, olives: olive.id}
    assert left_events(session) == [(caseys, ada.id, "holder_not_staff")]


def test_deactivating_someone_who_holds_nothing_or_is_already_deactivated_records_nothing(session, people):
    casey, olive, ada = people["counsellor"], people["colleague"], people["admin"]
    olives = held_by(session, olive)
    assert user_deactivate(session, actor=ada, user=casey)
    assert not user_deactivate(session, actor=ada, user=casey)
    assert left_events(session) == [] and holders(session) == {olives: olive.id}


def test_handing_back_moves_each_request_on_so_a_change_read_before_it_is_refused(session, people):
    casey, ada = people["counsellor"], people["admin"]
    request_id = held_by(session, casey)
    version = session.get(ContactRequest, request_id).version
    contact_requests_unhold(session, holder_id=casey.id, actor=ada, action="holder_deactivated")
    session.commit()
    assert session.get(ContactRequest, request_id).version == version + 1
    with pytest.raises(ValueError):
        contact_requests_unhold(session, holder_id=casey.id, actor=ada, action="released")


def test_a_holder_deleting_their_own_account_hands_their_open_requests_back_naming_nobody(session, people):
    casey, olive = people["counsellor"], people["colleague"]
    new, contacted = held_by(session, casey), held_by(session, casey, "contacted")
    closed, olives = held_by(session, casey, "closed"), held_by(session, olive)
    casey_id = casey.id
    account_delete(session, user=casey, password=PASSWORD)
    # The closed one is unlinked, as before (the account is gone); the open ones are back in the queue.
    assert holders(session) == {new: None, contacted: None, closed: None, olives: olive.id}
    assert left_events(session) == [(new, None, "holder_deleted"), (contacted, None, "holder_deleted")]
    assert session.scalar(select(User.id).where(User.id == casey_id)) is None  # same commit: both or neither
    entry = next(e for e in contact_queue(session, viewer=olive).entries if e.request.id == contacted)
    returned = entry.returned_by_leaving
    assert (returned.action, returned.who) == ("holder_deleted", "The person who held it")
    assert entry.history[-1].text == "deleted their account, which handed it back to the queue"
    assert contact_requests_waiting(session) == 2


def test_an_admin_erasing_a_holders_account_hands_their_open_requests_back_in_their_name(session, people):
    casey, olive, ada = people["counsellor"], people["colleague"], people["admin"]
    tried = held_by(session, casey, "no_answer")
    user_erase(session, actor=ada, user=casey)
    assert holders(session) == {tried: None}
    assert left_events(session) == [(tried, ada.id, "holder_erased")]
    entry = contact_queue(session, viewer=olive).entries[0]
    assert (entry.returned_by_leaving.action, entry.returned_by_leaving.who) == ("holder_erased", "Ada")
    assert entry.history[-1].text == "erased the account that held it, which handed it back to the queue"
    assert entry.tries_without_answer == 1  # what Casey did stays on the trail, by a removed account
    assert entry.history[-2].who == "A removed account"


def test_only_the_holders_own_deletion_is_recorded_without_an_actor(session, people):
    casey, ada = people["counsellor"], people["admin"]
    with pytest.raises(ValueError):
        contact_requests_unhold(session, holder_id=casey.id, actor=None, action="holder_erased")
    with pytest.raises(ValueError):
        contact_requests_unhold(session, holder_id=casey.id, actor=ada, action="holder_deleted")
