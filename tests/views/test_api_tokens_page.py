"""/me/tokens over HTTP with CSRF on: make a token (shown once), see it listed with its last use, revoke it."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, Role
from tests.api_support import bearer, make_token
from tests.conftest import create_user, csrf_token, login

URL = "/me/tokens"


def make(client, name="Clinic dashboard", scopes=("read:progress",), **extra):
    data = {"csrf_token": csrf_token(client, URL), "name": name, "scopes": list(scopes), **extra}
    return client.post(URL, data=data)


def shown_token(response) -> str:
    return re.search(r'id="new-token">(nlt_[A-Za-z0-9_-]+)<', response.get_data(as_text=True)).group(1)


def test_a_token_is_shown_once_and_only_its_hash_kept(client, app, learner):
    login(client)
    response = make(client)
    assert response.status_code == 201
    token = shown_token(response)
    with app.app_context():
        stored = db.session.scalar(select(ApiToken))
        assert stored.name == "Clinic dashboard" and stored.scopes == "read:progress"
        assert token not in stored.token_hash
    page = client.get(URL).get_data(as_text=True)
    assert token not in page and "Clinic dashboard" in page and "never used" in page
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert "last used" in client.get(URL).get_data(as_text=True)


def test_reloading_the_page_that_showed_a_new_token_makes_no_second_one(client, app, learner):
    """The page answers the POST that made the token, so a reload sent it again: a second token."""
    login(client)
    page = client.get(URL).get_data(as_text=True)
    once = re.search(r'name="once" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    data = {"csrf_token": csrf_token(client, URL), "name": "Dash", "scopes": ["read:progress"], "once": once}
    assert client.post(URL, data=data).status_code == 201
    again = client.post(URL, data=data)  # what a reload of that page sends
    assert again.status_code == 302 and again.headers["Location"].endswith(URL)
    listed = client.get(URL).get_data(as_text=True)
    assert "That form made its token already" in " ".join(listed.split())
    with app.app_context():
        assert [token.name for token in db.session.scalars(select(ApiToken))] == ["Dash"]
    # The page's next form is another: it makes another token.
    fresh = re.search(r'name="once" type="hidden" value="([0-9a-f]{32})"', listed).group(1)
    assert fresh != once
    assert client.post(URL, data={**data, "once": fresh, "csrf_token": csrf_token(client, URL)}).status_code == 201


def test_a_double_click_on_make_the_token_makes_one_token(client, app, learner):
    """The second click goes before the first answer arrives, so it carries the cookie from before."""
    login(client)
    page = client.get(URL).get_data(as_text=True)
    once = re.search(r'name="once" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    data = {"csrf_token": csrf_token(client, URL), "name": "Dash", "scopes": ["read:progress"], "once": once}
    cookie_before = client.get_cookie("session").value
    assert client.post(URL, data=data).status_code == 201
    client.set_cookie("session", cookie_before)
    second = client.post(URL, data=data)  # the answer the browser shows
    assert second.status_code == 302 and second.headers["Location"].endswith(URL)
    listed = " ".join(client.get(URL).get_data(as_text=True).split())
    assert "That form made its token already" in listed and "revoke it below and make another" in listed
    with app.app_context():
        assert [token.name for token in db.session.scalars(select(ApiToken))] == ["Dash"]


def test_a_form_key_not_of_ours_is_replaced(client, app, learner):
    login(client)
    data = {"csrf_token": csrf_token(client, URL), "name": "Dash", "scopes": ["read:progress"], "once": "x" * 2000}
    assert client.post(URL, data=data).status_code == 201
    assert client.post(URL, data=data).status_code == 201  # each replaced by a new key: another form each time
    with app.app_context():
        keys = [token.form_key for token in db.session.scalars(select(ApiToken))]
    assert len(keys) == 2 and all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys) and keys[0] != keys[1]


def test_a_learner_is_offered_only_their_own_progress(client, learner):
    login(client)
    page = client.get(URL).get_data(as_text=True)
    assert 'value="read:progress"' in page and "read:clients" not in page


def test_a_learner_cannot_give_a_token_the_clients(client, app, learner):
    login(client)
    response = make(client, scopes=["read:progress", "read:clients"])
    assert response.status_code == 400 and "nlt_" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None


def test_an_admin_is_offered_each_admin_scope(client, app):
    create_user(app, "admin@example.org", role=Role.ADMIN)
    login(client, "admin@example.org")
    page = client.get(URL).get_data(as_text=True)
    for scope in ("read:clients", "read:course", "read:analytics", "write:draft"):
        assert f'value="{scope}"' in page
    assert 'value="read:progress"' not in page


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [("", ["read:progress"], "Give the token a name"), ("Mine", [], "Choose at least one")],
)
def test_a_name_and_a_scope_are_needed(client, learner, name, scopes, message):
    login(client)
    response = make(client, name=name, scopes=scopes)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_without_the_csrf_token_nothing_is_made(client, app, learner):
    login(client)
    response = client.post(URL, data={"name": "Sneaky", "scopes": ["read:progress"]})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None


def test_revoking_someone_elses_token_is_404(client, app, learner, other_learner):
    theirs = make_token(app, other_learner, "read:progress")
    with app.app_context():
        their_id = db.session.scalar(select(ApiToken.id))
    login(client)
    response = client.post(f"{URL}/{their_id}/revoke", data={"csrf_token": csrf_token(client, URL)})
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(theirs)).status_code == 200


def test_revoking_needs_the_csrf_token(client, app, learner):
    make_token(app, learner, "read:progress")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    login(client)
    assert client.post(f"{URL}/{token_id}/revoke").status_code == 400
    with app.app_context():
        assert db.session.get(ApiToken, token_id) is not None


def test_visitors_are_asked_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_page_is_linked_from_me(client, learner):
    login(client)
    assert f'href="{URL}"' in client.get("/me/").get_data(as_text=True)
