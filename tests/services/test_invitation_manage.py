"""Invitations a counsellor can manage: a private label, and cancelling one before it is used."""

from datetime import timedelta

import pytest
from sqlalchemy import update

import app.services.sharing as sharing
from app.models import CounsellorLink, Invitation, Role, User
from app.models.types import utcnow
from app.services.errors import ValidationError
from app.services.personal_data import personal_data_export
from app.services.sharing import (
    OUTCOMES_KEPT,
    InvitationUnusable,
    invitation_by_code,
    invitation_cancel,
    invitation_create,
    invitation_respond,
    link_revoke,
    pending_invitations,
    recent_invitation_outcomes,
)
from tests.conftest import create_user

SECRET = "test-secret-key"


@pytest.fixture
def counsellor(app) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


@pytest.fixture
def other_counsellor(app) -> int:
    return create_user(app, "robin@example.org", role=Role.COUNSELLOR, name="Robin Counsellor")


def invite(session, counsellor_id: int, label: str | None = None) -> tuple[Invitation, str]:
    return invitation_create(session, counsellor=session.get(User, counsellor_id), secret_key=SECRET, label=label)


def cancel(session, counsellor_id: int, invitation_id: int) -> Invitation:
    return invitation_cancel(session, counsellor=session.get(User, counsellor_id), invitation_id=invitation_id)


def respond(session, code: str, learner_id: int, *, accept: bool = True):
    return invitation_respond(
        session, code=code, learner=session.get(User, learner_id), accept=accept, secret_key=SECRET
    )


def test_the_label_is_kept_trimmed_and_an_empty_one_is_none(session, counsellor):
    labelled, _ = invite(session, counsellor, "  Sam, Tuesday group ")
    unlabelled, _ = invite(session, counsellor, "   ")
    assert (labelled.label, unlabelled.label) == ("Sam, Tuesday group", None)
    two_lines, _ = invite(session, counsellor, "Sam\r\nTuesday  group")  # a crafted form: the field is one line
    assert two_lines.label == "Sam Tuesday group"


def test_a_label_over_eighty_characters_is_refused_and_nothing_is_created(session, counsellor):
    invite(session, counsellor, "x" * 80)
    with pytest.raises(ValidationError) as caught:
        invite(session, counsellor, "x" * 81)
    assert caught.value.field == "label"
    assert len(list(session.query(Invitation))) == 1


def test_a_cancelled_code_answers_cancelled_and_cannot_be_accepted(session, counsellor, learner):
    invitation, code = invite(session, counsellor)
    cancelled = cancel(session, counsellor, invitation.id)
    assert cancelled.cancelled_at is not None
    with pytest.raises(InvitationUnusable) as caught:
        respond(session, code, learner)
    assert caught.value.reason == "cancelled"
    assert "Ask your counsellor for a new code" in caught.value.message
    assert session.query(CounsellorLink).count() == 0


def test_cancelled_invitations_are_no_longer_waiting(session, counsellor):
    kept, _ = invite(session, counsellor, "Kept")
    dropped, _ = invite(session, counsellor, "Dropped")
    cancel(session, counsellor, dropped.id)
    assert [i.label for i in pending_invitations(session, counsellor=session.get(User, counsellor))] == ["Kept"]


def test_only_the_counsellor_who_made_it_can_cancel_it(session, counsellor, other_counsellor, learner):
    invitation, code = invite(session, counsellor)
    with pytest.raises(LookupError):
        cancel(session, other_counsellor, invitation.id)
    with pytest.raises(LookupError):
        cancel(session, counsellor, invitation.id + 1000)
    assert respond(session, code, learner) is not None  # still works


def test_a_used_invitation_cannot_be_cancelled(session, counsellor, learner):
    invitation, code = invite(session, counsellor)
    respond(session, code, learner)
    with pytest.raises(InvitationUnusable) as caught:
        cancel(session, counsellor, invitation.id)
    assert caught.value.reason == "used"
    session.refresh(invitation)
    assert invitation.cancelled_at is None and invitation.accepted is True


def test_cancelling_twice_keeps_the_first_time(session, counsellor):
    invitation, _ = invite(session, counsellor)
    first = cancel(session, counsellor, invitation.id).cancelled_at
    assert cancel(session, counsellor, invitation.id).cancelled_at == first


def test_a_cancel_made_while_the_client_answers_wins(session, counsellor, learner, monkeypatch):
    """The client's page has checked the code; the counsellor cancels before the claim: no link."""
    invitation, code = invite(session, counsellor)
    original = sharing.invitation_by_code
    calls = []

    def check_then_cancel(*args, **kwargs):
        found = original(*args, **kwargs)  # the second call, after the refused claim, raises
        if not calls:
            calls.append(found)
            session.execute(update(Invitation).where(Invitation.id == invitation.id).values(cancelled_at=utcnow()))
            session.commit()
        return found

    monkeypatch.setattr(sharing, "invitation_by_code", check_then_cancel)
    with pytest.raises(InvitationUnusable) as caught:
        respond(session, code, learner)
    assert caught.value.reason == "cancelled"
    assert session.query(CounsellorLink).count() == 0
    session.refresh(invitation)
    assert invitation.used_at is None


def test_an_expired_code_still_says_expired_and_a_cancelled_one_cancelled(session, counsellor):
    expired, expired_code = invite(session, counsellor)
    expired.expires_at = utcnow()
    session.commit()
    cancelled, cancelled_code = invite(session, counsellor)
    cancel(session, counsellor, cancelled.id)
    reasons = []
    for code in (expired_code, cancelled_code):
        with pytest.raises(InvitationUnusable) as caught:
            invitation_by_code(session, code=code, secret_key=SECRET)
        reasons.append(caught.value.reason)
    assert reasons == ["expired", "cancelled"]


def test_the_label_is_in_the_counsellors_export_and_never_in_the_clients(session, counsellor, learner):
    invitation, code = invite(session, counsellor, "Sam from the Tuesday group")
    respond(session, code, learner)
    other, _ = invite(session, counsellor, "Someone else")
    cancel(session, counsellor, other.id)
    mine = personal_data_export(session, user=session.get(User, counsellor))["invitations_created"]
    assert {row["label"] for row in mine} == {"Sam from the Tuesday group", "Someone else"}
    assert [row["cancelled_at"] is not None for row in sorted(mine, key=lambda row: row["label"])] == [False, True]
    clients = personal_data_export(session, user=session.get(User, learner))
    assert "Tuesday group" not in repr(clients)


def outcomes(session, counsellor_id: int, now=None) -> list[tuple[str | None, str, int | None]]:
    found = recent_invitation_outcomes(session, counsellor=session.get(User, counsellor_id), now=now)
    return [(ended.invitation.label, ended.outcome, ended.client_id) for ended in found]


def test_invitations_that_ended_are_listed_with_how_latest_first(
    session, counsellor, other_counsellor, learner, other_learner
):
    waiting, _ = invite(session, counsellor, "Waiting")
    accepted, accepted_code = invite(session, counsellor, "Accepted")
    respond(session, accepted_code, learner)
    declined, declined_code = invite(session, counsellor, "Declined")
    respond(session, declined_code, other_learner, accept=False)
    cancelled, _ = invite(session, counsellor, "Cancelled")
    cancel(session, counsellor, cancelled.id)
    expired, _ = invite(session, counsellor, "Expired")
    # Each ended a day apart, oldest first, so the order is how they ended, not how they were made.
    now = utcnow()
    for days_ago, (invitation, column) in zip(
        range(5, 1, -1),
        [(expired, "expires_at"), (accepted, "used_at"), (declined, "used_at"), (cancelled, "cancelled_at")],
        strict=True,
    ):
        setattr(invitation, column, now - timedelta(days=days_ago))
    invite(session, other_counsellor, "Not theirs")[0].expires_at = now - timedelta(days=1)
    session.commit()
    assert outcomes(session, counsellor, now) == [
        ("Cancelled", "cancelled", None),
        ("Declined", "declined", None),  # never who declined
        ("Accepted", "accepted", learner),
        ("Expired", "expired", None),
    ]


def test_an_accepted_invitation_links_its_client_only_while_they_share(session, counsellor, learner):
    invitation, code = invite(session, counsellor, "Sam")
    link = respond(session, code, learner)
    assert outcomes(session, counsellor) == [("Sam", "accepted", learner)]
    link_revoke(session, learner=session.get(User, learner), link_id=link.id)
    assert outcomes(session, counsellor) == [("Sam", "accepted", None)]


def test_outcomes_older_than_the_window_are_left_off(session, counsellor):
    old, _ = invite(session, counsellor, "Old")
    old.expires_at = utcnow() - OUTCOMES_KEPT - timedelta(minutes=1)
    recent, _ = invite(session, counsellor, "Recent")
    recent.expires_at = utcnow() - OUTCOMES_KEPT + timedelta(minutes=1)
    session.commit()
    assert outcomes(session, counsellor) == [("Recent", "expired", None)]


def test_a_decline_from_someone_who_still_shares_says_since_when(session, counsellor, learner, other_learner):
    _, first_code = invite(session, counsellor, "First")
    link = respond(session, first_code, learner)
    _, second_code = invite(session, counsellor, "Second")
    respond(session, second_code, learner, accept=False)  # declining a second invitation stops nothing
    _, third_code = invite(session, counsellor, "Not sharing")
    respond(session, third_code, other_learner, accept=False)
    found = {
        ended.invitation.label: ended
        for ended in recent_invitation_outcomes(session, counsellor=session.get(User, counsellor))
    }

    assert found["Second"].shares_since == link.created_at and found["Second"].shared_before_declining
    assert found["Second"].shares_by_invitation
    assert found["Second"].client_id is None  # still never who declined
    assert found["Not sharing"].shares_since is None and not found["Not sharing"].shared_before_declining
    assert found["First"].shares_since is None  # an accepted one links its client instead
    link_revoke(session, learner=session.get(User, learner), link_id=link.id)
    [second] = [
        e
        for e in recent_invitation_outcomes(session, counsellor=session.get(User, counsellor))
        if e.invitation.label == "Second"
    ]
    assert second.shares_since is None


def test_a_decline_before_sharing_through_a_later_invitation_says_nothing_of_the_sharing(session, counsellor, learner):
    """Beside the later "accepted" it would name who declined, whom the consent page promised only "declined"."""
    _, declined_code = invite(session, counsellor, "Declined first")
    respond(session, declined_code, learner, accept=False)
    _, accepted_code = invite(session, counsellor, "Accepted later")
    link = respond(session, accepted_code, learner)
    [declined] = [
        e
        for e in recent_invitation_outcomes(session, counsellor=session.get(User, counsellor))
        if e.outcome == "declined"
    ]
    assert link is not None
    assert declined.shares_since is None and not declined.shared_before_declining


@pytest.fixture
def admin(app) -> int:
    return create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada Admin")


def test_sharing_through_a_link_an_admin_made_is_not_called_an_invitation(admin, session, counsellor, learner):
    from app.services.user_admin import learner_link_counsellor

    link, _ = learner_link_counsellor(
        session, actor=session.get(User, admin), learner=session.get(User, learner), counsellor_id=counsellor
    )
    _, code = invite(session, counsellor, "Declined")
    respond(session, code, learner, accept=False)
    [declined] = recent_invitation_outcomes(session, counsellor=session.get(User, counsellor))
    assert declined.shares_since == link.created_at and declined.shared_before_declining
    assert not declined.shares_by_invitation
