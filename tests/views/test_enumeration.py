"""Login, reset and registration answer the same, doing the same work, whether or not an address
has an account: same status, same body (but for the CSRF token), same headers, same queries;
the request sends no mail itself but enqueues the same job, with the same arguments, for either
address, and the job mails only the address's owner.

Timing is not asserted here (too flaky on shared machines); bench/account_timing.py measures it.
"""

import re
import smtplib

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import User
from app.services import accounts
from app.services.user_admin import NO_PASSWORD_YET
from tests.conftest import PASSWORD, count_queries, csrf_token, make_test_config
from tests.queued_jobs import enqueued, queued, run_enqueued

KNOWN = "learner@example.org"
UNKNOWN = "nobody1@example.org"  # as long as KNOWN, so the echoed form is as long too
assert len(KNOWN) == len(UNKNOWN)

FORMS = {
    "login": ("/auth/login", {"password": "not the password"}),
    "reset": ("/auth/reset", {}),
    "register": ("/auth/register", {"display_name": "Someone"}),
}


def shape(response, email: str) -> dict:
    """What a caller can see of a response, less what differs on every request anyway."""
    body = response.get_data(as_text=True).replace(email, "EMAIL")
    body = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", body)
    headers = {name: value for name, value in response.headers.items() if name != "Set-Cookie"}
    # A cookie's name and attributes, not its signed value.
    cookies = sorted(re.sub(r"=[^;]*", "=VALUE", cookie, count=1) for cookie in response.headers.getlist("Set-Cookie"))
    return {"status": response.status_code, "body": body, "headers": headers, "cookies": cookies}


def send(app, form: str, email: str, client=None):
    """Send the form for ``email`` (from a fresh client by default); return the response, not yet closed."""
    url, data = FORMS[form]
    client = client or app.test_client()
    token = csrf_token(client, url)
    return client.post(url, data={**data, "email": email, "csrf_token": token})


@pytest.mark.parametrize("form", FORMS)
def test_known_and_unknown_addresses_get_the_same_answer(app, learner, inbox, form):
    clients = app.test_client(), app.test_client()
    known, unknown = send(app, form, KNOWN, clients[0]), send(app, form, UNKNOWN, clients[1])
    assert shape(known, KNOWN) == shape(unknown, UNKNOWN)
    if known.status_code == 302:  # and the page it leads to, with its flashed message
        pages = [
            client.get(response.headers["Location"]) for client, response in zip(clients, (known, unknown), strict=True)
        ]
        assert shape(pages[0], KNOWN) == shape(pages[1], UNKNOWN)


def masked(value, email: str):
    """A job's argument with the address typed replaced by EMAIL."""
    return value.replace(email, "EMAIL") if isinstance(value, str) else value


@pytest.mark.parametrize("form", FORMS)
def test_known_and_unknown_addresses_run_the_same_queries_and_enqueue_the_same_job(app, learner, form, tmp_path):
    counts, jobs = [], []
    with app.app_context():
        engine = db.engine
    for email in (KNOWN, UNKNOWN):
        with queued(app, tmp_path), count_queries(engine) as queries:
            send(app, form, email).close()
            jobs.append([(name, [masked(arg, email) for arg in args], kwargs) for name, args, kwargs in enqueued()])
        counts.append(queries())
    assert counts[0] == counts[1]
    assert jobs[0] == jobs[1]
    if form != "login":
        assert len(jobs[0]) == 1 and jobs[0][0][1][0] == "EMAIL"  # one job, given the address as typed


def test_login_checks_a_password_hash_of_the_configured_method_for_unknown_addresses_too(app, learner, monkeypatch):
    methods = []
    real_check = accounts.check_password_hash

    def spy(pwhash, password):
        methods.append(pwhash.split("$")[0])
        return real_check(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", spy)
    send(app, "login", KNOWN)
    send(app, "login", UNKNOWN)
    assert methods == [app.config["PASSWORD_HASH_METHOD"]] * 2


def test_the_dummy_hash_follows_the_method_and_is_made_once():
    accounts._no_such_user_hash.cache_clear()
    first = accounts._no_such_user_hash("scrypt:128:8:1")
    assert first.startswith("scrypt:128:8:1$") and accounts._no_such_user_hash("scrypt:128:8:1") is first
    assert accounts._no_such_user_hash("pbkdf2:sha256:1000").startswith("pbkdf2:sha256:1000$")


@pytest.mark.parametrize(("form", "mailed"), [("reset", [KNOWN]), ("register", [KNOWN, UNKNOWN])])
def test_mail_goes_only_to_owners_and_only_from_the_job(app, learner, inbox, form, mailed, tmp_path, monkeypatch):
    connections = []
    real_connect = smtplib.SMTP.connect

    def connect(smtp, *args, **kwargs):
        connections.append(args)
        return real_connect(smtp, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", connect)
    with queued(app, tmp_path):
        for email in (KNOWN, UNKNOWN):
            assert send(app, form, email).status_code == 302
        assert connections == []  # the requests connected to no SMTP server
        assert run_enqueued() == 2
    # Reset: the owner only. Register: the owner a note, the free address a link.
    assert [message["To"] for message in inbox.wait_for(len(mailed))] == mailed
    assert len(connections) == len(mailed)


def test_a_real_user_still_logs_in(app, learner):
    client = app.test_client()
    token = csrf_token(client, "/auth/login")
    response = client.post("/auth/login", data={"email": KNOWN, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


@pytest.fixture
def hashing(monkeypatch):
    """Password hashes checked and made, recorded by name: ``{"checked": [...], "made": [...]}``."""
    work: dict[str, list[str]] = {"checked": [], "made": []}
    real_check, real_make = accounts.check_password_hash, accounts.generate_password_hash

    def check(pwhash, password):
        work["checked"].append(pwhash.split("$")[0])
        return real_check(pwhash, password)

    def make(password, method="scrypt", salt_length=16):
        work["made"].append(method)
        return real_make(password, method=method, salt_length=salt_length)

    monkeypatch.setattr(accounts, "check_password_hash", check)
    monkeypatch.setattr(accounts, "generate_password_hash", make)
    return work


def _deactivate(app, email: str) -> None:
    with app.app_context():
        db.session.scalars(select(User).where(User.email == email)).one().is_active = False
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("form", FORMS)
def test_known_and_unknown_addresses_do_the_same_password_work(app, learner, inbox, hashing, form):
    """Log-in checks exactly one hash, of the configured method, for either; the other forms none."""
    work = []
    for email in (KNOWN, UNKNOWN):
        hashing["checked"].clear(), hashing["made"].clear()
        send(app, form, email).close()
        work.append((list(hashing["checked"]), list(hashing["made"])))
    expected = [app.config["PASSWORD_HASH_METHOD"]] if form == "login" else []
    assert work == [(expected, [])] * 2


def test_the_first_unknown_address_after_start_up_costs_no_more_than_a_known_one(app, learner, hashing):
    """The dummy hash is made when the app starts, not by the first unknown address to log in."""
    accounts._no_such_user_hash.cache_clear()  # as in a freshly started process
    fresh = create_app(make_test_config(app.config["SQLALCHEMY_DATABASE_URI"]))
    try:
        hashing["made"].clear()  # making it at start-up is the point
        send(fresh, "login", UNKNOWN).close()
        assert hashing == {"checked": [fresh.config["PASSWORD_HASH_METHOD"]], "made": []}
    finally:
        with fresh.app_context():
            db.engine.dispose()


def test_a_deactivated_account_logs_in_like_an_unknown_address(app, learner, hashing):
    """Even with the right password: the same answer and the same one hash check as no account."""
    _deactivate(app, KNOWN)
    url = "/auth/login"
    answers = []
    for email in (KNOWN, UNKNOWN):
        client = app.test_client()
        token = csrf_token(client, url)
        response = client.post(url, data={"email": email, "password": PASSWORD, "csrf_token": token})
        answers.append(shape(response, email))
    assert answers[0] == answers[1] and answers[0]["status"] == 400
    assert hashing["checked"] == [app.config["PASSWORD_HASH_METHOD"]] * 2


def test_an_account_an_admin_created_logs_in_like_an_unknown_address(app, learner, hashing):
    """Its owner has not chosen a password, so it stores a marker, not a hash. Checking the
    marker took no time, which told anyone that the address was a client the clinic enrolled."""
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == KNOWN)).one()
        user.password_hash = NO_PASSWORD_YET
        db.session.commit()
        db.session.remove()
    answers = []
    for email in (KNOWN, UNKNOWN):
        client = app.test_client()
        token = csrf_token(client, "/auth/login")
        response = client.post("/auth/login", data={"email": email, "password": NO_PASSWORD_YET, "csrf_token": token})
        answers.append(shape(response, email))
    assert answers[0] == answers[1] and answers[0]["status"] == 400
    assert hashing["checked"] == [app.config["PASSWORD_HASH_METHOD"]] * 2
