"""Handing a caseload over tells the old counsellor (and an admin for them) nothing of whom else a
client shares with (app/services/handover.py): a client who already shares with the colleague is
asked as any other, so the result, the list of answers, the audit entry and the data downloads read
the same for them as for one who does not; their /me/ does not ask them, and the colleague's
download names neither."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import AuditEvent, CounsellorLink, HandoverRequest, Role, User
from app.models.types import utcnow
from app.services.handover import handover_request, handover_respond, handover_statuses
from app.services.personal_data import ASKED_CLIENT, personal_data_export
from app.services.sharing import INVITATION_LIFETIME, active_link, learner_sharing_overview, link_revoke
from tests.conftest import create_user
from tests.services.test_handover import ask, people, requests  # noqa: F401 - people is a fixture


@pytest.fixture
def sam_shares_with_olive(session, people):  # noqa: F811 - the fixture
    """Sam shares with Olive already (an invitation of hers, accepted); Lee does not."""
    session.add(CounsellorLink(counsellor_id=people["olive"].id, learner_id=people["sam"].id))
    session.commit()
    return people


def statuses(session, people, *, viewer="casey", now=None) -> dict[str, str]:  # noqa: F811 - the fixture
    return {
        s.client_name: s.status
        for s in handover_statuses(session, viewer=people[viewer], from_counsellor=people["casey"], now=now)
    }


def without_client(rows: list[dict]) -> list[dict]:
    """The rows of a data download with the client's name left out, to compare two clients' rows."""
    return [{key: value for key, value in row.items() if key != "client"} for row in rows]


@pytest.mark.parametrize("actor", ["casey", "ada"])
def test_asking_reads_the_same_for_a_client_who_shares_with_the_colleague_already(
    session, sam_shares_with_olive, actor
):
    people = sam_shares_with_olive  # noqa: F811 - the fixture
    sam, lee = people["sam"].id, people["lee"].id
    now = utcnow()  # one time for both, so that their rows in the downloads can be compared whole
    first = ask(session, people, actor=actor, learner_ids=[sam], now=now)
    assert first == ask(session, people, actor=actor, learner_ids=[lee], now=now)
    assert first.created == 1
    again = ask(session, people, actor=actor, learner_ids=[sam], now=now)
    assert again == ask(session, people, actor=actor, learner_ids=[lee], now=now)
    assert (again.created, again.already_asked) == (0, 1)
    for viewer in ("casey", "ada"):
        assert statuses(session, people, viewer=viewer) == {"Sam": "waiting", "Lee": "waiting"}
    after_expiry = utcnow() + INVITATION_LIFETIME + timedelta(minutes=1)
    assert statuses(session, people, now=after_expiry) == {"Sam": "expired", "Lee": "expired"}
    # The old counsellor's download, and the admin's entry on their account (which is in it too).
    casey_data = personal_data_export(session, user=people["casey"])
    sam_row, lee_row = sorted(casey_data["handover_requests_for_my_clients"], key=lambda row: row["client"])
    assert without_client([sam_row]) == without_client([lee_row]) != []
    audited = [] if actor == "casey" else [{"counsellor_id": people["olive"].id, "asked": 1}] * 2
    assert list(session.scalars(select(AuditEvent.details).order_by(AuditEvent.id))) == audited
    assert [entry["details"] for entry in casey_data["admin_actions_on_my_account"]] == audited


def test_the_client_who_shares_already_is_not_asked_on_their_page_and_nothing_changes(session, sam_shares_with_olive):
    people = sam_shares_with_olive  # noqa: F811 - the fixture
    ask(session, people)
    assert learner_sharing_overview(session, learner=people["sam"]).handovers == []
    assert [h.colleague_name for h in learner_sharing_overview(session, learner=people["lee"]).handovers] == ["Olive"]
    link = active_link(session, counsellor_id=people["olive"].id, learner_id=people["sam"].id)
    assert link is not None and link.created_by_id is None  # the link made before, untouched
    # Stopping sharing with Olive while Casey's request waits: the request, a real one, is theirs to answer.
    link_revoke(session, learner=people["sam"], link_id=link.id)
    [waiting] = learner_sharing_overview(session, learner=people["sam"]).handovers
    assert (waiting.colleague_name, waiting.from_name) == ("Olive", "Casey")


def test_the_colleague_is_not_told_who_was_asked_until_they_say_yes(session, sam_shares_with_olive):
    """Olive sees Sam, so a row naming Sam would tell her Sam shares with Casey: no client is named to
    her unless they accepted that request and share with her now."""
    people = sam_shares_with_olive  # noqa: F811 - the fixture
    ask(session, people)  # Sam and Lee at once: one time for both
    rows = personal_data_export(session, user=people["olive"])["handover_requests_to_share_with_me"]
    assert [(row["client"], row["accepted"]) for row in rows] == [(ASKED_CLIENT, None)] * 2
    assert without_client(rows[:1]) == without_client(rows[1:])
    lee_request = next(r for r in requests(session) if r.learner_id == people["lee"].id)
    handover_respond(session, learner=people["lee"], request_id=lee_request.id, accept=True)
    rows = personal_data_export(session, user=people["olive"])["handover_requests_to_share_with_me"]
    assert sorted((row["client"], row["accepted"]) for row in rows) == [(ASKED_CLIENT, None), ("Lee", True)]


def test_a_request_from_another_caseload_does_not_keep_this_one_from_asking(app, session, people):  # noqa: F811
    """That another counsellor's request to the colleague waits would tell this one the client sees them too."""
    carl = create_user(app, "carl@example.org", role=Role.COUNSELLOR, name="Carl")
    session.add(CounsellorLink(counsellor_id=carl, learner_id=people["lee"].id))
    session.commit()
    carl_user = session.get(User, carl)
    handover_request(
        session, actor=carl_user, from_counsellor=carl_user, to_counsellor_id=people["olive"].id, learner_ids=None
    )
    assert ask(session, people, learner_ids=[people["lee"].id]) == ask(session, people, learner_ids=[people["sam"].id])
    assert statuses(session, people) == {"Sam": "waiting", "Lee": "waiting"}
    assert sorted(r.from_counsellor_id for r in session.scalars(select(HandoverRequest))) == sorted(
        [carl, people["casey"].id, people["casey"].id]
    )
