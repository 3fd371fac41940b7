"""What the account a learner shares with is now (sharing.counsellor_now): taking the counsellor
role away, or deactivating the account, ends no sharing (app/services/handover.py), so /me/'s read
and the data download say what that sharing still means. Small factory data."""

import pytest
from sqlalchemy import select

from app.models import CounsellorLink, Role, User
from app.services.my_page import my_page
from app.services.personal_data import personal_data_export
from app.services.sharing import (
    NOT_COUNSELLING,
    SEES_EVERYONE,
    STILL_COUNSELS,
    learner_sharing_overview,
    link_revoke,
)
from app.services.user_admin import user_deactivate, user_role_change
from tests.conftest import count_queries, create_user


@pytest.fixture
def people(app, session):
    """Sam (a learner) shares with Casey and Olive, two counsellors; Ada is an admin."""
    ids = {
        "sam": create_user(app, "sam@example.org", name="Sam"),
        "casey": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
        "olive": create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive"),
        "ada": create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada"),
    }
    for counsellor in ("casey", "olive"):
        session.add(CounsellorLink(counsellor_id=ids[counsellor], learner_id=ids["sam"]))
    session.commit()
    return {name: session.get(User, user_id) for name, user_id in ids.items()}


def now_on_my_page(session, learner: User) -> dict[str, str]:
    """Each counsellor the learner shares with, by name, with what they are now, as /me/ reads it."""
    links = my_page(session, learner_id=learner.id, course_id=None).sharing.links
    return {link.counsellor_name: link.counsellor_now for link in links}


def change(session, people, how: str) -> None:
    """Take the counsellor role away from Casey, or deactivate Casey's account, as an admin does."""
    if how == "deactivated":
        user_deactivate(session, actor=people["ada"], user=people["casey"])
    else:
        user_role_change(session, actor=people["ada"], user=people["casey"], role=how)


def test_a_counsellor_sees_through_the_sharing(session, people):
    assert now_on_my_page(session, people["sam"]) == {"Casey": STILL_COUNSELS, "Olive": STILL_COUNSELS}


@pytest.mark.parametrize(
    ("how", "now"),
    [(Role.LEARNER, NOT_COUNSELLING), ("deactivated", NOT_COUNSELLING), (Role.ADMIN, SEES_EVERYONE)],
)
def test_the_sharing_stays_and_says_what_the_account_is_now(session, people, how, now):
    """Made a learner or deactivated, Casey sees nothing; made an admin, Casey sees every learner anyway."""
    change(session, people, how)

    assert now_on_my_page(session, people["sam"]) == {"Casey": now, "Olive": STILL_COUNSELS}
    # The sharing service's own overview reads the same rows.
    overview = learner_sharing_overview(session, learner=people["sam"])
    assert {link.counsellor_name: link.counsellor_now for link in overview.links} == {
        "Casey": now,
        "Olive": STILL_COUNSELS,
    }


def test_an_admin_deactivated_sees_nothing(session, people):
    change(session, people, Role.ADMIN)
    change(session, people, "deactivated")

    assert now_on_my_page(session, people["sam"])["Casey"] == NOT_COUNSELLING


def test_made_a_counsellor_again_they_see_through_the_sharing_again(session, people):
    change(session, people, Role.LEARNER)
    user_role_change(session, actor=people["ada"], user=people["casey"], role=Role.COUNSELLOR)

    assert now_on_my_page(session, people["sam"])["Casey"] == STILL_COUNSELS


def test_it_is_still_one_query(app, session, people):
    change(session, people, Role.LEARNER)
    learner_id = people["sam"].id
    session.expire_all()

    with count_queries(session.get_bind()) as counted:
        page = my_page(session, learner_id=learner_id, course_id=None)
    assert [link.counsellor_now for link in page.sharing.links] == [NOT_COUNSELLING, STILL_COUNSELS]
    assert counted() == 1


@pytest.mark.parametrize(
    ("how", "now"),
    [(Role.LEARNER, NOT_COUNSELLING), ("deactivated", NOT_COUNSELLING), (Role.ADMIN, SEES_EVERYONE)],
)
def test_the_data_download_says_the_same_while_the_sharing_lasts(session, people, how, now):
    """Each live sharing says what its counsellor is now, as /me/ does; a stopped one says nothing of it."""
    change(session, people, how)
    olive = session.scalars(select(CounsellorLink.id).where(CounsellorLink.counsellor_id == people["olive"].id)).one()
    link_revoke(session, learner=people["sam"], link_id=olive)

    sharing = personal_data_export(session, user=people["sam"])["sharing"]

    assert {(row["counsellor"], row["counsellor_now"]) for row in sharing} == {("Casey", now), ("Olive", None)}
    assert now_on_my_page(session, people["sam"]) == {"Casey": now}
