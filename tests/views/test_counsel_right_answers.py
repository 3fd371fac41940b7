"""A client's wrong answer shows the right answer under it on their counsellor's pages, as the
question was shown in that attempt; over HTTP with CSRF on."""

from __future__ import annotations

import re

from markupsafe import escape
from sqlalchemy import select

from app.extensions import db
from app.models import Choice, Question
from tests.conftest import lesson_slugs, quiz_form, submit_quiz
from tests.views.test_counsel import counsellor, linked, log_in_as  # noqa: F401 - fixtures
from tests.views.test_counsel_since_last_look import client_url

__all__ = ["counsellor", "linked"]

KETTLE = "How much water should you put in the kettle?"
KETTLE_RIGHT = "Enough for the cups you will make, above the lowest mark"
STEAM = "True or false: steam from the spout of a kettle can burn your skin."
STRENGTH = "Which of these change how strong the tea tastes? Select all that apply."


def answers_on(page: str) -> dict[str, str]:
    """Each answer's markup on the page (the first attempt listed), by its prompt."""
    first = page.split('<div class="attempt">')[1]
    found = {}
    for block in first.split('<li><span class="verdict-inline')[1:]:
        prompt = re.search(r"</span>\s*(.+?)\s*<dl", block, re.S).group(1)
        found[prompt] = block
    return found


def key_row(block: str, label: str) -> str | None:
    """The text after a label of the answer key ("Client’s answer", "Right answer"), tags and space squeezed."""
    found = re.search(rf"<dt>{label}s?:</dt>\s*<dd>(.*?)</dd>", block, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()) if found else None


def attempts_page(linked, app, lesson: str) -> str:
    log_in_as(linked, "casey@example.org")
    return linked.get(f"{client_url(linked)}/lessons/{lesson}/attempts").get_data(as_text=True)


def test_a_wrong_answer_shows_the_clients_choice_and_under_it_the_right_one(linked, app):
    first = lesson_slugs(app)[0]
    submit_quiz(linked, first, quiz_form(app, first, right=False))
    answers = answers_on(attempts_page(linked, app, first))

    kettle = answers[str(escape(KETTLE))]
    assert "✗ Wrong" in kettle
    assert key_row(kettle, "Client’s answer") == "As little as possible, even below the lowest mark"
    assert key_row(kettle, "Right answer") == KETTLE_RIGHT
    assert kettle.index("Client’s answer") < kettle.index("Right answer")  # the client's first, then the right one
    steam = answers[str(escape(STEAM))]
    # The client's answer keeps its safety mark; the right answer has none.
    assert key_row(steam, "Client’s answer") == "False Safety-critical" and key_row(steam, "Right answer") == "True"


def test_a_right_answer_shows_only_the_clients_choice(linked, app):
    first = lesson_slugs(app)[0]
    submit_quiz(linked, first, quiz_form(app, first, right=True))
    for block in answers_on(attempts_page(linked, app, first)).values():
        assert "✓ Right" in block and key_row(block, "Client’s answer") and key_row(block, "Right answer") is None


def test_a_question_of_several_right_answers_marks_each_pick_and_lists_every_right_one(linked, app):
    first, second = lesson_slugs(app)[:2]
    submit_quiz(linked, first, quiz_form(app, first, right=True))  # opens the second lesson
    submit_quiz(linked, second, quiz_form(app, second, right=False))
    strength = answers_on(attempts_page(linked, app, second))[STRENGTH]
    assert key_row(strength, "Client’s answer") == "The colour of the teapot (wrong)"
    # Every right one, as a list, in the order the client was shown them (shuffled).
    assert sorted(re.findall(r"<li>([^<]+)</li>", strength.split("Right answers:")[1])) == [
        "How long the tea brews",
        "How much tea you put in the pot",
    ]


def test_an_edited_question_does_not_change_the_right_answer_the_attempt_was_shown(linked, app):
    first = lesson_slugs(app)[0]
    submit_quiz(linked, first, quiz_form(app, first, right=False))
    with app.app_context():  # the author rewrites the question's right choice afterwards
        question = db.session.scalar(select(Question).where(Question.prompt == KETTLE))
        for choice in db.session.scalars(select(Choice).where(Choice.question_id == question.id)):
            if choice.is_correct:
                choice.text = "A rewritten right answer"
        db.session.commit()
        db.session.remove()
    page = attempts_page(linked, app, first)
    assert key_row(answers_on(page)[str(escape(KETTLE))], "Right answer") == KETTLE_RIGHT
    assert "A rewritten right answer" not in page


def test_the_client_page_shows_the_right_answer_too(linked, app):
    """The client page lists each lesson's latest attempts with the same macro."""
    first = lesson_slugs(app)[0]
    submit_quiz(linked, first, quiz_form(app, first, right=False))
    log_in_as(linked, "casey@example.org")
    page = linked.get(client_url(linked)).get_data(as_text=True)
    assert key_row(answers_on(page)[str(escape(KETTLE))], "Right answer") == KETTLE_RIGHT
