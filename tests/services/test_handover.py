"""Handing a caseload to a colleague (app/services/handover.py): requests, each client's answer,
what each side sees, expiry and the clear-out. Small factory data: accounts and links only."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, CounsellorLink, HandoverRequest, Role, User
from app.models.types import utcnow
from app.services.errors import ValidationError
from app.services.handover import (
    NO_LONGER_SHARING,
    HandoverUnusable,
    handover_request,
    handover_requests_purge,
    handover_respond,
    handover_statuses,
)
from app.services.sharing import (
    INVITATION_LIFETIME,
    OUTCOMES_KEPT,
    active_link,
    learner_sharing_overview,
    link_revoke,
)
from app.services.user_admin import LinkRefused, learner_link_checked, user_deactivate
from tests.conftest import create_user


@pytest.fixture
def people(app, session):
    """Casey (a counsellor) with two clients, Sam (labelled) and Lee; Olive, a colleague; Ada, an admin."""
    ids = {
        "casey": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
        "olive": create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive"),
        "sam": create_user(app, "sam@example.org", name="Sam"),
        "lee": create_user(app, "lee@example.org", name="Lee"),
        "ada": create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada"),
    }
    for name, label in (("sam", "Tuesday group"), ("lee", None)):
        session.add(CounsellorLink(counsellor_id=ids["casey"], learner_id=ids[name], label=label))
    session.commit()
    return {name: session.get(User, user_id) for name, user_id in ids.items()}


def ask(session, people, *, actor="casey", learner_ids=None, to="olive", now=None):
    return handover_request(
        session,
        actor=people[actor],
        from_counsellor=people["casey"],
        to_counsellor_id=people[to].id,
        learner_ids=learner_ids,
        now=now,
    )


def requests(session) -> list[HandoverRequest]:
    return list(session.scalars(select(HandoverRequest).order_by(HandoverRequest.learner_id)))


def test_asking_makes_a_request_per_client_and_shares_nothing(session, people):
    result = ask(session, people)
    assert (result.created, result.already_asked, result.already_declined) == (2, 0, 0)
    made = requests(session)
    assert {r.learner_id for r in made} == {people["sam"].id, people["lee"].id}
    assert {(r.counsellor_id, r.from_counsellor_id, r.requested_by_id, r.answered_at) for r in made} == {
        (people["olive"].id, people["casey"].id, people["casey"].id, None)
    }
    assert all(r.expires_at - r.created_at == INVITATION_LIFETIME for r in made)  # the invitations' rule
    assert session.scalar(select(func.count()).where(CounsellorLink.counsellor_id == people["olive"].id)) == 0


def test_only_the_chosen_clients_are_asked(session, people):
    assert ask(session, people, learner_ids=[people["lee"].id]).created == 1
    assert [r.learner_id for r in requests(session)] == [people["lee"].id]


def test_no_duplicate_for_a_client_asked_already(session, people):
    first = ask(session, people, learner_ids=[people["sam"].id])
    assert (first.created, first.already_asked) == (1, 0)
    again = ask(session, people)
    assert (again.created, again.already_asked) == (1, 1)  # Lee asked now; Sam's request waits already
    assert len(requests(session)) == 2


def test_once_a_request_expires_the_client_can_be_asked_again(session, people):
    ask(session, people, learner_ids=[people["lee"].id], now=utcnow() - INVITATION_LIFETIME - timedelta(minutes=1))
    assert ask(session, people, learner_ids=[people["lee"].id]).created == 1


@pytest.mark.parametrize("to", ["casey", "sam", "ada"])
def test_the_colleague_must_be_another_counsellor(session, people, to):
    with pytest.raises(ValidationError) as refused:
        ask(session, people, to=to)
    assert refused.value.field == "colleague"
    assert requests(session) == []


def test_a_deactivated_colleague_cannot_be_chosen(session, people):
    user_deactivate(session, actor=people["ada"], user=people["olive"])
    with pytest.raises(ValidationError):
        ask(session, people)


def test_clients_of_someone_else_are_not_asked(session, people):
    stranger = people["ada"].id
    with pytest.raises(ValidationError) as refused:
        ask(session, people, learner_ids=[stranger])
    assert refused.value.field == "clients"


def test_another_counsellor_cannot_hand_over_a_caseload_but_an_admin_can(session, people):
    with pytest.raises(LookupError):
        ask(session, people, actor="olive")
    assert ask(session, people, actor="ada").created == 2
    assert {r.requested_by_id for r in requests(session)} == {people["ada"].id}


def audited(session) -> list[tuple]:
    return list(
        session.execute(select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.subject_id, AuditEvent.details))
    )


def test_an_admins_handover_is_audited_on_the_counsellor_and_a_counsellors_own_is_not(session, people):
    ask(session, people, learner_ids=[people["lee"].id])
    assert audited(session) == []  # the counsellor's own caseload: not an admin action
    ask(session, people, actor="ada")
    assert audited(session) == [
        (
            "caseload_handover_asked",
            people["ada"].id,
            people["casey"].id,
            {"counsellor_id": people["olive"].id, "asked": 1},
        )
    ]
    ask(session, people, actor="ada")  # nobody left to ask: nothing changed, nothing recorded
    assert len(audited(session)) == 1


def test_accepting_shares_with_the_colleague_without_the_old_label_and_keeps_the_old_link(session, people):
    ask(session, people)
    request = next(r for r in requests(session) if r.learner_id == people["sam"].id)
    answered = handover_respond(session, learner=people["sam"], request_id=request.id, accept=True)
    assert answered.accepted is True and answered.answered_at is not None
    link = active_link(session, counsellor_id=people["olive"].id, learner_id=people["sam"].id)
    assert link is not None
    assert link.label is None  # Casey's "Tuesday group" was Casey's own note
    assert link.created_by_id == people["sam"].id  # the client's own consent, as an invitation's
    assert active_link(session, counsellor_id=people["casey"].id, learner_id=people["sam"].id).label == "Tuesday group"


def test_declining_is_recorded_shares_nothing_and_stops_an_admin_linking_them(session, people):
    ask(session, people)
    request = next(r for r in requests(session) if r.learner_id == people["lee"].id)
    handover_respond(session, learner=people["lee"], request_id=request.id, accept=False)
    session.refresh(request)
    assert request.accepted is False and request.answered_at is not None
    assert active_link(session, counsellor_id=people["olive"].id, learner_id=people["lee"].id) is None
    with pytest.raises(LinkRefused, match="declined sharing with"):
        learner_link_checked(session, learner=people["lee"], counsellor_id=people["olive"].id)


def test_a_request_is_answered_once_and_only_by_its_client(session, people):
    ask(session, people)
    request = next(r for r in requests(session) if r.learner_id == people["lee"].id)
    with pytest.raises(LookupError):
        handover_respond(session, learner=people["sam"], request_id=request.id, accept=True)
    with pytest.raises(LookupError):
        handover_respond(session, learner=people["casey"], request_id=request.id, accept=True)
    handover_respond(session, learner=people["lee"], request_id=request.id, accept=False)
    with pytest.raises(HandoverUnusable) as unusable:
        handover_respond(session, learner=people["lee"], request_id=request.id, accept=True)
    assert unusable.value.reason == "answered"
    assert active_link(session, counsellor_id=people["olive"].id, learner_id=people["lee"].id) is None


def test_an_expired_request_cannot_be_accepted(session, people):
    ask(session, people, now=utcnow() - INVITATION_LIFETIME - timedelta(minutes=1))
    request = requests(session)[0]
    with pytest.raises(HandoverUnusable) as unusable:
        handover_respond(session, learner=session.get(User, request.learner_id), request_id=request.id, accept=True)
    assert unusable.value.reason == "expired"


def test_a_request_to_a_colleague_deactivated_since_is_withdrawn(session, people):
    ask(session, people)
    user_deactivate(session, actor=people["ada"], user=people["olive"])
    request = requests(session)[0]
    with pytest.raises(HandoverUnusable) as unusable:
        handover_respond(session, learner=session.get(User, request.learner_id), request_id=request.id, accept=True)
    assert unusable.value.reason == "withdrawn"
    assert session.scalar(select(func.count()).where(CounsellorLink.counsellor_id == people["olive"].id)) == 0


def test_the_client_sees_waiting_requests_only(session, people):
    ask(session, people)
    [waiting] = learner_sharing_overview(session, learner=people["sam"]).handovers
    assert (waiting.colleague_name, waiting.colleague_email, waiting.from_name, waiting.by_clinic) == (
        "Olive",
        "olive@example.org",
        "Casey",
        False,
    )
    handover_respond(session, learner=people["sam"], request_id=waiting.id, accept=True)
    assert learner_sharing_overview(session, learner=people["sam"]).handovers == []


def test_an_admins_request_says_the_clinic_asked(session, people):
    ask(session, people, actor="ada")
    [waiting] = learner_sharing_overview(session, learner=people["lee"]).handovers
    assert waiting.by_clinic is True and waiting.from_name == "Casey"


@pytest.mark.parametrize("why", ["expired", "colleague deactivated", "shares already"])
def test_a_request_that_cannot_be_answered_is_not_shown(session, people, why):
    ask(session, people, now=utcnow() - INVITATION_LIFETIME - timedelta(minutes=1) if why == "expired" else None)
    if why == "colleague deactivated":
        user_deactivate(session, actor=people["ada"], user=people["olive"])
    if why == "shares already":  # an invitation from the colleague accepted meanwhile
        session.add(CounsellorLink(counsellor_id=people["olive"].id, learner_id=people["lee"].id))
        session.commit()
    assert learner_sharing_overview(session, learner=people["lee"]).handovers == []


def test_the_old_counsellor_sees_each_answer_but_not_the_name_of_one_who_stopped_sharing(session, people):
    ask(session, people)
    sam_request, lee_request = (
        next(r for r in requests(session) if r.learner_id == people[n].id) for n in ("sam", "lee")
    )
    handover_respond(session, learner=people["sam"], request_id=sam_request.id, accept=True)
    statuses = {
        s.client_name: s.status
        for s in handover_statuses(session, viewer=people["casey"], from_counsellor=people["casey"])
    }
    assert statuses == {"Sam": "accepted", "Lee": "waiting"}
    handover_respond(session, learner=people["lee"], request_id=lee_request.id, accept=False)
    link_revoke(
        session,
        learner=people["lee"],
        link_id=active_link(session, counsellor_id=people["casey"].id, learner_id=people["lee"].id).id,
    )
    statuses = {
        s.client_name: s.status
        for s in handover_statuses(session, viewer=people["casey"], from_counsellor=people["casey"])
    }
    assert statuses == {"Sam": "accepted", NO_LONGER_SHARING: "declined"}
    # An admin, who sees every learner, sees the name.
    assert {
        s.client_name for s in handover_statuses(session, viewer=people["ada"], from_counsellor=people["casey"])
    } == {"Sam", "Lee"}
    # The colleague's own caseload page shows none of them: nothing was handed over from them.
    assert handover_statuses(session, viewer=people["olive"], from_counsellor=people["olive"]) == []


def test_expired_and_withdrawn_requests_say_so(session, people):
    ask(session, people, learner_ids=[people["sam"].id], now=utcnow() - INVITATION_LIFETIME - timedelta(minutes=1))
    ask(session, people, learner_ids=[people["lee"].id])
    user_deactivate(session, actor=people["ada"], user=people["olive"])
    statuses = {
        s.client_name: s.status
        for s in handover_statuses(session, viewer=people["casey"], from_counsellor=people["casey"])
    }
    assert statuses == {"Sam": "expired", "Lee": "withdrawn"}


def test_the_clear_out_deletes_what_ended_long_ago_but_keeps_a_no(session, people):
    long_ago = utcnow() - OUTCOMES_KEPT - INVITATION_LIFETIME - timedelta(days=1)
    ask(session, people, now=long_ago)  # both expired long ago
    sam_request, lee_request = (
        next(r for r in requests(session) if r.learner_id == people[n].id) for n in ("sam", "lee")
    )
    lee_request.answered_at, lee_request.accepted = long_ago, False  # answered no, long ago
    expired_id = sam_request.id
    session.commit()
    ask(session, people, learner_ids=[people["sam"].id])  # asked again today: waits
    assert handover_requests_purge(session, now=utcnow()) == 1
    left = {(r.learner_id, r.accepted) for r in requests(session)}
    assert left == {(people["lee"].id, False), (people["sam"].id, None)}
    assert expired_id not in {r.id for r in requests(session)}
