"""Learner pages drawn from kept fragments (app/page_fragments.py) are the pages drawn in full.

Each page is fetched twice at every step: as served, with fragments kept from every page any
learner was shown before, and with every fragment drawn afresh. The two must be the same bytes,
whatever the lesson's state (locked, open, completed), with and without attempts, for a lesson
with a quiz and one without, with a message flashed, for the learner and for another.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager

import pytest
from markupsafe import Markup

from app.extensions import db
from app.page_fragments import EXTENSION_KEY, PageFragments
from app.services.course_files import load_course
from app.services.course_import import course_import
from tests.conftest import create_user, login, quiz_form, submit_quiz
from tests.factories import COURSE, default_lessons, write_course

COURSE_SLUG = COURSE["slug"]
LESSONS = ["one", "two", "three"]  # "two" has no quiz


@pytest.fixture
def tiny_course(app, tmp_path) -> str:
    """The factory's three-lesson course, its second lesson without a quiz."""
    lessons = default_lessons()
    del lessons["two"]["front"]["quiz"]
    with app.app_context():
        course_import(db.session, load_course(write_course(tmp_path / "tiny", dict(COURSE), lessons)))
        db.session.remove()
    return COURSE_SLUG


@contextmanager
def drawn_in_full(app):
    """Every fragment and page shell drawn afresh on each page, as if none were kept."""
    kept = app.jinja_env.globals["fragment"]
    store = app.extensions[EXTENSION_KEY]
    app.jinja_env.globals["fragment"] = lambda name, content, *key, caller: Markup(caller())  # noqa: S704 - the template's output
    app.extensions[EXTENSION_KEY] = PageFragments(size=0)  # keeps nothing (app/page_shells.py draws through it)
    try:
        yield
    finally:
        app.jinja_env.globals["fragment"] = kept
        app.extensions[EXTENSION_KEY] = store


PAGES = (
    [f"/courses/{COURSE_SLUG}/"]
    + [f"/courses/{COURSE_SLUG}/lessons/{slug}" for slug in LESSONS]
    + [f"/courses/{COURSE_SLUG}/lessons/{slug}/quiz" for slug in ("one", "three")]
)


def assert_pages_as_drawn_in_full(app, client, urls=tuple(PAGES)) -> list[str]:
    """Fetch every page (following a locked lesson's redirect to its flashed message) both ways."""
    pages = []
    for url in urls:
        # A first visit records the lesson as opened: compare the visits after it.
        client.get(url, follow_redirects=True)
        served = client.get(url, follow_redirects=True)
        with drawn_in_full(app):
            full = client.get(url, follow_redirects=True)
        assert served.status_code == full.status_code == 200
        assert served.get_data(as_text=True) == full.get_data(as_text=True), url
        pages.append(served.get_data(as_text=True))
    return pages


@pytest.fixture
def submission_key(monkeypatch) -> list[str]:
    """Quiz pages give the key held here (so two fetches show the choices in one order) until it is changed."""
    key = ["a" * 32]
    monkeypatch.setattr("app.learn.routes.fresh_submission_key", lambda: key[0])
    return key


def test_pages_are_the_same_drawn_from_kept_fragments_in_every_state(app, client, tiny_course, submission_key):
    create_user(app, "ada@example.org", name="Ada Ahead")
    create_user(app, "bo@example.org", name="Bo Behind")
    ahead, behind, visitor = client, app.test_client(), app.test_client()
    assert login(ahead, "ada@example.org").status_code == 302
    assert login(behind, "bo@example.org").status_code == 302
    one = f"/courses/{COURSE_SLUG}/lessons/one"

    def answer(learner, slug: str, *, right: bool = True) -> None:
        submission_key[0] = uuid.uuid4().hex  # each submission its own key, as the page gives
        form = quiz_form(app, slug, right=right, course_slug=COURSE_SLUG)
        assert submit_quiz(learner, slug, form, course_slug=COURSE_SLUG).status_code == 302

    def both() -> tuple[list[str], list[str]]:
        # Each learner's quiz pages with a key of their own: choices in another order.
        submission_key[0] = uuid.uuid4().hex
        ahead_pages = assert_pages_as_drawn_in_full(app, ahead)
        submission_key[0] = uuid.uuid4().hex
        return ahead_pages, assert_pages_as_drawn_in_full(app, behind)

    # Nobody signed in: the overview (a lesson sends a visitor to the login form, whose token is
    # signed afresh to the second on every page, so two fetches of it may differ).
    overview = assert_pages_as_drawn_in_full(app, visitor, PAGES[:1])[0]
    assert "log in</a> to start the lessons" in overview

    pages, _ = both()  # the first lesson open, the rest locked: a locked one flashes why
    assert "opens when you complete the lesson before it" in pages[2]
    assert "Ada Ahead" in pages[1] and "Take the quiz" in pages[1]
    assert "Submit my answers" in pages[4]

    # A quiz sent back with an error keeps what was chosen: drawn in full whatever is kept.
    quiz_one = f"/courses/{COURSE_SLUG}/lessons/one/quiz"
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', pages[4]).group(1)
    partly = dict(list(quiz_form(app, "one", course_slug=COURSE_SLUG).items())[1:])
    form = {**partly, "csrf_token": token, "submission_key": submission_key[0]}
    refused = ahead.post(quiz_one, data=form)
    with drawn_in_full(app):
        refused_in_full = ahead.post(quiz_one, data=form)
    assert refused.status_code == refused_in_full.status_code == 200
    assert "Not quite ready" in refused.get_data(as_text=True) and " checked" in refused.get_data(as_text=True)
    assert refused.get_data(as_text=True) == refused_in_full.get_data(as_text=True)

    answer(ahead, "one", right=False)
    pages, behind_pages = both()  # open, with a failed attempt
    assert "Your attempts at this quiz" in pages[1] and "Your attempts at this quiz" not in behind_pages[1]
    assert "Bo Behind" in behind_pages[1] and "Ada Ahead" not in behind_pages[1]

    answer(ahead, "one")
    pages, behind_pages = both()  # completed with attempts; the lesson without a quiz open
    assert "See your results" in pages[1] and "See your results" not in behind_pages[1]
    assert "Mark this lesson as done" in pages[2]

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', pages[2]).group(1)
    ahead.post(f"/courses/{COURSE_SLUG}/lessons/two/done", data={"csrf_token": token})
    flashed = ahead.get(one)  # the completion's message shows on the next page
    with drawn_in_full(app):
        ahead.post(f"/courses/{COURSE_SLUG}/lessons/two/done", data={"csrf_token": token})
        flashed_in_full = ahead.get(one)
    assert "You completed" in flashed.get_data(as_text=True)
    assert flashed.get_data(as_text=True) == flashed_in_full.get_data(as_text=True)
    pages, _ = both()  # the lesson without a quiz completed
    assert "You completed this lesson" in pages[2]

    answer(ahead, "three")
    answer(behind, "one", right=False)
    pages, behind_pages = both()  # every lesson completed; the other learner open with an attempt
    assert "See your certificate" in pages[0]
    assert "Ada Ahead" not in "".join(behind_pages)


def test_a_kept_fragment_is_drawn_once_for_its_key(app):
    fragments = PageFragments(size=2)
    drawn: list[str] = []

    def caller(text: str):
        return lambda: drawn.append(text) or Markup(f"<p>{text}</p>")  # noqa: S704 - fixed test text

    content = type("Content", (), {"id": 1})()
    with app.test_request_context("/"):
        assert fragments("part", content, "a", caller=caller("a")) == "<p>a</p>"
        assert fragments("part", content, "a", caller=caller("again")) == "<p>a</p>"
        assert fragments("part", content, "b", caller=caller("b")) == "<p>b</p>"
        assert drawn == ["a", "b"]
        fragments("part", content, "c", caller=caller("c"))  # over the bound: the least recent ("a") goes
        assert fragments("part", content, "a", caller=caller("a2")) == "<p>a2</p>"
        assert fragments("part", content, "c", caller=caller("c2")) == "<p>c</p>"


def test_several_keys_kept_at_once_are_the_fragments_kept_one_by_one(app):
    """A quiz page finds its questions' fragments together (kept_each): same store, same rules."""
    fragments = PageFragments(size=3)
    drawn: list[str] = []

    def make(text: str):
        return lambda: drawn.append(text) or text

    content = type("Content", (), {"id": 1})()
    with app.test_request_context("/"):
        assert fragments.kept("q", content, 1, make=make("one")) == "one"
        wanted = [((1,), make("one again")), ((2,), make("two")), ((3,), make("three"))]
        assert fragments.kept_each("q", content, wanted) == ["one", "two", "three"]
        assert drawn == ["one", "two", "three"]
        assert fragments.kept("q", content, 2, make=make("two again")) == "two"
        fragments.kept("q", content, 4, make=make("four"))  # over the bound: the least recent (1) goes
        assert fragments.kept_each("q", content, [((1,), make("one anew"))]) == ["one anew"]
    with app.test_request_context("/", base_url="http://localhost/school/"):
        assert fragments.kept_each("q", content, [((2,), make("two at school"))]) == ["two at school"]


def test_new_course_content_draws_its_fragments_afresh(app):
    """A publish or restore gives a new content object: nothing drawn from the old one is shown."""
    fragments = PageFragments()
    old, new = type("Content", (), {"id": 1})(), type("Content", (), {"id": 1})()
    with app.test_request_context("/"):
        fragments("part", old, caller=lambda: Markup("old"))
        assert fragments("part", new, caller=lambda: Markup("new")) == "new"
        assert fragments("part", old, caller=lambda: Markup("old again")) == "old again"


def test_a_fragment_is_kept_per_script_root(app):
    fragments = PageFragments()
    with app.test_request_context("/"):
        fragments("part", None, caller=lambda: Markup("/x"))
    with app.test_request_context("/", base_url="http://localhost/school/"):
        assert fragments("part", None, caller=lambda: Markup("/school/x")) == "/school/x"


def test_the_app_keeps_its_own_fragments(app):
    assert isinstance(app.extensions[EXTENSION_KEY], PageFragments)
    assert app.jinja_env.globals["fragment"] is app.extensions[EXTENSION_KEY]
