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


def test_what_each_counsellor_shared_with_is_now_is_read_with_the_rest(learner_client, app, learner):
    """One no longer a counsellor's, and one made an admin, are told apart in the same one query."""
    from app.extensions import db
    from app.models import CounsellorLink, Role, User
    from tests.conftest import create_user

    former = create_user(app, "casey@example.org", role=Role.LEARNER, name="Casey")
    admin = create_user(app, "ada@example.org", role=Role.ADMIN, name="Ada")
    counsellor = create_user(app, "olive@example.org", role=Role.COUNSELLOR, name="Olive")
    with app.app_context():
        db.session.add_all(
            CounsellorLink(counsellor_id=holder, learner_id=learner) for holder in (former, admin, counsellor)
        )
        db.session.get(User, counsellor).is_active = False
        db.session.commit()
        db.session.remove()
    learner_client.get("/me/")

    assert queries_for(app, lambda: learner_client.get("/me/")) == 1
    page = learner_client.get("/me/").get_data(as_text=True)
    assert "Casey is no longer a counsellor here" in page and "Olive is no longer a counsellor here" in page
    assert "Ada is one of the clinic&#39;s site administrators" in page
