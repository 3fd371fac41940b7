"""The counsellor's label on a live link, changed after the client accepted: the invitation's rule
for what a label may be, and only on the counsellor's own live link."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import CounsellorLink, Role, User
from app.models.types import utcnow
from app.services.errors import ValidationError
from app.services.link_labels import link_label_change
from app.services.sharing import LABEL_MAX_LENGTH, link_end_by_counsellor
from tests.conftest import create_user
from tests.row_locks import wait_for_a_blocked_statement


@pytest.fixture
def people(app, learner) -> dict[str, int]:
    return {
        "learner": learner,
        "counsellor": create_user(app, "casey@example.org", role=Role.COUNSELLOR),
        "other": create_user(app, "olive@example.org", role=Role.COUNSELLOR),
    }


@pytest.fixture
def link(session, people) -> CounsellorLink:
    row = CounsellorLink(
        counsellor_id=people["counsellor"], learner_id=people["learner"], created_by_id=people["learner"], label="Sam"
    )
    session.add(row)
    session.commit()
    return row


def change(session, people, label: str | None, *, who: str = "counsellor") -> str | None:
    return link_label_change(
        session, counsellor=session.get(User, people[who]), learner_id=people["learner"], label=label
    )


def label_now(session, link: CounsellorLink) -> str | None:
    session.expire_all()
    return session.get(CounsellorLink, link.id).label


def test_a_label_is_stored_on_one_line_trimmed_and_none_when_empty(session, people, link):
    assert change(session, people, "  Tuesday \n group ") == "Tuesday group"
    assert label_now(session, link) == "Tuesday group"
    assert change(session, people, "   ") is None and label_now(session, link) is None
    assert change(session, people, "Back again") == "Back again"
    assert change(session, people, None) is None and label_now(session, link) is None


def test_too_long_a_label_is_refused_as_on_an_invitation(session, people, link):
    with pytest.raises(ValidationError) as refused:
        change(session, people, "x" * (LABEL_MAX_LENGTH + 1))
    assert refused.value.field == "label" and str(LABEL_MAX_LENGTH) in refused.value.message
    assert label_now(session, link) == "Sam"


def test_only_the_counsellors_own_live_link_is_labelled(session, people, link):
    with pytest.raises(LookupError):
        change(session, people, "Not mine", who="other")
    assert label_now(session, link) == "Sam"
    link_end_by_counsellor(session, counsellor=session.get(User, people["counsellor"]), learner_id=people["learner"])
    with pytest.raises(LookupError):
        change(session, people, "After the end")
    assert label_now(session, link) is None  # cleared when it ended, and not written back


def test_a_label_saved_as_the_client_stops_sharing_is_not_written_onto_the_ended_link(app, session, people, link):
    """PostgreSQL: the client's stop holds the link's row; the label's UPDATE waits for it, then
    finds the link ended (its WHERE read again) and changes nothing. Staged by waiting until the
    database shows the second statement blocked, not by a guessed sleep."""
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the row lock matters on PostgreSQL")
    link_id = link.id
    session.close()
    with Session(engine) as client, Session(engine) as counsellors, ThreadPoolExecutor(1) as pool:
        client.execute(
            update(CounsellorLink)
            .where(CounsellorLink.id == link_id, CounsellorLink.revoked_at.is_(None))
            .values(revoked_at=utcnow(), label=None)  # link_revoke's statement, not yet committed
        )
        counsellor = counsellors.get(User, people["counsellor"])
        counsellors.commit()
        saving = pool.submit(
            link_label_change, counsellors, counsellor=counsellor, learner_id=people["learner"], label="Too late"
        )
        wait_for_a_blocked_statement(engine, timeout=30, what="the label's update")
        client.commit()
        with pytest.raises(LookupError):
            saving.result(timeout=30)
    assert session.get(CounsellorLink, link_id).label is None
