"""A client whose account an admin deactivated: still on the counsellor's list, with their figures,
and marked "deactivated" by the dashboard's own read, in every shape of it."""

from __future__ import annotations

import pytest

from app.models import Role, User
from app.services.dashboard import DashboardQuery, client_row, dashboard_export_rows, flag_labels
from app.services.progress import course_by_slug
from app.services.user_admin import user_deactivate, user_reactivate
from tests.conftest import create_user
from tests.services.test_dashboard import add_clients, counsellor, counted_page, lessons, page_for, take_quiz

__all__ = ["counsellor", "lessons"]  # fixtures

DEACTIVATED = "deactivated"  # the code the API's flags give it (dashboard.DEACTIVATED)


@pytest.fixture
def admin(app) -> int:
    return create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")


def deactivate(session, admin_id: int, user_id: int) -> None:
    assert user_deactivate(session, actor=session.get(User, admin_id), user=session.get(User, user_id))


@pytest.fixture
def ann_and_bob(session, course, counsellor, lessons, admin) -> dict[str, int]:
    """Two clients who each failed the first quiz three times (struggling, and a safety concern: its
    wrong answers include a safety-critical one); Bob's account is then deactivated."""
    ann, bob = add_clients(session, counsellor, ["Ann", "Bob"])
    for learner in (ann, bob):
        take_quiz(session, learner, lessons[0], right=False, times=3)
    deactivate(session, admin, bob)
    return {"Ann": ann, "Bob": bob}


@pytest.mark.parametrize(
    "query",
    [{}, {"sort": "flags", "descending": True}, {"flag": "struggling"}, {"sort": "last_active"}, {"search": "b"}],
)
def test_a_deactivated_client_stays_listed_with_their_figures_and_is_marked(
    session, course, counsellor, ann_and_bob, query
):
    rows = {row.name: row for row in page_for(session, counsellor, course, **query).rows}

    assert rows["Bob"].flags == {DEACTIVATED, "struggling", "safety"}  # their history still counts
    assert rows["Bob"].quiz_average == 0 and rows["Bob"].last_active is not None
    assert "Ann" not in rows or rows["Ann"].flags == {"struggling", "safety"}


def test_an_admin_sees_the_mark_on_their_list_of_every_learner(session, course, admin, ann_and_bob):
    rows = {row.name: row.flags for row in page_for(session, admin, course).rows}
    assert DEACTIVATED in rows["Bob"] and DEACTIVATED not in rows["Ann"]


def test_the_client_page_and_the_download_read_the_same_mark(session, course, counsellor, lessons, ann_and_bob):
    viewer, course_row = session.get(User, counsellor), course_by_slug(session, course)

    bob = ann_and_bob["Bob"]
    one = client_row(session, viewer=viewer, course=course_row, learner_id=bob, lesson_count=len(lessons))
    exported = dashboard_export_rows(session, viewer=viewer, course=course_row, query=DashboardQuery())

    assert one is not None and one.flags == {DEACTIVATED, "struggling", "safety"}
    assert {row.name: row.flags for row in exported} == {
        "Ann": {"struggling", "safety"},
        "Bob": {DEACTIVATED, "struggling", "safety"},
    }


def test_reactivating_the_account_takes_the_mark_away(session, course, counsellor, admin, ann_and_bob):
    bob = session.get(User, ann_and_bob["Bob"])
    assert user_reactivate(session, actor=session.get(User, admin), user=bob)
    rows = {row.name: row.flags for row in page_for(session, counsellor, course).rows}
    assert rows["Bob"] == {"struggling", "safety"}


def test_deactivated_is_not_a_filter(session, course, counsellor, ann_and_bob):
    """Not one of the flags to filter by: asked for, it is ignored, as any unknown flag is."""
    assert [row.name for row in page_for(session, counsellor, course, flag=DEACTIVATED).rows] == ["Ann", "Bob"]


def test_its_words_come_first_among_the_flags(app):
    assert list(flag_labels()) == [DEACTIVATED, "safety", "struggling", "inactive", "finished"]
    assert flag_labels()[DEACTIVATED] == "Account deactivated"


@pytest.mark.parametrize("query", [{}, {"sort": "flags"}])
def test_a_deactivated_client_costs_the_dashboard_no_query(app, session, course, counsellor, admin, query):
    """The mark is a column of the read that lists the clients, not a read of its own."""
    ann, bob = add_clients(session, counsellor, ["Ann", "Bob"])
    before, _ = counted_page(app, counsellor, course, **query)
    deactivate(session, admin, bob)
    after, page = counted_page(app, counsellor, course, **query)
    assert {row.name: DEACTIVATED in row.flags for row in page.rows} == {"Ann": False, "Bob": True}
    assert after == before, (before, after)
