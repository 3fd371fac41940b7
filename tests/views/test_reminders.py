"""Reminders over HTTP (CSRF on): the settings page, the e-mail as sent, and the unsubscribe link."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.jobs.reminders import queue_due_reminders, send_due_reminders
from app.models import Lesson, LessonProgress, ReminderSettings, User
from app.models.types import utcnow
from app.services.personal_data import account_delete
from app.services.reminders import SUBJECT, reminders_turn_off, unsubscribe_token
from tests.conftest import PASSWORD, count_queries, create_user, csrf_token
from tests.mail_server import body_of
from tests.queued_jobs import enqueued, queued, run_enqueued
from tests.services.test_reminders import FORBIDDEN_WORDS

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def setting(app, user_id: int) -> ReminderSettings | None:
    with app.app_context():
        row = db.session.get(ReminderSettings, user_id)
        db.session.expunge_all()
        return row


def away_reminders(app, user_id: int) -> bool:
    row = setting(app, user_id)
    return row is not None and row.away_reminders


def test_my_page_links_to_the_reminder_settings(learner_client):
    page = learner_client.get("/me/").get_data(as_text=True)
    assert 'href="/me/reminders"' in page


def test_reminders_are_off_until_the_learner_turns_them_on(learner_client, app, learner):
    page = learner_client.get("/me/reminders").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="away_reminders"[^>]*>', page).group(0)
    assert "checked" not in box
    assert '<label for="away_reminders">E-mail me when I have been away a week' in page
    assert 'aria-describedby="away_reminders-hint"' in box  # the hint is tied to the box
    review_box = re.search(r'<input[^>]*name="review_reminders"[^>]*>', page).group(0)
    assert "checked" not in review_box  # off too, until chosen
    assert '<label for="review_reminders">E-mail me when I have questions to review' in page
    token = csrf_token(learner_client, "/me/reminders")

    response = learner_client.post("/me/reminders", data={"csrf_token": token, "away_reminders": "y"})
    assert response.status_code == 302
    assert away_reminders(app, learner)
    page = learner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reminders are on" in page
    assert "checked" in re.search(r'<input[^>]*name="away_reminders"[^>]*>', page).group(0)

    response = learner_client.post("/me/reminders", data={"csrf_token": token}, follow_redirects=True)
    assert "Reminders are off" in response.get_data(as_text=True)
    assert not away_reminders(app, learner)


def test_the_settings_form_needs_its_csrf_token(learner_client, app, learner):
    response = learner_client.post("/me/reminders", data={"away_reminders": "y"})
    assert response.status_code == 400
    assert not away_reminders(app, learner)


def test_the_settings_page_runs_a_fixed_number_of_queries(learner_client, app):
    learner_client.get("/me/reminders")
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as counted:
        assert learner_client.get("/me/reminders").status_code == 200
    assert counted() <= 2, counted()  # the signed-in user, then the settings


# The unsubscribe link, without logging in


@pytest.fixture
def subscribed(app, learner) -> str:
    """The learner has reminders on; returns the unsubscribe path of their reminders."""
    with app.app_context():
        db.session.add(ReminderSettings(user_id=learner, away_reminders=True))
        db.session.commit()
    return f"/reminders/unsubscribe/{unsubscribe_token(learner, secret_key=app.config['SECRET_KEY'])}"


def test_opening_the_link_only_asks_and_the_button_unsubscribes(client, app, learner, subscribed):
    page = client.get(subscribed)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(rf'<form method="post" action="{re.escape(subscribed)}">', html)
    assert "Stop reminders</button>" in html
    assert away_reminders(app, learner)  # a link scanner's GET changes nothing

    done = client.post(subscribed)  # the page's button: no login, no CSRF token
    assert done.status_code == 200
    assert "You will get no more reminder e-mails" in done.get_data(as_text=True)
    assert not away_reminders(app, learner)


def test_a_mail_clients_one_click_post_unsubscribes(client, app, learner, subscribed):
    """RFC 8058: the client POSTs List-Unsubscribe=One-Click to the link, with no cookie and no token."""
    response = client.post(
        subscribed, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert not away_reminders(app, learner)
    assert client.post(subscribed).status_code == 200  # once more: still off, still fine


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_bad_or_tampered_link_is_a_clear_400_and_changes_nothing(client, app, learner, subscribed, method):
    for path in ("/reminders/unsubscribe/not-a-token", subscribed[:-3] + "abc"):
        response = client.open(path, method=method)
        assert response.status_code == 400
        assert "This link does not work" in response.get_data(as_text=True)
    assert away_reminders(app, learner)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_link_made_before_its_account_existed_is_refused(client, app, learner, subscribed, method):
    """On SQLite a deleted account's id can be the next account's: its old links must not name the new one."""
    with app.app_context():
        later = utcnow() + timedelta(minutes=5)  # as if this account came after the link was signed
        db.session.execute(update(User).where(User.id == learner).values(created_at=later))
        db.session.commit()

    response = client.open(subscribed, method=method)

    assert response.status_code == 400 and "This link does not work" in response.get_data(as_text=True)
    assert away_reminders(app, learner)


def test_a_deleted_accounts_link_is_refused(client, app, learner, subscribed):
    with app.app_context():
        account_delete(db.session, user=db.session.get(User, learner), password=PASSWORD)
    assert client.post(subscribed).status_code == 400


def test_the_link_only_turns_reminders_off(client, app, learner, subscribed):
    with app.app_context():
        db.session.execute(update(ReminderSettings).values(away_reminders=False))
        db.session.commit()
    assert client.post(subscribed).status_code == 200
    assert not away_reminders(app, learner)


# The whole way: cron's command, the job, the message, the link in it


def test_flask_reminders_send_mails_a_discreet_reminder_whose_link_unsubscribes(app, client, runner, course, inbox):
    now = utcnow()
    user_id = reminders_on(app, "away@example.org", last_seen=now - timedelta(days=8), name="Avery Away")
    reminders_on(app, "here@example.org", last_seen=now - timedelta(days=1))

    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "Reminders queued: 1." in result.output
    message = inbox.wait_for(1)[0]
    assert message["To"] == "away@example.org"
    assert message["Subject"] == SUBJECT
    assert not [word for word in FORBIDDEN_WORDS if word in message["Subject"].lower()]
    # The sender's name shows beside the subject in an inbox others may see.
    assert not [word for word in FORBIDDEN_WORDS if word in message["From"].lower()]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)
    assert link.startswith(f"{app.config['PUBLIC_URL']}/reminders/unsubscribe/")
    body = body_of(message)
    assert link in body
    assert "Avery Away" in body
    assert abs(setting(app, user_id).last_reminded_at - now) < timedelta(minutes=1)

    # Run again: nobody gets a second one.
    result = runner.invoke(args=["reminders", "send"])
    assert "Reminders queued: 0." in result.output
    assert len(inbox.messages) == 1

    path = link.removeprefix(app.config["PUBLIC_URL"])
    assert client.get(path).status_code == 200
    assert away_reminders(app, user_id)
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert not away_reminders(app, user_id)


def test_flask_reminders_send_refuses_a_time_it_cannot_read(runner):
    result = runner.invoke(args=["reminders", "send", "--dry-run", "--now", "next tuesday"])
    assert result.exit_code != 0
    assert "ISO 8601" in result.output


def test_another_time_only_counts_who_would_be_due_and_sends_and_records_nothing(app, runner, course, inbox):
    """A send at a made-up time recorded it as everyone's last reminder: one to come held all back."""
    user_id = reminders_on(app, "away@example.org", last_seen=NOW - timedelta(days=8))

    refused = runner.invoke(args=["reminders", "send", "--now", "2026-03-10T09:00"])
    dry = runner.invoke(args=["reminders", "send", "--dry-run", "--now", "2026-03-10T09:00"])
    too_soon = runner.invoke(args=["reminders", "send", "--dry-run", "--now", "2026-03-05T09:00"])

    assert refused.exit_code != 0 and "--now is for --dry-run only" in refused.output
    assert dry.exit_code == 0 and "Due a reminder at 2026-03-10T09:00:00+00:00: 1. Nothing was sent." in dry.output
    assert "Due a reminder at 2026-03-05T09:00:00+00:00: 0." in too_soon.output
    assert setting(app, user_id).last_reminded_at is None
    time.sleep(0.2)
    assert inbox.messages == []


def reminders_on(app, email: str, *, last_seen, name: str | None = None) -> int:
    """Someone with away reminders on, whose account was made when they opened the first lesson,
    ``last_seen``, and who has done nothing since."""
    user_id = create_user(app, email, name=name)
    with app.app_context():
        first_lesson = db.session.scalar(select(Lesson.id).order_by(Lesson.id))
        db.session.execute(update(User).where(User.id == user_id).values(created_at=last_seen))
        db.session.add_all(
            [
                ReminderSettings(user_id=user_id, away_reminders=True),
                LessonProgress(user_id=user_id, lesson_id=first_lesson, opened_at=last_seen),
            ]
        )
        db.session.commit()
    return user_id


def away_a_week(app, course, email: str) -> int:
    """Someone with reminders on who opened the first lesson 8 days ago (real time) and nothing since."""
    return reminders_on(app, email, last_seen=utcnow() - timedelta(days=8))


def test_the_queue_runs_the_reminders_every_day_at_nine_utc(app, course, inbox):
    schedule = send_due_reminders.task_class()
    assert schedule.validate_datetime(datetime(2026, 3, 10, 9, 0))
    assert not schedule.validate_datetime(datetime(2026, 3, 10, 9, 1))
    assert not schedule.validate_datetime(datetime(2026, 3, 10, 21, 0))
    away_a_week(app, course, "away@example.org")
    with app.app_context():
        send_due_reminders()  # what the scheduler enqueues; jobs run inline in tests
        send_due_reminders()
    assert [message["To"] for message in inbox.wait_for(1)] == ["away@example.org"]


def test_someone_who_unsubscribes_before_the_queued_email_goes_gets_nothing(app, course, inbox, tmp_path):
    user_id = away_a_week(app, course, "away@example.org")
    stays = away_a_week(app, course, "stays@example.org")
    with queued(app, tmp_path):
        with app.app_context():
            assert queue_due_reminders() == sorted([user_id, stays])
        assert [name for name, _, _ in enqueued()] == ["send_reminder", "send_reminder"]
        with app.app_context():
            reminders_turn_off(db.session, user_id=user_id)
        assert run_enqueued() == 2
    assert [message["To"] for message in inbox.wait_for(1)] == ["stays@example.org"]


def test_review_reminders_are_a_separate_choice(learner_client, app, learner):
    token = csrf_token(learner_client, "/me/reminders")
    response = learner_client.post(
        "/me/reminders", data={"csrf_token": token, "review_reminders": "y"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "Reminders are on: when you have questions to review" in page
    assert "checked" in re.search(r'<input[^>]*name="review_reminders"[^>]*>', page).group(0)
    assert "checked" not in re.search(r'<input[^>]*name="away_reminders"[^>]*>', page).group(0)
    with app.app_context():
        settings = db.session.get(ReminderSettings, learner)
        assert settings.review_reminders and not settings.away_reminders


def test_with_both_kinds_on_the_message_says_both(learner_client):
    """It named only the reminder after a week away."""
    token = csrf_token(learner_client, "/me/reminders")
    data = {"csrf_token": token, "away_reminders": "y", "review_reminders": "y"}
    page = learner_client.post("/me/reminders", data=data, follow_redirects=True).get_data(as_text=True)
    assert "Reminders are on: after a week away and when you have questions to review, we will e-mail you" in page
