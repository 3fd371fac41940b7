"""Learners are told about learning records (xAPI) on /me/ and in the home page's privacy note,
only when the site sends them (XAPI_ENDPOINT set)."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.services.xapi import xapi_store
from tests.conftest import COURSE_SLUG, lesson_slugs, quiz_form, submit_quiz

NOTICE = "Learning records sent to the clinic"


@pytest.mark.parametrize("endpoint", ["", "https://lrs.example.org/xAPI/"])
def test_me_tells_the_learner_only_when_records_are_sent(app, learner_client, endpoint):
    app.config["XAPI_ENDPOINT"] = endpoint
    page = learner_client.get("/me/").get_data(as_text=True)
    assert (NOTICE in page) is bool(endpoint)
    if endpoint:
        assert "random number made for you alone" in page


@pytest.mark.parametrize("endpoint", ["", "https://lrs.example.org/xAPI/"])
def test_the_privacy_note_mentions_learning_records_only_when_they_are_sent(app, client, course, endpoint):
    app.config["XAPI_ENDPOINT"] = endpoint
    page = client.get("/").get_data(as_text=True)
    assert ("The clinic keeps learning records" in page) is bool(endpoint)


def test_an_endpoint_that_is_not_a_web_address_turns_statements_off(app, caplog):
    assert xapi_store({"XAPI_ENDPOINT": "file:///etc/passwd"}) is None
    assert "not an http(s) URL" in caplog.text
    assert xapi_store({"XAPI_ENDPOINT": " https://lrs.example.org/xAPI "}).statements_url == (
        "https://lrs.example.org/xAPI/statements"
    )


def test_a_queue_that_is_down_fails_no_learner_request_whose_work_was_saved(app, learner_client, monkeypatch):
    """The statements' job cannot be queued (Redis down): the attempt and the statements are saved,
    and the learner gets their result, not a 500; the five-minute run sends the statements later."""
    import app.jobs.xapi as xapi_jobs
    from app.models import QuizAttempt, XapiStatement

    app.config["XAPI_ENDPOINT"] = "https://lrs.example.org/xAPI/"

    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(xapi_jobs, "send_statements", unreachable)
    first = lesson_slugs(app)[0]

    assert learner_client.get(f"/courses/{COURSE_SLUG}/lessons/{first}").status_code == 200
    response = submit_quiz(learner_client, first, quiz_form(app, first))

    assert response.status_code == 302 and "/quiz/attempts/" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 1
        verbs = {row.statement["verb"]["id"].rsplit("/", 1)[-1] for row in db.session.scalars(select(XapiStatement))}
    assert {"experienced", "answered"} <= verbs
