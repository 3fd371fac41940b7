"""A quiz attempt that was saved is never reported as failed, whatever fails after the commit."""

import re

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import QuizAttempt
from tests.conftest import lesson_slugs, quiz_form


def _gone(*args, **kwargs):
    raise OperationalError("SELECT 1", {}, Exception("the database went away"), connection_invalidated=True)


@pytest.mark.parametrize("where", ["the next query", "finishing the response"])
def test_the_database_failing_after_the_commit_still_sends_the_learner_to_their_attempt(
    app, learner_client, where, monkeypatch, course
):
    first = lesson_slugs(app)[0]
    url = f"/courses/{course}/lessons/{first}/quiz"
    page = learner_client.get(url).get_data(as_text=True)
    form = {
        **quiz_form(app, first),
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
        "submission_key": re.search(r'name="submission_key" type="hidden" value="([^"]*)"', page).group(1),
    }
    committed = []
    with app.app_context():
        engine = db.engine

    def after_commit(session):
        committed.append(True)

    def fail_once_committed(*args, **kwargs):
        if committed:
            _gone()

    def finish(response):
        if committed and where == "finishing the response":
            _gone()
        return response

    app.after_request_funcs.setdefault(None, []).append(finish)  # the app has served requests already
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production: handlers answer

    event.listen(Session, "after_commit", after_commit)
    if where == "the next query":
        event.listen(engine, "before_cursor_execute", fail_once_committed)
    try:
        response = learner_client.post(url, data=form)
    finally:
        app.after_request_funcs[None].remove(finish)
        event.remove(Session, "after_commit", after_commit)
        if where == "the next query":
            event.remove(engine, "before_cursor_execute", fail_once_committed)

    assert committed, "the attempt was committed"
    with app.app_context():
        attempt_id = db.session.scalar(
            select(QuizAttempt.id).where(QuizAttempt.submission_key == form["submission_key"])
        )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].endswith(f"{url}/attempts/{attempt_id}")
    assert learner_client.get(response.headers["Location"]).status_code == 200


def test_the_database_failing_before_the_commit_is_a_503_and_nothing_is_saved(app, learner_client, monkeypatch, course):
    import app.services.quizzes as quizzes

    first = lesson_slugs(app)[0]
    url = f"/courses/{course}/lessons/{first}/quiz"
    page = learner_client.get(url).get_data(as_text=True)
    form = {
        **quiz_form(app, first),
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
        "submission_key": re.search(r'name="submission_key" type="hidden" value="([^"]*)"', page).group(1),
    }
    monkeypatch.setattr(quizzes, "lesson_record_completion", _gone)
    response = learner_client.post(url, data=form)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    with app.app_context():
        assert db.session.scalar(select(QuizAttempt.id)) is None
