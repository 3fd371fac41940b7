"""Security headers, error pages and the health check."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.services.health import QueueState
from tests.conftest import COURSE_SLUG, inline_scripts, lesson_slugs


@pytest.mark.parametrize("url", ["/", "/auth/login", "/auth/register", f"/courses/{COURSE_SLUG}/", "/no-such-page"])
def test_every_page_carries_the_security_headers(client, course, url):
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(learner_client, app, course):
    first = lesson_slugs(app)[0]
    for url in (
        "/",
        f"/courses/{course}/",
        f"/courses/{course}/lessons/{first}",
        f"/courses/{course}/lessons/{first}/quiz",
    ):
        page = learner_client.get(url).get_data(as_text=True)
        assert not inline_scripts(page) and "<style" not in page and " style=" not in page, url
        # Nothing is loaded from elsewhere; plain links (a lesson's sources) are not requests.
        assert not re.search(r'(?:src|srcset|action|data)="(?:https?:)?//', page), url
        assert not re.search(r'<link[^>]+href="(?:https?:)?//', page), url


def test_not_found_is_a_friendly_page(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_oversized_request_is_413(client, course):
    response = client.post("/auth/login", data={"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


SEEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NOW = SEEN + timedelta(minutes=2)
LATER = SEEN + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        (QueueState(reachable=False), {"status": "degraded", "queue": "unreachable"}),
        (
            QueueState(reachable=True, waiting=0, worker_seen=SEEN, now=NOW),
            {"status": "ok", "queue": "ok", "jobs_waiting": 0, "worker": "ok", "worker_last_seen": SEEN.isoformat()},
        ),
        (  # a worker busy with long jobs: it beat a moment ago
            QueueState(reachable=True, waiting=6, worker_seen=SEEN, now=NOW),
            {"status": "ok", "queue": "ok", "jobs_waiting": 6, "worker": "ok", "worker_last_seen": SEEN.isoformat()},
        ),
        (  # nothing waits, no worker runs: nothing is held back yet
            QueueState(reachable=True, waiting=0, worker_seen=None, now=NOW),
            {"status": "ok", "queue": "ok", "jobs_waiting": 0, "worker": "not seen", "worker_last_seen": None},
        ),
        (  # e-mails are not going out
            QueueState(reachable=True, waiting=6, worker_seen=SEEN, now=LATER),
            {
                "status": "degraded",
                "queue": "ok",
                "jobs_waiting": 6,
                "worker": "not seen",
                "worker_last_seen": SEEN.isoformat(),
            },
        ),
    ],
)
def test_healthz_reports_the_job_queue_and_its_worker_without_failing_for_them(client, monkeypatch, queue, expected):
    import app.main.routes as main_routes

    monkeypatch.setattr(main_routes, "queue_state", lambda huey: queue)
    response = client.get("/healthz")
    # Pages still load while e-mails wait: a load balancer keeps this server, a monitor sees the queue.
    assert response.status_code == 200
    assert response.json == {"database": "ok", **expected}


def test_healthz_gives_the_queue_counts_only_to_this_machine(client, monkeypatch):
    """How many e-mails wait tells how busy the site is: for the server's own monitor only."""
    import app.main.routes as main_routes

    monkeypatch.setattr(
        main_routes, "queue_state", lambda huey: QueueState(reachable=True, waiting=6, worker_seen=SEEN, now=LATER)
    )
    outside = client.get("/healthz", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert outside.status_code == 200
    assert outside.json == {"status": "degraded", "database": "ok", "queue": "ok", "worker": "not seen"}
    assert outside.headers["Cache-Control"] == "no-store"  # differs by who asks: no cache may keep it
    for local in ("127.0.0.1", "::1"):
        assert client.get("/healthz", environ_base={"REMOTE_ADDR": local}).json["jobs_waiting"] == 6


def test_a_database_error_rolls_back_and_answers_503(client, app, course, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import app.main.routes as main_routes

    def broken(*args, **kwargs):
        # What SQLAlchemy raises when the connection dies under a statement.
        raise OperationalError("SELECT 1", {}, Exception("database is gone"), connection_invalidated=True)

    monkeypatch.setattr(main_routes, "course_outline_by_slug", broken)
    response = client.get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = response.get_data(as_text=True)
    assert "We are having trouble right now" in page and "Traceback" not in page and "database is gone" not in page


def test_when_the_database_drops_every_connection_at_most_one_request_fails(learner_client, app, course):
    """No pre-ping (it would cost a round trip per page): a dead pooled connection fails one
    request with a 503, SQLAlchemy then replaces the pool, and the next request works."""
    import psycopg
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("a database restart is a PostgreSQL matter; SQLite has no server to restart")
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    page = f"/courses/{course}/lessons/{lesson_slugs(app)[0]}"
    assert learner_client.get(page).status_code == 200
    with app.app_context():
        held = db.session.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"))
        assert held.scalar() >= 1
        db.session.remove()

    # What a restart does to the pool: every connection to this database is cut.
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    statuses = [learner_client.get(page).status_code for _ in range(3)]

    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(503) <= 1 and statuses[-1] == 200, statuses


def test_an_unexpected_error_is_a_friendly_500(client, app, course, monkeypatch):
    import app.main.routes as main_routes

    monkeypatch.setattr(main_routes, "course_outline_by_slug", lambda *a, **k: 1 / 0)
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    assert "ZeroDivisionError" not in response.get_data(as_text=True)


def test_wrong_method_is_a_friendly_405(client):
    response = client.put("/auth/login")
    assert response.status_code == 405 and "That action is not allowed here" in response.get_data(as_text=True)


def test_healthz_reports_an_unreachable_database(client, app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.extensions import db

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("down"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", broken)
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_session_cookies_are_httponly_and_lax(client, learner):
    from tests.conftest import login

    cookies = login(client, remember="y").headers.getlist("Set-Cookie")
    for name in ("session=", "remember_token="):
        cookie = next(c for c in cookies if c.startswith(name))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie


def test_logging_in_starts_a_fresh_session(client, app, learner):
    from tests.conftest import login

    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    login(client)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.get("_user_id")


def test_logging_out_ends_the_remember_cookie(client, learner):
    from tests.conftest import csrf_token, login

    login(client, remember="y")
    response = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    cleared = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    assert cleared and ("Max-Age=0" in cleared[0] or "1970" in cleared[0])
    client.delete_cookie("session")
    assert client.get("/me/").status_code == 302


def test_production_sends_hsts_and_secure_cookies():
    from app import create_app
    from config import ProductionConfig, TestConfig

    config = type(
        "Prod",
        (ProductionConfig,),
        {
            "SECRET_KEY": "s" * 40,
            "DATABASE_URL_GIVEN": True,
            "ISSUER_NAME_GIVEN": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PUBLIC_URL": "https://localhost",
            "CREDENTIAL_SIGNING_KEY": TestConfig.CREDENTIAL_SIGNING_KEY,
            "MAIL_SERVER": "smtp.example.org",
        },
    )
    app = create_app(config)
    response = app.test_client().get("/auth/login")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_the_headers_are_on_every_page_type(client, app, course):
    from app.models import Role
    from tests.conftest import create_user, login

    admin = create_user(app, "admin@example.org", role=Role.ADMIN)
    login(client, "admin@example.org")
    first = lesson_slugs(app)[0]
    urls = [
        "/",
        "/healthz",
        "/auth/reset",
        f"/courses/{course}/",
        f"/courses/{course}/lessons/{first}",
        f"/courses/{course}/lessons/{first}/quiz",
        "/me/",
        "/me/data.json",
        "/join/AAAA-BBBB",
        "/counsel/",
        "/counsel/clients.csv",
        f"/counsel/clients/{admin}",
        "/counsel/invitations",
        "/author/",
        "/author/analytics",
        "/author/users",
        f"/author/courses/{course}/export.zip",
        "/static/css/app.css",
        "/nowhere",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", ""), url
        assert response.headers.get("X-Content-Type-Options") == "nosniff", url
        assert response.headers.get("Referrer-Policy") == "same-origin", url
        response.close()  # static files are streamed from disk


@pytest.mark.parametrize("url", ["/", "/me/", "/me/data.json", f"/courses/{COURSE_SLUG}/", "/no-such-page"])
def test_a_signed_in_user_gets_the_sites_503_when_every_query_fails(app, learner_client, monkeypatch, url):
    """The error page must not need the database (base.html would read the signed-in user)."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    from app.extensions import db

    def gone(*args, **kwargs):
        # What SQLAlchemy raises when the connection dies under a statement.
        raise OperationalError("SELECT 1", {}, Exception("database is gone"), connection_invalidated=True)

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", gone)
    try:
        response = learner_client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", gone)
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30", url
    assert "We are having trouble right now" in page and "database is gone" not in page
    assert response.headers["Cache-Control"] == "no-store"
    assert learner_client.get(url).status_code in (200, 404)
