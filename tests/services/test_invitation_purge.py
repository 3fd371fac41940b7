"""The nightly clear-out of ended invitations: past ``OUTCOMES_KEPT`` a counsellor's label (often a
client's name) does not stay for ever; only a declined invitation whose learner still has an
account is kept, without its label, because it stops an admin linking them (``_said_no``)."""

from datetime import timedelta

import pytest

from app.models import CounsellorLink, Invitation, Role, User
from app.models.types import utcnow
from app.services.personal_data import account_delete, personal_data_export
from app.services.sharing import (
    OUTCOMES_KEPT,
    active_link,
    invitation_cancel,
    invitation_create,
    invitation_respond,
    invitations_purge,
)
from app.services.user_admin import LinkRefused, learner_link_counsellor
from tests.conftest import PASSWORD, create_user

SECRET = "test-secret-key"
LONG_AGO = OUTCOMES_KEPT + timedelta(minutes=1)
LATELY = OUTCOMES_KEPT - timedelta(minutes=1)


@pytest.fixture
def counsellor(app) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


def ended(session, counsellor_id: int, label: str, how: str, ago: timedelta, learner_id: int | None = None) -> int:
    """An invitation labelled ``label`` that ended ``ago`` (expired, cancelled, accepted or declined); its id."""
    invitation, code = invitation_create(
        session, counsellor=session.get(User, counsellor_id), secret_key=SECRET, label=label
    )
    at = utcnow() - ago
    invitation.created_at = at - timedelta(days=1)
    if how == "expired":
        invitation.expires_at = at
    elif how == "cancelled":
        invitation_cancel(session, counsellor=session.get(User, counsellor_id), invitation_id=invitation.id)
        invitation.cancelled_at = at
    else:
        learner = session.get(User, learner_id)
        invitation_respond(session, code=code, learner=learner, accept=how == "accepted", secret_key=SECRET)
        invitation.used_at = at
    session.commit()
    return invitation.id


def labels(session) -> dict[int, str | None]:
    """Each invitation left, by id, with its label."""
    session.expire_all()
    return {i.id: i.label for i in session.query(Invitation).all()}


def test_what_ended_long_ago_is_deleted_and_a_declined_one_keeps_only_its_rule(
    app, session, counsellor, learner, other_learner
):
    gone = [
        ended(session, counsellor, "Sam expired", "expired", LONG_AGO),
        ended(session, counsellor, "Sam cancelled", "cancelled", LONG_AGO),
        ended(session, counsellor, "Lee accepted", "accepted", LONG_AGO, learner),
    ]
    declined = ended(session, counsellor, "Fred declined", "declined", LONG_AGO, other_learner)
    recent = [
        ended(session, counsellor, f"Recent {how}", how, LATELY, learner if how == "accepted" else other_learner)
        for how in ("expired", "cancelled", "accepted", "declined")
    ]
    waiting, _ = invitation_create(
        session, counsellor=session.get(User, counsellor), secret_key=SECRET, label="Still waiting"
    )

    assert invitations_purge(session, now=utcnow()) == (3, 1)

    left = labels(session)
    assert set(left) == {declined, *recent, waiting.id} and not set(gone) & set(left)
    assert left[declined] is None
    assert [left[i] for i in recent] == ["Recent expired", "Recent cancelled", "Recent accepted", "Recent declined"]
    assert left[waiting.id] == "Still waiting"
    # Sharing is the link's record, not the invitation's: the learner who accepted still shares.
    assert active_link(session, counsellor_id=counsellor, learner_id=learner) is not None
    assert invitations_purge(session, now=utcnow()) == (0, 0)  # nothing more, nothing twice


def test_the_declined_one_kept_still_stops_an_admin_linking_the_learner(app, session, counsellor, other_learner):
    ended(session, counsellor, "Fred", "declined", LONG_AGO, other_learner)
    invitations_purge(session, now=utcnow())
    admin = session.get(User, create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin"))
    with pytest.raises(LinkRefused, match="declined sharing with Casey Counsellor"):
        learner_link_counsellor(
            session, actor=admin, learner=session.get(User, other_learner), counsellor_id=counsellor
        )
    assert session.query(CounsellorLink).count() == 0


def test_a_declined_one_whose_learner_is_gone_is_deleted(app, session, counsellor, other_learner):
    declined = ended(session, counsellor, "Fred", "declined", LONG_AGO, other_learner)
    account_delete(session, user=session.get(User, other_learner), password=PASSWORD)
    assert invitations_purge(session, now=utcnow()) == (1, 0)
    assert declined not in labels(session)


def test_the_data_downloads_show_what_is_left(app, session, counsellor, learner, other_learner):
    ended(session, counsellor, "Sam", "expired", LONG_AGO)
    ended(session, counsellor, "Lee", "accepted", LONG_AGO, learner)
    ended(session, counsellor, "Fred", "declined", LONG_AGO, other_learner)
    invitations_purge(session, now=utcnow())
    created = personal_data_export(session, user=session.get(User, counsellor))["invitations_created"]
    assert [(i["accepted"], i["label"]) for i in created] == [(False, None)]
    assert personal_data_export(session, user=session.get(User, learner))["invitations_answered"] == []
    [answered] = personal_data_export(session, user=session.get(User, other_learner))["invitations_answered"]
    assert (answered["from"], answered["accepted"]) == ("Casey Counsellor", False)
