"""A client's answer to a handover request is respected (app/services/handover.py): a "no" is not
asked again, two asks at once make one request, and the colleague, who was promised nothing,
learns nothing of an answer from their data."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import HandoverRequest, User
from app.models.types import utcnow
from app.services.handover import handover_request, handover_respond
from app.services.personal_data import ASKED_CLIENT, personal_data_export
from app.services.sharing import INVITATION_LIFETIME
from tests.row_locks import wait_until_blocked
from tests.services.test_handover import ask, people, requests  # noqa: F401 - people is a fixture


def decline(session, people, name: str) -> HandoverRequest:  # noqa: F811 - the fixture
    request = session.scalar(select(HandoverRequest).where(HandoverRequest.learner_id == people[name].id))
    return handover_respond(session, learner=people[name], request_id=request.id, accept=False)


def test_a_client_who_said_no_is_not_asked_again_for_that_colleague(session, people):  # noqa: F811 - the fixture
    ask(session, people, learner_ids=[people["lee"].id])
    decline(session, people, "lee")
    again = ask(session, people)  # Lee and Sam chosen: Sam is asked, Lee's "no" stands
    assert (again.created, again.already_asked, again.already_declined) == (1, 0, 1)
    assert [r.learner_id for r in requests(session) if r.answered_at is None] == [people["sam"].id]
    by_the_clinic = ask(session, people, actor="ada", learner_ids=[people["lee"].id])  # nor by an admin for Casey
    assert (by_the_clinic.created, by_the_clinic.already_declined) == (0, 1)
    assert len(requests(session)) == 2


def test_the_colleague_is_not_told_how_a_client_they_do_not_see_answered(session, people):  # noqa: F811 - the fixture
    ask(session, people)
    decline(session, people, "lee")
    sam = session.scalar(select(HandoverRequest).where(HandoverRequest.learner_id == people["sam"].id))
    handover_respond(session, learner=people["sam"], request_id=sam.id, accept=True)
    rows = personal_data_export(session, user=people["olive"])["handover_requests_to_share_with_me"]
    answers = sorted((row["client"], row["accepted"], row["answered_at"] is not None) for row in rows)
    # Sam said yes and shares with Olive now, so is named with the answer; Lee said no, which Olive was
    # never to learn, nor that Lee was asked.
    assert answers == [(ASKED_CLIENT, None, False), ("Sam", True, True)]


def test_two_asks_at_once_make_one_request(session, people):  # noqa: F811 - the fixture
    """A double click on "Ask", or an admin and the counsellor at once: the second waits on the
    colleague's row, then finds the first one's request waiting (PostgreSQL; SQLite serialises writers)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race is PostgreSQL's")
    engine = session.get_bind()
    casey, olive, lee = people["casey"].id, people["olive"].id, people["lee"].id
    with Session(engine) as first, Session(engine) as second, ThreadPoolExecutor(1) as pool:
        # The first ask, under way: its colleague read as the service reads it, its request not yet committed.
        first.execute(select(User.id).where(User.id == olive).with_for_update())
        now = utcnow()
        first.add(
            HandoverRequest(
                learner_id=lee,
                counsellor_id=olive,
                from_counsellor_id=casey,
                requested_by_id=casey,
                created_at=now,
                expires_at=now + INVITATION_LIFETIME,
            )
        )
        first.flush()
        actor = second.get(User, casey)
        waiting = pool.submit(
            handover_request, second, actor=actor, from_counsellor=actor, to_counsellor_id=olive, learner_ids=[lee]
        )
        wait_until_blocked(engine, waiting, behind=first, what="the second ask")
        first.commit()
        result = waiting.result(timeout=10)
    assert (result.created, result.already_asked) == (0, 1)
    assert len(requests(session)) == 1
