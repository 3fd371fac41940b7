"""A learner page (shown, a lesson done, a quiz submitted) reads the signed-in user as a value: it
never joins the ORM session, and a page that only reads starts none."""

import pytest
from flask import request, request_finished

from app.extensions import db
from app.models import User
from app.services.signed_in_user import signed_in_user
from tests.conftest import csrf_token, learner_page_urls, lesson_slugs, quiz_form, submit_quiz


def users_in_the_orm_session(app, get):
    """The response to ``get()``, the users its request's ORM session held when it answered, and
    whether the request had started an ORM session at all."""
    held: list[list[User]] = []
    started: list[bool] = []

    def note(sender, response, **extra):
        started.append(db.session.registry.has())
        held.append([row for row in db.session().identity_map.values() if isinstance(row, User)])

    request_finished.connect(note, app)
    try:
        response = get()
    finally:
        request_finished.disconnect(note, app)
    return response, held[0], started[0]


@pytest.mark.parametrize("page", ["landing", "overview", "lesson", "lesson opened again", "quiz page", "my page"])
def test_showing_a_learner_page_leaves_the_user_out_of_the_orm_session(learner_client, app, course, page):
    first = lesson_slugs(app)[0]
    urls = learner_page_urls(course, first)  # the lesson's first visit writes and commits
    url = {**urls, "lesson opened again": urls["lesson"]}[page]
    learner_client.get(f"/courses/{course}/")  # this worker has now read the course content into its cache
    if page == "lesson opened again":
        learner_client.get(url)

    response, users, started = users_in_the_orm_session(app, lambda: learner_client.get(url))

    assert response.status_code == 200
    assert "Lee Learner" in response.get_data(as_text=True)  # the user's values, shown all the same
    assert users == []
    # Reading alone starts no ORM session (app/services/reads.py); a lesson's or quiz's first visit writes.
    assert started == (page in ("lesson", "quiz page"))


@pytest.mark.parametrize("done_by", ["quiz submitted", "lesson done"])
def test_a_learner_post_reads_the_user_as_a_value_too(learner_client, app, course, learner, monkeypatch, done_by):
    """Submitting a quiz or marking a lesson done changes progress, never the user: no ORM session for it."""
    import app.auth.routes as auth_routes

    slugs = lesson_slugs(app)
    learner_client.get(f"/courses/{course}/lessons/{slugs[0]}/quiz")
    form = quiz_form(app, slugs[0])
    loaded = []

    def noting(*args, **kwargs):
        signed_in = signed_in_user(*args, **kwargs)
        loaded.append((request.method, signed_in.user in db.session()))
        return signed_in

    monkeypatch.setattr(auth_routes, "signed_in_user", noting)
    if done_by == "quiz submitted":
        response = submit_quiz(learner_client, slugs[0], form)
    else:  # every lesson of the factory course has a quiz: "done" sends the learner to it
        lesson = f"/courses/{course}/lessons/{slugs[0]}"
        response = learner_client.post(f"{lesson}/done", data={"csrf_token": csrf_token(learner_client, lesson)})

    assert response.status_code == 302
    assert ("POST", False) in loaded
    assert all(not in_session for _, in_session in loaded)


def test_a_view_that_changes_the_user_has_it_in_the_orm_session(learner_client, app, learner, monkeypatch):
    """Any view not marked as a learner page (here: the account's own pages) gets the user to change and save."""
    import app.auth.routes as auth_routes

    loaded = []

    def noting(*args, **kwargs):
        signed_in = signed_in_user(*args, **kwargs)
        loaded.append(signed_in.user in db.session())
        return signed_in

    monkeypatch.setattr(auth_routes, "signed_in_user", noting)
    response = learner_client.get("/me/data")

    assert response.status_code == 200
    assert loaded == [True]
