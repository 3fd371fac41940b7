"""A page shown again because what was sent has errors says so first in its title ("Error: ..."),
the first thing a screen reader reads of the new page; the same page without errors does not."""

from __future__ import annotations

import re

import pytest

from app.models import Role
from tests.conftest import create_user, csrf_token, lesson_slugs, login, quiz_form, submit_quiz


def title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.get_data(as_text=True), re.S).group(1)


@pytest.fixture
def admin_client(app, client, course):
    admin = create_user(app, "admin@example.org", role=Role.ADMIN, name="Ada Admin")
    login(client, "admin@example.org")
    client.admin_id = admin
    return client


def test_a_refused_login_says_error_first(client, learner):
    assert not title(client.get("/auth/login")).startswith("Error")
    token = csrf_token(client, "/auth/login")
    refused = client.post("/auth/login", data={"csrf_token": token, "email": "learner@example.org", "password": "no"})
    assert title(refused).startswith("Error: Log in")


def test_a_quiz_sent_back_unfinished_says_error_first(app, learner_client, course):
    first = lesson_slugs(app, course)[0]
    url = f"/courses/{course}/lessons/{first}/quiz"
    assert not title(learner_client.get(url)).startswith("Error")
    partly = dict(list(quiz_form(app, first, course_slug=course).items())[1:])
    refused = submit_quiz(learner_client, first, partly, course_slug=course)
    assert "Not quite ready" in refused.get_data(as_text=True)
    assert title(refused).startswith("Error: ")


def test_an_authoring_form_with_errors_says_error_first(admin_client, course):
    url = f"/author/courses/{course}/modules/new"
    assert not title(admin_client.get(url)).startswith("Error")
    refused = admin_client.post(url, data={"csrf_token": csrf_token(admin_client, url), "title": ""})
    assert refused.status_code == 400
    assert title(refused).startswith("Error: ")


def test_a_refused_action_on_an_account_page_says_error_first(admin_client):
    # Deactivating oneself is refused, and the page shown again says why.
    page = f"/author/users/{admin_client.admin_id}"
    assert not title(admin_client.get(page)).startswith("Error")
    refused = admin_client.post(f"{page}/deactivate", data={"csrf_token": csrf_token(admin_client, "/author/users")})
    assert refused.status_code == 400
    assert title(refused).startswith("Error: Ada Admin")


def test_an_authoring_form_refused_for_the_course_as_a_whole_says_error_first(admin_client, course, monkeypatch):
    """A draft refused with no field to point at (only sentences, ``other``) is still an error."""
    from app.services.authoring import DraftInvalid

    def refuse(*args, **kwargs):
        raise DraftInvalid([], other=["Two modules would share that slug."])

    monkeypatch.setattr("app.author.course_modules.authoring.module_add", refuse)
    url = f"/author/courses/{course}/modules/new"
    refused = admin_client.post(url, data={"csrf_token": csrf_token(admin_client, url), "title": "New", "slug": "new"})
    assert "Two modules would share that slug." in refused.get_data(as_text=True)
    assert title(refused).startswith("Error: ")
