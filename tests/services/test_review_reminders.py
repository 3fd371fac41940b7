"""The opt-in e-mail reminder for questions due for review: the rule at fixed times, the wording, the batch."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.models import Lesson, ReminderSettings, ReviewCard, User
from app.models.types import utcnow
from app.services.quizzes import quiz_questions, quiz_submit_attempt
from app.services.reminders import (
    AT_MOST_EVERY,
    reason_not_to_remind,
    reason_not_to_send,
    reminder_email,
    reminder_settings_save,
    reminders_send,
    reminders_turn_off,
)
from app.urls import external_url
from tests.conftest import create_user
from tests.services.test_reminders import DAY, FORBIDDEN_WORDS, NOW, candidate, message


def reviewer(**changes):
    """Someone who asked only for review reminders, active yesterday, with 3 questions due."""
    facts = {"away_reminders": False, "review_reminders": True, "reviews_due": 3, "last_activity": NOW - DAY}
    return candidate(**{**facts, **changes})


def test_questions_due_bring_a_reminder_even_to_someone_active_yesterday():
    assert reason_not_to_remind(reviewer(), NOW) is None


def test_no_questions_due_no_review_reminder():
    assert reason_not_to_remind(reviewer(reviews_due=0), NOW) == "no questions to review"
    assert reason_not_to_send(reviewer(reviews_due=0, away_reminders=True, completed_lessons=3)) == (
        "no lessons left or questions to review"
    )


def test_questions_due_do_not_remind_someone_who_did_not_ask_for_it():
    assert reason_not_to_remind(reviewer(review_reminders=False), NOW) == "reminders are off"
    assert reason_not_to_remind(reviewer(review_reminders=False, away_reminders=True), NOW) == (
        "active in the last week"
    )


def test_both_kinds_share_the_one_reminder_a_week():
    assert reason_not_to_remind(reviewer(last_reminded_at=NOW - 3 * DAY), NOW) == "reminded in the last week"
    assert reason_not_to_remind(reviewer(last_reminded_at=NOW - AT_MOST_EVERY), NOW) is None
    both = reviewer(away_reminders=True, last_activity=NOW - 8 * DAY, last_reminded_at=NOW - 2 * DAY)
    assert reason_not_to_remind(both, NOW) == "reminded in the last week"


def test_the_rest_of_the_rule_still_holds():
    assert reason_not_to_remind(reviewer(is_active=False), NOW) == "the account is deactivated"
    assert reason_not_to_remind(reviewer(email="lee@example.invalid"), NOW) == "no address mail can reach"


@pytest.mark.parametrize("word", FORBIDDEN_WORDS)
@pytest.mark.parametrize("kinds", [{"lessons_left": 0, "reviews_due": 3}, {"lessons_left": 2, "reviews_due": 1}])
def test_the_review_reminder_is_as_discreet(word, kinds):
    mail = message(**kinds)
    assert word not in mail.subject.lower() and word not in mail.body.lower()


def test_the_message_says_what_applies_with_the_same_unsubscribe_link():
    only_reviews = message(lessons_left=0, reviews_due=3)
    assert "3 questions ready to look at again" in " ".join(only_reviews.body.split())
    assert "lesson" not in only_reviews.body and "away for a week" not in only_reviews.body
    assert "https://course.example.org/reminders/unsubscribe/abc" in only_reviews.body
    assert only_reviews.headers["List-Unsubscribe"] == "<https://course.example.org/reminders/unsubscribe/abc>"
    both = message(lessons_left=2, reviews_due=1)
    assert "2 lessons left" in " ".join(both.body.split()) and "1 question ready" in " ".join(both.body.split())
    assert "question" not in message().body  # the away reminder reads as before


@pytest.fixture
def learner_with_mistakes(app, course, session):
    """A learner who got the first quiz all wrong and asked only for review reminders."""
    user_id = create_user(app, "rae@example.org")
    learner = session.get(User, user_id)
    lesson = session.scalar(select(Lesson).order_by(Lesson.id))
    questions = quiz_questions(session, lesson)
    quiz_submit_attempt(
        session,
        learner=learner,
        lesson=lesson,
        questions=questions,
        answers={q.id: [next(c.id for c in q.live_choices if not c.is_correct)] for q in questions},
        submission_key=uuid.uuid4().hex,
        pass_mark=0.8,
    )
    reminder_settings_save(session, user_id=user_id, away_reminders=False, review_reminders=True)
    return user_id


def test_the_daily_run_reminds_once_when_questions_fall_due(app, session, learner_with_mistakes):
    user_id = learner_with_mistakes
    now = utcnow()
    assert reminders_send(session, now=now, enqueue=lambda _: None) == []  # due tomorrow, not yet
    tomorrow = now + timedelta(days=1, hours=1)
    assert reminders_send(session, now=tomorrow, enqueue=lambda _: None) == [user_id]
    assert reminders_send(session, now=tomorrow + 2 * DAY, enqueue=lambda _: None) == []  # one a week at most
    session.execute(update(ReviewCard).values(due=now - timedelta(minutes=1)))
    session.commit()
    mail = reminder_email(session, user_id=user_id, secret_key=app.config["SECRET_KEY"], external_url=external_url)
    assert mail is not None and "questions ready to look at again" in mail.body
    reminders_turn_off(session, user_id=user_id)
    assert not session.get(ReminderSettings, user_id).review_reminders
    assert (
        reminder_email(session, user_id=user_id, secret_key=app.config["SECRET_KEY"], external_url=external_url) is None
    )
