"""A counsellor sets, changes and clears their private label for a client from the client's page,
over HTTP with CSRF on; nobody else can, and the client never sees it."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import CounsellorLink, Role
from app.services.sharing import LABEL_MAX_LENGTH
from tests.conftest import count_queries, create_user, csrf_token, login, visible_text

TOO_LONG = f"Keep the label to {LABEL_MAX_LENGTH} characters or fewer."


@pytest.fixture
def counsellor(app) -> int:
    return create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")


@pytest.fixture
def link(app, course, counsellor, learner) -> int:
    """The learner (Lee Learner) shares with Casey, through an invitation that had no label."""
    with app.app_context():
        row = CounsellorLink(counsellor_id=counsellor, learner_id=learner, created_by_id=learner)
        db.session.add(row)
        db.session.commit()
        return row.id


def label_url(learner: int) -> str:
    return f"/counsel/clients/{learner}/label"


def stored_label(app, link_id: int) -> str | None:
    with app.app_context():
        label = db.session.get(CounsellorLink, link_id).label
        db.session.remove()
        return label


def set_label(app, link_id: int, label: str | None) -> None:
    with app.app_context():
        db.session.get(CounsellorLink, link_id).label = label
        db.session.commit()
        db.session.remove()


def save(client, learner: int, label: str):
    """POST the client page's own form, with its token, as the counsellor's browser would."""
    token = csrf_token(client, f"/counsel/clients/{learner}")
    return client.post(label_url(learner), data={"csrf_token": token, "label": label})


def test_the_client_page_has_a_labelled_form_and_a_saved_label_shows_under_the_name(client, app, learner, link):
    login(client, "casey@example.org")
    page = client.get(f"/counsel/clients/{learner}").get_data(as_text=True)
    form = re.search(rf'<form method="post" action="{label_url(learner)}".*?</form>', page, re.S).group(0)
    assert '<label class="label" for="label">Your label for this client (optional, only you see this)</label>' in form
    assert 'name="csrf_token"' in form and re.search(r'<input[^>]*id="label"[^>]*name="label"', form)
    assert "Remove your label" not in page  # nothing to remove yet

    response = save(client, learner, "  Tuesday\n  group  ")
    assert response.status_code == 302 and response.headers["Location"] == f"/counsel/clients/{learner}"
    # On one line and trimmed, as an invitation's label is stored.
    assert stored_label(app, link) == "Tuesday group"
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your label is saved. Only you see it." in shown
    assert '<p class="client-notes-line">Your label: Tuesday group</p>' in shown
    assert 'value="Tuesday group"' in shown  # the form holds it, ready to change
    # The dashboard names the client by it too.
    assert "Your label: Tuesday group" in visible_text(client.get("/counsel/").get_data(as_text=True))


def test_a_label_is_changed_and_then_cleared(client, app, learner, link):
    set_label(app, link, "Sam, from the invitation")
    login(client, "casey@example.org")
    assert save(client, learner, "Referred by Dr Ng").status_code == 302
    assert stored_label(app, link) == "Referred by Dr Ng"

    page = client.get(f"/counsel/clients/{learner}").get_data(as_text=True)
    assert "Remove your label" in page
    # The remove button's form sends an empty label, as emptying the box does.
    removed = client.post(label_url(learner), data={"csrf_token": csrf_token(client, label_url(learner)), "label": ""})
    assert removed.status_code == 302 and stored_label(app, link) is None
    shown = client.get(removed.headers["Location"]).get_data(as_text=True)
    assert "Your label is removed." in shown and "Your label:" not in shown


def test_a_label_too_long_is_a_400_that_says_so_and_keeps_the_old_one(client, app, learner, link):
    set_label(app, link, "Tuesday group")
    login(client, "casey@example.org")
    response = save(client, learner, "x" * (LABEL_MAX_LENGTH + 1))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert TOO_LONG in page and 'aria-invalid="true"' in page  # beside the field and in the summary
    assert page.count(TOO_LONG) == 2
    assert stored_label(app, link) == "Tuesday group"
    # The longest allowed is saved, as on an invitation.
    assert save(client, learner, "x" * LABEL_MAX_LENGTH).status_code == 302
    assert stored_label(app, link) == "x" * LABEL_MAX_LENGTH


def test_a_post_without_the_label_field_or_the_token_changes_nothing(client, app, learner, link):
    set_label(app, link, "Tuesday group")
    login(client, "casey@example.org")
    bare = client.post(label_url(learner), data={"csrf_token": csrf_token(client, label_url(learner))})
    assert bare.status_code == 400 and "leave the box empty to remove it" in bare.get_data(as_text=True)
    assert client.post(label_url(learner), data={"label": "No token"}).status_code == 400
    assert stored_label(app, link) == "Tuesday group"


def test_the_form_page_alone_holds_the_label(client, app, learner, link):
    set_label(app, link, "Tuesday group")
    login(client, "casey@example.org")
    page = client.get(label_url(learner)).get_data(as_text=True)
    assert "<h1>Your label for Lee Learner</h1>" in page and 'value="Tuesday group"' in page


@pytest.mark.parametrize(("email", "role"), [("olive@example.org", Role.COUNSELLOR), ("ada@example.org", Role.ADMIN)])
def test_anyone_but_the_clients_counsellor_gets_404_and_changes_nothing(client, app, learner, link, email, role):
    """Another counsellor, and an admin, who sees every learner but through no link of their own."""
    set_label(app, link, "Tuesday group")
    create_user(app, email, role=role)
    login(client, email)
    assert client.get(label_url(learner)).status_code == 404
    token = csrf_token(client, "/counsel/")
    for label in ("Theirs now", "x" * (LABEL_MAX_LENGTH + 1), ""):  # refused before the label is read
        assert client.post(label_url(learner), data={"csrf_token": token, "label": label}).status_code == 404
    assert stored_label(app, link) == "Tuesday group"
    if role == Role.ADMIN:  # the admin's view of the client page offers no label form
        assert label_url(learner) not in client.get(f"/counsel/clients/{learner}").get_data(as_text=True)


def test_learners_are_refused_and_change_nothing(client, app, learner, link):
    set_label(app, link, "Tuesday group")
    login(client)
    token = csrf_token(client, "/me/")
    assert client.get(label_url(learner)).status_code == 403
    assert client.post(label_url(learner), data={"csrf_token": token, "label": "Mine"}).status_code == 403
    assert stored_label(app, link) == "Tuesday group"


def test_a_link_that_has_ended_cannot_be_labelled(client, app, learner, link):
    login(client, "casey@example.org")
    token = csrf_token(client, f"/counsel/clients/{learner}")
    client.post(f"/counsel/clients/{learner}/stop", data={"csrf_token": token, "confirm": "yes"})
    assert client.post(label_url(learner), data={"csrf_token": token, "label": "After"}).status_code == 404
    assert client.get(label_url(learner)).status_code == 404
    assert stored_label(app, link) is None


def test_the_label_is_never_shown_to_the_client(client, app, learner, link):
    login(client, "casey@example.org")
    assert save(client, learner, "Sister's phone, rings after 6").status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})

    login(client)
    for url in ("/me/", "/me/data", "/me/data.json"):
        response = client.get(url)
        assert response.status_code == 200 and "rings after 6" not in response.get_data(as_text=True), url
    assert "Casey Counsellor" in client.get("/me/").get_data(as_text=True)  # the sharing itself is listed


def test_saving_reads_the_signed_in_user_and_writes_the_link_only(client, app, learner, link):
    login(client, "casey@example.org")
    token = csrf_token(client, label_url(learner))
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as queries:
        response = client.post(label_url(learner), data={"csrf_token": token, "label": "Tuesday group"})
    assert response.status_code == 302
    # The signed-in user, then one conditional UPDATE of the live link: no read of it first.
    assert queries() == 2
