"""/me/ runs one query whatever the learner's history: the signed-in user with the course
outline, the count of questions due for review and the rest of the page (sharing, views,
requests to the clinic, attempts summed up per lesson: app/services/my_page.py)."""

from tests.conftest import lesson_slugs, quiz_form, submit_quiz
from tests.views.test_query_counts import add_failed_attempts, queries_for


def test_my_page_runs_one_query_whatever_the_history(learner_client, app, learner):
    first, second = lesson_slugs(app)[:2]
    submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    learner_client.get("/me/")  # this worker has now cached the course content
    before = queries_for(app, lambda: learner_client.get("/me/"))
    add_failed_attempts(app, learner, first, 30)
    add_failed_attempts(app, learner, second, 30)
    after = queries_for(app, lambda: learner_client.get("/me/"))

    assert before == after == 1
    page = learner_client.get("/me/").get_data(as_text=True)
    assert "31 attempts" in page and "30 attempts" in page
