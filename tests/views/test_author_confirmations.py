"""Throwing work away asks first, over HTTP with CSRF on: discarding the draft, removing a lesson
or a question. Each button leads to a page that says what would be lost; only its POST (which
says ``confirm``) acts, and a bare POST from a page of before only shows that page."""

from __future__ import annotations

import html
import re

import pytest

from app.extensions import db
from app.models import Role
from app.services import authoring
from app.services.progress import course_by_slug
from tests.conftest import create_user, csrf_token, login
from tests.views.test_author_routes import BASE, EDIT_FIRST, FIRST, SPEC, draft, lesson_form

DISCARD = f"{BASE}/discard"
REMOVE_LESSON = f"{BASE}/lessons/{FIRST}/remove"
REMOVE_QUESTION = f"{BASE}/lessons/{FIRST}/questions/1/remove"
LESSON = SPEC.lessons[FIRST]


@pytest.fixture
def admin(app, client, course):
    """A client logged in as an admin, with the factory course published."""
    create_user(app, "admin@example.org", role=Role.ADMIN)
    assert login(client, "admin@example.org").status_code == 302
    return client


def hidden(page: str) -> dict[str, str]:
    """The confirmation form's hidden fields, as a browser would send them."""
    inputs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in inputs}


def confirm(admin, url: str):
    """Open the confirmation page and press its button."""
    return admin.post(url, data=hidden(admin.get(url).get_data(as_text=True)))


def quiz_prompts(app) -> list[str]:
    data = draft(app) or {"lessons": {FIRST: {"front": {"quiz": [{"prompt": q.prompt} for q in LESSON.quiz]}}}}
    return [question["prompt"] for question in data["lessons"][FIRST]["front"]["quiz"]]


def edit_in_another_session(app, **changes) -> None:
    """Another admin's save to the draft, made while this admin's page is open."""
    with app.app_context():
        course = course_by_slug(db.session, SPEC.slug)
        data = authoring.draft_data(db.session, course)
        front = data["lessons"][FIRST]["front"]
        authoring.lesson_update(
            db.session,
            course=course,
            lesson_slug=FIRST,
            title=changes.get("title", front["title"]),
            minutes=changes.get("minutes", front["minutes"]),
            body=data["lessons"][FIRST]["body"],
        )
        db.session.remove()


# --- discarding the draft -----------------------------------------------------------------------


def test_the_outline_offers_discard_as_a_link_to_its_confirmation_not_a_one_click_form(admin):
    assert admin.post(EDIT_FIRST, data=lesson_form(admin, title="Changed", save="Save")).status_code == 302

    page = admin.get("/author/").get_data(as_text=True)

    assert re.search(rf'<a class="button button-secondary" href="{DISCARD}">Discard the draft<', page)
    assert f'action="{DISCARD}"' not in page


def test_the_discard_page_lists_every_change_that_would_be_lost_and_changes_nothing(admin, app):
    admin.post(EDIT_FIRST, data=lesson_form(admin, title="Changed", save="Save"))
    move = f"{BASE}/lessons/{FIRST}/questions/1/move"
    admin.post(move, data={"csrf_token": csrf_token(admin, EDIT_FIRST), "direction": "down"})

    response = admin.get(DISCARD)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 unpublished changes will be lost" in page
    assert re.findall(r"<li>(.*?)</li>", page.split('class="change-list"')[1].split("</ul>")[0]) == [
        "Lesson “Changed”: title changed",
        "Lesson “Changed”: questions reordered",
    ]
    assert ">Discard the draft</button>" in page and ">Keep the draft</a>" in page
    assert draft(app)["lessons"][FIRST]["front"]["title"] == "Changed"


def test_a_bare_post_only_shows_the_confirmation_and_keeps_the_draft(admin, app):
    admin.post(EDIT_FIRST, data=lesson_form(admin, title="Changed", save="Save"))

    response = admin.post(DISCARD, data={"csrf_token": csrf_token(admin, "/author/")})

    assert response.status_code == 200
    assert "1 unpublished change will be lost" in response.get_data(as_text=True)
    assert draft(app)["lessons"][FIRST]["front"]["title"] == "Changed"


def test_confirming_discards_the_draft(admin, app):
    admin.post(EDIT_FIRST, data=lesson_form(admin, title="Changed", save="Save"))

    response = confirm(admin, DISCARD)

    assert (response.status_code, response.headers["Location"]) == (302, "/author/")
    assert draft(app) is None
    assert "The draft was discarded" in admin.get("/author/").get_data(as_text=True)


def test_a_draft_saved_again_after_the_page_was_opened_is_listed_again_not_discarded(admin, app):
    admin.post(EDIT_FIRST, data=lesson_form(admin, title="Changed", save="Save"))
    page = admin.get(DISCARD).get_data(as_text=True)
    edit_in_another_session(app, minutes=11)

    response = admin.post(DISCARD, data=hidden(page))

    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Nothing was discarded" in text and "Lesson “Changed”: title, reading time changed" in text
    assert draft(app)["lessons"][FIRST]["front"]["minutes"] == 11
    assert confirm(admin, DISCARD).status_code == 302 and draft(app) is None  # confirmed again, it goes


def test_with_no_draft_there_is_nothing_to_discard(admin):
    page = admin.get(DISCARD).get_data(as_text=True)

    assert "There is nothing to discard" in page and "Discard the draft</button>" not in page


# --- removing a lesson --------------------------------------------------------------------------


def test_the_lesson_remove_page_names_the_lesson_and_keeps_learners_history(admin, app):
    response = admin.get(REMOVE_LESSON)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"<h1>Remove the lesson “{LESSON.title}”?</h1>" in page
    assert f"its quiz of {len(LESSON.quiz)} questions" in page
    assert "Learners' progress and quiz attempts with it are kept when you publish" in page
    assert ">Remove the lesson</button>" in page
    assert draft(app) is None
    # The outline's "Remove" leads here; it no longer removes at once.
    outline = admin.get("/author/").get_data(as_text=True)
    assert f'href="{REMOVE_LESSON}">Remove<span class="visually-hidden">: lesson {LESSON.title}</span></a>' in outline
    assert f'action="{REMOVE_LESSON}"' not in outline


def test_a_bare_post_does_not_remove_the_lesson(admin, app):
    response = admin.post(REMOVE_LESSON, data={"csrf_token": csrf_token(admin, "/author/")})

    assert response.status_code == 200
    assert f"Remove the lesson “{LESSON.title}”?" in response.get_data(as_text=True)
    assert draft(app) is None


def test_confirming_removes_the_lesson_from_the_draft(admin, app):
    response = confirm(admin, REMOVE_LESSON)

    assert (response.status_code, response.headers["Location"]) == (302, "/author/")
    assert FIRST not in draft(app)["lessons"]


# --- removing a question ------------------------------------------------------------------------


def test_the_question_remove_page_shows_its_prompt_and_choices(admin, app):
    question = LESSON.quiz[0]

    response = admin.get(REMOVE_QUESTION)

    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert f"<strong>{question.prompt}</strong>" in page
    assert all(choice.text in page for choice in question.choices)
    assert "Their past answers to it are kept when you publish" in page
    assert draft(app) is None
    lesson_page = admin.get(EDIT_FIRST).get_data(as_text=True)
    assert f'href="{REMOVE_QUESTION}">Remove<' in lesson_page and f'action="{REMOVE_QUESTION}"' not in lesson_page


def test_a_bare_post_does_not_remove_the_question(admin, app):
    response = admin.post(REMOVE_QUESTION, data={"csrf_token": csrf_token(admin, EDIT_FIRST)})

    assert response.status_code == 200
    assert draft(app) is None


def test_confirming_removes_the_question(admin, app):
    response = confirm(admin, REMOVE_QUESTION)

    assert (response.status_code, response.headers["Location"]) == (302, EDIT_FIRST)
    assert quiz_prompts(app) == [question.prompt for question in LESSON.quiz[1:]]


def test_a_question_moved_into_its_place_since_is_shown_not_removed(admin, app):
    page = admin.get(REMOVE_QUESTION).get_data(as_text=True)
    with app.app_context():
        course = course_by_slug(db.session, SPEC.slug)
        authoring.question_move(db.session, course=course, lesson_slug=FIRST, position=1, direction="down")
        db.session.remove()
    before = quiz_prompts(app)

    response = admin.post(REMOVE_QUESTION, data=hidden(page))

    assert response.status_code == 409
    assert "Nothing was removed" in response.get_data(as_text=True)
    assert html.escape(LESSON.quiz[1].prompt, quote=False) in response.get_data(as_text=True)
    assert quiz_prompts(app) == before


@pytest.mark.parametrize("url", [f"{BASE}/lessons/nope/remove", f"{BASE}/lessons/{FIRST}/questions/99/remove"])
def test_the_confirmation_of_something_not_in_the_draft_is_404(admin, url):
    assert admin.get(url).status_code == 404


def test_confirming_a_removal_someone_else_made_first_says_nothing_was_removed(admin, app):
    page = admin.get(REMOVE_LESSON).get_data(as_text=True)
    assert confirm(admin, REMOVE_LESSON).status_code == 302  # another tab removes it first
    again = admin.post(REMOVE_LESSON, data=hidden(page))  # this tab's button, pressed after
    assert again.status_code == 404
    body = again.get_data(as_text=True)
    assert "Already removed" in body and "Nothing was removed: it is no longer in the draft" in body
    assert 'href="/author/"' in body
    # Opening a page for something that is not there is still the plain 404.
    assert "Already removed" not in admin.get(REMOVE_LESSON).get_data(as_text=True)
