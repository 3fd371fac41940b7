"""A learner's past attempts on the lesson, quiz and /me/ pages, over HTTP with CSRF on."""

import re

from sqlalchemy import select

from app.extensions import db
from app.models import LessonProgress, QuizAttempt
from tests.conftest import csrf_token, lesson_slugs, login, quiz_form, submit_quiz, visible_text


def history_table(page: str) -> str:
    """The page's attempt history table, or "" when it has none."""
    table = re.search(r'<table class="data-table attempt-history">.*?</table>', page, re.S)
    return table.group(0) if table else ""


def history_rows(page: str) -> list[str]:
    """The rows of the page's attempt history table, as text without tags, newest first."""
    if not history_table(page):
        return []
    rows = re.findall(r"<tr>(.*?)</tr>", history_table(page).split("<tbody>")[1], re.S)
    return [visible_text(row) for row in rows]


def result_links(page: str, course: str, lesson: str) -> list[str]:
    """The result pages the history table links to, in its order."""
    return re.findall(rf'href="(/courses/{course}/lessons/{lesson}/quiz/attempts/\d+)"', history_table(page))


def fail_then_pass(client, app, lesson: str) -> tuple[str, str]:
    """Fail the lesson's quiz, then pass it; return the two result URLs in that order."""
    failed = submit_quiz(client, lesson, quiz_form(app, lesson, right=False)).headers["Location"]
    passed = submit_quiz(client, lesson, quiz_form(app, lesson)).headers["Location"]
    return failed, passed


def log_in_as_fred(client) -> None:
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    assert login(client, email="fred@example.org").status_code == 302


def test_the_lesson_page_lists_each_attempt_newest_first_with_its_score_in_words(learner_client, app, course):
    first = lesson_slugs(app)[0]
    questions = len(quiz_form(app, first))
    page = learner_client.get(f"/courses/{course}/lessons/{first}").get_data(as_text=True)
    assert "Your attempts at this quiz" not in page  # nothing before the first attempt

    failed, passed = fail_then_pass(learner_client, app, first)
    page = learner_client.get(f"/courses/{course}/lessons/{first}").get_data(as_text=True)

    assert "Your attempts at this quiz" in page
    newest, oldest = history_rows(page)
    assert f"{questions} of {questions}" in newest and "Passed" in newest and "Not passed" not in newest
    assert f"0 of {questions}" in oldest and "Not passed" in oldest
    assert result_links(page, course, first) == [passed, failed]  # the table's links, newest first
    for url in (passed, failed):
        assert learner_client.get(url).status_code == 200


def test_a_passed_lesson_offers_its_results_as_well_as_a_retake(learner_client, app, course):
    first = lesson_slugs(app)[0]
    submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    page = learner_client.get(f"/courses/{course}/lessons/{first}").get_data(as_text=True)
    assert "See your results" not in page and "Take the quiz" in page

    _, passed = fail_then_pass(learner_client, app, first)
    page = learner_client.get(f"/courses/{course}/lessons/{first}").get_data(as_text=True)
    assert re.search(rf'<a class="button" href="{passed}">See your results</a>', page)
    assert "Retake the quiz" in page


def test_the_quiz_page_lists_the_attempts_too(learner_client, app, course):
    first = lesson_slugs(app)[0]
    failed, passed = fail_then_pass(learner_client, app, first)
    page = learner_client.get(f"/courses/{course}/lessons/{first}/quiz").get_data(as_text=True)
    assert len(history_rows(page)) == 2
    assert result_links(page, course, first) == [passed, failed]


def test_another_learners_attempts_are_never_listed(learner_client, app, course, other_learner):
    first = lesson_slugs(app)[0]
    mine = submit_quiz(learner_client, first, quiz_form(app, first, right=False)).headers["Location"]
    log_in_as_fred(learner_client)
    for url in (f"/courses/{course}/lessons/{first}", f"/courses/{course}/lessons/{first}/quiz", "/me/"):
        page = learner_client.get(url).get_data(as_text=True)
        assert history_rows(page) == [] and mine not in page, url
    theirs = submit_quiz(learner_client, first, quiz_form(app, first)).headers["Location"]
    page = learner_client.get(f"/courses/{course}/lessons/{first}").get_data(as_text=True)
    assert result_links(page, course, first) == [theirs]


def test_my_page_sums_up_each_lessons_attempts_and_links_to_the_full_list(learner_client, app, course):
    first, second = lesson_slugs(app)[:2]
    questions = len(quiz_form(app, first))
    page = learner_client.get("/me/").get_data(as_text=True)
    assert "You have not taken a quiz yet." in page

    failed, passed = fail_then_pass(learner_client, app, first)
    latest_first = submit_quiz(learner_client, first, quiz_form(app, first, right=False)).headers["Location"]
    latest = submit_quiz(learner_client, second, quiz_form(app, second, right=False)).headers["Location"]
    page = learner_client.get("/me/").get_data(as_text=True)
    text = visible_text(page)

    assert "You have not taken a quiz yet." not in page
    assert f"3 attempts · best {questions} of {questions} · latest:" in text
    assert f"1 attempt · best 0 of {len(quiz_form(app, second))} · latest:" in text
    assert f'href="{latest_first}"' in page and f'href="{latest}"' in page
    # The full list is the lesson page's, linked: /me/ draws no history table, however long.
    assert history_table(page) == "" and passed not in page and failed not in page
    full_list = f"/courses/{course}/lessons/{first}/quiz/attempts"
    assert f'<a href="{full_list}">All 3 attempts at lesson 1</a>' in page
    assert "All 1 attempts" not in page
    listed = learner_client.get(full_list).get_data(as_text=True)
    assert result_links(listed, course, first) == [latest_first, passed, failed]
    # In course order: the first lesson's summary before the second's.
    assert page.index("Lesson 1:") < page.index("Lesson 2:")


def test_opening_only_the_quiz_counts_as_opening_the_lesson(learner_client, app, course):
    """A learner who went straight to the quiz (a bookmark) was shown as not having opened the lesson."""
    first = lesson_slugs(app)[0]
    learner_client.get(f"/courses/{course}/lessons/{first}/quiz")
    with app.app_context():
        (row,) = db.session.scalars(select(LessonProgress)).all()
        assert row.opened_at is not None and row.completed_at is None
    assert "Continue where you left off" in learner_client.get("/").get_data(as_text=True)


def test_a_failed_attempt_leaves_its_lesson_opened(learner_client, app, course):
    first = lesson_slugs(app)[0]
    submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    with app.app_context():
        (row,) = db.session.scalars(select(LessonProgress)).all()
        attempt = db.session.scalar(select(QuizAttempt))
        assert row.opened_at <= attempt.submitted_at and row.completed_at is None
