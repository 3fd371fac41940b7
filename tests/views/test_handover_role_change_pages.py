"""Handing over the clients of an account that no longer counsels, over HTTP with CSRF on: the
pages that ask before the counsellor role is taken away (or the account deactivated) say how many
clients share with them and lead to the handover page, which an admin (only) can use afterwards."""

import html

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CounsellorLink, HandoverRequest, Role, User
from tests.conftest import create_user, csrf_token, login, visible_text
from tests.views.test_handover_pages import add_clients, ask_from_the_page, page_url
from tests.views.test_query_counts import queries_for


@pytest.fixture
def people(app, course, learner):
    """Casey (a counsellor) whose client is the learner (Lee); Olive, a colleague; Ada, an admin."""
    ids = {
        "casey": create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey"),
        "olive": create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive"),
        "ada": create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada"),
        "lee": learner,
    }
    with app.app_context():
        db.session.add(CounsellorLink(counsellor_id=ids["casey"], learner_id=learner))
        db.session.commit()
        db.session.remove()
    return ids


def post_action(client, user_id: int, action: str, **data):
    """POST an action from the account's page, with the CSRF token that page carries."""
    token = csrf_token(client, f"/author/users/{user_id}")
    return client.post(f"/author/users/{user_id}/{action}", data={"csrf_token": token, **data})


def said(response) -> str:
    """What the page says, in words (a link's text runs on into the full stop after it)."""
    return html.unescape(visible_text(response.get_data(as_text=True))).replace(" .", ".")


def handovers(app) -> list[tuple[int, int | None]]:
    with app.app_context():
        rows = list(db.session.execute(select(HandoverRequest.learner_id, HandoverRequest.answered_at)))
        db.session.remove()
    return [tuple(row) for row in rows]


def role_of(app, user_id: int) -> str:
    with app.app_context():
        role = db.session.get(User, user_id).role
        db.session.remove()
    return role


OFFER = "ask Casey's clients to share with a colleague"


@pytest.mark.parametrize(("role", "action"), [("learner", "role"), ("admin", "role"), (None, "deactivate")])
def test_the_page_that_asks_first_says_how_many_share_and_leads_to_the_handover(client, app, people, role, action):
    login(client, "ada@example.org")
    asked = post_action(client, people["casey"], action, **({"role": role} if role else {}))
    assert asked.status_code == 200 and role_of(app, people["casey"]) == Role.COUNSELLOR  # nothing changed yet
    text = said(asked)
    assert "1 learner shares their progress with Casey." in text
    assert (
        f"You can ask that client, now or later, whether to share their progress with a colleague instead: {OFFER}."
        in text
    )
    assert f'href="{page_url(people["casey"])}"' in asked.get_data(as_text=True)
    assert "Nothing is shared with the colleague until each client says yes." in text


def test_a_counsellor_with_no_clients_made_an_admin_is_told_nothing_of_clients(client, app, people):
    login(client, "ada@example.org")
    text = said(post_action(client, people["olive"], "role", role="admin"))
    assert "Make Olive an admin?" in text and "shares their progress" not in text and "colleague" not in text


def test_after_the_role_change_an_admin_asks_the_clients_and_the_client_accepts(client, app, people):
    login(client, "ada@example.org")
    assert post_action(client, people["casey"], "role", role="learner", confirm="yes").status_code == 302
    account = said(client.get(f"/author/users/{people['casey']}"))
    assert "1 learner shares their progress with Casey. Casey is no longer a counsellor" in account
    page = client.get(page_url(people["casey"]))
    assert page.status_code == 200
    assert "Casey is no longer a counsellor: their clients still share with them until they stop" in said(page)
    assert f'href="/author/users/{people["casey"]}"' in page.get_data(as_text=True)  # back to the account
    assert "Lee Learner" in ask_from_the_page(client, people)
    assert handovers(app) == [(people["lee"], None)]  # asked; nothing shared until Lee says yes
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    login(client)
    me = said(client.get("/me/"))
    assert "The clinic has asked Olive to take over from Casey. Share your progress with Olive?" in me


def test_the_former_counsellor_cannot_open_or_use_the_handover_page(client, app, people):
    """Now a learner: kept out of the counsellor's area, their clients' names included."""
    login(client, "ada@example.org")
    post_action(client, people["casey"], "role", role="learner", confirm="yes")
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    login(client, "casey@example.org")
    assert client.get(page_url(people["casey"])).status_code == 403
    token = csrf_token(client, "/me/")
    form = {"csrf_token": token, "colleague": str(people["olive"]), "clients": [str(people["lee"])], "confirm": "yes"}
    assert client.post(page_url(people["casey"]), data=form).status_code == 403
    assert handovers(app) == []
    assert "Lee Learner" not in said(client.get("/me/"))


def test_a_colleague_cannot_open_a_former_counsellors_handover_page(client, app, people):
    login(client, "ada@example.org")
    post_action(client, people["casey"], "role", role="admin", confirm="yes")
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    login(client, "olive@example.org")
    assert client.get(page_url(people["casey"])).status_code == 404


def test_without_the_csrf_token_an_admin_asks_nobody(client, app, people):
    login(client, "ada@example.org")
    post_action(client, people["casey"], "role", role="learner", confirm="yes")
    form = {"colleague": str(people["olive"]), "clients": [str(people["lee"])], "confirm": "yes"}
    assert client.post(page_url(people["casey"]), data=form).status_code == 400
    assert handovers(app) == []


def test_an_account_page_offers_no_handover_for_a_learner_nobody_shares_with(client, app, people):
    login(client, "ada@example.org")
    page = client.get(f"/author/users/{people['lee']}").get_data(as_text=True)
    assert "Their clients" not in page and page_url(people["lee"]) not in page
    assert client.get(page_url(people["lee"])).status_code == 404


def test_the_handover_page_of_a_former_counsellor_reads_the_same_queries_for_1_or_12_clients(client, app, people):
    login(client, "ada@example.org")
    post_action(client, people["casey"], "role", role="learner", confirm="yes")
    url = page_url(people["casey"])
    client.get(url)
    with_one = queries_for(app, lambda: client.get(url))
    add_clients(app, people["casey"], 11)
    ask_from_the_page(client, people)
    with_twelve = queries_for(app, lambda: client.get(url))
    assert with_one == with_twelve <= 7  # the counsellor's own page's 6, and whether there is a caseload
