"""Contact requests: what is kept, who may change what, the audit trail, withdrawal and retention."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import ContactRequest, ContactRequestEvent, ContactRequestNote, CounsellorLink, Role, User
from app.models.types import utcnow
from app.services.contact_requests import (
    ContactDetails,
    ContactRequestRefused,
    NotClinicStaff,
    contact_queue,
    contact_queue_entry,
    contact_request_add_note,
    contact_request_create,
    contact_request_pick_up,
    contact_request_release,
    contact_request_set_status,
    contact_request_withdraw,
    contact_requests_purge,
    requester_contact_requests,
)
from app.services.errors import ValidationError
from app.services.sharing import link_revoke
from tests.conftest import create_user

PHONE = ContactDetails(contact_by="phone", phone="07700 900123", topic="alcohol", name="Sam", note="Evenings only")


@pytest.fixture
def people(app, session):
    ids = {
        "learner": create_user(app, "learner@example.org", name="Lee Learner"),
        "other": create_user(app, "fred@example.org"),
        "counsellor": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
        "colleague": create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive"),
        "admin": create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada"),
    }
    return {key: session.get(User, user_id) for key, user_id in ids.items()}


def ask(session, requester=None, details=PHONE):
    return contact_request_create(session, details=details, requester=requester)


def events(session, request_id):
    return [
        (e.actor_id, e.action, e.from_status, e.to_status)
        for e in session.scalars(
            select(ContactRequestEvent)
            .where(ContactRequestEvent.request_id == request_id)
            .order_by(ContactRequestEvent.id)
        )
    ]


# Asking


def test_only_the_chosen_contact_detail_is_kept(session):
    phone = ask(
        session, details=ContactDetails(contact_by="phone", phone=" 07700  900123 ", email="a@b.org", topic="other")
    )
    email = ask(
        session,
        details=ContactDetails(contact_by="email", phone="07700 900123", email="Sam@Example.ORG", topic="family"),
    )
    assert (phone.phone, phone.email) == ("07700 900123", None)
    assert (email.phone, email.email) == (None, "Sam@example.org")
    assert phone.status == email.status == "new" and phone.requester_id is None


@pytest.mark.parametrize(
    ("details", "field"),
    [
        (ContactDetails(contact_by="phone", phone="", topic="alcohol"), "phone"),
        (ContactDetails(contact_by="phone", phone="call me maybe", topic="alcohol"), "phone"),
        (ContactDetails(contact_by="phone", phone="12345", topic="alcohol"), "phone"),  # too few digits
        (ContactDetails(contact_by="email", email="", topic="alcohol"), "email"),
        (ContactDetails(contact_by="email", email="not an address", topic="alcohol"), "email"),
        (ContactDetails(contact_by="pigeon", phone="07700 900123", topic="alcohol"), "contact_by"),
        (ContactDetails(contact_by="phone", phone="07700 900123", topic="weather"), "topic"),
        (ContactDetails(contact_by="phone", phone="07700 900123", topic="other", note="x" * 501), "note"),
        (ContactDetails(contact_by="phone", phone="07700 900123", topic="other", name="x" * 81), "name"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_kept(session, details, field):
    with pytest.raises(ValidationError) as refused:
        ask(session, details=details)
    assert refused.value.field == field
    assert session.scalar(select(func.count()).select_from(ContactRequest)) == 0


def test_progress_is_attached_only_for_a_learner_who_asks_for_it(session, people):
    attach = ContactDetails(contact_by="phone", phone="07700 900123", topic="alcohol", attach_progress=True)
    assert ask(session, people["learner"], attach).progress_attached
    assert not ask(session, people["learner"]).progress_attached  # not ticked
    assert not ask(session, people["counsellor"], attach).progress_attached  # staff have no course progress to share
    assert not ask(session, None, attach).progress_attached  # no account, nothing to attach


# The clinic's work: pick-up, status, notes, each audited


def test_picking_up_is_audited_and_refused_while_someone_has_it(session, people):
    request = ask(session)
    contact_request_pick_up(session, staff=people["counsellor"], request_id=request.id)
    assert request.picked_up_by_id == people["counsellor"].id and request.picked_up_at is not None
    with pytest.raises(ContactRequestRefused, match="someone else"):
        contact_request_pick_up(session, staff=people["colleague"], request_id=request.id)
    with pytest.raises(ContactRequestRefused, match="by you"):
        contact_request_pick_up(session, staff=people["counsellor"], request_id=request.id)
    assert events(session, request.id) == [(people["counsellor"].id, "picked_up", None, None)]


def test_only_the_holder_or_an_admin_hands_a_request_back(session, people):
    request = ask(session)
    with pytest.raises(ContactRequestRefused, match="Nobody"):
        contact_request_release(session, staff=people["counsellor"], request_id=request.id)
    contact_request_pick_up(session, staff=people["counsellor"], request_id=request.id)
    with pytest.raises(ContactRequestRefused, match="Only whoever"):
        contact_request_release(session, staff=people["colleague"], request_id=request.id)
    contact_request_release(session, staff=people["admin"], request_id=request.id)
    assert request.picked_up_by_id is None
    assert events(session, request.id)[-1] == (people["admin"].id, "released", None, None)


def test_status_changes_are_audited_with_from_and_to(session, people):
    request = ask(session)
    contact_request_set_status(session, staff=people["counsellor"], request_id=request.id, status="contacted")
    contact_request_set_status(session, staff=people["counsellor"], request_id=request.id, status="closed")
    assert request.status == "closed" and request.ended_at is not None
    contact_request_set_status(session, staff=people["admin"], request_id=request.id, status="new")
    assert request.ended_at is None  # reopened: the retention clock stops
    counsellor, admin = people["counsellor"].id, people["admin"].id
    assert events(session, request.id) == [
        # Marking it contacted while nobody had it picks it up for whoever made contact.
        (counsellor, "picked_up", None, None),
        (counsellor, "status", "new", "contacted"),
        (counsellor, "status", "contacted", "closed"),
        (admin, "status", "closed", "new"),
    ]
    assert request.picked_up_by_id == counsellor


def test_a_picked_up_request_s_status_is_its_holder_s_or_an_admin_s_to_change(session, people):
    """Casey picks it up and marks it contacted; Olive, who cannot hand it back, cannot close or
    reopen it either (a promised call-back closed behind Casey's back), but an admin can."""
    request = ask(session)
    casey, olive, ada = people["counsellor"], people["colleague"], people["admin"]
    contact_request_pick_up(session, staff=casey, request_id=request.id)
    contact_request_set_status(session, staff=casey, request_id=request.id, status="contacted")
    for status in ("closed", "new"):
        with pytest.raises(ContactRequestRefused, match="Casey has picked this request up: only they, or an admin"):
            contact_request_set_status(session, staff=olive, request_id=request.id, status=status)
    session.expire_all()
    request = session.get(ContactRequest, request.id)
    assert (request.status, request.picked_up_by_id, request.ended_at) == ("contacted", casey.id, None)
    assert [e[:2] for e in events(session, request.id)] == [(casey.id, "picked_up"), (casey.id, "status")]
    entry = contact_queue_entry(session, viewer=olive, request_id=request.id)
    assert (entry.can_change_status, entry.can_release, entry.picked_up_by_name) == (False, False, "Casey")
    assert contact_queue_entry(session, viewer=casey, request_id=request.id).can_change_status
    assert contact_queue_entry(session, viewer=ada, request_id=request.id).can_change_status
    contact_request_set_status(session, staff=ada, request_id=request.id, status="closed")
    assert session.get(ContactRequest, request.id).status == "closed"
    # Handed back, it is anyone's again.
    contact_request_release(session, staff=casey, request_id=request.id)
    contact_request_set_status(session, staff=olive, request_id=request.id, status="new")
    assert session.get(ContactRequest, request.id).status == "new"


@pytest.mark.parametrize("status", ["withdrawn", "deleted", ""])
def test_staff_cannot_set_a_status_of_their_own_making(session, people, status):
    request = ask(session)
    with pytest.raises(ValidationError):
        contact_request_set_status(session, staff=people["counsellor"], request_id=request.id, status=status)
    assert request.status == "new" and events(session, request.id) == []


def test_setting_the_same_status_again_is_refused_and_not_audited(session, people):
    request = ask(session)
    with pytest.raises(ContactRequestRefused, match="already new"):
        contact_request_set_status(session, staff=people["counsellor"], request_id=request.id, status="new")
    assert events(session, request.id) == []


def test_learners_cannot_work_the_queue(session, people):
    request = ask(session)
    with pytest.raises(NotClinicStaff):
        contact_request_pick_up(session, staff=people["learner"], request_id=request.id)
    with pytest.raises(NotClinicStaff):
        contact_request_set_status(session, staff=people["learner"], request_id=request.id, status="closed")
    with pytest.raises(NotClinicStaff):
        contact_queue(session, viewer=people["learner"])
    with pytest.raises(LookupError):
        contact_request_pick_up(session, staff=people["counsellor"], request_id=request.id + 1)


def notes(session, request_id):
    return [
        (n.author_id, n.text)
        for n in session.scalars(
            select(ContactRequestNote)
            .where(ContactRequestNote.request_id == request_id)
            .order_by(ContactRequestNote.id)
        )
    ]


def test_private_notes_are_added_never_replaced_and_audited_without_their_text(session, people):
    """The reviewer's case: Casey's note stays when Olive, who does not hold the request, adds hers."""
    request = ask(session)
    casey, olive = people["counsellor"], people["colleague"]
    contact_request_pick_up(session, staff=casey, request_id=request.id)
    contact_request_set_status(session, staff=casey, request_id=request.id, status="contacted")
    contact_request_add_note(
        session, staff=casey, request_id=request.id, text=" Called 6:15pm, no answer. Try again tomorrow. "
    )
    contact_request_add_note(session, staff=olive, request_id=request.id, text="x")
    contact_request_add_note(session, staff=olive, request_id=request.id, text="x")  # the same twice is two notes
    assert notes(session, request.id) == [
        (casey.id, "Called 6:15pm, no answer. Try again tomorrow."),
        (olive.id, "x"),
        (olive.id, "x"),
    ]
    for bad in ("", "   ", "x" * 2001):
        with pytest.raises(ValidationError) as refused:
            contact_request_add_note(session, staff=olive, request_id=request.id, text=bad)
        assert refused.value.field == "staff_note"
    assert contact_request_add_note(session, staff=olive, request_id=request.id, text="y" * 2000).text == "y" * 2000
    assert [e[:2] for e in events(session, request.id)][2:] == [
        (casey.id, "note_added"),
        *[(olive.id, "note_added")] * 3,
    ]
    entry = contact_queue_entry(session, viewer=people["admin"], request_id=request.id)
    assert [(n.author, n.text[:6]) for n in entry.notes] == [
        ("Casey", "Called"),
        ("Olive", "x"),
        ("Olive", "x"),
        ("Olive", "yyyyyy"),
    ]
    assert [h.text for h in entry.history][2:4] == ["added a note", "added a note"]


def test_notes_are_for_the_clinic_s_staff_only(session, people):
    request = ask(session)
    with pytest.raises(NotClinicStaff):
        contact_request_add_note(session, staff=people["learner"], request_id=request.id, text="Hello")
    with pytest.raises(LookupError):
        contact_request_add_note(session, staff=people["counsellor"], request_id=request.id + 1, text="Hello")
    assert notes(session, request.id) == []


def test_an_erased_author_s_note_stays_by_a_removed_account(session, people):
    from app.services.personal_data import account_erase

    request = ask(session)
    contact_request_add_note(session, staff=people["colleague"], request_id=request.id, text="Rang at 3pm")
    account_erase(session, user=people["colleague"], erased_by=None)
    session.commit()
    entry = contact_queue_entry(session, viewer=people["counsellor"], request_id=request.id)
    assert [(n.author, n.text) for n in entry.notes] == [("A removed account", "Rang at 3pm")]


# The person's control: their list, withdrawal


def test_the_address_a_request_gave_may_withdraw_it_by_link_once(session, people):
    from app.services.contact_requests import (
        contact_request_withdraw_by_link,
        withdraw_link_holder,
        withdraw_link_token,
    )

    details = ContactDetails(contact_by="email", email="not.me@example.org", topic="alcohol", name="Someone")
    request = ask(session, None, details)
    token = withdraw_link_token(request, secret_key="k")
    assert withdraw_link_holder(token, secret_key="k") == (request.id, "not.me@example.org")
    assert withdraw_link_holder(token, secret_key="another key") is None
    with pytest.raises(LookupError):
        contact_request_withdraw_by_link(session, request_id=request.id, email="someone.else@example.org")
    contact_request_withdraw_by_link(session, request_id=request.id, email="not.me@example.org")
    session.expire_all()
    request = session.get(ContactRequest, request.id)
    assert request.status == "withdrawn" and (request.email, request.name, request.topic) == (None, None, None)
    assert events(session, request.id)[-1] == (None, "withdrawn", "new", "withdrawn")  # nobody named
    with pytest.raises(LookupError):  # the address is erased with the rest: the link finds nothing now
        contact_request_withdraw_by_link(session, request_id=request.id, email="not.me@example.org")


def test_withdrawing_erases_what_the_request_said_and_freezes_it(session, people):
    attach = ContactDetails(
        contact_by="phone", phone="07700 900123", topic="opioids", name="Sam", note="A note", attach_progress=True
    )
    request = ask(session, people["learner"], attach)
    contact_request_add_note(session, staff=people["counsellor"], request_id=request.id, text="Called 07700 900123")
    contact_request_withdraw(session, requester=people["learner"], request_id=request.id)
    session.expire_all()
    request = session.get(ContactRequest, request.id)
    assert request.status == "withdrawn" and request.ended_at is not None
    said = (request.phone, request.email, request.name, request.good_times, request.topic, request.note)
    assert said == (None,) * 6 and not request.progress_attached
    assert notes(session, request.id) == []  # the staff's notes are about the person: they go too
    # The person is never named in the audit trail.
    assert events(session, request.id)[-1] == (None, "withdrawn", "new", "withdrawn")
    for change in (
        lambda: contact_request_pick_up(session, staff=people["counsellor"], request_id=request.id),
        lambda: contact_request_set_status(session, staff=people["admin"], request_id=request.id, status="closed"),
        lambda: contact_request_add_note(session, staff=people["admin"], request_id=request.id, text="x"),
        lambda: contact_request_withdraw(session, requester=people["learner"], request_id=request.id),
    ):
        with pytest.raises(ContactRequestRefused):
            change()


def test_only_the_person_who_asked_can_withdraw_or_list_it(session, people):
    mine = ask(session, people["learner"])
    anonymous = ask(session)
    for who, request_id in [(people["other"], mine.id), (people["learner"], anonymous.id), (people["admin"], mine.id)]:
        with pytest.raises(LookupError):
            contact_request_withdraw(session, requester=who, request_id=request_id)
    assert [r.id for r in requester_contact_requests(session, requester=people["learner"])] == [mine.id]
    assert requester_contact_requests(session, requester=people["other"]) == []


# Retention


def ended_at(session, request, when):
    request.ended_at = when
    session.commit()


def test_the_purge_deletes_only_requests_ended_longer_ago_than_the_retention(session, people):
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    old_closed, recent_closed, old_withdrawn, old_open = (ask(session, people["learner"]) for _ in range(4))
    for request in (old_closed, recent_closed):
        contact_request_add_note(session, staff=people["colleague"], request_id=request.id, text="Booked in")
        contact_request_set_status(session, staff=people["counsellor"], request_id=request.id, status="closed")
    contact_request_withdraw(session, requester=people["learner"], request_id=old_withdrawn.id)
    ended_at(session, old_closed, now - timedelta(days=90, seconds=1))
    ended_at(session, recent_closed, now - timedelta(days=89, hours=23))
    ended_at(session, old_withdrawn, now - timedelta(days=200))
    old_open.created_at = now - timedelta(days=400)  # open requests stay, however old
    session.commit()
    kept_ids = {recent_closed.id, old_open.id}
    deleted_id = old_closed.id
    audit_rows = session.scalar(select(func.count()).select_from(ContactRequestEvent))
    assert contact_requests_purge(session, now=now, retention=timedelta(days=90)) == 2
    assert set(session.scalars(select(ContactRequest.id))) == kept_ids
    # The staff's actions stay on record, unlinked from the deleted request.
    assert session.scalar(select(func.count()).select_from(ContactRequestEvent)) == audit_rows
    assert events(session, deleted_id) == []
    # Its notes went with it; the kept one's stay.
    assert notes(session, deleted_id) == [] and notes(session, recent_closed.id) == [
        (people["colleague"].id, "Booked in")
    ]
    assert contact_requests_purge(session, now=now + timedelta(days=1), retention=timedelta(days=90)) == 1


# The queue, and the one sharing rule for attached progress


def test_the_queue_puts_new_requests_first_oldest_first_and_counts_each_status(session, people):
    first, second, third = ask(session), ask(session), ask(session)
    for request, minutes in ((first, 30), (second, 20), (third, 10)):
        request.created_at = utcnow() - timedelta(minutes=minutes)
    session.commit()
    contact_request_set_status(session, staff=people["counsellor"], request_id=first.id, status="contacted")
    closed = ask(session)
    contact_request_set_status(session, staff=people["counsellor"], request_id=closed.id, status="closed")
    page = contact_queue(session, viewer=people["colleague"])
    assert [e.request.id for e in page.entries] == [second.id, third.id, first.id]
    assert page.counts == {"new": 2, "no_answer": 0, "contacted": 1, "closed": 1, "withdrawn": 0}
    assert page.waiting == 2  # the two new ones: nobody holds them
    assert [e.request.id for e in contact_queue(session, viewer=people["colleague"], view="ended").entries] == [
        closed.id
    ]
    holder = page.entries[2]
    assert holder.picked_up_by_name == "Casey"
    assert [h.text for h in holder.history] == ["picked it up", "marked it contacted"]


def test_attached_progress_links_to_the_client_page_only_under_the_sharing_rule(session, people):
    learner, counsellor, colleague, admin = (
        people["learner"],
        people["counsellor"],
        people["colleague"],
        people["admin"],
    )
    session.add(CounsellorLink(counsellor_id=counsellor.id, learner_id=learner.id, created_by_id=learner.id))
    session.commit()
    attach = ContactDetails(contact_by="phone", phone="07700 900123", topic="alcohol", attach_progress=True)
    attached = ask(session, learner, attach)
    unattached = ask(session, learner)

    def seen_by(viewer, request):
        entry = contact_queue_entry(session, viewer=viewer, request_id=request.id)
        return entry.client_id, entry.client_name, entry.progress_hidden

    assert seen_by(counsellor, attached) == (learner.id, "Lee Learner", False)  # the learner shares with them
    assert seen_by(admin, attached) == (learner.id, "Lee Learner", False)  # admins see every learner already
    assert seen_by(colleague, attached) == (None, None, True)  # no link: attached, nothing of it shown
    # Not attached: nobody is shown the account, not even the counsellor who could open it elsewhere.
    assert seen_by(counsellor, unattached) == (None, None, False)
    # Consent ends: the link goes at once.
    link = session.scalar(select(CounsellorLink))
    link_revoke(session, learner=learner, link_id=link.id)
    assert seen_by(counsellor, attached) == (None, None, True)
    # The queue page applies the same rule, for every request at once.
    entries = {e.request.id: e for e in contact_queue(session, viewer=admin).entries}
    assert entries[attached.id].client_id == learner.id and entries[unattached.id].client_id is None


def test_two_people_picking_a_request_up_at_once_leaves_one_holder_and_tells_the_other(app, session, people):
    """A reads the request first; B reads it before A's pick-up is saved. PostgreSQL makes B wait
    for A (the row is read locked), then tells B someone else has it; SQLite reads it unlocked,
    and the row's version refuses B's change. Both were once told they had it.

    Staged with events, not timed waits: each step waits for the one before (for a statement
    blocked on the lock, on PostgreSQL), so a slow machine makes it slower, never different.
    """
    import threading

    from app.extensions import db
    from app.services import contact_requests
    from tests.row_locks import wait_for_a_blocked_statement

    request_id = ask(session).id
    staff_ids = {"A": people["counsellor"].id, "B": people["admin"].id}
    engine = session.get_bind()
    locks_rows = engine.dialect.name == "postgresql"
    session.close()
    a_has_read, b_has_read, a_has_saved = threading.Event(), threading.Event(), threading.Event()
    real_read, real_take, real_commit = (
        contact_requests._staff_request,
        contact_requests._take,
        contact_requests._commit_change,
    )
    step_timeout = 30  # only ever waited out when the race went wrong

    def read_in_turn(*args):
        if threading.current_thread().name == "A":
            request = real_read(*args)
            a_has_read.set()
            return request
        assert a_has_read.wait(step_timeout), "A never read the request"
        try:
            return real_read(*args)  # PostgreSQL: waits here until A's pick-up is committed
        finally:
            b_has_read.set()

    def take_in_turn(*args):
        if threading.current_thread().name == "A":
            if locks_rows:
                wait_for_a_blocked_statement(engine, step_timeout, what="B's read of the request")
            else:
                assert b_has_read.wait(step_timeout), "B never read the request"
        else:
            assert a_has_saved.wait(step_timeout), "A never saved its pick-up"
        return real_take(*args)

    def commit_and_say(session_):
        try:
            return real_commit(session_)
        finally:
            if threading.current_thread().name == "A":
                a_has_saved.set()

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(contact_requests, "_staff_request", read_in_turn)
    monkeypatch.setattr(contact_requests, "_take", take_in_turn)
    monkeypatch.setattr(contact_requests, "_commit_change", commit_and_say)
    outcome: dict[str, str] = {}

    def pick_up(name: str) -> None:
        with app.app_context():
            try:
                staff = db.session.get(User, staff_ids[name])
                contact_request_pick_up(db.session, staff=staff, request_id=request_id)
                outcome[name] = "picked up"
            except ContactRequestRefused as refused:
                outcome[name] = refused.message
            except BaseException as failed:
                outcome[name] = repr(failed)
                raise
            finally:
                # A thread that failed must not leave the other waiting out its timeout.
                for step in (a_has_read, a_has_saved) if name == "A" else (b_has_read,):
                    step.set()
                db.session.remove()

    try:
        threads = [threading.Thread(target=pick_up, args=(name,), name=name) for name in ("A", "B")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=3 * step_timeout)
    finally:
        monkeypatch.undo()

    assert outcome["A"] == "picked up"
    if locks_rows:  # B read the request once A's pick-up was committed
        assert outcome["B"] == "This request is already picked up by someone else."
    else:  # B read it before; the version it read had moved on
        assert outcome["B"] == contact_requests.CHANGED_MEANWHILE
    request = session.get(ContactRequest, request_id)
    assert request.picked_up_by_id == staff_ids["A"]
    assert events(session, request_id) == [(staff_ids["A"], "picked_up", None, None)]


def test_a_note_is_not_added_to_a_request_withdrawn_while_it_was_being_written(app, session, people):
    """The person withdraws between the note's read of the request and its save. PostgreSQL makes
    the withdrawal wait (the request is read locked); SQLite reads it unlocked, and without the
    version check the note would land on the emptied request, perhaps repeating their number."""
    from sqlalchemy.orm import Session

    from app.extensions import db
    from app.services import contact_requests

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks the request: the withdrawal cannot come in between")
    request = ask(session, people["learner"])
    learner_id = people["learner"].id
    real_event = contact_requests._event

    def withdrawn_meanwhile(session_, request_, **kwargs):
        if kwargs["action"] == "note_added":
            with Session(db.engine) as other:
                contact_request_withdraw(other, requester=other.get(User, learner_id), request_id=request_.id)
        return real_event(session_, request_, **kwargs)

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(contact_requests, "_event", withdrawn_meanwhile)
    try:
        with pytest.raises(ContactRequestRefused):
            contact_request_add_note(
                session, staff=people["counsellor"], request_id=request.id, text="Rang 07700 900123"
            )
    finally:
        monkeypatch.undo()
    assert notes(session, request.id) == []
    assert session.get(ContactRequest, request.id).status == "withdrawn"
