"""LTI Assignment and Grade Services: scores posted to the platforms' line items, as jobs.

Passing a lesson's quiz (or marking a lesson without one done) enqueues one job with the person's
and the lesson's ids, nothing else. The job reads what is true when it runs and posts to every
line item the person's launches named for that lesson or its course:

- a lesson's line item gets the lesson's best quiz score (1 for a lesson without a quiz);
- a course's line item gets the share of the course's lessons complete, marked Completed and
  FullyGraded once the course is complete.

A platform that is down or refuses makes the job raise, so the queue retries it (app/jobs/queue.py:
five times, backing off); scores are absolute, so a retry or a later score never double-counts.

Each line item remembers the last score its platform accepted (``LtiGradeTarget.sent_score``).
A passback lost anyway (the platform down past the retries, the queue down when the lesson was
completed) leaves the person's score and the one accepted apart, and the hourly run sends it;
``flask lti scores`` lists them, and ``--send`` sends them at once.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import current_app
from sqlalchemy import func, select, update

from app.extensions import db
from app.jobs import crontab, job, periodic_job
from app.models import LessonProgress, LtiGradeTarget, LtiIdentity, LtiPlatform, QuizAttempt
from app.models.course import Lesson
from app.models.types import utcnow
from app.services.lti import AGS_SCORE_SCOPE, ToolKey, tool_sign
from app.services.lti_keys import configured_tool_key
from app.services.progress import live_lesson_ids

logger = logging.getLogger(__name__)

SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
HTTP_TIMEOUT = 10


def lti_scores_enqueue(*, user_id: int, lesson_id: int) -> None:
    """Queue the score passback for a completed lesson; never raises (the learner's work is saved)."""
    try:
        lti_post_scores(user_id, lesson_id)
    except Exception:  # a queue that is down must not turn a saved attempt into an error page
        logger.exception("Could not queue the LTI score passback for lesson %s", lesson_id)


def scores_url(lineitem_url: str) -> str:
    """The line item's scores endpoint: ``/scores`` added to its path, its query kept."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


# Only HTTP(S): no file: or other scheme can be opened, whatever URL a registration holds; a
# status of 400 or more raises HTTPError (so the job is retried), and redirects are not followed.
_OPENER = urllib.request.OpenerDirector()
for _handler in (
    urllib.request.HTTPHandler(),
    urllib.request.HTTPSHandler(),
    urllib.request.HTTPDefaultErrorHandler(),
    urllib.request.HTTPErrorProcessor(),
):
    _OPENER.add_handler(_handler)


def _post(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - HTTP(S) only
    with _OPENER.open(request, timeout=HTTP_TIMEOUT) as response:
        return response.read()


@dataclass(frozen=True)
class TokenEndpoint:
    """What getting an access token from a platform takes, read before talking to it."""

    platform_id: int
    name: str
    client_id: str
    auth_token_url: str


@dataclass(frozen=True)
class DueScore:
    """One score to post: to which line item, for whom (their ``sub`` there), and what."""

    target_id: int
    lineitem_url: str
    endpoint: TokenEndpoint
    subject: str
    score: float
    complete: bool


def _endpoint(platform: LtiPlatform) -> TokenEndpoint:
    return TokenEndpoint(platform.id, platform.name, platform.client_id, platform.auth_token_url)


def access_token(key: ToolKey, endpoint: TokenEndpoint) -> str:
    """An access token for posting scores, from the platform's token URL (a signed client assertion)."""
    now = int(time.time())
    assertion = tool_sign(
        key,
        {
            "iss": endpoint.client_id,
            "sub": endpoint.client_id,
            "aud": endpoint.auth_token_url,
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(16),
        },
    )
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
        "scope": AGS_SCORE_SCOPE,
    }
    answer = _post(
        endpoint.auth_token_url, urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    return str(json.loads(answer)["access_token"])


def _course_share(user_id: int, course_id: int) -> tuple[float, bool]:
    live = set(db.session.scalars(live_lesson_ids(course_id)))
    done = set(
        db.session.scalars(
            select(LessonProgress.lesson_id).where(
                LessonProgress.user_id == user_id, LessonProgress.completed_at.is_not(None)
            )
        )
    )
    return _share(live, done)


def _share(live: set[int], done: set[int]) -> tuple[float, bool]:
    """The share of the live lessons done, and whether that is all of them."""
    if not live:
        return 0.0, False
    complete = len(live & done)
    return round(complete / len(live), 4), complete == len(live)


def _lesson_score(user_id: int, lesson_id: int) -> float:
    best = db.session.scalar(
        select(func.max(QuizAttempt.score)).where(
            QuizAttempt.user_id == user_id, QuizAttempt.lesson_id == lesson_id, QuizAttempt.passed.is_(True)
        )
    )
    return _best_or_done(best)


def _best_or_done(best: float | None) -> float:
    return round(float(best), 4) if best is not None else 1.0  # 1: a lesson without a quiz, marked done


def score_payloads(user_id: int, lesson_id: int) -> list[DueScore]:
    """Each line item to post to for this person and the lesson they just completed, with the score."""
    course_id = db.session.scalar(select(Lesson.course_id).where(Lesson.id == lesson_id))
    rows = db.session.execute(
        select(LtiGradeTarget, LtiPlatform, LtiIdentity.subject)
        .join(LtiIdentity, LtiIdentity.id == LtiGradeTarget.identity_id)
        .join(LtiPlatform, LtiPlatform.id == LtiIdentity.platform_id)
        .where(
            LtiIdentity.user_id == user_id,
            LtiGradeTarget.course_id == course_id,
            (LtiGradeTarget.lesson_id == lesson_id) | LtiGradeTarget.lesson_id.is_(None),
        )
        .order_by(LtiGradeTarget.id)
    ).all()
    due = []
    for target, platform, subject in rows:
        if target.lesson_id is None:
            share, complete = _course_share(user_id, target.course_id)
        else:
            share, complete = _lesson_score(user_id, lesson_id), True
        due.append(DueScore(target.id, target.lineitem_url, _endpoint(platform), subject, share, complete))
    return due


def scores_not_accepted() -> list[DueScore]:
    """Every line item whose platform lacks the person's score now: none accepted yet though there
    is one to send, or an older one. Scores are only ever sent for work done (a completed lesson,
    a course with a lesson complete), as the passback after each completion sends them.

    A fixed number of queries, whatever the number of people: the targets, the completions and
    best passing scores of everyone with an LMS link, and each course's live lessons.
    """
    linked = select(LtiIdentity.user_id)
    targets = db.session.execute(
        select(LtiGradeTarget, LtiPlatform, LtiIdentity.subject, LtiIdentity.user_id)
        .join(LtiIdentity, LtiIdentity.id == LtiGradeTarget.identity_id)
        .join(LtiPlatform, LtiPlatform.id == LtiIdentity.platform_id)
        .order_by(LtiGradeTarget.id)
    ).all()
    if not targets:
        return []
    done: dict[int, set[int]] = {}
    for user_id, lesson_id in db.session.execute(
        select(LessonProgress.user_id, LessonProgress.lesson_id).where(
            LessonProgress.completed_at.is_not(None), LessonProgress.user_id.in_(linked)
        )
    ):
        done.setdefault(user_id, set()).add(lesson_id)
    best = {
        (user_id, lesson_id): score
        for user_id, lesson_id, score in db.session.execute(
            select(QuizAttempt.user_id, QuizAttempt.lesson_id, func.max(QuizAttempt.score))
            .where(QuizAttempt.passed.is_(True), QuizAttempt.user_id.in_(linked))
            .group_by(QuizAttempt.user_id, QuizAttempt.lesson_id)
        )
    }
    courses = {target.course_id for target, *_ in targets if target.lesson_id is None}
    live = {course_id: set(db.session.scalars(live_lesson_ids(course_id))) for course_id in sorted(courses)}
    due = []
    for target, platform, subject, user_id in targets:
        finished = done.get(user_id, set())
        if target.lesson_id is None:
            score, complete = _share(live[target.course_id], finished)
            if not live[target.course_id] & finished:
                continue  # nothing done yet: nothing was ever due
        elif target.lesson_id in finished:
            score, complete = _best_or_done(best.get((user_id, target.lesson_id))), True
        else:
            continue
        if target.sent_score is None or abs(target.sent_score - score) > 1e-9:
            due.append(DueScore(target.id, target.lineitem_url, _endpoint(platform), subject, score, complete))
    return due


def _score_body(due: DueScore, timestamp: str) -> dict[str, Any]:
    progress = ("Completed", "FullyGraded") if due.complete else ("InProgress", "Pending")
    return {
        "userId": due.subject,
        "scoreGiven": due.score,
        "scoreMaximum": 1,
        "activityProgress": progress[0],
        "gradingProgress": progress[1],
        "timestamp": timestamp,
    }


def _record_accepted(accepted: list[DueScore]) -> None:
    """Remember the scores the platforms took, so the hourly run does not send them again."""
    if not accepted:
        return
    now = utcnow()
    for due in accepted:
        db.session.execute(
            update(LtiGradeTarget).where(LtiGradeTarget.id == due.target_id).values(sent_score=due.score, sent_at=now)
        )
    db.session.commit()


def _token_or_note(key: ToolKey, endpoint: TokenEndpoint, unreachable: set[int]) -> str:
    try:
        return access_token(key, endpoint)
    except Exception:
        unreachable.add(endpoint.platform_id)
        raise


def post_scores(key: ToolKey, scores: list[DueScore], *, stop_at_first_error: bool) -> tuple[int, list[str]]:
    """Post each score to its line item, one access token per platform, and record those accepted.

    With ``stop_at_first_error`` the first failure is raised (after recording what went before),
    so a job is retried; otherwise each failure is reported by platform and line item, and the
    rest are still sent. Returns how many were accepted and the failures' descriptions.
    """
    timestamp = utcnow().isoformat().replace("+00:00", "Z")
    tokens: dict[int, str] = {}
    unreachable: set[int] = set()  # no token from it: its other scores are not tried this time
    accepted: list[DueScore] = []
    failures: list[str] = []
    try:
        for due in scores:
            endpoint = due.endpoint
            if endpoint.platform_id in unreachable:
                continue
            try:
                if endpoint.platform_id not in tokens:
                    tokens[endpoint.platform_id] = _token_or_note(key, endpoint, unreachable)
                _post(
                    scores_url(due.lineitem_url),
                    json.dumps(_score_body(due, timestamp)).encode(),
                    {"Content-Type": SCORE_MEDIA_TYPE, "Authorization": f"Bearer {tokens[endpoint.platform_id]}"},
                )
            except (OSError, ValueError, KeyError) as error:  # URLError and HTTPError are OSErrors
                if stop_at_first_error:
                    raise
                where = "its token endpoint" if endpoint.platform_id in unreachable else due.lineitem_url
                failures.append(f"{endpoint.name}: {where}: {type(error).__name__}: {error}")
            else:
                accepted.append(due)
    finally:
        _record_accepted(accepted)
    return len(accepted), failures


@job()
def lti_post_scores(user_id: int, lesson_id: int) -> int:
    """Post this person's scores for the lesson and its course to their platforms' line items."""
    payloads = score_payloads(user_id, lesson_id)
    db.session.rollback()  # only read; end the transaction before talking to other servers
    if not payloads:
        return 0
    key = configured_tool_key(current_app.config)
    if key is None:
        logger.warning("LTI scores not sent: no LTI_PRIVATE_KEY is configured.")
        return 0
    accepted, _ = post_scores(key, payloads, stop_at_first_error=True)
    return accepted


def resend_scores_not_accepted() -> tuple[int, list[str]]:
    """Send every score a platform still lacks (``scores_not_accepted``); how many it took, and what failed."""
    scores = scores_not_accepted()
    db.session.rollback()
    if not scores:
        return 0, []
    key = configured_tool_key(current_app.config)
    if key is None:
        return 0, [f"{len(scores)} score(s) not sent: no LTI_PRIVATE_KEY is configured."]
    return post_scores(key, scores, stop_at_first_error=False)


@periodic_job(crontab(minute="25"))
def lti_resend_lost_scores() -> int:
    """Hourly: send the scores whose passback was lost (the platform down past the job's retries,
    or the queue down when the lesson was completed)."""
    accepted, failures = resend_scores_not_accepted()
    if failures:
        logger.warning("LTI scores still not accepted: %s", "; ".join(failures[:20]))
    return accepted
