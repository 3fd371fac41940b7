"""Handing a caseload over, over HTTP with CSRF on: what the old counsellor (or an admin for them)
sees reads the same for a client who already shares with the colleague as for one who does not,
so choosing one client and one colleague does not tell them whom else that client shares with."""

import json
import re
from datetime import datetime

import pytest

from app.extensions import db
from app.models import CounsellorLink
from app.services.sharing import INVITATION_LIFETIME
from tests.conftest import create_user, csrf_token, login, visible_text
from tests.views.test_handover_pages import page_url, people  # noqa: F401 - people is a fixture

FLASH = re.compile(r'<p class="flash flash-(\w+)"[^>]*>(.*?)</p>', re.S)
ROW = re.compile(r"<tr>(.*?)</tr>", re.S)


@pytest.fixture
def sam(app, people):  # noqa: F811 - the fixture
    """Sam, another of Casey's clients, who already shares with Olive (an invitation of hers, accepted)."""
    sam = create_user(app, "sam@example.org", name="Sam")
    with app.app_context():
        db.session.add_all(CounsellorLink(counsellor_id=people[who], learner_id=sam) for who in ("casey", "olive"))
        db.session.commit()
        db.session.remove()
    return sam


def ask_for(client, people, learner_id: int, name: str) -> tuple[str, list[tuple[str, str]]]:  # noqa: F811
    """Ask one client from Casey's page: the confirmation's words (the client's name and id as "X"),
    and the messages flashed after confirming."""
    url = page_url(people["casey"])
    form = {"csrf_token": csrf_token(client, url), "colleague": str(people["olive"]), "clients": [str(learner_id)]}
    confirm = client.post(url, data=form)
    assert confirm.status_code == 200
    words = visible_text(confirm.get_data(as_text=True)).replace(f"client ID {learner_id}", "X")
    words = re.sub(rf"\b{name}\b", "X", words)
    done = client.post(url, data={**form, "confirm": "yes"}, follow_redirects=True)
    assert done.status_code == 200
    return words, FLASH.findall(done.get_data(as_text=True))


def answers_listed(client, people) -> dict[str, str]:  # noqa: F811 - the fixture
    """The handover page's list of requests: each client's name and what the row says after it."""
    html = client.get(page_url(people["casey"])).get_data(as_text=True)
    rows = [visible_text(row) for row in ROW.findall(html.split('id="handover-statuses"')[1])[1:]]
    return {row.split(" Olive ")[0]: row.split(" Olive ", 1)[1] for row in rows}


def switch_to(client, email: str) -> None:
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me/")})
    login(client, email)


@pytest.mark.parametrize("actor", ["casey@example.org", "ada@example.org"])
def test_the_pages_read_the_same_for_a_client_sharing_with_the_colleague_already(client, people, sam, actor):  # noqa: F811
    login(client, actor)
    sam_confirm, sam_said = ask_for(client, people, sam, "Sam")
    lee_confirm, lee_said = ask_for(client, people, people["lee"], "Lee Learner")
    assert sam_confirm == lee_confirm
    assert (
        sam_said
        == lee_said
        == [("success", "1 client asked. Nothing is shared until each client says yes on their own page.")]
    )
    listed = answers_listed(client, people)
    assert set(listed) == {"Sam", "Lee Learner"}
    assert listed["Sam"] == listed["Lee Learner"] and listed["Sam"].endswith("Waiting for an answer")
    # Asked again: both have this page's own request waiting, which the list above shows.
    sam_again, lee_again = (
        ask_for(client, people, sam, "Sam")[1],
        ask_for(client, people, people["lee"], "Lee Learner")[1],
    )
    assert sam_again == lee_again
    assert "No client was asked. Not asked again: 1 already has a request waiting." in sam_again[0][1]
    # The old counsellor's data download lists both requests alike.
    switch_to(client, "casey@example.org")
    data = json.loads(client.get("/me/data.json").get_data(as_text=True))
    rows = {row.pop("client"): row for row in data["handover_requests_for_my_clients"]}
    assert set(rows) == {"Sam", "Lee Learner"}
    for row in rows.values():  # asked a moment apart: each for the same time, and neither answered
        row["lifetime"] = datetime.fromisoformat(row.pop("expires_at")) - datetime.fromisoformat(row.pop("asked_at"))
    assert (
        rows["Sam"]
        == rows["Lee Learner"]
        == {"to": "Olive", "answered_at": None, "accepted": None, "lifetime": INVITATION_LIFETIME}
    )
    # Sam, who shares with Olive already, is not asked on their page; Lee is.
    switch_to(client, "sam@example.org")
    assert "Share your progress with Olive?" not in visible_text(client.get("/me/").get_data(as_text=True))
    switch_to(client, "learner@example.org")
    assert "Share your progress with Olive?" in visible_text(client.get("/me/").get_data(as_text=True))
