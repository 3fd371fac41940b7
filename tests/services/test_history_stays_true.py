"""History stays true: publishing an edit never changes what an earlier attempt recorded or shows.

A learner fails the first lesson's quiz (the first wrong choice each time); an admin then edits
the first question in the draft and publishes. The attempt's rows are compared in full, and its
result page must show exactly what it showed before.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Choice, Question
from app.models.progress import text_indexes
from app.services import authoring
from app.services.authoring import ChoiceInput, QuestionInput
from app.services.progress import course_by_slug
from tests.conftest import COURSE_SLUG, create_user, factory_course_spec, login, quiz_form, submit_quiz

FIRST = factory_course_spec().modules[0].lesson_slugs[0]
HISTORY = ("lesson_progress", "quiz_attempts", "attempt_answers", "shown_questions")


@pytest.fixture
def attempt_url(app, client, course) -> str:
    """A logged-in learner's failed attempt at the first quiz; returns its result page."""
    create_user(app, "learner@example.org")
    assert login(client).status_code == 302
    response = submit_quiz(client, FIRST, quiz_form(app, FIRST, right=False))
    assert response.status_code == 302
    return response.headers["Location"]


def history_rows(app) -> dict[str, list[dict]]:
    with app.app_context():
        tables = [t for t in db.metadata.sorted_tables if t.name in HISTORY]
        rows = {
            t.name: [dict(r._mapping) for r in db.session.execute(select(t).order_by(*t.primary_key))] for t in tables
        }
        db.session.remove()
        return rows


def as_input(question: dict) -> QuestionInput:
    choices = [
        ChoiceInput(c["text"], c["feedback"], c.get("correct", False), c.get("misconception"), c.get("id"))
        for c in question["choices"]
    ]
    return QuestionInput(question["kind"], question["prompt"], question["explanation"], choices)


def reword(question: QuestionInput) -> QuestionInput:
    """(a) New wording for the prompt, every choice and every piece of feedback."""
    choices = [
        replace(c, text=f"Reworded {c.text}", feedback=f"New feedback {n}") for n, c in enumerate(question.choices)
    ]
    return replace(question, prompt="Reworded prompt?", explanation="New explanation.", choices=choices)


def make_picked_correct(question: QuestionInput) -> QuestionInput:
    """(b) The learner's wrong pick (choice 1) becomes the right answer, and the right one wrong."""
    choices = [
        replace(c, correct=(n == 0), misconception=None if n == 0 else c.misconception)
        for n, c in enumerate(question.choices)
    ]
    return replace(question, choices=choices)


def delete_picked(question: QuestionInput) -> QuestionInput:
    """(c) The choice the learner picked is deleted from the question."""
    return replace(question, choices=question.choices[1:])


def edit_and_publish(app, change) -> tuple[int, int]:
    """Apply ``change`` to the first question in the draft (None: remove it), publish; return (question, picked) ids."""
    with app.app_context():
        course = course_by_slug(db.session, COURSE_SLUG)
        question = authoring.draft_question(authoring.draft_data(db.session, course), FIRST, 1)
        assert not question["choices"][0].get("correct"), "the learner's pick, choice 1, must be a wrong one"
        ids = (question["id"], question["choices"][0]["id"])
        if change is None:
            authoring.question_remove(db.session, course=course, lesson_slug=FIRST, position=1)
        else:
            edited = change(as_input(question))
            authoring.question_update(db.session, course=course, lesson_slug=FIRST, position=1, question=edited)
        authoring.publish(db.session, course=course)
        db.session.remove()
        return ids


def published_change_took(app, change, question_id: int, picked_id: int) -> bool:
    """The edit really reached the published rows (so the tests below are not vacuous)."""
    with app.app_context():
        question, picked = db.session.get(Question, question_id), db.session.get(Choice, picked_id)
        took = {
            reword: question.prompt == "Reworded prompt?",
            make_picked_correct: picked.is_correct,
            delete_picked: picked.retired_at is not None and picked.position is None,
            None: question.retired_at is not None,
        }[change]
        db.session.remove()
        return took


def what_the_page_shows(page: str) -> str:
    """The attempt page's result and per-question feedback (the parts that come from the attempt)."""
    header = re.search(r'<header class="page-header result.*?</header>', page, re.S).group(0)
    return header + re.search(r'<ol class="feedback-list">.*?</ol>', page, re.S).group(0)


EDITS = pytest.mark.parametrize(
    "change",
    [reword, make_picked_correct, delete_picked, None],
    ids=["text-edit", "correct-choice-changed", "picked-choice-deleted", "question-retired"],
)


@EDITS
def test_attempt_rows_are_unchanged_by_publishing(app, attempt_url, change):
    before = history_rows(app)

    ids = edit_and_publish(app, change)

    assert published_change_took(app, change, *ids)
    assert history_rows(app) == before


@EDITS
def test_attempt_page_shows_what_the_learner_saw(app, client, attempt_url, change):
    before = what_the_page_shows(client.get(attempt_url).get_data(as_text=True))

    edit_and_publish(app, change)

    response = client.get(attempt_url)
    assert response.status_code == 200
    assert what_the_page_shows(response.get_data(as_text=True)) == before


def test_attempt_page_keeps_the_old_wording_after_a_text_edit(app, client, attempt_url):
    rows = history_rows(app)
    answer = rows["attempt_answers"][0]
    old = next(version for version in rows["shown_questions"] if version["id"] == answer["shown_question_id"])
    picked = old["choices"][text_indexes(answer["chosen"])[0]]

    edit_and_publish(app, reword)

    page = client.get(attempt_url).get_data(as_text=True)
    assert old["prompt"] in page and picked["text"] in page and picked["feedback"] in page
    assert "Reworded" not in page and "New feedback" not in page
    assert "Not passed yet" in page


def test_a_retired_question_is_gone_from_the_quiz_but_not_from_the_attempt(app, client, attempt_url):
    rows = history_rows(app)
    answer = rows["attempt_answers"][0]
    prompt = next(
        version["prompt"] for version in rows["shown_questions"] if version["id"] == answer["shown_question_id"]
    )

    edit_and_publish(app, None)

    assert prompt not in client.get(f"/courses/{COURSE_SLUG}/lessons/{FIRST}/quiz").get_data(as_text=True)
    assert prompt in client.get(attempt_url).get_data(as_text=True)
