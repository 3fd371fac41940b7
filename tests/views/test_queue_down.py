"""The job queue (Redis) not answering when a page queues its job: a 503 with Retry-After that says
to check before sending again, never a 500 (the real Redis going down is tests/test_redis_down.py)."""

from __future__ import annotations

import pytest
import redis

from app.models import Role
from tests.conftest import PASSWORD, create_user, csrf_token, login


def refused(*args, **kwargs):
    raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.mark.parametrize("where", ["registration", "reset", "new account"])
def test_a_page_whose_job_cannot_be_queued_says_try_again_with_a_503(app, client, monkeypatch, where):
    import app.auth.routes as auth_routes
    import app.author.users as user_routes

    if where == "registration":
        monkeypatch.setattr(auth_routes, "send_registration", refused)
        url, data = "/auth/register", {"email": "new@example.org", "display_name": "Nell"}
    elif where == "reset":
        create_user(app, "lee@example.org")
        monkeypatch.setattr(auth_routes, "send_password_reset", refused)
        url, data = "/auth/reset", {"email": "lee@example.org"}
    else:
        create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada Admin")
        assert login(client, "ada@example.org", PASSWORD).status_code == 302
        monkeypatch.setattr(user_routes, "send_welcome", refused)
        url, data = "/author/users/new", {"display_name": "Nia", "email": "nia@example.org", "role": "learner"}

    response = client.post(url, data={**data, "csrf_token": csrf_token(client, url)})

    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    page = " ".join(response.get_data(as_text=True).split())
    assert "Part of our system is not answering" in page and "check whether it went through" in page
