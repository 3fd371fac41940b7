"""Outgoing mail: the SMTP layer (app/services/mail.py) and the jobs that send the app's e-mails
(app/jobs/mail.py): a mail server that is down or never answers delays no request and breaks no
page, the job raises so the queue retries it, and without MAIL_SERVER the worker prints each
message, link and all."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import pytest

from app import create_app
from app.extensions import db
from app.jobs.mail import send_email, send_password_reset, send_registration
from app.jobs.queue import huey
from app.services.mail import send_mail
from config import BASE_DIR
from tests.conftest import create_user, csrf_token, make_test_config
from tests.mail_server import body_of
from tests.queued_jobs import enqueued, queued, run_enqueued

KNOWN = "learner@example.org"


def test_extra_headers_reach_the_server(app, inbox):
    headers = {"List-Unsubscribe": "<https://example.org/u/abc>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    send_mail(app.config, to="someone@example.org", subject="A reminder", body="Hello", headers=headers)
    message = inbox.wait_for(1)[0]
    assert message["List-Unsubscribe"] == "<https://example.org/u/abc>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"] == "A reminder"


def test_every_message_carries_a_date_its_own_id_and_says_a_program_sent_it(app, inbox):
    """RFC 5322 requires a Date; without it or a Message-ID, spam filters mark a reset link down."""
    from email.utils import parsedate_to_datetime

    from app.models.types import utcnow

    for n in range(2):
        send_mail(app.config, to="someone@example.org", subject=f"Message {n}", body="Hello")
    first, second = inbox.wait_for(2)
    assert abs((parsedate_to_datetime(first["Date"]) - utcnow()).total_seconds()) < 60
    domain = app.config["MAIL_SENDER"].rpartition("@")[2].rstrip(">")
    assert re.fullmatch(rf"<[^<>@\s]+@{re.escape(domain)}>", first["Message-ID"])
    assert first["Message-ID"] != second["Message-ID"]
    assert first["Auto-Submitted"] == "auto-generated"


def test_send_email_job_sends_the_message_with_its_headers(app, inbox):
    send_email("someone@example.org", "Hello", "Body text", {"List-Unsubscribe": "<https://example.org/u/x>"})
    message = inbox.wait_for(1)[0]
    assert message["To"] == "someone@example.org" and message["List-Unsubscribe"] == "<https://example.org/u/x>"
    assert body_of(message).strip() == "Body text"


def test_links_are_built_from_public_url_without_a_request(app):
    """A job has an app context and no request; its links still come from PUBLIC_URL."""
    from app.urls import external_url

    app.config["PUBLIC_URL"] = "https://learn.example.org/"
    with app.app_context():
        assert external_url("auth.reset_password", token="abc") == "https://learn.example.org/auth/reset/abc"
    with app.test_request_context("/", base_url="http://evil.example"):
        assert external_url("auth.login") == "https://learn.example.org/auth/login"


def test_the_jobs_mail_only_active_owners(app, inbox, learner):
    send_password_reset("nobody@example.org")
    send_password_reset(" Learner@Example.org ")  # as typed: the job normalises it, as the lookup did
    send_registration("new@example.org", "New Person", None)
    messages = inbox.wait_for(2)
    assert [(m["To"], m["Subject"]) for m in messages] == [
        (KNOWN, "Choose a new password"),
        ("new@example.org", "Finish creating your account"),
    ]
    assert "http://localhost/auth/reset/" in body_of(messages[0])
    assert "http://localhost/auth/register/finish/" in body_of(messages[1])


def reset(app) -> tuple[int, float]:
    """Ask for a reset for KNOWN; the status and the seconds the answer took."""
    client = app.test_client()
    token = csrf_token(client, "/auth/reset")
    started = time.perf_counter()
    response = client.post("/auth/reset", data={"email": KNOWN, "csrf_token": token})
    return response.status_code, time.perf_counter() - started


@pytest.fixture
def silent_server():
    """A server socket that takes connections and never says a word (a hung mail server)."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as server:
        server.setblocking(False)
        yield server


def was_connected_to(server: socket.socket) -> bool:
    """Whether a client has connected to ``server`` (the system completes the connection unasked)."""
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


@pytest.fixture
def closed_port():
    """A port nothing listens on (a mail server that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_hung_mail_server_delays_no_request_and_the_job_raises_to_be_retried(app, learner, silent_server, tmp_path):
    timeout = 0.5  # the default is 10 s
    port = silent_server.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False, MAIL_TIMEOUT=timeout)
    with queued(app, tmp_path):
        status, _ = reset(app)
        # The answer does not wait for the mail server: the request does not even connect to it.
        assert status == 302 and not was_connected_to(silent_server)
        assert [name for name, _, _ in enqueued()] == ["send_password_reset"]
        started = time.perf_counter()
        with pytest.raises(OSError):  # smtplib's errors are OSErrors: the queue sees a failure
            send_password_reset.call_local(KNOWN)
        assert time.perf_counter() - started < timeout + 2  # MAIL_TIMEOUT bounds the wait
        assert was_connected_to(silent_server)  # the job did wait for the hung server
        run_enqueued()  # as the worker: the failure is scheduled again, with one try fewer left
        retries = [(task.name, task.retries) for task in huey.scheduled()]
    assert retries == [("send_password_reset", send_password_reset.retries - 1)]


def test_a_mail_server_that_is_down_breaks_no_page_even_when_jobs_run_inline(app, learner, closed_port, caplog):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port, MAIL_USE_TLS=False)
    with caplog.at_level("ERROR", logger="huey"):
        status, _ = reset(app)
    assert status == 302
    assert "send_password_reset" in caplog.text or "ConnectionRefusedError" in caplog.text
    with pytest.raises(ConnectionRefusedError):
        send_password_reset.call_local(KNOWN)


def test_without_mail_server_the_job_logs_the_message_link_and_all(app, learner, caplog):
    app.config["MAIL_SERVER"] = ""
    with caplog.at_level("INFO", logger="app.services.mail"):
        send_password_reset(KNOWN)
    assert re.search(r"http://localhost/auth/reset/\S+", caplog.text) and f"To: {KNOWN}" in caplog.text


def test_in_development_the_worker_prints_each_unsent_message_link_and_all(tmp_path):
    """`make run` without MAIL_SERVER: the worker it starts prints the e-mail, so a reset can be finished."""
    database = f"sqlite:///{tmp_path / 'dev.db'}"
    setup = create_app(make_test_config(database))
    with setup.app_context():
        db.create_all()
    create_user(setup, KNOWN)
    env = {
        **os.environ,
        "APP_ENV": "development",
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": database,
        "MAIL_SERVER": "",
        "REDIS_URL": "",
        "JOBS_BACKEND": "sqlite",
        "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite"),
        "PUBLIC_URL": "http://127.0.0.1:5000",
    }
    with queued(setup, tmp_path):
        send_password_reset(KNOWN)  # waits in the SQLite queue the worker reads
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "jobs", "worker"],
            cwd=BASE_DIR,
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        printed = ""
        try:
            deadline = time.monotonic() + 30
            while "(end of e-mail)" not in printed and time.monotonic() < deadline:
                line = worker.stderr.readline()
                if not line and worker.poll() is not None:
                    break
                printed += line
        finally:
            worker.terminate()
            worker.wait(timeout=10)
            worker.stderr.close()
    with setup.app_context():
        db.engine.dispose()
    assert f"To: {KNOWN}" in printed and "Subject: Choose a new password" in printed, printed
    assert re.search(r"^http://127\.0\.0\.1:5000/auth/reset/\S+$", printed, re.MULTILINE), printed
    assert printed.count("Subject: Choose a new password") == 1  # once, not again by the worker's own log


def invite(app, email: str = "client@example.org"):
    """A counsellor creates an invitation and asks for it to be e-mailed; the response."""
    from app.models import Role
    from tests.conftest import login

    create_user(app, "casey@example.org", role=Role.COUNSELLOR, name="Casey Counsellor")
    client = app.test_client()
    login(client, "casey@example.org")
    token = csrf_token(client, "/counsel/invitations")
    return client.post("/counsel/invitations", data={"csrf_token": token, "email": email}, follow_redirects=True)


def test_an_invitation_is_mailed_by_a_job_and_the_page_does_not_wait(app, course, inbox, silent_server, tmp_path):
    inbox_port = app.config["MAIL_PORT"]
    app.config.update(MAIL_PORT=silent_server.getsockname()[1], MAIL_TIMEOUT=2)  # a mail server that never answers
    with queued(app, tmp_path):
        started = time.perf_counter()
        response = invite(app)
        assert response.status_code == 200 and time.perf_counter() - started < 2
        assert "We are e-mailing the invitation to the address you gave." in response.get_data(as_text=True)
        assert [(name, args[0]) for name, args, _ in enqueued()] == [("send_email", "client@example.org")]
        app.config["MAIL_PORT"] = inbox_port  # the server is back: the worker sends it
        assert run_enqueued() == 1
    assert inbox.wait_for(1)[0]["To"] == "client@example.org"


def test_an_invitation_page_still_answers_when_the_queue_is_unreachable(app, course, monkeypatch):
    def unreachable(task):
        raise ConnectionError("the queue's Redis is down")

    monkeypatch.setattr(huey, "enqueue", unreachable)
    response = invite(app)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "We could not send the e-mail" in page
    assert 'id="invitation-code"' in page  # the code to give the client instead


def test_a_message_the_server_took_is_sent_once_even_if_saying_goodbye_fails(app):
    """A server that answers QUIT with 421 after taking the message: the job must not fail (and be retried)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    from tests.mail_server import Inbox, free_port

    class RudeGoodbye(SMTP):
        async def smtp_QUIT(self, arg):
            await self.push("421 closing anyway")
            self.transport.close()

    class RudeController(Controller):
        def factory(self):
            return RudeGoodbye(self.handler)

    inbox = Inbox()
    controller = RudeController(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
        send_mail(app.config, to=KNOWN, subject="Once", body="Only once, please.")  # raises nothing
        assert [message["Subject"] for message in inbox.wait_for(1)] == ["Once"]
    finally:
        controller.stop()
