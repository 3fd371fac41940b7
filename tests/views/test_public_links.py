"""Links in e-mails come from PUBLIC_URL, never from the request; unknown hosts get 400."""

import re

import pytest

from app import create_app
from app.extensions import db
from app.models import Role
from tests.conftest import PASSWORD, create_user, csrf_token, make_test_config
from tests.mail_server import body_of, start_inbox

PUBLIC_URL = "https://learn.example.org"
# What a request through the proxy looks like when the client forged the forwarded host.
FORGED = {"Host": "learn.example.org", "X-Forwarded-Host": "evil.example", "X-Forwarded-For": "10.1.1.1"}


@pytest.fixture
def proxied(app, database_url):
    """The app behind one proxy (PROXY_HOPS=1), with a public address and a real SMTP server."""
    inbox, controller = start_inbox()
    proxied = create_app(
        make_test_config(
            database_url,
            PROXY_HOPS=1,
            PUBLIC_URL=PUBLIC_URL,
            TRUSTED_HOSTS=["learn.example.org", "localhost"],
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=controller.port,
            MAIL_USE_TLS=False,
        )
    )
    with proxied.app_context():
        db.create_all()
    yield proxied, inbox
    controller.stop()
    with proxied.app_context():
        db.engine.dispose()


def forged_post(client, url, data):
    """GET the form and POST it, both with FORGED headers (so the cookies are on the same host)."""
    page = client.get(url, headers=FORGED).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post(url, data={**data, "csrf_token": token}, headers=FORGED)


def test_a_reset_asked_for_on_an_unknown_host_gets_400_and_sends_nothing(client, app, inbox, learner):
    token = csrf_token(client, "/auth/reset")
    response = client.post(
        "/auth/reset", data={"email": "learner@example.org", "csrf_token": token}, headers={"Host": "evil.example"}
    )
    response.close()
    assert response.status_code == 400
    assert inbox.wait_for(1, timeout=0.5) == []


@pytest.mark.parametrize("url", ["/", "/auth/login", "/healthz"])
def test_every_page_refuses_an_unknown_host(client, url):
    assert client.get(url, headers={"Host": "evil.example"}).status_code == 400
    assert client.get(url, headers={"Host": "localhost:8000"}).status_code != 400


def test_a_forwarded_host_is_not_believed_and_the_link_uses_public_url(proxied):
    app, inbox = proxied
    create_user(app, "learner@example.org")
    with forged_post(app.test_client(), "/auth/reset", {"email": "learner@example.org"}) as response:
        assert response.status_code == 302
    # Leaving the block closed the response, which sends the mail queued after it.
    body = body_of(inbox.wait_for(1)[0])
    assert re.search(r"^https://learn\.example\.org/auth/reset/\S+\r?$", body, re.MULTILINE), body
    assert "evil.example" not in body


def test_invitation_links_use_public_url_whatever_the_request_says(proxied):
    app, inbox = proxied
    create_user(app, "casey@example.org", role=Role.COUNSELLOR)
    client = app.test_client()
    forged_post(client, "/auth/login", {"email": "casey@example.org", "password": PASSWORD})
    response = forged_post(client, "/counsel/invitations", {"email": "client@example.org"})
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]
    page = client.get(response.headers["Location"], headers=FORGED).get_data(as_text=True)
    code = re.search(r'id="invitation-code">([A-Z0-9-]+)<', page).group(1)
    assert f"{PUBLIC_URL}/join/{code}" in page and "evil.example" not in page
    body = body_of(inbox.wait_for(1)[0])
    assert f"{PUBLIC_URL}/join/{code}" in body and "evil.example" not in body
