"""xAPI against a real learning record store: Ralph on loopback (tests/ralph_lrs.py).

A learner works through a lesson and its quiz over HTTP, the queued jobs run as the worker would,
and the statements are read back from Ralph's own API: the right verbs, objects and results, and
nothing personal. Then the store goes down, the learner goes on, the store comes back, and every
statement is there exactly once.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.jobs.xapi import send_statements, send_statements_regularly
from app.models import JobFailure, User, XapiActor, XapiStatement
from tests.conftest import PASSWORD as PASSWORD_OF_LEARNER
from tests.conftest import csrf_token, lesson_slugs, quiz_form, submit_quiz
from tests.queued_jobs import queued, run_enqueued
from tests.ralph_lrs import PASSWORD, USERNAME, Ralph

VERB = "http://adlnet.gov/expapi/verbs/"


@pytest.fixture(scope="module")
def ralph(tmp_path_factory):
    """One Ralph for the module (it takes seconds to start); each test's learner has its own pseudonym."""
    server = Ralph(tmp_path_factory.mktemp("ralph"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def site(app, ralph, tmp_path):
    """The app configured with Ralph as its store, its jobs held in a queue as a worker finds them."""
    app.config.update(XAPI_ENDPOINT=ralph.endpoint, XAPI_USERNAME=USERNAME, XAPI_PASSWORD=PASSWORD)
    with queued(app, tmp_path):
        yield app
    if ralph.process is None:  # a failed test left it stopped
        ralph.start()


def pseudonym(app, learner_id: int) -> str:
    with app.app_context():
        name = db.session.get(XapiActor, learner_id).name
        db.session.remove()
        return name


def waiting(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(XapiStatement))
        db.session.remove()
        return count


def errors(app) -> list[str | None]:
    with app.app_context():
        found = list(db.session.scalars(select(XapiStatement.last_error)))
        db.session.remove()
        return found


def mine(ralph: Ralph, name: str) -> list[dict]:
    return [s for s in ralph.statements() if s["actor"].get("account", {}).get("name") == name]


def verbs(statements: list[dict]) -> Counter:
    return Counter(s["verb"]["id"].removeprefix(VERB) for s in statements)


def test_statements_reach_the_store_pseudonymous_and_once_even_across_an_outage(site, ralph, learner_client, learner):
    app, client = site, learner_client
    first, second = lesson_slugs(app)[:2]
    course_url = "http://localhost/courses/making-tea/"
    assert client.get(f"/courses/making-tea/lessons/{first}").status_code == 200
    assert submit_quiz(client, first, quiz_form(app, first, right=False)).status_code == 302
    assert submit_quiz(client, first, quiz_form(app, first, right=True)).status_code == 302
    assert run_enqueued() >= 1
    assert waiting(app) == 0, errors(app)

    name = pseudonym(app, learner)
    stored = mine(ralph, name)
    assert verbs(stored) == {"experienced": 1, "answered": 6, "failed": 1, "passed": 1}
    by_verb = {s["verb"]["id"].removeprefix(VERB): s for s in stored}
    assert by_verb["experienced"]["object"]["id"] == f"{course_url}lessons/{first}"
    assert by_verb["passed"]["object"]["id"] == f"{course_url}lessons/{first}/quiz"
    assert by_verb["passed"]["result"]["success"] is True
    assert by_verb["passed"]["result"]["score"]["scaled"] == 1
    assert by_verb["failed"]["result"]["success"] is False
    answered = [s for s in stored if s["verb"]["id"] == VERB + "answered"]
    assert Counter(s["result"]["success"] for s in answered) == {False: 3, True: 3}
    for statement in answered:
        assert statement["object"]["definition"]["interactionType"] == "choice"
        assert statement["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
    # Nothing that names the person: only the site and the random id.
    with app.app_context():
        person = db.session.get(User, learner)
        email, display_name = person.email, person.display_name
        db.session.remove()
    text = json.dumps(stored)
    assert email not in text and display_name not in text and "learner@" not in text
    assert {json.dumps(s["actor"], sort_keys=True) for s in stored} == {
        json.dumps({"objectType": "Agent", "account": {"homePage": "http://localhost", "name": name}}, sort_keys=True)
    }

    # The store goes down; the learner goes on; nothing is lost.
    ralph.stop()
    assert client.get(f"/courses/making-tea/lessons/{second}").status_code == 200
    assert submit_quiz(client, second, quiz_form(app, second, right=True)).status_code == 302
    run_enqueued()  # the job finds the store down: the statements wait for the five-minute run
    assert waiting(app) == 5
    with app.app_context():  # an outage is no failed job per event (it once filled the list with them)
        assert db.session.scalar(select(func.count()).select_from(JobFailure)) == 0
        db.session.remove()
    ralph.start()
    send_statements()  # what the retry or the five-minute run does
    run_enqueued()
    assert waiting(app) == 0, errors(app)
    # A crash between the store's answer and the outbox's delete: the statement goes again.
    resent = stored[0]
    with app.app_context():
        body = {k: v for k, v in resent.items() if k not in ("actor", "stored", "authority", "version")}
        db.session.add(XapiStatement(id=resent["id"], user_id=learner, statement=body))
        db.session.commit()
        db.session.remove()
    send_statements_regularly()
    run_enqueued()
    assert waiting(app) == 0, errors(app)

    stored = mine(ralph, name)
    ids = [s["id"] for s in stored]
    assert len(ids) == len(set(ids)) == 9 + 5
    assert verbs(stored) == {"experienced": 2, "answered": 9, "failed": 1, "passed": 2}


def test_deleting_the_account_stops_its_statements_and_forgets_the_pseudonym(site, ralph, learner_client, learner):
    app, client = site, learner_client
    first = lesson_slugs(app)[0]
    ralph.stop()
    assert client.get(f"/courses/making-tea/lessons/{first}").status_code == 200
    run_enqueued()  # fails: the statement waits
    ralph.start()
    assert waiting(app) == 1
    name = pseudonym(app, learner)
    response = client.post(
        "/me/delete",
        data={"password": PASSWORD_OF_LEARNER, "understood": "y", "csrf_token": csrf_token(client, "/me/delete")},
    )
    assert response.status_code == 302
    assert waiting(app) == 0, errors(app)
    with app.app_context():
        assert db.session.get(XapiActor, learner) is None
        db.session.remove()
    send_statements()
    run_enqueued()
    assert mine(ralph, name) == []
