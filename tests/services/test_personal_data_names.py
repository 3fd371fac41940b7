"""A staff member's own data download names a learner only while they may see that learner now:
a client who stopped sharing was promised (on /join) that the counsellor sees nothing more, and
the name they go by since is part of that."""

import json

import pytest
from sqlalchemy import update

from app.models import CounsellorLink, ProgressView, Role, User
from app.models.types import utcnow
from app.services.personal_data import NOT_SHARED_NOW, STOPPED_SHARING, personal_data_export
from app.services.sharing import link_revoke
from tests.conftest import create_user


@pytest.fixture
def casey(app) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


def share(session, *, counsellor: int, learner: int) -> CounsellorLink:
    link = CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_by_id=learner)
    session.add(link)
    session.add(ProgressView(viewer_id=counsellor, learner_id=learner, viewer_role="counsellor"))
    session.commit()
    return link


def rename(session, user_id: int, name: str) -> None:
    session.execute(update(User).where(User.id == user_id).values(display_name=name))
    session.commit()


def test_a_client_who_stopped_sharing_and_renamed_is_not_named(app, session, casey):
    ann = create_user(app, "ann@example.org", name="Ann Active")
    bea = create_user(app, "bea@example.org", name="Bea Before")
    share(session, counsellor=casey, learner=ann)
    stopped = share(session, counsellor=casey, learner=bea)
    since = stopped.created_at
    link_revoke(session, learner=session.get(User, bea), link_id=stopped.id)
    rename(session, bea, "Bea Afterwards")

    data = personal_data_export(session, user=session.get(User, casey))

    # The counsellor's own record of the link stays: when it began and when it stopped.
    assert [c["client"] for c in data["clients"]] == ["Ann Active", STOPPED_SHARING]
    assert data["clients"][1]["since"] == since.isoformat() and data["clients"][1]["stopped"]
    assert [v["learner"] for v in data["progress_i_viewed"]] == ["Ann Active", STOPPED_SHARING]
    everything = json.dumps(data)
    assert "Bea" not in everything and "bea@example.org" not in everything


def test_a_client_who_shares_again_is_named_on_the_new_link_only(app, session, casey):
    bea = create_user(app, "bea@example.org", name="Bea")
    first = share(session, counsellor=casey, learner=bea)
    link_revoke(session, learner=session.get(User, bea), link_id=first.id)
    share(session, counsellor=casey, learner=bea)  # an invitation accepted later

    data = personal_data_export(session, user=session.get(User, casey))

    assert [c["client"] for c in data["clients"]] == [STOPPED_SHARING, "Bea"]
    assert [v["learner"] for v in data["progress_i_viewed"]] == ["Bea", "Bea"]  # sharing now: visible


def test_an_admin_names_the_learners_they_viewed_and_linked_but_not_once_no_longer_an_admin(app, session, casey):
    ada = create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    lee = create_user(app, "lee@example.org", name="Lee Learner")
    link = CounsellorLink(counsellor_id=casey, learner_id=lee, created_by_id=ada, revoked_at=utcnow())
    session.add_all([link, ProgressView(viewer_id=ada, learner_id=lee, viewer_role="admin")])
    session.commit()

    as_admin = personal_data_export(session, user=session.get(User, ada))
    assert [v["learner"] for v in as_admin["progress_i_viewed"]] == ["Lee Learner"]  # an admin sees every learner
    assert as_admin["links_made_for_others"][0]["client"] == "Lee Learner"

    session.execute(update(User).where(User.id == ada).values(role=Role.COUNSELLOR.value))
    session.commit()
    as_counsellor = personal_data_export(session, user=session.get(User, ada))
    assert [v["learner"] for v in as_counsellor["progress_i_viewed"]] == [NOT_SHARED_NOW]
    assert as_counsellor["links_made_for_others"][0]["client"] == NOT_SHARED_NOW
    assert as_counsellor["links_made_for_others"][0]["counsellor"] == "Casey Counsellor"
    assert "Lee" not in json.dumps(as_counsellor)


def test_a_learners_own_download_still_names_whom_they_shared_with(app, session, casey):
    bea = create_user(app, "bea@example.org", name="Bea")
    link = share(session, counsellor=casey, learner=bea)
    link_revoke(session, learner=session.get(User, bea), link_id=link.id)
    data = personal_data_export(session, user=session.get(User, bea))
    assert [s["counsellor"] for s in data["sharing"]] == ["Casey Counsellor"]
    assert [v["viewer"] for v in data["views_of_my_progress"]] == ["Casey Counsellor"]
