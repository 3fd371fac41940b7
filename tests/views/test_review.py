"""The review of mistakes over HTTP, CSRF on: due questions, grading, feedback, rescheduling, privacy."""

import re
import uuid
from datetime import timedelta

from markupsafe import escape
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import LessonProgress, Question, ReviewAnswer, ReviewCard
from app.models.types import utcnow
from tests.conftest import COURSE_SLUG, csrf_token, lesson_slugs, login, quiz_form, submit_quiz

REVIEW = f"/courses/{COURSE_SLUG}/review"


def make_all_due(app) -> None:
    """Move every card's due time into the past, as if a few days had gone by."""
    with app.app_context():
        db.session.execute(update(ReviewCard).values(due=utcnow() - timedelta(minutes=1)))
        db.session.commit()


def cards(app) -> list[ReviewCard]:
    with app.app_context():
        rows = list(db.session.scalars(select(ReviewCard).order_by(ReviewCard.id)))
        db.session.expunge_all()
        return rows


def review_page(client) -> tuple[str, dict]:
    """GET the review page; return it and its form's hidden fields (shown is a list)."""
    page = client.get(REVIEW).get_data(as_text=True)
    fields = {
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
        "submission_key": re.search(r'name="submission_key" type="hidden" value="([^"]*)"', page).group(1),
        "shown": re.findall(r'name="shown" type="hidden" value="([0-9]+)"', page),
    }
    return page, fields


def right_answers(app, question_ids) -> dict[str, list[str]]:
    with app.app_context():
        data = {}
        for question_id in question_ids:
            question = db.session.get(Question, int(question_id))
            data[f"question-{question_id}"] = [str(c.id) for c in question.live_choices if c.is_correct]
        return data


def wrong_first_lesson(client, app) -> str:
    first = lesson_slugs(app)[0]
    assert submit_quiz(client, first, quiz_form(app, first, right=False)).status_code == 302
    return first


def test_nothing_due_says_when_the_next_review_is(learner_client, app):
    page = learner_client.get(REVIEW).get_data(as_text=True)
    assert "Nothing to review now" in page and "next question comes back" not in page
    wrong_first_lesson(learner_client, app)
    page = learner_client.get(REVIEW).get_data(as_text=True)
    # Mistakes come back a day later, not at once.
    assert "Nothing to review now" in page and "Your next question comes back on" in page
    assert 'name="shown"' not in page
    assert "to review" not in learner_client.get(f"/courses/{COURSE_SLUG}/").get_data(as_text=True)


def test_due_questions_are_counted_shown_graded_with_feedback_and_rescheduled(learner_client, app):
    wrong_first_lesson(learner_client, app)
    make_all_due(app)
    due = len(cards(app))
    assert due == 3  # every question of the factory lesson, answered wrong
    for url in (f"/courses/{COURSE_SLUG}/", "/me/"):
        page = learner_client.get(url).get_data(as_text=True)
        assert f'<a href="{REVIEW}">{due} questions to review</a>' in page, url
    page, fields = review_page(learner_client)
    assert len(fields["shown"]) == due
    with app.app_context():
        completed_before = db.session.scalar(
            select(func.count()).select_from(LessonProgress).where(LessonProgress.completed_at.is_not(None))
        )
    answers = right_answers(app, fields["shown"])
    response = learner_client.post(REVIEW, data={**fields, **answers})
    assert response.status_code == 302
    result = learner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{due} of {due} right" in result
    # The same per-choice feedback as the quiz result page, and the explanation.
    with app.app_context():
        for question_id in fields["shown"]:
            question = db.session.get(Question, int(question_id))
            assert str(escape(question.explanation)) in result
            for choice in question.live_choices:
                assert (str(escape(choice.feedback)) in result) == choice.is_correct
    assert "Nothing else to review now; next review on" in result
    later = utcnow() + timedelta(hours=12)
    for card in cards(app):
        assert card.due > later and card.last_rating == 2  # right after a mistake: Hard
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReviewAnswer)) == due
        completed_after = db.session.scalar(
            select(func.count()).select_from(LessonProgress).where(LessonProgress.completed_at.is_not(None))
        )
    assert completed_after == completed_before == 0  # review answers never complete a lesson
    assert "to review" not in learner_client.get(f"/courses/{COURSE_SLUG}/").get_data(as_text=True)


def test_a_double_submission_records_the_answers_once(learner_client, app):
    wrong_first_lesson(learner_client, app)
    make_all_due(app)
    _, fields = review_page(learner_client)
    data = {**fields, **right_answers(app, fields["shown"])}
    first = learner_client.post(REVIEW, data=data)
    second = learner_client.post(REVIEW, data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReviewAnswer)) == len(fields["shown"])


def test_unanswered_questions_are_shown_again_and_bad_input_is_a_400(learner_client, app):
    wrong_first_lesson(learner_client, app)
    make_all_due(app)
    page, fields = review_page(learner_client)
    response = learner_client.post(REVIEW, data=fields)
    assert response.status_code == 200
    assert "You have not answered any questions yet." in response.get_data(as_text=True)
    # The same key keeps the same order of choices.
    assert fields["submission_key"] in response.get_data(as_text=True)
    answers = right_answers(app, fields["shown"])
    with app.app_context():
        foreign_choice = db.session.scalar(
            select(Question).where(Question.id.not_in([int(i) for i in fields["shown"]]))
        )
        other_id = foreign_choice.live_choices[0].id
    bad = [
        {**fields, **answers, f"question-{fields['shown'][0]}": [str(other_id)]},  # another question's choice
        {**fields, **answers, "shown": fields["shown"] + [str(foreign_choice.id)]},  # not one of my cards
        {**fields, **answers, "shown": ["x"]},
        {**fields, **answers, "submission_key": "nope"},
        {**fields, **answers, "unexpected": "1"},
    ]
    for data in bad:
        assert learner_client.post(REVIEW, data=data).status_code == 400, data
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReviewAnswer)) == 0


def test_the_post_needs_its_csrf_token(learner_client, app):
    wrong_first_lesson(learner_client, app)
    make_all_due(app)
    _, fields = review_page(learner_client)
    data = {**fields, **right_answers(app, fields["shown"]), "csrf_token": "forged"}
    assert learner_client.post(REVIEW, data=data).status_code == 400


def test_another_learners_cards_and_answers_are_never_visible(learner_client, app, other_learner):
    wrong_first_lesson(learner_client, app)
    make_all_due(app)
    _, fields = review_page(learner_client)
    result_url = learner_client.post(REVIEW, data={**fields, **right_answers(app, fields["shown"])}).headers["Location"]
    make_all_due(app)
    fred_client = app.test_client()
    login(fred_client, "fred@example.org")
    page = fred_client.get(REVIEW).get_data(as_text=True)
    assert "Nothing to review now" in page and 'name="shown"' not in page
    assert fred_client.get(result_url).status_code == 404
    # Answering the first learner's questions as if they were Fred's: no such cards.
    fred = {"csrf_token": csrf_token(fred_client, "/me/"), "submission_key": uuid.uuid4().hex}
    stolen = {**fred, "shown": fields["shown"], **right_answers(app, fields["shown"])}
    assert fred_client.post(REVIEW, data=stolen).status_code == 400


def test_retired_questions_are_not_reviewed(learner_client, app):
    wrong_first_lesson(learner_client, app)
    make_all_due(app)
    with app.app_context():
        retired = db.session.get(Question, cards(app)[0].question_id)
        retired.retired_at, retired.position = utcnow(), None
        db.session.commit()
        retired_id = retired.id
    page, fields = review_page(learner_client)
    assert str(retired_id) not in fields["shown"] and len(fields["shown"]) == 2
    assert "2 questions to review" in learner_client.get(f"/courses/{COURSE_SLUG}/").get_data(as_text=True)
    del page


def test_a_result_with_mistakes_says_they_come_back_for_review(learner_client, app):
    first = lesson_slugs(app)[0]
    failed = submit_quiz(learner_client, first, quiz_form(app, first, right=False))
    wrong = learner_client.get(failed.headers["Location"])
    assert f'come back in <a href="{REVIEW}">your review</a> from tomorrow' in wrong.get_data(as_text=True)
    right = learner_client.get(submit_quiz(learner_client, first, quiz_form(app, first)).headers["Location"])
    assert "your review</a>" not in right.get_data(as_text=True)  # nothing wrong, nothing comes back


def test_what_the_result_says_of_when_questions_come_back_is_what_happens(learner_client, app):
    """It said right answers "come back later" while a reviewer saw no difference: the wrong ones
    come back a day on, the right ones half a day after them."""
    wrong_first_lesson(learner_client, app)
    make_all_due(app)
    _, fields = review_page(learner_client)
    answers = right_answers(app, fields["shown"])
    missed = fields["shown"][0]
    answers[f"question-{missed}"] = []  # left wrong: the first choice that is not right
    with app.app_context():
        question = db.session.get(Question, int(missed))
        answers[f"question-{missed}"] = [str(next(c.id for c in question.live_choices if not c.is_correct))]
    answered_at = utcnow()
    response = learner_client.post(REVIEW, data={**fields, **answers})

    result = " ".join(learner_client.get(response.headers["Location"]).get_data(as_text=True).split())
    assert "Questions you got wrong come back tomorrow, the ones you got right a day or so later" in result
    due = {card.question_id: card.due for card in cards(app)}
    wrong_due = due.pop(int(missed))
    assert timedelta(hours=23) < wrong_due - answered_at < timedelta(hours=25)
    assert all(when - wrong_due >= timedelta(hours=11) for when in due.values())
