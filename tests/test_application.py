"""The app's Flask class (app/application.py): plain functions are asked about once."""

import flask.app
import pytest

from app import application
from app.application import App


@pytest.fixture
def asked(monkeypatch):
    """The functions Flask's ensure_sync asks ``iscoroutinefunction`` about, in order."""
    calls = []
    real = flask.app.iscoroutinefunction

    def noting(func):
        calls.append(func)
        return real(func)

    monkeypatch.setattr(flask.app, "iscoroutinefunction", noting)
    return calls


def test_a_plain_function_is_asked_about_once_and_handed_back(asked):
    app = App(__name__)

    def view():
        return "ok"

    assert [app.ensure_sync(view) for _ in range(3)] == [view, view, view]
    assert asked == [view]


def test_a_coroutine_function_is_never_taken_for_a_plain_one(asked):
    app = App(__name__)

    async def view():
        return "ok"

    for _ in range(2):  # Flask wraps it each time (here: says the async extra is missing)
        with pytest.raises(RuntimeError, match="async"):
            app.ensure_sync(view)
    assert asked == [view, view]


def test_an_unhashable_callable_is_asked_about_every_time(asked):
    class Unhashable:
        __hash__ = None

        def __call__(self):
            return "ok"

    app, view = App(__name__), Unhashable()

    assert app.ensure_sync(view) is view and app.ensure_sync(view) is view
    assert asked == [view, view]


def test_no_more_than_so_many_plain_functions_are_remembered(asked, monkeypatch):
    monkeypatch.setattr(application, "REMEMBERED_PLAIN", 2)
    app = App(__name__)
    views = [lambda: 1, lambda: 2, lambda: 3]

    for _ in range(2):
        for view in views:
            assert app.ensure_sync(view) is view

    assert asked == [*views, views[2]]  # the third, not remembered, is asked about again


def test_the_apps_hooks_and_views_run_through_it(client):
    assert isinstance(client.application, App)
    response = client.get("/")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers  # an after-request hook ran
