"""Reminders: who gets one at a fixed time, at most one a week, and what the e-mail says."""

import base64
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update

from app.extensions import db
from app.models import Lesson, LessonProgress, QuizAttempt, ReminderSettings, Role, User
from app.services import reminders as rules
from app.services.accounts import RESET_SALT
from app.services.progress import live_lessons
from app.services.reminders import (
    AT_MOST_EVERY,
    AWAY_AFTER,
    Candidate,
    has_usable_email,
    reason_not_to_remind,
    reminder_candidates,
    reminder_email,
    reminder_message,
    reminder_settings_of,
    reminder_settings_save,
    reminders_send,
    reminders_turn_off,
    unsubscribe_account,
    unsubscribe_token,
)
from app.services.sealing import seal
from app.services.user_admin import user_deactivate
from app.urls import external_url
from tests.attempt_factories import review_answer
from tests.conftest import count_queries, create_user

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)

# Words that would tell someone glancing at the inbox what the course is about.
FORBIDDEN_WORDS = [
    "naltrexone",
    "revia",
    "vivitrol",
    "medicine",
    "medication",
    "drug",
    "pill",
    "tablet",
    "alcohol",
    "drink",
    "opioid",
    "opiate",
    "heroin",
    "addiction",
    "recovery",
    "treatment",
    "relapse",
]


def candidate(**changes) -> Candidate:
    """Someone a reminder is due to at NOW; ``changes`` make them differ in one way."""
    facts = {
        "user_id": 1,
        "email": "lee@example.org",
        "display_name": "Lee",
        "is_active": True,
        "away_reminders": True,
        "live_lessons": 3,
        "completed_lessons": 1,
        "last_activity": NOW - AWAY_AFTER,
        "last_reminded_at": None,
    }
    return Candidate(**{**facts, **changes})


# The rule, with fixed datetimes


def test_a_reminder_is_due_after_exactly_a_week_away_with_lessons_left():
    assert reason_not_to_remind(candidate(), NOW) is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"away_reminders": False}, "reminders are off"),
        ({"is_active": False}, "the account is deactivated"),
        ({"email": "lee@seed.invalid"}, "no address mail can reach"),
        ({"completed_lessons": 3}, "no lessons left"),
        ({"live_lessons": 0, "completed_lessons": 0}, "no lessons left"),
        ({"last_activity": NOW - AWAY_AFTER + timedelta(seconds=1)}, "active in the last week"),
        ({"last_activity": NOW - 2 * DAY}, "active in the last week"),
        ({"last_reminded_at": NOW - 3 * DAY}, "reminded in the last week"),
        ({"last_reminded_at": NOW - AT_MOST_EVERY + timedelta(seconds=1)}, "reminded in the last week"),
    ],
)
def test_who_gets_no_reminder_and_why(changes, reason):
    assert reason_not_to_remind(candidate(**changes), NOW) == reason


def test_a_week_after_the_last_reminder_another_may_go():
    assert reason_not_to_remind(candidate(last_reminded_at=NOW - AT_MOST_EVERY), NOW) is None


@pytest.mark.parametrize(
    ("address", "usable"),
    [
        ("lee@example.org", True),
        ("Lee.Smith+course@mail.example.co.uk", True),
        ("", False),
        ("lee", False),
        ("@example.org", False),
        ("lee@localhost", False),
        ("lee@example", False),
        ("lee@seed.invalid", False),
        ("lee@host.test", False),
        ("lee@example.org.", False),
    ],
)
def test_usable_addresses(address, usable):
    assert has_usable_email(address) is usable


# The batch, on the database


def set_created(session, user_id: int, when: datetime) -> None:
    session.execute(update(User).where(User.id == user_id).values(created_at=when))


def opt_in(session, user_id: int, *, last_reminded_at: datetime | None = None, on: bool = True) -> None:
    session.add(ReminderSettings(user_id=user_id, away_reminders=on, last_reminded_at=last_reminded_at))


def lesson_ids(session) -> list[int]:
    return [lesson.id for lesson in session.scalars(live_lessons(session.scalar(select(Lesson.course_id))))]


def opened(session, user_id: int, lesson_id: int, when: datetime, completed: bool = False) -> None:
    session.add(
        LessonProgress(user_id=user_id, lesson_id=lesson_id, opened_at=when, completed_at=when if completed else None)
    )


def attempted(session, user_id: int, lesson_id: int, when: datetime) -> None:
    session.add(
        QuizAttempt(
            user_id=user_id,
            lesson_id=lesson_id,
            submission_key=uuid.uuid4().hex,
            submitted_at=when,
            question_count=3,
            correct_count=1,
            score=1 / 3,
            pass_mark=0.8,
            passed=False,
        )
    )


def reviewed(session, user_id: int, when: datetime) -> None:
    session.add(review_answer(user_id, session.scalar(select(Lesson.course_id)), when=when))


@pytest.fixture
def people(app, course, session):
    """One person per case, all registered a month before NOW; returns their ids by case."""
    names = [
        "due",
        "never_started",
        "not_opted_in",
        "turned_off",
        "finished",
        "active_recently",
        "attempted_recently",
        "reviewed_recently",
        "reminded_3_days_ago",
        "reminded_8_days_ago",
        "deactivated",
        "unusable_address",
    ]
    ids = {
        name: create_user(app, f"{name}@{'seed.invalid' if name == 'unusable_address' else 'example.org'}")
        for name in names
    }
    admin = create_user(app, "admin@example.org", role=Role.ADMIN)
    lessons = lesson_ids(session)
    for name, user_id in ids.items():
        set_created(session, user_id, NOW - 30 * DAY)
        if name not in ("never_started", "finished"):
            opened(session, user_id, lessons[0], NOW - 10 * DAY)
        if name not in ("not_opted_in",):
            opt_in(
                session,
                user_id,
                on=name != "turned_off",
                last_reminded_at={"reminded_3_days_ago": NOW - 3 * DAY, "reminded_8_days_ago": NOW - 8 * DAY}.get(name),
            )
    for lesson_id in lessons:
        opened(session, ids["finished"], lesson_id, NOW - 10 * DAY, completed=True)
    opened(session, ids["active_recently"], lessons[1], NOW - 2 * DAY)
    attempted(session, ids["attempted_recently"], lessons[0], NOW - 2 * DAY)
    reviewed(session, ids["reviewed_recently"], NOW - 2 * DAY)  # only a review of mistakes: still there
    session.commit()
    user_deactivate(session, actor=session.get(User, admin), user=session.get(User, ids["deactivated"]))
    return ids


def test_who_gets_a_reminder_at_a_fixed_time(session, people):
    queued: list[int] = []
    sent = reminders_send(session, now=NOW, enqueue=queued.append)
    expected = sorted([people["due"], people["never_started"], people["reminded_8_days_ago"]])
    assert sent == queued == expected
    reminded = dict(session.execute(select(ReminderSettings.user_id, ReminderSettings.last_reminded_at)).all())
    assert all(reminded[user_id] == NOW for user_id in expected)
    assert reminded[people["reminded_3_days_ago"]] == NOW - 3 * DAY  # untouched


def test_nobody_gets_two_in_a_week_even_when_the_job_runs_twice(session, people):
    queued: list[int] = []
    first = reminders_send(session, now=NOW, enqueue=queued.append)
    assert first
    assert reminders_send(session, now=NOW, enqueue=queued.append) == []
    # Six days on, others are due by now (their week away is up), but nobody reminded at NOW.
    later = reminders_send(session, now=NOW + 6 * DAY, enqueue=queued.append)
    assert later == sorted(
        [
            people["active_recently"],
            people["attempted_recently"],
            people["reviewed_recently"],
            people["reminded_3_days_ago"],
        ]
    )
    assert sorted(queued) == sorted(first + later)  # each person queued once
    # A week on, still away with lessons left: the next weekly reminder.
    assert reminders_send(session, now=NOW + AT_MOST_EVERY, enqueue=queued.append) == first


def test_a_run_that_overlaps_another_does_not_remind_again(session, people):
    """The UPDATE checks the last reminder again: someone another run reminded meanwhile is skipped."""
    due = [c.user_id for c in reminder_candidates(session, now=NOW) if reason_not_to_remind(c, NOW) is None]
    session.rollback()
    with db.engine.begin() as other_run:
        other_run.execute(
            update(ReminderSettings).where(ReminderSettings.user_id == people["due"]).values(last_reminded_at=NOW)
        )
    claimed = rules._claim(session, due, NOW)
    session.commit()
    assert people["due"] not in claimed
    assert people["never_started"] in claimed


def test_if_queueing_fails_nobody_left_unqueued_is_marked_as_reminded(session, people):
    queued: list[int] = []

    def enqueue(user_id: int) -> None:
        if queued:
            raise ConnectionError("the broker is down")
        queued.append(user_id)

    with pytest.raises(ConnectionError):
        reminders_send(session, now=NOW, enqueue=enqueue)
    session.expire_all()
    reminded = dict(session.execute(select(ReminderSettings.user_id, ReminderSettings.last_reminded_at)).all())
    due = sorted([people["due"], people["never_started"], people["reminded_8_days_ago"]])
    before = {people["due"]: None, people["never_started"]: None, people["reminded_8_days_ago"]: NOW - 8 * DAY}
    assert queued == due[:1]
    assert reminded[due[0]] == NOW  # queued: recorded
    assert {user_id: reminded[user_id] for user_id in due[1:]} == {user_id: before[user_id] for user_id in due[1:]}
    # The next run sends exactly the ones that were not queued.
    assert reminders_send(session, now=NOW + DAY, enqueue=lambda user_id: None) == due[1:]


def test_the_batch_runs_a_fixed_number_of_queries(app, session, people):
    with count_queries(db.engine) as counted:
        reminders_send(session, now=NOW, enqueue=lambda user_id: None)
    few = counted()
    more = [create_user(app, f"more{n}@example.org") for n in range(5)]
    for user_id in more:
        set_created(session, user_id, NOW - 30 * DAY)
        opt_in(session, user_id)
    session.commit()
    with count_queries(db.engine) as counted:
        sent = reminders_send(session, now=NOW + AT_MOST_EVERY, enqueue=lambda user_id: None)
    assert set(more) <= set(sent)
    assert len(sent) == 12  # the 3 reminded a week ago, the 4 whose week away is up since, and 5 more
    assert counted() == few


# Settings


def test_reminders_are_off_until_chosen_and_can_be_turned_off(app, session):
    user_id = create_user(app, "lee@example.org")
    assert reminder_settings_of(session, user_id=user_id).away_reminders is False
    reminder_settings_save(session, user_id=user_id, away_reminders=True)
    reminder_settings_save(session, user_id=user_id, away_reminders=True)  # saving again: no conflict
    assert reminder_settings_of(session, user_id=user_id).away_reminders is True
    reminders_turn_off(session, user_id=user_id)
    session.expire_all()
    assert reminder_settings_of(session, user_id=user_id).away_reminders is False


# The message and its unsubscribe link


def test_the_unsubscribe_token_names_the_person_and_nothing_else_works(app, session):
    user_id = create_user(app, "lee@example.org")
    token = unsubscribe_token(user_id, secret_key="secret")
    assert unsubscribe_account(session, token, secret_key="secret") == user_id
    assert unsubscribe_account(session, token, secret_key="another secret") is None
    assert unsubscribe_account(session, token[:-2], secret_key="secret") is None
    assert unsubscribe_account(session, token, secret_key="secret", max_age=timedelta(seconds=-1)) is None  # expired
    other = URLSafeTimedSerializer("secret", salt=RESET_SALT).dumps({"user": user_id})  # another purpose, same key
    assert unsubscribe_account(session, other, secret_key="secret") is None
    sealed_for_another = seal(json.dumps({"user": user_id}), secret_key="secret", purpose=RESET_SALT)
    assert unsubscribe_account(session, sealed_for_another, secret_key="secret") is None
    not_a_claim = seal(json.dumps(["user", user_id]), secret_key="secret", purpose=rules.UNSUBSCRIBE_SALT)
    assert unsubscribe_account(session, not_a_claim, secret_key="secret") is None


def test_the_unsubscribe_link_does_not_show_whose_it_is(app, session):
    """The link passes through mail servers' logs and browser history: the id in it is sealed."""
    user_id = create_user(app, "lee@example.org")
    token = unsubscribe_token(user_id, secret_key="secret")
    for part in token.split("."):  # a signed token's payload is its first part, in base64
        readable = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        assert b"user" not in readable
        assert f":{user_id}}}".encode() not in readable
    assert unsubscribe_token(user_id, secret_key="secret") != token  # and two links are not alike


def test_a_signed_link_mailed_before_links_were_sealed_still_unsubscribes_for_its_year(app, session):
    user_id = create_user(app, "lee@example.org")
    signed = URLSafeTimedSerializer("secret", salt=rules.UNSUBSCRIBE_SALT).dumps({"user": user_id})
    assert unsubscribe_account(session, signed, secret_key="secret") == user_id
    assert unsubscribe_account(session, signed, secret_key="another secret") is None
    assert unsubscribe_account(session, signed, secret_key="secret", max_age=timedelta(seconds=-1)) is None
    # Made for a deleted account whose id was given to a newer one: still not the newer one's.
    session.execute(update(User).where(User.id == user_id).values(created_at=datetime.now(UTC) + timedelta(hours=1)))
    assert unsubscribe_account(session, signed, secret_key="secret") is None


def test_an_unsubscribe_link_names_only_the_account_it_was_made_for(app, session):
    user_id = create_user(app, "lee@example.org")
    token = unsubscribe_token(user_id, secret_key="secret")

    assert unsubscribe_account(session, token, secret_key="secret") == user_id
    assert unsubscribe_account(session, token, secret_key="another secret") is None
    no_such_account = unsubscribe_token(user_id + 1, secret_key="secret")
    assert unsubscribe_account(session, no_such_account, secret_key="secret") is None
    # An account made after the link was signed got a deleted account's id: the link is not its.
    session.execute(update(User).where(User.id == user_id).values(created_at=datetime.now(UTC) + timedelta(hours=1)))
    assert unsubscribe_account(session, token, secret_key="secret") is None


def message(**changes):
    values = {
        "to": "lee@example.org",
        "display_name": "Lee",
        "lessons_left": 2,
        "continue_url": "https://course.example.org/me/",
        "settings_url": "https://course.example.org/me/reminders",
        "unsubscribe_url": "https://course.example.org/reminders/unsubscribe/abc",
    }
    return reminder_message(**{**values, **changes})


@pytest.mark.parametrize("word", FORBIDDEN_WORDS)
def test_the_subject_and_body_say_nothing_about_the_subject_of_the_course(word):
    mail = message()
    assert word not in mail.subject.lower()
    assert word not in mail.body.lower()


def test_the_message_carries_one_click_unsubscribe_headers():
    mail = message()
    assert mail.headers == {
        "List-Unsubscribe": "<https://course.example.org/reminders/unsubscribe/abc>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert "https://course.example.org/reminders/unsubscribe/abc" in mail.body
    assert "https://course.example.org/me/" in mail.body
    assert "2 lessons left" in words(mail.body)
    assert "1 lesson left" in words(message(lessons_left=1).body)


def words(body: str) -> str:
    """The body as one line: its paragraphs are wrapped."""
    return " ".join(body.split())


def test_the_message_is_wrapped_as_the_other_emails_are_with_each_link_whole_on_its_own_line():
    mail = message(display_name="Lee " + "Longname" * 8, lessons_left=2, reviews_due=3)
    for line in mail.body.splitlines():
        assert len(line) <= 78 or line.startswith("https://"), line
    links = ("https://course.example.org/me/", "https://course.example.org/reminders/unsubscribe/abc")
    for link in links:
        assert link in mail.body.splitlines()


def test_the_email_links_to_the_public_site_and_stops_once_unsubscribed(app, session, people):
    user_id = people["due"]
    mail = reminder_email(session, user_id=user_id, secret_key=app.config["SECRET_KEY"], external_url=external_url)
    assert mail is not None
    assert mail.to == "due@example.org"
    link = re.search(r"<(.+)>", mail.headers["List-Unsubscribe"]).group(1)
    assert link.startswith(f"{app.config['PUBLIC_URL']}/reminders/unsubscribe/")
    token = link.rsplit("/", 1)[1]
    assert unsubscribe_account(session, token, secret_key=app.config["SECRET_KEY"]) == user_id
    reminders_turn_off(session, user_id=user_id)
    assert reminder_email(session, user_id=user_id, secret_key="k", external_url=external_url) is None
    assert reminder_email(session, user_id=people["finished"], secret_key="k", external_url=external_url) is None
