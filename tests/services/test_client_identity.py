"""What tells a counsellor's clients of one name apart (app/services/client_identity.py): the
invitation's label kept on the link, since when they share, and the rule of who has a namesake,
as the dashboard, its export and a client's own pages read them."""

import json

import pytest
from sqlalchemy import delete, select, update

from app.models import CounsellorLink, Invitation, Role, User
from app.services.dashboard import DashboardQuery, dashboard_export_rows
from app.services.personal_data import personal_data_export
from app.services.progress import course_by_slug, course_outline
from app.services.sharing import (
    invitation_create,
    invitation_respond,
    link_end_by_counsellor,
    link_revoke,
    viewable_client,
)
from tests.conftest import create_user
from tests.services.test_dashboard import add_clients, page_for, take_quiz

SECRET = "test-secret-key"


@pytest.fixture
def counsellor(app, course) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


@pytest.fixture
def lessons(session, course):
    outline = course_outline(session, course=course_by_slug(session, course), learner=None)
    return [entry.lesson for entry in outline.entries]


def accept(session, counsellor_id: int, learner_id: int, label: str | None = None) -> CounsellorLink:
    """The learner accepts an invitation from the counsellor, labelled ``label``."""
    _, code = invitation_create(session, counsellor=session.get(User, counsellor_id), secret_key=SECRET, label=label)
    link = invitation_respond(session, code=code, learner=session.get(User, learner_id), accept=True, secret_key=SECRET)
    assert link is not None
    return link


def by_name(rows) -> dict[str, tuple]:
    return {row.name: (row.label, row.namesake) for row in rows}


def test_the_invitations_label_goes_onto_the_link_and_stays_when_the_invitation_is_gone(session, counsellor):
    [sam] = add_clients(session, None, ["Sam"])
    link = accept(session, counsellor, sam, label="  Sam from the   Tuesday group ")
    session.execute(delete(Invitation))  # as the nightly purge does, 30 days after it was answered
    session.commit()
    session.expire_all()
    assert session.get(CounsellorLink, link.id).label == "Sam from the Tuesday group"


def test_accepting_again_fills_a_label_never_given_but_never_replaces_one(session, counsellor):
    [sam] = add_clients(session, counsellor, ["Sam"])  # a link made without an invitation: no label
    assert accept(session, counsellor, sam, label="Tuesday group").label == "Tuesday group"
    assert accept(session, counsellor, sam, label="Thursday group").label == "Tuesday group"
    assert accept(session, counsellor, sam).label == "Tuesday group"


@pytest.mark.parametrize("ended_by", ["client", "counsellor"])
def test_the_label_goes_when_the_link_ends(session, counsellor, ended_by):
    [sam] = add_clients(session, None, ["Sam"])
    link = accept(session, counsellor, sam, label="Sam from the Tuesday group")
    if ended_by == "client":
        link_revoke(session, learner=session.get(User, sam), link_id=link.id)
    else:
        link_end_by_counsellor(session, counsellor=session.get(User, counsellor), learner_id=sam)
    session.expire_all()
    assert session.scalar(select(CounsellorLink.label).where(CounsellorLink.id == link.id)) is None


def test_only_clients_whose_names_clash_in_any_case_are_namesakes_and_labels_show_always(
    app, session, counsellor, course
):
    sam, other_sam, alex = add_clients(session, None, ["Sam", "SAM", "Alex"])
    accept(session, counsellor, sam, label="Tuesday group")
    accept(session, counsellor, other_sam)
    accept(session, counsellor, alex, label="Referred by Dr Ng")
    # Another counsellor's Sam, and a Sam who stopped sharing, are nobody this counsellor sees.
    robin = create_user(app, "robin@example.org", role=Role.COUNSELLOR, name="Robin Counsellor")
    [robins_sam] = add_clients(session, robin, ["Sam"])
    [gone_sam] = add_clients(session, None, ["sam"])
    link_revoke(session, learner=session.get(User, gone_sam), link_id=accept(session, counsellor, gone_sam).id)

    page = page_for(session, counsellor, course)

    assert by_name(page.rows) == {
        "Alex": ("Referred by Dr Ng", False),
        "Sam": ("Tuesday group", True),
        "SAM": (None, True),
    }
    assert by_name(page_for(session, robin, course).rows) == {"Sam": (None, False)}
    since = {row.learner_id: row.sharing_since for row in page.rows}
    links = dict(
        session.execute(
            select(CounsellorLink.learner_id, CounsellorLink.created_at).where(
                CounsellorLink.counsellor_id == counsellor, CounsellorLink.revoked_at.is_(None)
            )
        ).all()
    )
    assert since == links and all(since.values())
    assert robins_sam not in since


def test_a_filter_that_shows_one_of_two_namesakes_still_says_it_has_one(session, counsellor, course, lessons):
    sam, other_sam = add_clients(session, counsellor, ["Sam", "Sam"])
    take_quiz(session, sam, lessons[0], right=False, times=3)

    [row] = page_for(session, counsellor, course, flag="struggling").rows
    assert (row.learner_id, row.namesake) == (sam, True)
    for sort in ("name", "progress", "last_active", "flags"):
        rows = page_for(session, counsellor, course, sort=sort).rows
        assert {row.learner_id: row.namesake for row in rows} == {sam: True, other_sam: True}, sort


def test_a_rename_makes_or_ends_a_clash(session, counsellor, course):
    sam, jo = add_clients(session, counsellor, ["Sam", "Jo"])
    assert [row.namesake for row in page_for(session, counsellor, course).rows] == [False, False]
    session.execute(update(User).where(User.id == jo).values(display_name="sam"))
    session.commit()
    assert [row.namesake for row in page_for(session, counsellor, course).rows] == [True, True]


def test_the_export_and_a_client_page_say_what_the_dashboard_says(app, session, counsellor, course):
    sam, other_sam, alex = add_clients(session, None, ["Sam", "Sam", "Alex"])
    accept(session, counsellor, sam, label="Tuesday group")
    accept(session, counsellor, other_sam)
    accept(session, counsellor, alex)
    viewer, course_row = session.get(User, counsellor), course_by_slug(session, course)

    exported = list(dashboard_export_rows(session, viewer=viewer, course=course_row, query=DashboardQuery()))
    shown = page_for(session, counsellor, course).rows

    def identity(row):
        return (row.learner_id, row.name, row.label, row.sharing_since, row.namesake)

    assert [identity(row) for row in exported] == [identity(row) for row in shown]
    for row in shown:
        assert identity(viewable_client(session, viewer=viewer, learner_id=row.learner_id)) == identity(row)


def test_an_admin_tells_apart_the_names_that_clash_on_the_page_with_no_label_but_their_own(
    app, session, counsellor, course
):
    """An admin's list is every learner: only names another row of the page has, in any case, carry
    the ID; a single client's page, with nobody beside them, always does."""
    sam, other_sam, alex = add_clients(session, None, ["Sam", "sAM", "Alex"])
    accept(session, counsellor, sam, label="Tuesday group")  # Casey's label: not the admin's to see
    admin = create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
    accept(session, admin, alex, label="Ada's own client")

    rows = {row.learner_id: row for row in page_for(session, admin, course).rows}
    assert (rows[sam].label, rows[sam].sharing_since, rows[sam].namesake) == (None, None, True)
    assert rows[other_sam].namesake
    assert (rows[alex].label, rows[alex].namesake) == ("Ada's own client", False)
    assert not any(row.namesake for row in page_for(session, admin, course, search="alex").rows)
    assert all(row.namesake for row in page_for(session, admin, course, search="sam").rows)
    client = viewable_client(session, viewer=session.get(User, admin), learner_id=alex)
    assert client is not None and (client.label, client.namesake) == ("Ada's own client", True)


def test_no_client_page_for_someone_not_shared_with(app, session, counsellor):
    [sam] = add_clients(session, None, ["Sam"])
    link = accept(session, counsellor, sam, label="Tuesday group")
    viewer = session.get(User, counsellor)
    assert viewable_client(session, viewer=viewer, learner_id=sam).label == "Tuesday group"
    link_revoke(session, learner=session.get(User, sam), link_id=link.id)
    assert viewable_client(session, viewer=viewer, learner_id=sam) is None


def test_the_counsellors_data_download_has_their_labels_and_the_clients_does_not(session, counsellor):
    [sam] = add_clients(session, None, ["Sam"])
    accept(session, counsellor, sam, label="Tuesday group")

    mine = personal_data_export(session, user=session.get(User, counsellor))
    theirs = personal_data_export(session, user=session.get(User, sam))

    assert [(c["client"], c["label"]) for c in mine["clients"]] == [("Sam", "Tuesday group")]
    assert "Tuesday group" not in json.dumps(theirs)
