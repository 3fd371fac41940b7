"""An admin downloads a person's data for them: the person's own export, recorded once as
``data_downloaded`` with no details, refused to anyone but an admin."""

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, ProgressView, Role, User
from app.services.personal_data import personal_data_export
from app.services.sharing import learner_sharing_overview
from app.services.user_admin import AccountGone, NotAllowed, user_data_download
from tests.conftest import create_user
from tests.row_locks import owner_deletes_while_admin_acts


@pytest.fixture
def admin(app) -> int:
    return create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")


def audit_rows(session) -> list[tuple]:
    return [
        tuple(row)
        for row in session.execute(
            select(AuditEvent.actor_id, AuditEvent.subject_id, AuditEvent.action, AuditEvent.details)
        )
    ]


def test_the_download_is_the_persons_own_export_with_this_download_in_it(session, admin, learner):
    data = user_data_download(session, actor=session.get(User, admin), user=session.get(User, learner))
    assert audit_rows(session) == [(admin, learner, "data_downloaded", {})]
    assert data == personal_data_export(session, user=session.get(User, learner))
    assert data["profile"]["email"] == "learner@example.org"
    assert [(a["action"], a["details"]) for a in data["admin_actions_on_my_account"]] == [("data_downloaded", {})]


def test_a_learners_data_downloaded_is_a_view_of_their_progress_on_their_page(session, admin, learner):
    """/me/ promises that every look at a learner's full progress is listed there: a download of all
    of it (every answer) was not."""
    data = user_data_download(session, actor=session.get(User, admin), user=session.get(User, learner))
    views = [
        tuple(row)
        for row in session.execute(select(ProgressView.viewer_id, ProgressView.learner_id, ProgressView.viewer_role))
    ]
    assert views == [(admin, learner, "admin")]
    assert [(view["viewer"], view["role"]) for view in data["views_of_my_progress"]] == [("Ada Admin", "admin")]
    [seen] = learner_sharing_overview(session, learner=session.get(User, learner)).views
    assert (seen.viewer_name, seen.viewer_role) == ("Ada Admin", "admin")


def test_a_staff_accounts_data_downloaded_is_no_view_of_progress(app, session, admin):
    casey = create_user(app, "casey@example.org", role=Role.COUNSELLOR)
    user_data_download(session, actor=session.get(User, admin), user=session.get(User, casey))
    assert session.scalar(select(func.count()).select_from(ProgressView)) == 0


def test_the_admin_sees_it_among_what_they_did(session, admin, learner):
    actor = session.get(User, admin)
    user_data_download(session, actor=actor, user=session.get(User, learner))
    mine = personal_data_export(session, user=actor)
    assert [a["action"] for a in mine["admin_actions_i_took"]] == ["data_downloaded"]
    assert mine["admin_actions_on_my_account"] == []


def test_an_admin_may_download_their_own(session, admin):
    actor = session.get(User, admin)
    data = user_data_download(session, actor=actor, user=actor)
    assert data["profile"]["email"] == "ada@example.org"
    assert audit_rows(session) == [(admin, admin, "data_downloaded", {})]


def test_only_an_admin_downloads_someone_elses_data(app, session, learner):
    counsellor = session.get(User, create_user(app, "casey@example.org", role=Role.COUNSELLOR))
    with pytest.raises(NotAllowed):
        user_data_download(session, actor=counsellor, user=session.get(User, learner))
    with pytest.raises(NotAllowed):
        user_data_download(session, actor=session.get(User, learner), user=session.get(User, learner))
    assert audit_rows(session) == []


def test_an_account_erased_meanwhile_is_gone_and_nothing_is_recorded(session, admin, learner):
    person = session.get(User, learner)  # loaded by the admin's request before the erasure
    with Session(session.get_bind()) as other:
        other.execute(delete(User).where(User.id == learner))
        other.commit()
    with pytest.raises(AccountGone):
        user_data_download(session, actor=session.get(User, admin), user=person)
    assert audit_rows(session) == []


def test_an_owner_deleting_their_account_while_an_admin_downloads_it_leaves_nothing_half_read(session, admin, learner):
    """PostgreSQL: the download waits on the account's row, then finds it gone, and records
    nothing (not a record pointing at nobody, nor a file of half the data)."""
    owner_deletes_while_admin_acts(session, user_data_download, admin=admin, learner=learner)
    assert audit_rows(session) == []
