"""Handing over the clients of an account that no longer counsels (app/services/handover.py):
what taking the counsellor role away, or deactivating, leaves of their links, invitations and
requests, and who may then ask their clients to share with a colleague. Small factory data."""

import pytest
from sqlalchemy import select

from app.models import AuditEvent, CounsellorLink, HandoverRequest, Role, User
from app.services.errors import ValidationError
from app.services.handover import handover_request, handover_respond, handover_statuses, may_hand_over
from app.services.sharing import (
    InvitationUnusable,
    active_link,
    clients_sharing_count,
    invitation_by_code,
    invitation_create,
    link_revoke,
)
from app.services.user_admin import user_deactivate, user_role_change
from tests.conftest import create_user

SECRET = "test-secret"


@pytest.fixture
def people(app, session):
    """Casey (a counsellor) with two clients, Sam and Lee; Olive, a colleague; Ada, an admin; Jo, a learner."""
    ids = {
        "casey": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
        "olive": create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive"),
        "sam": create_user(app, "sam@example.org", name="Sam"),
        "lee": create_user(app, "lee@example.org", name="Lee"),
        "ada": create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada"),
        "jo": create_user(app, "jo@example.org", name="Jo"),
    }
    for name in ("sam", "lee"):
        session.add(CounsellorLink(counsellor_id=ids["casey"], learner_id=ids[name]))
    session.commit()
    return {name: session.get(User, user_id) for name, user_id in ids.items()}


def ask(session, people, *, actor="ada", of="casey"):
    return handover_request(
        session, actor=people[actor], from_counsellor=people[of], to_counsellor_id=people["olive"].id
    )


def live_links(session, counsellor: User) -> set[int]:
    return set(
        session.scalars(
            select(CounsellorLink.learner_id).where(
                CounsellorLink.counsellor_id == counsellor.id, CounsellorLink.revoked_at.is_(None)
            )
        )
    )


@pytest.mark.parametrize("change", ["learner", "admin", "deactivated"])
def test_no_longer_counselling_ends_no_link_and_no_request_made_for_their_clients(session, people, change):
    """What the change leaves: the clients' sharing, and their answers to a request already made."""
    ask(session, people)  # asked before the change
    if change == "deactivated":
        user_deactivate(session, actor=people["ada"], user=people["casey"])
    else:
        user_role_change(session, actor=people["ada"], user=people["casey"], role=change)
    assert live_links(session, people["casey"]) == {people["sam"].id, people["lee"].id}
    request = session.scalar(select(HandoverRequest).where(HandoverRequest.learner_id == people["sam"].id))
    handover_respond(session, learner=people["sam"], request_id=request.id, accept=True)
    assert active_link(session, counsellor_id=people["olive"].id, learner_id=people["sam"].id) is not None


def test_a_counsellor_made_a_learner_has_their_invitations_withdrawn(session, people):
    _, code = invitation_create(session, counsellor=people["casey"], secret_key=SECRET)
    user_role_change(session, actor=people["ada"], user=people["casey"], role="learner")
    with pytest.raises(InvitationUnusable) as withdrawn:
        invitation_by_code(session, code=code, secret_key=SECRET)
    assert withdrawn.value.reason == "withdrawn"


@pytest.mark.parametrize("change", ["learner", "admin", "deactivated"])
def test_an_admin_asks_the_clients_of_an_account_that_no_longer_counsels(session, people, change):
    if change == "deactivated":
        user_deactivate(session, actor=people["ada"], user=people["casey"])
    else:
        user_role_change(session, actor=people["ada"], user=people["casey"], role=change)
    assert may_hand_over(session, actor=people["ada"], from_counsellor=people["casey"])
    assert ask(session, people).created == 2
    made = list(session.scalars(select(HandoverRequest)))
    assert {(r.from_counsellor_id, r.requested_by_id, r.answered_at) for r in made} == {
        (people["casey"].id, people["ada"].id, None)
    }  # asked, nothing shared: each client answers on their own page
    assert live_links(session, people["olive"]) == set()
    audited = session.scalars(select(AuditEvent).where(AuditEvent.action == "caseload_handover_asked")).one()
    assert (audited.actor_id, audited.subject_id) == (people["ada"].id, people["casey"].id)


def test_a_counsellor_made_a_learner_cannot_ask_their_clients_nor_can_a_colleague(session, people):
    user_role_change(session, actor=people["ada"], user=people["casey"], role="learner")
    for actor in ("casey", "olive"):
        assert not may_hand_over(session, actor=people[actor], from_counsellor=people["casey"])
        with pytest.raises(LookupError):
            ask(session, people, actor=actor)
    assert session.scalars(select(HandoverRequest)).all() == []


def test_a_counsellor_made_an_admin_may_ask_their_own_clients(session, people):
    user_role_change(session, actor=people["ada"], user=people["casey"], role="admin")
    assert ask(session, people, actor="casey").created == 2


@pytest.mark.parametrize("who", ["jo", "ada"])
def test_an_account_nobody_shares_with_has_no_caseload_to_hand_over(session, people, who):
    """A learner who never counselled, an admin with no client: the page is not there (404)."""
    assert not may_hand_over(session, actor=people["ada"], from_counsellor=people[who])
    with pytest.raises(LookupError):
        ask(session, people, of=who)


def test_once_every_client_stops_sharing_the_answers_stay_listed_and_nobody_is_asked(session, people):
    ask(session, people)
    user_role_change(session, actor=people["ada"], user=people["casey"], role="learner")
    for name in ("sam", "lee"):
        link = session.scalar(select(CounsellorLink).where(CounsellorLink.learner_id == people[name].id))
        link_revoke(session, learner=people[name], link_id=link.id)
    assert may_hand_over(session, actor=people["ada"], from_counsellor=people["casey"])
    statuses = handover_statuses(session, viewer=people["ada"], from_counsellor=people["casey"])
    assert sorted(s.client_name for s in statuses) == ["Lee", "Sam"]
    with pytest.raises(ValidationError) as refused:
        ask(session, people)
    assert refused.value.field == "clients"


def test_the_count_of_clients_leaves_out_one_made_staff(session, people):
    """Staff are nobody's clients: the count agrees with the clients the handover page lists."""
    assert clients_sharing_count(session, counsellor=people["casey"]) == 2
    user_role_change(session, actor=people["ada"], user=people["lee"], role="counsellor")
    assert clients_sharing_count(session, counsellor=people["casey"]) == 1
