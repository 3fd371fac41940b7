"""/me/ over HTTP (CSRF on) when someone the learner shares with is no longer a counsellor: the
sharing stays (app/services/handover.py), so the item says what it means now, its "Stop sharing"
button kept; the "your data" page says the same."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CounsellorLink, Role, User
from app.services.user_admin import user_deactivate, user_role_change
from tests.conftest import create_user, csrf_token, visible_text

GONE = "Casey is no longer a counsellor here, so they do not see your progress. You can stop sharing with them."
ADMIN = (
    "Casey is one of the clinic's site administrators, who can see anyone's progress, "
    "so stopping sharing does not change what they can see."
)


@pytest.fixture
def casey(app, learner) -> int:
    """Casey, a counsellor the learner shares with; Ada, an admin, to change Casey's account."""
    casey_id = create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey")
    create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada")
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=casey_id, learner_id=learner, created_by_id=learner))
        db.session.commit()
        db.session.remove()
    return casey_id


def change(app, casey: int, how: str) -> None:
    """What an admin does to Casey's account: another role, or deactivated."""
    with app.app_context():
        ada = db.session.scalars(select(User).where(User.email == "ada@example.org")).one()
        account = db.session.get(User, casey)
        if how == "deactivated":
            user_deactivate(db.session, actor=ada, user=account)
        else:
            user_role_change(db.session, actor=ada, user=account, role=how)
        db.session.remove()


def sharing_section(page: str) -> str:
    """What /me/'s "Who you share your progress with" says, as text."""
    return html.unescape(visible_text(page.split('id="sharing"')[1].split("</section>")[0]))


def test_a_counsellor_shared_with_gets_no_note(learner_client, casey):
    said = sharing_section(learner_client.get("/me/").get_data(as_text=True))

    assert "Stop sharing with Casey" in said
    assert "no longer a counsellor" not in said and "site administrators" not in said


@pytest.mark.parametrize("how", [Role.LEARNER, "deactivated"])
def test_one_no_longer_a_counsellor_is_said_not_to_see_it_and_can_still_be_stopped(learner_client, app, casey, how):
    change(app, casey, how)

    said = sharing_section(learner_client.get("/me/").get_data(as_text=True))
    assert GONE in said and "Stop sharing with Casey" in said

    link_id = next(iter(links_of(app, casey)))
    token = csrf_token(learner_client, "/me/")
    stopped = learner_client.post(f"/me/sharing/{link_id}/stop", data={"csrf_token": token}, follow_redirects=True)
    assert stopped.status_code == 200
    page = stopped.get_data(as_text=True)
    assert "You have stopped sharing your progress with Casey." in html.unescape(visible_text(page))
    assert "Casey" not in sharing_section(page)
    assert not links_of(app, casey)


def test_an_admin_is_said_to_see_it_whether_shared_or_not(learner_client, app, casey):
    change(app, casey, Role.ADMIN)

    said = sharing_section(learner_client.get("/me/").get_data(as_text=True))

    assert ADMIN in said and "Stop sharing with Casey" in said
    assert GONE not in said


def test_without_the_csrf_token_the_sharing_stays(learner_client, app, casey):
    change(app, casey, Role.LEARNER)
    link_id = next(iter(links_of(app, casey)))

    assert learner_client.post(f"/me/sharing/{link_id}/stop").status_code == 400
    assert links_of(app, casey) == {link_id}


@pytest.mark.parametrize(
    ("how", "words"),
    [
        (Role.LEARNER, "No longer a counsellor here, so they do not see your progress."),
        (Role.ADMIN, "One of the clinic's site administrators, who can see anyone's progress"),
    ],
)
def test_the_data_page_says_the_same(learner_client, app, casey, how, words):
    change(app, casey, how)

    data = html.unescape(learner_client.get("/me/data").get_data(as_text=True))

    assert f"<dt>The counsellor now</dt><dd>{words}" in data


def links_of(app, counsellor: int) -> set[int]:
    """The ids of the counsellor's live links."""
    with app.app_context():
        ids = set(
            db.session.scalars(
                select(CounsellorLink.id).where(
                    CounsellorLink.counsellor_id == counsellor, CounsellorLink.revoked_at.is_(None)
                )
            )
        )
        db.session.remove()
        return ids
