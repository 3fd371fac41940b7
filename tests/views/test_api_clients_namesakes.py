"""The API's list of clients carries what the dashboard shows to tell clients of one name apart:
the counsellor's own label always, and beside a name another client has too, since when they share
(their id is the client ID); for an admin, names that clash on the page. No query more for it."""

from datetime import datetime

import pytest
from sqlalchemy import insert, select, update

from app.extensions import db
from app.models import CounsellorLink, Role, User
from tests.api_support import bearer, make_token
from tests.conftest import count_queries, create_user

# The dashboard's list of an admin's learners, of a counsellor's clients: fixed whatever the data.
NAMES = ["Sam", "SAM", "Alex"]


@pytest.fixture
def casey(app, course) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey")


def add_clients(app, counsellor_id: int | None, names: list[str], labels: dict[str, str] | None = None) -> list[int]:
    """Learners called ``names``, sharing with the counsellor (labelled by ``labels``) when one is given."""
    labels = labels or {}
    with app.app_context():
        ids = []
        for n, name in enumerate(names):
            user = User(email=f"{name.lower()}{n}-{len(ids)}@example.org", display_name=name, password_hash="x")
            db.session.add(user)
            db.session.flush()
            ids.append(user.id)
            if counsellor_id is not None:
                db.session.execute(
                    insert(CounsellorLink).values(
                        counsellor_id=counsellor_id, learner_id=user.id, label=labels.get(name)
                    )
                )
        db.session.commit()
        db.session.remove()
    return ids


def items(client, token) -> dict[int, dict]:
    response = client.get("/api/v1/clients", headers=token)
    assert response.status_code == 200
    return {row["id"]: row for row in response.get_json()["items"]}


def identity(row: dict) -> tuple:
    return (row["name"], row["label"], row["namesake"], row["sharing_since"] is not None)


def test_a_counsellors_list_tells_two_sams_apart_and_gives_every_label(app, client, casey):
    sam, other_sam, alex = add_clients(app, casey, NAMES, {"Sam": "Tuesday group", "Alex": "Referred by Dr Ng"})
    rows = items(client, bearer(make_token(app, casey, "read:clients")))
    assert {i: identity(row) for i, row in rows.items()} == {
        sam: ("Sam", "Tuesday group", True, True),
        other_sam: ("SAM", None, True, True),
        alex: ("Alex", "Referred by Dr Ng", False, False),  # nobody else is Alex: the name and label do
    }
    with app.app_context():
        since = db.session.scalar(select(CounsellorLink.created_at).where(CounsellorLink.learner_id == sam))
    assert datetime.fromisoformat(rows[sam]["sharing_since"]) == since


def test_a_filter_showing_one_sam_still_says_there_is_another(app, client, casey):
    sam, _, _ = add_clients(app, casey, NAMES)
    response = client.get("/api/v1/clients?q=sam&sort=progress", headers=bearer(make_token(app, casey, "read:clients")))
    body = response.get_json()
    assert body["total"] == 2 and all(row["namesake"] and row["sharing_since"] for row in body["items"])
    assert sam in {row["id"] for row in body["items"]}


def test_an_admins_list_tells_apart_only_the_names_that_clash_on_the_page(app, client, casey):
    ada = create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada")
    sam, other_sam, alex = add_clients(app, casey, NAMES, {"Sam": "Tuesday group"})  # Casey's label: not Ada's
    rows = items(client, bearer(make_token(app, ada, "read:clients")))
    # An admin shares with nobody here: no label, no since; the id tells the two Sams apart.
    assert {i: identity(row) for i, row in rows.items()} == {
        sam: ("Sam", None, True, False),
        other_sam: ("SAM", None, True, False),
        alex: ("Alex", None, False, False),
    }


def test_the_list_runs_as_many_queries_with_namesakes_and_labels_as_without(app, client, casey):
    token = bearer(make_token(app, casey, "read:clients"))
    _, other, alex = add_clients(app, casey, ["Sam", "Jo", "Alex"])
    client.get("/api/v1/clients", headers=token)  # the token's last use is written on the first request

    def queries() -> int:
        with app.app_context(), count_queries(db.engine) as counted:
            assert client.get("/api/v1/clients", headers=token).status_code == 200
            return counted()

    without = queries()
    with app.app_context():
        db.session.execute(update(User).where(User.id == other).values(display_name="sam"))
        db.session.execute(update(CounsellorLink).where(CounsellorLink.learner_id == alex).values(label="Group"))
        db.session.commit()
    assert sum(row["namesake"] for row in items(client, token).values()) == 2
    assert queries() == without
