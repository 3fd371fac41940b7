"""The learner's journey over HTTP with CSRF on."""

import re

from flask import url_for
from sqlalchemy import func, select

from app.extensions import db
from app.models import LessonProgress, QuizAttempt
from tests.conftest import csrf_token, factory_course_spec, lesson_slugs, login, quiz_form, submit_quiz


def complete(done: int) -> str:
    """The overview's progress line after ``done`` of the factory course's lessons."""
    total = len(factory_course_spec().lessons)
    return f"{done} of {total} lessons complete ({round(100 * done / total)}%)"


def attempts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(QuizAttempt))


def test_landing_page_explains_the_course_and_offers_start(client, course):
    page = client.get("/").get_data(as_text=True)
    assert factory_course_spec().title in page
    assert "Start the course" in page
    assert f"/auth/register?next=/courses/{course}/continue" in page


def test_landing_offers_continue_once_started(learner_client, app, course):
    first = lesson_slugs(app)[0]
    assert "Start the course" in learner_client.get("/").get_data(as_text=True)
    learner_client.get(f"/courses/{course}/lessons/{first}")
    assert "Continue where you left off" in learner_client.get("/").get_data(as_text=True)


def test_overview_shows_states_and_progress(learner_client, app, course):
    first, second, third = lesson_slugs(app)[:3]
    page = learner_client.get(f"/courses/{course}/").get_data(as_text=True)
    assert complete(0) in page
    assert f'href="/courses/{course}/lessons/{first}"' in page
    assert f'href="/courses/{course}/lessons/{second}"' not in page
    submit_quiz(learner_client, first, quiz_form(app, first))
    page = learner_client.get(f"/courses/{course}/").get_data(as_text=True)
    assert complete(1) in page
    assert page.count("Passed") == 1
    assert f'href="/courses/{course}/lessons/{second}"' in page
    assert f'href="/courses/{course}/lessons/{third}"' not in page


def test_lesson_page_shows_sanitised_body_and_navigation(learner_client, app, course):
    first, second = lesson_slugs(app)[:2]
    response = learner_client.get(f"/courses/{course}/lessons/{first}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<h2 id="where-to-get-help">Where to get help</h2>' in page
    assert "Take the quiz" in page
    assert "Next (locked until you pass this quiz)" in page
    submit_quiz(learner_client, first, quiz_form(app, first))
    page = learner_client.get(f"/courses/{course}/lessons/{second}").get_data(as_text=True)
    assert f'href="/courses/{course}/lessons/{first}"' in page and "← Previous" in page


def test_opening_a_lesson_records_when(learner_client, app, course):
    first = lesson_slugs(app)[0]
    learner_client.get(f"/courses/{course}/lessons/{first}")
    learner_client.get(f"/courses/{course}/lessons/{first}")
    with app.app_context():
        rows = db.session.scalars(select(LessonProgress)).all()
        assert len(rows) == 1 and rows[0].opened_at is not None and rows[0].completed_at is None


def test_locked_lesson_and_quiz_redirect_with_a_message_and_never_show_content(learner_client, app, course):
    first, second = lesson_slugs(app)[:2]
    for url in (f"/courses/{course}/lessons/{second}", f"/courses/{course}/lessons/{second}/quiz"):
        response = learner_client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/courses/{course}/"
        page = learner_client.get(response.headers["Location"]).get_data(as_text=True)
        assert "opens when you complete the lesson before it. Next for you: " in page
        assert f'<a href="/courses/{course}/lessons/{first}">“Boiling the water”</a>.' in page
        assert "Where to get help" not in page


def test_a_lesson_locked_behind_several_says_how_many_and_links_the_next(learner_client, app, course):
    """The message tells the truth when more than the lesson before it is still to do."""
    first, _, third = lesson_slugs(app)[:3]
    response = learner_client.get(f"/courses/{course}/lessons/{third}")
    assert response.headers["Location"] == f"/courses/{course}/"
    page = learner_client.get(response.headers["Location"]).get_data(as_text=True)
    flash = re.search(r'<p class="flash flash-warning" role="alert">(.*?)</p>', page, re.S).group(1)
    assert flash == (
        "“Serving tea” opens when you complete the 2 lessons before it. "
        f'Next for you: <a href="/courses/{course}/lessons/{first}">“Boiling the water”</a>.'
    )


def test_locked_quiz_post_records_nothing(learner_client, app, course):
    second = lesson_slugs(app)[1]
    token = csrf_token(learner_client, "/")
    response = learner_client.post(
        f"/courses/{course}/lessons/{second}/quiz",
        data={**quiz_form(app, second), "csrf_token": token, "submission_key": "a" * 32},
    )
    assert response.status_code == 302
    assert attempts(app) == 0


def test_lessons_need_login(client, course, app):
    first = lesson_slugs(app)[0]
    response = client.get(f"/courses/{course}/lessons/{first}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next=")


def test_unknown_course_or_lesson_is_404(learner_client, course):
    assert learner_client.get("/courses/nope/").status_code == 404
    assert learner_client.get(f"/courses/{course}/lessons/nope").status_code == 404
    assert learner_client.get(f"/courses/{course}/lessons/nope/quiz").status_code == 404


def test_failed_quiz_shows_feedback_and_keeps_the_next_lesson_locked(learner_client, app, course):
    first, second = lesson_slugs(app)[:2]
    response = submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    assert response.status_code == 302
    page = learner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not passed yet" in page and "0%" in page
    assert page.count("You chose") >= 3 and "Why:" in page
    assert "Try the quiz again" in page
    assert "A common mix-up:" in page  # the course's learner text for a misconception the answer revealed
    assert learner_client.get(f"/courses/{course}/lessons/{second}").status_code == 302


def test_a_submission_sends_the_learner_to_the_url_of_the_attempt_it_recorded(learner_client, app, course):
    first = lesson_slugs(app)[0]
    response = submit_quiz(learner_client, first, quiz_form(app, first, right=False))

    with app.app_context():
        latest = db.session.scalar(select(func.max(QuizAttempt.id)))
    with app.test_request_context():
        expected = url_for("learn.attempt", course_slug=course, lesson_slug=first, attempt_id=latest)
    assert response.status_code == 302 and response.headers["Location"] == expected


def test_passing_completes_the_lesson_and_opens_the_next(learner_client, app, course):
    first, second = lesson_slugs(app)[:2]
    response = submit_quiz(learner_client, first, quiz_form(app, first))
    page = learner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You passed" in page and "100%" in page
    assert f"/courses/{course}/lessons/{second}" in page
    assert learner_client.get(f"/courses/{course}/lessons/{second}").status_code == 200


def test_retries_are_unlimited_and_every_attempt_is_kept(learner_client, app, course):
    first = lesson_slugs(app)[0]
    for _ in range(3):
        submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    submit_quiz(learner_client, first, quiz_form(app, first))
    submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    assert attempts(app) == 5
    # A later failed retake never takes back a completed lesson.
    assert complete(1) in learner_client.get(f"/courses/{course}/").get_data(as_text=True)


def test_quiz_with_no_answers_shows_a_message_and_records_nothing(learner_client, app):
    first = lesson_slugs(app)[0]
    response = submit_quiz(learner_client, first, {})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You have not answered any questions yet." in page
    questions = len(quiz_form(app, first))
    # Said beside each question, and listed at the top, each linked to its question's first choice.
    assert page.count('<p class="error-text" id="question-') == questions
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    links = re.findall(
        r'<li><a href="#choice-(\d+)">Question (\d+): Choose an answer for this question\.</a></li>', summary
    )
    assert [int(number) for _, number in links] == list(range(1, questions + 1))
    for choice_id, _ in links:
        assert f'id="choice-{choice_id}"' in page
    assert attempts(app) == 0


def test_partly_answered_quiz_keeps_the_answers_given(learner_client, app):
    first = lesson_slugs(app)[0]
    answers = quiz_form(app, first)
    key, value = next(iter(answers.items()))
    page = submit_quiz(learner_client, first, {key: value}).get_data(as_text=True)
    assert "Answer every question before you submit." in page
    assert re.search(rf'value="{value[0]}"\s+checked', page)
    assert attempts(app) == 0


def tampered(app, lesson_slug):
    answers = quiz_form(app, lesson_slug)
    keys = list(answers)
    other_question_choice = answers[keys[1]][0]
    single_key = next(k for k in keys if len(answers[k]) == 1)
    return {
        "unknown question": {**answers, "question-999999": ["1"]},
        "unknown choice": {**answers, keys[0]: ["999999"]},
        "choice from another question": {**answers, keys[0]: [other_question_choice]},
        "several choices for a single question": {**answers, single_key: answers[single_key] + [other_question_choice]},
        "not a number": {**answers, keys[0]: ["abc"]},
        "unexpected field": {**answers, "score": ["100"]},
    }


def test_tampered_submissions_get_400_with_a_message_and_record_nothing(learner_client, app):
    first = lesson_slugs(app)[0]
    for case, data in tampered(app, first).items():
        response = submit_quiz(learner_client, first, data)
        assert response.status_code == 400, case
        assert "We could not accept that" in response.get_data(as_text=True), case
    assert attempts(app) == 0


def test_missing_or_bad_submission_key_is_400(learner_client, app):
    first = lesson_slugs(app)[0]
    assert submit_quiz(learner_client, first, quiz_form(app, first), key="not-a-key").status_code == 400
    assert attempts(app) == 0


def test_double_submission_records_one_attempt(learner_client, app, course):
    first = lesson_slugs(app)[0]
    url = f"/courses/{course}/lessons/{first}/quiz"
    page = learner_client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]*)"', page).group(1)
    data = {**quiz_form(app, first, right=False), "csrf_token": token, "submission_key": key}
    first_response = learner_client.post(url, data=data)
    second_response = learner_client.post(url, data=data)
    assert first_response.headers["Location"] == second_response.headers["Location"]
    assert attempts(app) == 1


def test_another_learners_attempt_is_404(learner_client, app, other_learner):
    first = lesson_slugs(app)[0]
    result_url = submit_quiz(learner_client, first, quiz_form(app, first)).headers["Location"]
    assert learner_client.get(result_url).status_code == 200
    token = csrf_token(learner_client, "/")
    learner_client.post("/auth/logout", data={"csrf_token": token})
    login(learner_client, email="fred@example.org")
    assert learner_client.get(result_url).status_code == 404


def test_continue_goes_to_first_uncompleted_lesson_then_the_certificate(learner_client, app, course):
    slugs = lesson_slugs(app)
    assert learner_client.get(f"/courses/{course}/continue").headers["Location"].endswith(slugs[0])
    assert learner_client.get(f"/courses/{course}/certificate").status_code == 302
    for slug in slugs[:-1]:
        submit_quiz(learner_client, slug, quiz_form(app, slug))
    assert learner_client.get(f"/courses/{course}/continue").headers["Location"].endswith(slugs[-1])
    result = submit_quiz(learner_client, slugs[-1], quiz_form(app, slugs[-1]))
    assert "See your certificate" in learner_client.get(result.headers["Location"]).get_data(as_text=True)
    assert learner_client.get(f"/courses/{course}/continue").headers["Location"] == f"/courses/{course}/certificate"
    page = learner_client.get(f"/courses/{course}/certificate").get_data(as_text=True)
    assert "Well done, Lee Learner" in page and "You completed every lesson" in page


def test_a_locked_lessons_message_escapes_the_titles_it_names(app, learner, tmp_path):
    from app.services.course_files import load_course
    from app.services.course_import import course_import
    from tests.factories import COURSE, default_lessons, write_course

    lessons = default_lessons()
    lessons["one"]["front"]["title"] = "Milk & sugar < 3 spoons"  # no tags: a title refuses them
    with app.app_context():
        course_import(db.session, load_course(write_course(tmp_path, lessons=lessons)))
        db.session.remove()
    client = app.test_client()
    assert login(client).status_code == 302
    response = client.get(f"/courses/{COURSE['slug']}/lessons/two", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "“Milk &amp; sugar &lt; 3 spoons”</a>." in page and "sugar < 3" not in page
