"""E-mail reminders people asked for: who gets one, the message, and the link that stops them.

The rule (``reason_not_to_remind``) is a pure function of one person's facts and the time, so it
is tested with fixed datetimes. A reminder goes to someone who turned reminders on, whose
account is active and has an address mail can reach, who has live lessons of the course left,
whose last activity (a lesson opened or completed, a quiz attempt, a review) is at least ``AWAY_AFTER``
old, and who was not reminded in the last ``AT_MOST_EVERY``. Someone who turned on the other
kind, questions to review (the spaced review of mistakes, ``app/services/review.py``), gets one
when questions of the course are due for them, away or not; both kinds share the one reminder a
week, and one e-mail says what applies. ``reminders_send`` applies it to
everyone at once in a fixed number of queries and records the reminders with one conditional
UPDATE before queueing them, so two runs (even at the same time) never send anyone two in a
week.

Subjects and bodies are discreet: other people may see a person's inbox, so nothing in a
reminder names the course, a medicine, alcohol or opioids.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import ScalarSelect, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import LessonProgress, QuizAttempt, ReminderSettings, ReviewAnswer, User
from app.models.types import as_utc, utcnow
from app.services.default_course import course_or_default
from app.services.progress import live_lesson_ids
from app.services.review_due import due_count_of
from app.services.sealing import seal, unseal_with_time

AWAY_AFTER = timedelta(days=7)  # "when I have been away a week"
AT_MOST_EVERY = timedelta(days=7)  # at most one reminder a week, whatever happens
# The purpose unsubscribe tokens are sealed for (and the salt of the signed ones mailed before).
UNSUBSCRIBE_SALT = "reminders-unsubscribe"
# Long enough for a reminder that sat in an inbox for months; an expired link says how to stop
# reminders on the settings page instead.
UNSUBSCRIBE_LINK_LIFETIME = timedelta(days=365)
# Reserved names that never receive mail (RFC 2606, RFC 6761).
UNDELIVERABLE_TOP_LEVEL_DOMAINS = frozenset({"invalid", "test", "example", "localhost"})

SUBJECT = "Your course is waiting for you"


@dataclass(frozen=True)
class Candidate:
    """What the rule needs to know about one person who turned reminders on."""

    user_id: int
    email: str | None  # None: an account an LTI launch made
    display_name: str
    is_active: bool
    away_reminders: bool
    live_lessons: int
    completed_lessons: int
    last_activity: datetime  # the account's creation when nothing was ever done
    last_reminded_at: datetime | None
    review_reminders: bool = False
    reviews_due: int = 0  # questions of the course due for review when the facts were read


@dataclass(frozen=True)
class ReminderMessage:
    """One reminder e-mail, ready to send."""

    to: str
    subject: str
    body: str
    headers: dict[str, str]


def has_usable_email(address: str | None) -> bool:
    """True when mail could reach ``address``: a local part, a domain, and no reserved name."""
    if address is None:  # an account an LTI launch made has no address
        return False
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        return False
    return domain.rsplit(".", 1)[1].lower() not in UNDELIVERABLE_TOP_LEVEL_DOMAINS


def reason_not_to_send(candidate: Candidate) -> str | None:
    """Why this person should get no reminder at all, whenever it is, or None if they may get one.

    Checked again when the e-mail is about to go out: someone who unsubscribed, was deactivated
    or finished the course since the reminder was queued gets nothing.
    """
    if not candidate.away_reminders and not candidate.review_reminders:
        return "reminders are off"
    if not candidate.is_active:
        return "the account is deactivated"
    if not has_usable_email(candidate.email):
        return "no address mail can reach"
    if not _lessons_left(candidate) and not _reviews_due(candidate):
        if not candidate.review_reminders:
            return "no lessons left"
        return "no questions to review" if not candidate.away_reminders else "no lessons left or questions to review"
    return None


def _lessons_left(candidate: Candidate) -> bool:
    """Whether the away reminder applies at all: turned on, with live lessons not completed."""
    return candidate.away_reminders and 0 < candidate.live_lessons > candidate.completed_lessons


def _reviews_due(candidate: Candidate) -> bool:
    """Whether the review reminder applies: turned on, with questions due for review."""
    return candidate.review_reminders and candidate.reviews_due > 0


def _away(candidate: Candidate, now: datetime) -> bool:
    """Whether the away reminder is due at ``now``: it applies and the person has been away long enough."""
    return _lessons_left(candidate) and now - candidate.last_activity >= AWAY_AFTER


def reason_not_to_remind(candidate: Candidate, now: datetime) -> str | None:
    """Why this person gets no reminder at ``now``, or None when one is due."""
    reason = reason_not_to_send(candidate)
    if reason is not None:
        return reason
    if not _away(candidate, now) and not _reviews_due(candidate):
        return "active in the last week"
    if candidate.last_reminded_at is not None and now - candidate.last_reminded_at < AT_MOST_EVERY:
        return "reminded in the last week"
    return None


def _latest(column) -> ScalarSelect:
    """The person's latest value of a timestamp column of their history, as a correlated subquery."""
    return select(func.max(column)).where(column.table.c.user_id == User.id).scalar_subquery()


def _candidate_rows(session: Session, *, user_id: int | None = None, now: datetime | None = None) -> list[Candidate]:
    """The facts the rule needs, for one person (``user_id``) or for everyone who may be due at ``now``.

    Two queries whatever the number of people: the default course, then one row per person.
    For the batch the statement already leaves out whoever the rule would refuse for their
    settings, their account or a recent reminder; the rule decides the rest and checks those
    again.
    """
    course = course_or_default(session)
    if course is None:
        return []
    live = live_lesson_ids(course.id)
    completed = (
        select(func.count())
        .select_from(LessonProgress)
        .where(
            LessonProgress.user_id == User.id,
            LessonProgress.completed_at.is_not(None),
            LessonProgress.lesson_id.in_(live),
        )
        .scalar_subquery()
    )
    # The questions due for review: the same rule as the review page (reviews_due_count), in SQL.
    reviews_due = due_count_of(User.id, course.id, now or utcnow()).scalar_subquery()
    statement = (
        select(
            User.id,
            User.email,
            User.display_name,
            User.is_active,
            User.created_at,
            ReminderSettings.away_reminders,
            ReminderSettings.last_reminded_at,
            select(func.count()).select_from(live.subquery()).scalar_subquery(),
            completed,
            _latest(LessonProgress.opened_at),
            _latest(LessonProgress.completed_at),
            _latest(QuizAttempt.submitted_at),
            ReminderSettings.review_reminders,
            reviews_due,
            _latest(ReviewAnswer.answered_at),  # reviewing mistakes is being there too
        )
        .join(ReminderSettings, ReminderSettings.user_id == User.id)
        .order_by(User.id)
    )
    if user_id is not None:
        statement = statement.where(User.id == user_id)
    if now is not None:
        statement = statement.where(
            _any_reminder_on(),
            User.is_active.is_(True),
            or_(ReminderSettings.last_reminded_at.is_(None), ReminderSettings.last_reminded_at <= now - AT_MOST_EVERY),
        )
    candidates = []
    for row in session.execute(statement):
        (user, email, name, active, created, away, reminded, live_count, done, opened, finished, attempted) = row[:12]
        review, due_count, reviewed = row[12:]
        activity = [as_utc(when) for when in (opened, finished, attempted, reviewed) if when is not None]
        candidates.append(
            Candidate(
                user_id=user,
                email=email,
                display_name=name,
                is_active=active,
                away_reminders=away,
                live_lessons=live_count,
                completed_lessons=done,
                last_activity=max(activity, default=as_utc(created)),
                last_reminded_at=reminded,
                review_reminders=review,
                reviews_due=due_count,
            )
        )
    return candidates


def _any_reminder_on():
    """SQL: the person turned on at least one kind of reminder."""
    return or_(ReminderSettings.away_reminders.is_(True), ReminderSettings.review_reminders.is_(True))


def reminder_candidates(session: Session, *, now: datetime) -> list[Candidate]:
    """Everyone who may be due a reminder at ``now``, with the facts the rule needs (2 queries)."""
    return _candidate_rows(session, now=now)


def _claim(session: Session, user_ids: list[int], now: datetime) -> list[int]:
    """Record ``now`` as the last reminder of those not reminded in the last week; return their ids.

    One UPDATE for the whole batch. Its condition is checked again on each row as it is
    written, so when two runs overlap, a row the first one claimed is skipped by the second
    (on PostgreSQL it waits for the first to commit; SQLite lets one writer in at a time).
    """
    if not user_ids:
        return []
    statement = (
        update(ReminderSettings)
        .where(
            ReminderSettings.user_id.in_(user_ids),
            _any_reminder_on(),
            or_(ReminderSettings.last_reminded_at.is_(None), ReminderSettings.last_reminded_at <= now - AT_MOST_EVERY),
        )
        .values(last_reminded_at=now)
        .returning(ReminderSettings.user_id)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.scalars(statement))


def reminders_due(session: Session, *, now: datetime) -> list[int]:
    """The ids of everyone the rule would remind at ``now``, changing nothing (a dry run)."""
    return _due(reminder_candidates(session, now=now), now)


def _due(candidates: Iterable[Candidate], now: datetime) -> list[int]:
    """The ids of the candidates the rule reminds at ``now``."""
    return sorted(c.user_id for c in candidates if reason_not_to_remind(c, now) is None)


def reminders_send(session: Session, *, now: datetime, enqueue: Callable[[int], object]) -> list[int]:
    """Queue a reminder for everyone due one at ``now`` and record it; return their ids.

    The reminders are recorded and committed first, then queued (``enqueue(user_id)`` queues
    one person's e-mail), because a job reads only what is committed. If queueing fails (the
    broker is down), the people not queued get their previous ``last_reminded_at`` back, so the
    next run tries them again, and the error is raised. The order keeps the promise that
    matters most: a failure can delay a reminder, never send two in a week.
    """
    candidates = {c.user_id: c for c in reminder_candidates(session, now=now)}
    due = _due(candidates.values(), now)
    try:
        claimed = _claim(session, due, now)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    for position, user_id in enumerate(claimed):
        try:
            enqueue(user_id)
        except BaseException:
            _unclaim(session, {i: candidates[i].last_reminded_at for i in claimed[position:]}, now)
            raise
    return claimed


def _unclaim(session: Session, previous: dict[int, datetime | None], claimed_at: datetime) -> None:
    """Give people whose reminder could not be queued their previous ``last_reminded_at`` back, and commit.

    Only on failure, so one UPDATE per person is fine; a row another run has claimed since
    (a different ``last_reminded_at``) is left alone.
    """
    session.rollback()
    for user_id, when in previous.items():
        session.execute(
            update(ReminderSettings)
            .where(ReminderSettings.user_id == user_id, ReminderSettings.last_reminded_at == claimed_at)
            .values(last_reminded_at=when)
            .execution_options(synchronize_session=False)
        )
    session.commit()


def reminder_settings_of(session: Session, *, user_id: int) -> ReminderSettings:
    """The person's reminder settings; the defaults (everything off) if they never chose any."""
    settings = session.get(ReminderSettings, user_id)
    if settings is not None:
        return settings
    return ReminderSettings(user_id=user_id, away_reminders=False, review_reminders=False)


def reminder_settings_save(
    session: Session, *, user_id: int, away_reminders: bool, review_reminders: bool = False
) -> None:
    """Store the person's choices and commit (two saves at once do not collide: it is an upsert)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    chosen = {"away_reminders": away_reminders, "review_reminders": review_reminders, "updated_at": now}
    statement = (
        insert(ReminderSettings)
        .values(user_id=user_id, **chosen)
        .on_conflict_do_update(index_elements=["user_id"], set_=chosen)
    )
    session.execute(statement)
    session.commit()


def reminders_turn_off(session: Session, *, user_id: int) -> None:
    """Turn every reminder off for this person and commit (nothing to do if none was on)."""
    session.execute(
        update(ReminderSettings)
        .where(ReminderSettings.user_id == user_id, _any_reminder_on())
        .values(away_reminders=False, review_reminders=False, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()


def unsubscribe_token(user_id: int, *, secret_key: str) -> str:
    """The token of the unsubscribe link: it names the person and can only turn reminders off.

    Sealed (app/services/sealing.py), not merely signed: the link passes through mail servers'
    logs, proxies and browser history, and a signed token's account id is readable there.
    """
    return seal(json.dumps({"user": user_id}), secret_key=secret_key, purpose=UNSUBSCRIBE_SALT)


def unsubscribe_account(
    session: Session, token: str, *, secret_key: str, max_age: timedelta = UNSUBSCRIBE_LINK_LIFETIME
) -> int | None:
    """The account an unsubscribe link was made for, if it still exists; else None (also when
    the token is forged, mangled or expired).

    A link names the account by id, and on SQLite a deleted account's id can be given to the
    next one: a link made before the account it names was created was made for another,
    deleted account, so it is refused. (The token's time is whole seconds: compared as such.)
    """
    claim = _unsubscribe_claim(token, secret_key=secret_key, max_age=max_age)
    if claim is None:
        return None
    user_id, signed_at = claim
    created_at = session.scalar(select(User.created_at).where(User.id == user_id))
    if created_at is None or as_utc(created_at).replace(microsecond=0) > signed_at:
        return None
    return user_id


def _unsubscribe_claim(token: str, *, secret_key: str, max_age: timedelta) -> tuple[int, datetime] | None:
    """The id an unsubscribe token names and when it was made, or None if it is not a good one."""
    opened = unseal_with_time(token, secret_key=secret_key, purpose=UNSUBSCRIBE_SALT, max_age=_seconds(max_age))
    if opened is not None:
        text, made_at = opened
        try:
            data = json.loads(text)
        except ValueError:
            return None
    else:
        signed = _signed_unsubscribe_claim(token, secret_key=secret_key, max_age=max_age)
        if signed is None:
            return None
        data, made_at = signed
    if not isinstance(data, dict) or type(data.get("user")) is not int:
        return None
    return data["user"], made_at


def _signed_unsubscribe_claim(token: str, *, secret_key: str, max_age: timedelta) -> tuple[object, datetime] | None:
    """What a signed (not sealed) token says, and when it was signed; None if it is not a good one.

    Reminders mailed before 2026-12-07 carry signed links, which must go on working for their
    year in people's inboxes (a mail client's one-click unsubscribe included). Remove this after
    UNSUBSCRIBE_LINK_LIFETIME from then (2027-12-08): every such link has expired by then.
    """
    try:
        return URLSafeTimedSerializer(secret_key, salt=UNSUBSCRIBE_SALT).loads(
            token, max_age=_seconds(max_age), return_timestamp=True
        )
    except BadData:  # a bad signature, an expired one, or a payload that is not ours
        return None


def _seconds(age: timedelta) -> int:
    return int(age.total_seconds())


def _wrapped(text: str) -> str:
    """A paragraph of an e-mail, wrapped at 78 characters (RFC 5322's advice), words kept whole."""
    return textwrap.fill(text, width=78, break_long_words=False, break_on_hyphens=False)


def reminder_message(
    *,
    to: str,
    display_name: str,
    lessons_left: int,
    continue_url: str,
    settings_url: str,
    unsubscribe_url: str,
    reviews_due: int = 0,
) -> ReminderMessage:
    """The reminder e-mail: kind, short, discreet, with a one-click unsubscribe (RFC 8058).

    It says what applies: lessons left after a week away (``lessons_left`` > 0), questions to
    review (``reviews_due`` > 0), or both. The links are absolute (built from PUBLIC_URL by the
    caller); the continue link goes to the person's own page rather than to the course, whose
    address names its subject.
    """
    reasons = []
    if lessons_left:
        lessons = "1 lesson" if lessons_left == 1 else f"{lessons_left} lessons"
        reasons.append(
            f"You asked us for a reminder when you had been away for a week. You have {lessons} left,"
            " and you can pick up where you left off whenever suits you"
        )
    if reviews_due:
        questions = "1 question" if reviews_due == 1 else f"{reviews_due} questions"
        reasons.append(
            f"You asked us for a reminder when you had questions to review. You have {questions} ready to"
            " look at again; going over them as they start to fade is what makes them stick"
        )
    # Each paragraph wrapped as the other e-mails' templates are; every link on a line of its own.
    body = "\n\n".join(
        [
            _wrapped(f"Hello {display_name},"),
            *(_wrapped(reason + ".") for reason in reasons[:-1]),
            _wrapped(reasons[-1] + ":"),
            continue_url,
            _wrapped(
                "You get this e-mail because you turned reminders on, and you get at most one a week."
                " To stop them, open this link (no need to log in):"
            )
            + f"\n{unsubscribe_url}",
            f"You can also change your reminders here:\n{settings_url}\n",
        ]
    )
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return ReminderMessage(to=to, subject=SUBJECT, body=body, headers=headers)


def reminder_email(
    session: Session, *, user_id: int, secret_key: str, external_url: Callable[..., str]
) -> ReminderMessage | None:
    """The reminder to send this person now, or None if they should no longer get one.

    Read again when the queued e-mail goes out, so an unsubscribe, a deactivation or a finished
    course in the meantime stops it. ``external_url(endpoint, **values)`` makes absolute links
    (``app.urls.external_url``: jobs have no request to take a host from).
    """
    candidate = next(iter(_candidate_rows(session, user_id=user_id)), None)
    # reason_not_to_send refuses an account without an address too; the type checker needs it said.
    if candidate is None or candidate.email is None or reason_not_to_send(candidate) is not None:
        return None
    token = unsubscribe_token(user_id, secret_key=secret_key)
    now = utcnow()
    return reminder_message(
        to=candidate.email,
        display_name=candidate.display_name,
        # What is true now; the run that queued it checked that the e-mail was due.
        lessons_left=candidate.live_lessons - candidate.completed_lessons
        if _lessons_left(candidate) and (_away(candidate, now) or not _reviews_due(candidate))
        else 0,
        reviews_due=candidate.reviews_due if _reviews_due(candidate) else 0,
        continue_url=external_url("me.home"),
        settings_url=external_url("me.reminders"),
        unsubscribe_url=external_url("me.reminders_unsubscribe", token=token),
    )
