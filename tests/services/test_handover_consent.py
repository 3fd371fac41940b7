"""A client's answer to a handover request is respected (app/services/handover.py): a "no" is not
asked again, and the colleague, who was promised nothing, learns nothing of it from their data."""

from sqlalchemy import select

from app.models import HandoverRequest
from app.services.handover import handover_respond
from app.services.personal_data import NOT_SHARED_NOW, personal_data_export
from tests.services.test_handover import ask, people, requests  # noqa: F401 - people is a fixture


def decline(session, people, name: str) -> HandoverRequest:  # noqa: F811 - the fixture
    request = session.scalar(select(HandoverRequest).where(HandoverRequest.learner_id == people[name].id))
    return handover_respond(session, learner=people[name], request_id=request.id, accept=False)


def test_a_client_who_said_no_is_not_asked_again_for_that_colleague(session, people):  # noqa: F811 - the fixture
    ask(session, people, learner_ids=[people["lee"].id])
    decline(session, people, "lee")
    again = ask(session, people)  # Lee and Sam chosen: Sam is asked, Lee's "no" stands
    assert (again.created, again.already_sharing, again.already_asked, again.already_declined) == (1, 0, 0, 1)
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
    # Sam shares with Olive now, so is named with the answer; Lee said no, which Olive was never to learn.
    assert answers == [(NOT_SHARED_NOW, None, False), ("Sam", True, True)]
