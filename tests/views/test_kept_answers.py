"""What the pages give static/js/keep-answers.js, over HTTP with CSRF on: the name a learner's
ticks are kept under in their browser tab (their own, never another's, and no id shown), the
submission a result is of (so the ticks sent as it are let go), and log-out forms that let them
go. The browser tests (tests/e2e/test_kept_answers.py) take the journey itself."""

import re

from app.learn.kept_answers import kept_answers_owner
from tests.conftest import COURSE_SLUG, create_user, lesson_slugs, login, quiz_form, submit_quiz
from tests.views.test_review import REVIEW, make_all_due, review_page, right_answers, wrong_first_lesson

OWNER = re.compile(r'<form method="post" class="quiz"[^>]* data-keep-answers="([0-9a-f]{32})">')


def _owner_on(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = OWNER.search(page)
    assert match, f"no kept-answers name on {url}"
    assert "js/keep-answers." in page
    return match.group(1)


def test_each_learner_keeps_their_ticks_under_their_own_name_on_the_quiz_and_the_review(learner_client, app):
    first = lesson_slugs(app)[0]
    quiz = f"/courses/{COURSE_SLUG}/lessons/{first}/quiz"
    mine = _owner_on(learner_client, quiz)
    assert _owner_on(learner_client, quiz) == mine  # the same on every visit, from the kept page or not
    wrong_first_lesson(learner_client, app)
    make_all_due(app)
    assert _owner_on(learner_client, REVIEW) == mine

    other_id = create_user(app, "fern@example.org", name="Fern Other")
    other = app.test_client()
    assert login(other, "fern@example.org").status_code == 302
    theirs = _owner_on(other, quiz)  # drawn in full: the page has their "Welcome back"
    assert theirs != mine
    assert _owner_on(other, quiz) == theirs  # from the shell Kim's visits kept: a hole, not Kim's value
    with app.app_context():
        assert theirs == kept_answers_owner(other_id)


def test_the_name_depends_on_the_secret_key(app):
    """Nobody can work out the name from an id without the secret, nor an id from the name."""
    with app.app_context():
        first = kept_answers_owner(1)
        assert kept_answers_owner(1) == first and kept_answers_owner(2) != first
        app.config["SECRET_KEY"] = "another secret, for another site"
        assert kept_answers_owner(1) != first


def test_a_quiz_result_names_the_submission_it_is_of(learner_client, app):
    first = lesson_slugs(app)[0]
    sent = submit_quiz(learner_client, first, quiz_form(app, first), key="a" * 32)
    assert sent.status_code == 302
    result = learner_client.get(sent.headers["Location"]).get_data(as_text=True)
    assert f'data-answers-sent="{"a" * 32}"' in result and "js/keep-answers." in result


def test_a_review_result_names_the_submission_it_is_of(learner_client, app):
    wrong_first_lesson(learner_client, app)
    make_all_due(app)
    _, fields = review_page(learner_client)
    sent = learner_client.post(REVIEW, data={**fields, **right_answers(app, fields["shown"])})
    assert sent.status_code == 302
    result = learner_client.get(sent.headers["Location"]).get_data(as_text=True)
    assert f'data-answers-sent="{fields["submission_key"]}"' in result and "js/keep-answers." in result


def test_every_log_out_form_lets_go_of_the_tabs_kept_answers(learner_client, client):
    """The header's log-out, /me/'s "Log out everywhere" and the account's deletion are marked for static/js/log-out.js,
    which every signed-in page loads; a page for nobody in particular has nothing to let go."""
    page = learner_client.get("/me/").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/auth/logout" class="inline-form" data-log-out>', page)
    assert '<form method="post" action="/me/logout-everywhere" data-log-out>' in page
    assert re.search(
        r'<form method="post" novalidate data-log-out>', learner_client.get("/me/delete").get_data(as_text=True)
    )
    assert "js/log-out." in page
    assert "js/log-out." in learner_client.get(f"/courses/{COURSE_SLUG}/").get_data(as_text=True)
    learner_client.post("/auth/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page)[1]})
    assert "js/log-out." not in learner_client.get("/").get_data(as_text=True)


def test_a_form_not_sent_says_a_quiz_keeps_its_ticks(learner_client, app):
    first = lesson_slugs(app)[0]
    refused = learner_client.post(
        f"/courses/{COURSE_SLUG}/lessons/{first}/quiz", data={**quiz_form(app, first), "csrf_token": "stale"}
    )
    assert refused.status_code == 400
    assert "a quiz or review keeps the answers you ticked in this browser tab" in " ".join(
        refused.get_data(as_text=True).split()
    )
