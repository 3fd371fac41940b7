"""The personal-data export loads what it needs in a fixed number of queries, whatever the caseload."""

from __future__ import annotations

import secrets
from datetime import timedelta

from app.extensions import db
from app.models import CounsellorLink, Invitation, ProgressView, Role, User
from app.models.types import utcnow
from app.services.personal_data import personal_data_export
from tests.conftest import count_queries


def add_clients(session, counsellor: User, numbers: range) -> None:
    """Link learners to the counsellor, each invited, each viewed once."""
    now = utcnow()
    for number in numbers:
        learner = User(email=f"l{number}@example.org", display_name=f"Learner {number}", password_hash="x")
        session.add(learner)
        session.flush()
        session.add(CounsellorLink(counsellor_id=counsellor.id, learner_id=learner.id, created_by_id=counsellor.id))
        session.add(
            Invitation(
                counsellor_id=counsellor.id,
                code_hash=secrets.token_hex(16),
                expires_at=now + timedelta(days=14),
                used_at=now,
                accepted=True,
                used_by_id=learner.id,
            )
        )
        session.add(ProgressView(viewer_id=counsellor.id, learner_id=learner.id, viewer_role="counsellor"))
    session.commit()


def export_queries(session, counsellor: User) -> tuple[dict, int]:
    session.expire_all()
    with count_queries(db.engine) as queries:
        data = personal_data_export(session, user=counsellor)
    return data, queries()


def test_the_export_costs_the_same_queries_for_1_or_12_clients(session):
    counsellor = User(email="c@example.org", display_name="Casey", password_hash="x", role=Role.COUNSELLOR.value)
    session.add(counsellor)
    session.commit()
    add_clients(session, counsellor, range(1))
    _, with_one = export_queries(session, counsellor)

    add_clients(session, counsellor, range(1, 12))
    data, with_twelve = export_queries(session, counsellor)

    assert [c["client"] for c in data["clients"]] == [f"Learner {n}" for n in range(12)]
    assert {v["learner"] for v in data["progress_i_viewed"]} == {f"Learner {n}" for n in range(12)}
    assert with_twelve == with_one
