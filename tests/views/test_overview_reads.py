"""The course overview reads the learner, their progress and their reviews due in one query."""

from datetime import timedelta

from sqlalchemy import update

from app.extensions import db
from app.models import ReviewCard
from app.models.types import utcnow
from tests.conftest import COURSE_SLUG, count_queries, lesson_slugs, quiz_form, submit_quiz

OVERVIEW = f"/courses/{COURSE_SLUG}/"


def test_the_overview_counts_the_reviews_due_in_its_one_query(learner_client, app):
    first = lesson_slugs(app)[0]
    assert submit_quiz(learner_client, first, quiz_form(app, first, right=False)).status_code == 302
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as counted:
        page = learner_client.get(OVERVIEW).get_data(as_text=True)
    assert counted() == 1
    assert "to review" not in page  # mistakes come back a day later
    with app.app_context():
        db.session.execute(update(ReviewCard).values(due=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    with count_queries(engine) as counted:
        page = learner_client.get(OVERVIEW).get_data(as_text=True)
    assert counted() == 1
    assert f'<a href="/courses/{COURSE_SLUG}/review">3 questions to review</a>' in page
