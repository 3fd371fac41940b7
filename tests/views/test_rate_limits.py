"""Rate limits on login, registration, reset requests and invitation codes, in memory and in Redis."""

import uuid

import pytest
import redis

from app import create_app
from app.auth.guessing import account_key
from app.extensions import db
from tests.conftest import PASSWORD, create_user, csrf_token, make_test_config


def limited_app(database_url, **overrides):
    """A second app on the test's database with rate limits switched on."""
    app = create_app(make_test_config(database_url, RATELIMIT_ENABLED=True, **overrides))
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def rate_app(app, database_url):
    # Depends on `app` only for its clean-up: the tables are emptied after the test.
    app = limited_app(database_url, RATELIMIT_LOGIN="3 per minute", RATELIMIT_LOGIN_ACCOUNT="5 per minute")
    yield app
    with app.app_context():
        db.engine.dispose()


def try_login(client, email="learner@example.org", password="wrong password!", ip="10.0.0.1"):
    token = csrf_token(client, "/auth/login")
    return client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_too_many_logins_from_one_address_get_429_with_retry_after(rate_app):
    client = rate_app.test_client()
    statuses = [try_login(client).status_code for _ in range(3)]
    assert statuses == [400, 400, 400]
    response = try_login(client)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many tries" in response.get_data(as_text=True)


def test_one_account_is_limited_across_addresses(rate_app):
    client = rate_app.test_client()
    statuses = [try_login(client, ip=f"10.0.1.{n}").status_code for n in range(6)]
    assert statuses == [400] * 5 + [429]
    # Another account from a fresh address is unaffected.
    assert try_login(client, email="someone@example.org", ip="10.0.2.1").status_code == 400


def test_page_views_are_not_counted(rate_app):
    client = rate_app.test_client()
    for _ in range(10):
        assert client.get("/auth/login").status_code == 200


def test_registration_and_reset_requests_are_limited(app, database_url):
    app = limited_app(database_url, RATELIMIT_REGISTER="2 per minute", RATELIMIT_RESET="2 per minute")
    client = app.test_client()
    for n in range(2):
        token = csrf_token(client, "/auth/register")
        data = {"email": f"p{n}@example.org", "display_name": "P", "csrf_token": token}
        assert client.post("/auth/register", data=data).status_code == 302
    token = csrf_token(client, "/auth/register")
    data = {"email": "p9@example.org", "display_name": "P", "csrf_token": token}
    assert client.post("/auth/register", data=data).status_code == 429
    for expected in (302, 302, 429):
        token = csrf_token(client, "/auth/reset")
        assert client.post("/auth/reset", data={"email": "x@example.org", "csrf_token": token}).status_code == expected
    with app.app_context():
        db.engine.dispose()


def test_invitation_codes_cannot_be_guessed_quickly(app, database_url):
    app = limited_app(database_url, RATELIMIT_JOIN="5 per minute")
    client = app.test_client()
    statuses = [client.get(f"/join/AAAA-AAA{n}").status_code for n in range(6)]
    assert statuses == [404] * 5 + [429]
    with app.app_context():
        db.engine.dispose()


def test_lti_login_initiations_are_limited_per_address(app, database_url):
    # Each initiation writes a state row, so a flood would fill the table: refused past the limit.
    app = limited_app(database_url, RATELIMIT_LTI_LOGIN="3 per minute")
    client = app.test_client()
    statuses = [client.get("/lti/login?iss=https://nowhere.example").status_code for _ in range(4)]
    assert statuses == [400] * 3 + [429]
    other_address = client.get("/lti/login?iss=https://nowhere.example", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other_address.status_code == 400
    # Launches too: each refused one writes a line to the log.
    assert [client.post("/lti/launch").status_code for _ in range(4)] == [400] * 3 + [429]
    with app.app_context():
        db.engine.dispose()


def test_counters_live_in_redis_when_configured(app, database_url):
    server = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        server.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    # A unique account name keeps this run's counters apart from any other run's.
    account = f"redis-{uuid.uuid4().hex}@example.org"
    hashed = ""
    app = limited_app(
        database_url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0", RATELIMIT_LOGIN_ACCOUNT="2 per minute"
    )
    try:
        client = app.test_client()
        statuses = [try_login(client, email=account, ip=f"10.9.{n}.1").status_code for n in range(3)]
        assert statuses == [400, 400, 429]
        with app.app_context():
            hashed = account_key(account).removeprefix("account:")
        assert list(server.scan_iter(f"*{hashed}*")), "no counter was written to Redis"
        # Keyed by a hash of the address: the counters' store never holds the address itself.
        assert not list(server.scan_iter(f"*{account}*"))
    finally:
        for key in server.scan_iter(f"*{hashed}*") if hashed else ():
            server.delete(key)
        for key in server.scan_iter("*10.9.*"):
            server.delete(key)
        with app.app_context():
            db.engine.dispose()


def test_a_real_user_can_still_log_in_under_the_limit(rate_app):
    create_user(rate_app, "learner@example.org")
    client = rate_app.test_client()
    assert try_login(client, password=PASSWORD).status_code == 302


def test_a_signed_in_account_guessing_codes_is_limited_across_addresses(app, database_url):
    from tests.conftest import login

    limited = limited_app(database_url, RATELIMIT_JOIN="3 per minute")
    create_user(limited, "guesser@example.org")
    client = limited.test_client()
    login(client, "guesser@example.org")
    statuses = [
        client.get(f"/join/ABCD-EFG{n}", environ_base={"REMOTE_ADDR": f"10.7.0.{n}"}).status_code for n in range(4)
    ]
    assert statuses == [404, 404, 404, 429]
    # Another visitor, not signed in, from a fresh address is not affected.
    assert limited.test_client().get("/join/ABCD-EFGH", environ_base={"REMOTE_ADDR": "10.8.0.1"}).status_code == 404
    with limited.app_context():
        db.engine.dispose()


def test_registrations_for_one_address_are_limited_across_ip_addresses(app, database_url):
    limited = limited_app(database_url, RATELIMIT_REGISTER_MAILBOX="2 per minute")
    client = limited.test_client()
    statuses = []
    for n in range(3):
        token = csrf_token(client, "/auth/register")
        data = {"email": "same@example.org", "display_name": "Sam", "csrf_token": token}
        statuses.append(
            client.post("/auth/register", data=data, environ_base={"REMOTE_ADDR": f"10.6.0.{n}"}).status_code
        )
    assert statuses == [302, 302, 429]
    with limited.app_context():
        db.engine.dispose()


def test_invitation_emails_are_limited_per_counsellor_account(app, database_url):
    from app.models import Role
    from tests.conftest import login

    limited = limited_app(database_url, RATELIMIT_INVITE_EMAIL="2 per hour")
    create_user(limited, "casey@example.org", role=Role.COUNSELLOR)
    client = limited.test_client()
    login(client, "casey@example.org")

    def invite(email="", ip="10.5.0.1"):
        token = csrf_token(client, "/counsel/invitations")
        data = {"csrf_token": token, "email": email}
        return client.post("/counsel/invitations", data=data, environ_base={"REMOTE_ADDR": ip}).status_code

    # A new address each time does not help: the count is per account.
    statuses = [invite(f"client{n}@example.org", ip=f"10.5.0.{n}") for n in range(3)]
    assert statuses == [302, 302, 429]
    assert invite() == 302  # an invitation shown on screen, with no e-mail, is not limited
    other = limited.test_client()
    create_user(limited, "olive@example.org", role=Role.COUNSELLOR)
    login(other, "olive@example.org")
    token = csrf_token(other, "/counsel/invitations")
    assert other.post("/counsel/invitations", data={"csrf_token": token, "email": "x@example.org"}).status_code == 302
    with limited.app_context():
        db.engine.dispose()
