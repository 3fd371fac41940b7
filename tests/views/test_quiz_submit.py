"""The quiz's POST (learn.quiz_submit) reads the outline without attempts; the page it shows again
on bad input reads them then, so that page still lists the learner's attempts as the GET does."""

from __future__ import annotations

import re

from tests.conftest import lesson_slugs, quiz_form, submit_quiz

HISTORY = "Your attempts at this quiz"


def test_a_recorded_submission_redirects_to_its_attempt(learner_client, app, course):
    first = lesson_slugs(app)[0]
    response = submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    assert response.status_code == 302
    assert re.fullmatch(rf"/courses/{course}/lessons/{first}/quiz/attempts/\d+", response.headers["Location"])


def test_the_page_shown_again_for_a_missing_answer_lists_the_attempts_and_keeps_the_choices(learner_client, app):
    first = lesson_slugs(app)[0]
    submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    answers = quiz_form(app, first)
    field, value = next(iter(answers.items()))
    response = submit_quiz(learner_client, first, {field: value})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Answer every question before you submit." in page
    assert re.search(rf'value="{value[0]}"\s+checked', page)
    assert HISTORY in page and page.count("/attempts/") >= 1
    # The same key comes back: nothing was recorded, so the choices keep their order.
    sent = re.search(r'name="submission_key" type="hidden" value="([^"]*)"', page)
    assert sent is not None and len(sent.group(1)) == 32


def test_a_tampered_submission_is_400_and_the_page_still_lists_the_attempts(learner_client, app):
    first = lesson_slugs(app)[0]
    submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    response = submit_quiz(learner_client, first, {**quiz_form(app, first), "question-999999": ["1"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "We could not accept that" in page
    assert HISTORY in page
    assert "checked" not in page  # nothing of a tampered form is shown back


def test_the_quiz_page_and_its_post_share_one_url(learner_client, app, course):
    first = lesson_slugs(app)[0]
    url = f"/courses/{course}/lessons/{first}/quiz"
    assert learner_client.get(url).status_code == 200
    assert learner_client.put(url).status_code == 405


def test_a_pass_says_it_opened_the_next_lesson_only_when_it_did(learner_client, app, course):
    first = lesson_slugs(app)[0]
    passed = learner_client.get(submit_quiz(learner_client, first, quiz_form(app, first)).headers["Location"])
    assert "The next lesson is now open." in passed.get_data(as_text=True)

    again = learner_client.get(submit_quiz(learner_client, first, quiz_form(app, first)).headers["Location"])
    text = again.get_data(as_text=True)
    assert "You had passed this quiz before" in text and "the next lesson was already open" in text
    assert "is now open" not in text
    # The first pass's own page still says what it did.
    assert "The next lesson is now open." in learner_client.get(passed.request.path).get_data(as_text=True)
