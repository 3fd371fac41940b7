"""Over HTTP with CSRF on: an admin taking the staff role away from a holder of contact requests, or
erasing their account, is told first how many go back to the queue; a holder deleting their own
account hands theirs back too; and the queue's card says why each came back."""

import html

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ContactRequest, Role, User
from tests.conftest import PASSWORD, create_user, csrf_token, visible_text
from tests.views.test_contact_queue import client_as, make_request, post

HANDED_BACK = (
    "The {n} open contact {what} they picked up {go} back to the clinic's queue for someone else to pick up, "
    "marked as handed back because {because}."
)


def said(response) -> str:
    return visible_text(html.unescape(response.get_data(as_text=True)))


@pytest.fixture
def staff(app, course):
    return {
        "counsellor": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
        "colleague": create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive"),
        "admin": create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada"),
    }


def held_by_casey(app, n: int) -> list[int]:
    casey = client_as(app, "casey@example.org")
    ids = [make_request(app) for _ in range(n)]
    for request_id in ids:
        assert post(casey, f"/counsel/requests/{request_id}/pick-up").status_code == 302
    return ids


def holder(app, request_id: int) -> int | None:
    with app.app_context():
        return db.session.scalar(select(ContactRequest.picked_up_by_id).where(ContactRequest.id == request_id))


def change_role(client, user_id: int, role: str, **extra):
    token = csrf_token(client, f"/author/users/{user_id}")
    return client.post(f"/author/users/{user_id}/role", data={"csrf_token": token, "role": role, **extra})


def test_making_a_holder_with_no_clients_a_learner_asks_first_saying_how_many_requests_go_back(app, staff):
    first, second = held_by_casey(app, 2)
    ada = client_as(app, "admin@example.org")
    asked = change_role(ada, staff["counsellor"], "learner")
    assert asked.status_code == 200
    page = said(asked)
    assert "Make Casey a learner?" in page and "Their contact requests go back to the queue" in page
    because = "they are no longer on the clinic's staff"
    assert HANDED_BACK.format(n=2, what="requests", go="go", because=because) in page
    assert "They stop seeing their clients' progress" not in page  # Casey has no clients
    assert holder(app, first) == staff["counsellor"]  # asking changes nothing
    assert change_role(ada, staff["counsellor"], "learner", confirm="yes").status_code == 302
    assert holder(app, first) is None and holder(app, second) is None
    queue = said(ada.get("/counsel/requests"))
    assert "the person who held it is no longer on the clinic's staff." in queue


def test_making_a_counsellor_who_holds_nothing_and_has_no_clients_a_learner_asks_nothing(app, staff):
    ada = client_as(app, "admin@example.org")
    assert change_role(ada, staff["counsellor"], "learner").status_code == 302
    with app.app_context():
        assert db.session.get(User, staff["counsellor"]).role == "learner"


def test_making_a_holder_an_admin_keeps_their_requests_and_asks_nothing_about_them(app, staff):
    [request_id] = held_by_casey(app, 1)
    ada = client_as(app, "admin@example.org")
    asked = change_role(ada, staff["counsellor"], "admin")
    assert "back to the clinic's queue" not in said(asked)  # the page that asks about admins' reach, only
    assert holder(app, request_id) == staff["counsellor"]


def test_an_admin_erasing_a_holder_is_told_first_and_the_card_says_the_account_was_deleted(app, staff):
    [request_id] = held_by_casey(app, 1)
    ada = client_as(app, "admin@example.org")
    url = f"/author/users/{staff['counsellor']}/erase"
    asked = said(ada.get(url))
    assert HANDED_BACK.format(n=1, what="request", go="goes", because="this account was deleted") in asked
    token = csrf_token(ada, url)
    assert ada.post(url, data={"csrf_token": token, "confirm": "yes"}).status_code == 302
    olive = client_as(app, "olive@example.org")
    queue = said(olive.get("/counsel/requests"))
    assert "the account that held it was deleted, so they cannot call." in queue
    assert f"/counsel/requests/{request_id}/pick-up" in olive.get("/counsel/requests").get_data(as_text=True)
    page = said(olive.get(f"/counsel/requests/{request_id}"))
    assert "Ada erased the account that held it, which handed it back to the queue" in page


def test_a_holder_deleting_their_own_account_hands_their_requests_back_saying_so(app, staff):
    [request_id] = held_by_casey(app, 1)
    casey = client_as(app, "casey@example.org")
    # Told first, on the page that asks for the password, how many go back.
    assert (
        "You picked up 1 open contact request from the clinic's queue. It goes back to the queue for someone "
        "else to pick up, marked as handed back because you deleted your account."
    ) in said(casey.get("/me/delete"))
    token = csrf_token(casey, "/me/delete")
    deleted = casey.post("/me/delete", data={"csrf_token": token, "password": PASSWORD, "understood": "y"})
    assert deleted.status_code == 302
    assert holder(app, request_id) is None
    olive = client_as(app, "olive@example.org")
    assert "the account that held it was deleted, so they cannot call." in said(olive.get("/counsel/requests"))
    page = said(olive.get(f"/counsel/requests/{request_id}"))
    assert "The person who held it deleted their account, which handed it back to the queue" in page


def test_the_delete_page_says_nothing_of_requests_to_staff_who_hold_none(app, staff):
    assert "open contact request" not in said(client_as(app, "olive@example.org").get("/me/delete"))
