"""/me/ over HTTP with two counsellors of one name, linked in the same minute: each "Stop sharing"
button has a name of its own, and each ends its own link."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CounsellorLink, Role
from app.models.types import utcnow
from tests.conftest import create_user, csrf_token


class Buttons(HTMLParser):
    """Each button's accessible name (its text, or its aria-label) with the action of its form."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._action = ""
        self._label: str | None = None
        self._text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._action = attributes.get("action") or ""
        elif tag == "button":
            self._label, self._text = attributes.get("aria-label"), []

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "button" and self._text is not None:
            name = self._label or " ".join("".join(self._text).split())
            self.found.append((self._action, name))
            self._text = None


def stop_buttons(html: str) -> dict[str, str]:
    """The page's "Stop sharing" buttons: accessible name -> the form's action."""
    parser = Buttons()
    parser.feed(html)
    buttons = [(action, name) for action, name in parser.found if name.startswith("Stop sharing")]
    names = [name for _, name in buttons]
    assert len(set(names)) == len(names), names  # no two alike, or a screen reader's list cannot tell them apart
    return {name: action for action, name in buttons}


@pytest.fixture
def two_sams(app, course, learner) -> dict[str, int]:
    """Two counsellors called Sam Lee, both shared with in the same minute: their links' ids by address."""
    north = create_user(app, "sam.lee@north.example", role=Role.COUNSELLOR, name="Sam Lee")
    south = create_user(app, "s.lee@south.example", role=Role.COUNSELLOR, name="Sam Lee")
    now = utcnow()
    with app.app_context():
        links = {
            email: CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_by_id=learner, created_at=now)
            for email, counsellor in (("sam.lee@north.example", north), ("s.lee@south.example", south))
        }
        db.session.add_all(links.values())
        db.session.commit()
        ids = {email: link.id for email, link in links.items()}
        db.session.remove()
    return ids


def test_each_counsellor_of_one_name_has_a_button_named_apart(learner_client, two_sams):
    page = learner_client.get("/me/").get_data(as_text=True)

    assert stop_buttons(page) == {
        "Stop sharing with Sam Lee (sam.lee@north.example)": f"/me/sharing/{two_sams['sam.lee@north.example']}/stop",
        "Stop sharing with Sam Lee (s.lee@south.example)": f"/me/sharing/{two_sams['s.lee@south.example']}/stop",
    }


def test_the_button_named_for_one_of_them_stops_sharing_with_that_one_only(learner_client, app, two_sams):
    page = learner_client.get("/me/").get_data(as_text=True)
    action = stop_buttons(page)["Stop sharing with Sam Lee (s.lee@south.example)"]

    assert learner_client.post(action, data={"csrf_token": csrf_token(learner_client, "/me/")}).status_code == 302

    with app.app_context():
        live = set(db.session.scalars(select(CounsellorLink.id).where(CounsellorLink.revoked_at.is_(None))))
        db.session.remove()
    assert live == {two_sams["sam.lee@north.example"]}
    page = learner_client.get("/me/").get_data(as_text=True)
    # The message names the one stopped by address: "Sam Lee" alone would fit the one still shared with.
    assert "You have stopped sharing your progress with Sam Lee (s.lee@south.example)." in page
    assert list(stop_buttons(page)) == ["Stop sharing with Sam Lee"]


def test_stopping_the_only_counsellor_of_a_name_says_the_name_alone(learner_client, app, two_sams):
    for email in ("s.lee@south.example", "sam.lee@north.example"):
        action = stop_buttons(learner_client.get("/me/").get_data(as_text=True))
        action = next(target for name, target in action.items() if email in name or name == "Stop sharing with Sam Lee")
        learner_client.post(action, data={"csrf_token": csrf_token(learner_client, "/me/")})

    page = learner_client.get("/me/").get_data(as_text=True)
    assert "You have stopped sharing your progress with Sam Lee." in page  # the last one: nobody else of that name
    assert "sam.lee@north.example" not in page
