"""Authoring over HTTP with CSRF on: edit the draft, preview, publish; learners see only what is published."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Role
from app.services import authoring
from app.services.course_export import course_to_data
from app.services.progress import course_by_slug
from tests.conftest import create_user, csrf_token, login

BASE = "/author/courses/naltrexone"
FIRST = "receptors-and-blockers"
EDIT_FIRST = f"{BASE}/lessons/{FIRST}/edit"
LEARNER_FIRST = f"/courses/naltrexone/lessons/{FIRST}"


@pytest.fixture
def admin(app, client, course):
    """A client logged in as an admin, with the real course published."""
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    return client


@pytest.fixture
def learner(app, course):
    learner_client = app.test_client()
    create_user(app, "learner@example.org")
    assert login(learner_client).status_code == 302
    return learner_client


def draft(app) -> dict | None:
    """The draft's data, or None when there are no unpublished edits."""
    with app.app_context():
        row = authoring.draft_get(db.session, course_by_slug(db.session, "naltrexone"))
        data = row.data if row else None
        db.session.remove()
        return data


def published_quiz(app) -> list[dict]:
    """The first lesson's published questions, with their row ids."""
    with app.app_context():
        data = course_to_data(db.session, course_by_slug(db.session, "naltrexone"), with_ids=True)
        db.session.remove()
        return data["lessons"][FIRST]["front"]["quiz"]


def lesson_form(admin, **changes) -> dict:
    """The first lesson's edit form as the page fills it, with some fields changed."""
    page = admin.get(EDIT_FIRST).get_data(as_text=True)
    body = re.search(r'<textarea[^>]*name="body"[^>]*>\r?\n?(.*?)</textarea>', page, re.S).group(1)
    data = {
        "csrf_token": csrf_token(admin, EDIT_FIRST),
        "title": re.search(r'name="title"[^>]*value="([^"]*)"', page).group(1),
        "minutes": "7",
        "module": "how-it-works",
        "body": body.replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&"),
    }
    return {**data, **changes}


def question_form(admin, position: int = 1, **changes) -> dict:
    """A question's edit form as the page fills it (hidden ids included), with some fields changed."""
    url = f"{BASE}/lessons/{FIRST}/questions/{position}/edit"
    page = admin.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(admin, url)}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        if name != "csrf_token" and not re.search(rf'name="{re.escape(name)}"[^>]*type="checkbox"', page):
            data[name] = value
    for name in re.findall(r'<input checked[^>]*name="([^"]+)"', page) + re.findall(
        r'<input[^>]*name="([^"]+)"[^>]*checked', page
    ):
        data[name] = "y"
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\r?\n?(.*?)</textarea>', page, re.S):
        data[name] = text.replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&")
    for name, block in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        selected = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', block)
        data[name] = next((v for v in selected.groups() if v is not None), "") if selected else ""
    return {**data, **changes}


def article(page: str) -> str:
    return re.search(r'<article class="lesson">.*?</article>', page, re.S).group(0)


def test_index_shows_the_outline_with_no_unpublished_changes(admin):
    page = admin.get("/author/").get_data(as_text=True)

    assert "No unpublished changes." in page
    assert f'href="{EDIT_FIRST}"' in page
    assert 'href="/author/analytics"' in page and 'href="/author/users"' in page


def test_preview_renders_the_text_and_saves_nothing(admin, app):
    form = lesson_form(admin, body="## Fresh heading\n\nNew words.", preview="Preview")

    response = admin.post(EDIT_FIRST, data=form)

    assert response.status_code == 200
    assert "<h2>Fresh heading</h2>" in article(response.get_data(as_text=True))
    assert draft(app) is None


def test_saved_text_reaches_learners_only_after_publishing(admin, learner):
    response = admin.post(EDIT_FIRST, data=lesson_form(admin, body="## Fresh heading\n\nNew words.", save="Save"))
    assert (response.status_code, response.headers["Location"]) == (302, EDIT_FIRST)
    assert "Fresh heading" not in learner.get(LEARNER_FIRST).get_data(as_text=True)
    assert "text changed" in admin.get(f"{BASE}/publish").get_data(as_text=True)

    response = admin.post(f"{BASE}/publish", data={"csrf_token": csrf_token(admin, f"{BASE}/publish")})

    assert response.status_code == 302
    assert "<h2>Fresh heading</h2>" in learner.get(LEARNER_FIRST).get_data(as_text=True)
    assert "No unpublished changes." in admin.get("/author/").get_data(as_text=True)


def test_preview_is_exactly_the_learners_lesson(admin, learner):
    admin.post(EDIT_FIRST, data=lesson_form(admin, body="## Fresh\n\nA [link](https://example.org).", save="Save"))
    preview = article(admin.get(EDIT_FIRST).get_data(as_text=True))
    admin.post(f"{BASE}/publish", data={"csrf_token": csrf_token(admin, f"{BASE}/publish")})

    assert article(learner.get(LEARNER_FIRST).get_data(as_text=True)) == preview


def test_index_banner_lists_unpublished_changes(admin):
    admin.post(EDIT_FIRST, data=lesson_form(admin, title="Blockers, rewritten", save="Save"))

    page = admin.get("/author/").get_data(as_text=True)

    assert "Unpublished changes" in page
    assert "Lesson “Blockers, rewritten”: title changed" in page
    assert f'action="{BASE}/publish"' in page


def test_single_question_with_two_correct_choices_is_refused_beside_the_choices(admin, app):
    form = question_form(admin, **{"choices-0-correct": "y", "choices-0-misconception": ""})

    response = admin.post(f"{BASE}/lessons/{FIRST}/questions/1/edit", data=form)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="choices-error">A single question needs exactly one correct choice, found 2<', page)
    assert draft(app) is None


def test_a_choice_error_sits_beside_its_row(admin, app):
    response = admin.post(
        f"{BASE}/lessons/{FIRST}/questions/1/edit", data=question_form(admin, **{"choices-1-feedback": ""})
    )

    assert response.status_code == 400
    assert 'id="choices-1-feedback-error">Is required<' in response.get_data(as_text=True)
    assert draft(app) is None


def test_a_blank_row_adds_a_choice_and_remove_drops_one(admin, app):
    form = question_form(
        admin, **{"choices-4-text": "A new choice", "choices-4-feedback": "Not quite.", "choices-3-remove": "y"}
    )

    response = admin.post(f"{BASE}/lessons/{FIRST}/questions/1/edit", data=form)

    assert response.status_code == 302
    choices = draft(app)["lessons"][FIRST]["front"]["quiz"][0]["choices"]
    assert [c["text"] for c in choices][-1] == "A new choice" and len(choices) == 4
    assert "id" not in choices[-1] and all("id" in c for c in choices[:3])


def test_order_numbers_reorder_choices_keeping_ids(admin, app):
    form = question_form(admin, **{"choices-0-order": "9"})
    before = [c["id"] for c in published_quiz(app)[0]["choices"]]

    assert admin.post(f"{BASE}/lessons/{FIRST}/questions/1/edit", data=form).status_code == 302

    assert [c["id"] for c in draft(app)["lessons"][FIRST]["front"]["quiz"][0]["choices"]] == before[1:] + before[:1]


def test_move_buttons_move_and_say_so(admin, app):
    token = csrf_token(admin, EDIT_FIRST)

    response = admin.post(f"{BASE}/lessons/{FIRST}/questions/1/move", data={"csrf_token": token, "direction": "down"})

    assert (response.status_code, response.headers["Location"]) == (302, EDIT_FIRST)
    assert "Question moved in the draft." in admin.get(EDIT_FIRST).get_data(as_text=True)
    assert draft(app)["lessons"][FIRST]["front"]["quiz"][1]["id"] == published_quiz(app)[0]["id"]


def test_buttons_refuse_a_post_without_csrf(admin, app):
    assert admin.post(f"{BASE}/lessons/{FIRST}/remove").status_code == 400
    assert draft(app) is None


def test_an_invalid_direction_is_400(admin):
    token = csrf_token(admin, EDIT_FIRST)

    assert (
        admin.post(f"{BASE}/modules/how-it-works/move", data={"csrf_token": token, "direction": "x"}).status_code == 400
    )


@pytest.mark.parametrize(
    "method, url",
    [
        ("GET", f"{BASE}/lessons/nope/edit"),
        ("GET", f"{BASE}/lessons/{FIRST}/questions/99/edit"),
        ("GET", f"{BASE}/modules/nope/edit"),
        ("GET", f"{BASE}/misconceptions/nope/edit"),
        ("GET", "/author/courses/nope/publish"),
        ("POST", f"{BASE}/lessons/nope/move"),
        ("POST", f"{BASE}/lessons/{FIRST}/questions/99/remove"),
    ],
)
def test_unknown_slugs_and_positions_are_404(admin, method, url):
    token = csrf_token(admin, EDIT_FIRST)
    response = admin.get(url) if method == "GET" else admin.post(url, data={"csrf_token": token, "direction": "up"})

    assert response.status_code == 404


def test_a_taken_slug_is_shown_beside_the_slug_field(admin, app):
    url = f"{BASE}/lessons/new"
    form = {"csrf_token": csrf_token(admin, url), "slug": FIRST, "title": "T", "minutes": "3", "module": "how-it-works"}

    response = admin.post(url, data={**form, "body": "Words.", "save": "Save"})

    assert response.status_code == 400
    assert re.search(r'id="slug-error">“receptors-and-blockers” is already used', response.get_data(as_text=True))
    assert draft(app) is None


def test_learner_text_stays_plain(admin, app):
    admin.post(EDIT_FIRST, data=lesson_form(admin, title="<b>Bold</b> title", save="Save"))

    assert draft(app)["lessons"][FIRST]["front"]["title"] == "Bold title"


def test_discard_returns_to_the_published_course(admin, app):
    admin.post(EDIT_FIRST, data=lesson_form(admin, title="Changed", save="Save"))

    response = admin.post(f"{BASE}/discard", data={"csrf_token": csrf_token(admin, "/author/")})

    assert response.status_code == 302
    assert draft(app) is None


def test_course_details_take_the_pass_mark_in_percent(admin, app):
    url = f"{BASE}/edit"
    form = {
        "csrf_token": csrf_token(admin, url),
        "title": "How Naltrexone Works",
        "summary": "Short.",
        "pass_mark": "75",
    }

    assert admin.post(url, data=form).status_code == 302

    assert draft(app)["course"]["pass_mark"] == 0.75
