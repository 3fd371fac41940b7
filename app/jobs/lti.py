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
from datetime import datetime
from http.client import HTTPException
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import current_app
from sqlalchemy import func, literal, select, update

from app.extensions import db
from app.jobs import crontab, job, periodic_job
from app.models import LessonProgress, LtiGradeTarget, LtiIdentity, LtiPlatform, QuizAttempt
from app.models.course import Lesson
from app.models.types import utcnow
from app.services.lti.claims import AGS_SCORE_SCOPE
from app.services.lti.keys import ToolKey, configured_tool_key, tool_sign
from app.services.lti.platforms import address_accepted
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


def _share(live: set[int], done: set[int]) -> tuple[float, bool]:
    """The share of the live lessons done, and whether that is all of them."""
    if not live:
        return 0.0, False
    complete = len(live & done)
    return round(complete / len(live), 4), complete == len(live)


def _best_or_done(best: float | None) -> float:
    return round(float(best), 4) if best is not None else 1.0  # 1: a lesson without a quiz, marked done


@dataclass(frozen=True)
class _Owed:
    """A line item's score now, beside what its platform last accepted (``sent_score``, ``sent_at``)."""

    due: DueScore
    sent_score: float | None
    sent_at: datetime | None

    @property
    def accepted(self) -> bool:
        """Whether the platform has this score already. A line item sent to before scores were
        remembered (``sent_at`` set by the migration, no score) counts as having it, until its
        next passback: sending every old score again would undo grades an instructor changed."""
        if self.sent_score is None:
            return self.sent_at is not None
        return abs(self.sent_score - self.due.score) <= 1e-9


def _scores(*, user_id: int | None = None, lesson_id: int | None = None) -> list[_Owed]:
    """Each line item's score now, for one person (``user_id``) and the lesson they completed
    (``lesson_id``: that lesson's line items and its course's), or for everyone with an LMS link.

    One rule for the passback and the hourly run: a lesson's line item is owed the best passing
    score once the lesson is complete (1 for a lesson without a quiz); a course's, the share of its
    live lessons complete once one is. A fixed number of queries whatever the number of people:
    the line items, the completions, the best passing scores, and each course's live lessons.
    """
    people = select(LtiIdentity.user_id) if user_id is None else select(literal(user_id))
    targets = (
        select(LtiGradeTarget, LtiPlatform, LtiIdentity.subject, LtiIdentity.user_id)
        .join(LtiIdentity, LtiIdentity.id == LtiGradeTarget.identity_id)
        .join(LtiPlatform, LtiPlatform.id == LtiIdentity.platform_id)
        .order_by(LtiGradeTarget.id)
    )
    if user_id is not None:
        targets = targets.where(LtiIdentity.user_id == user_id)
    if lesson_id is not None:
        course_id = select(Lesson.course_id).where(Lesson.id == lesson_id).scalar_subquery()
        targets = targets.where(
            LtiGradeTarget.course_id == course_id,
            (LtiGradeTarget.lesson_id == lesson_id) | LtiGradeTarget.lesson_id.is_(None),
        )
    rows = db.session.execute(targets).all()
    if not rows:
        return []
    done: dict[int, set[int]] = {}
    for person, completed in db.session.execute(
        select(LessonProgress.user_id, LessonProgress.lesson_id).where(
            LessonProgress.completed_at.is_not(None), LessonProgress.user_id.in_(people)
        )
    ):
        done.setdefault(person, set()).add(completed)
    best = {
        (person, lesson): score
        for person, lesson, score in db.session.execute(
            select(QuizAttempt.user_id, QuizAttempt.lesson_id, func.max(QuizAttempt.score))
            .where(QuizAttempt.passed.is_(True), QuizAttempt.user_id.in_(people))
            .group_by(QuizAttempt.user_id, QuizAttempt.lesson_id)
        )
    }
    courses = sorted({target.course_id for target, *_ in rows if target.lesson_id is None})
    live = {course_id: set(db.session.scalars(live_lesson_ids(course_id))) for course_id in courses}
    owed = []
    for target, platform, subject, person in rows:
        finished = done.get(person, set())
        if target.lesson_id is None:
            if not live[target.course_id] & finished:
                continue  # nothing done yet: nothing is owed
            score, complete = _share(live[target.course_id], finished)
        elif target.lesson_id in finished:
            score, complete = _best_or_done(best.get((person, target.lesson_id))), True
        else:
            continue
        due = DueScore(target.id, target.lineitem_url, _endpoint(platform), subject, score, complete)
        owed.append(_Owed(due, target.sent_score, target.sent_at))
    return owed


def score_payloads(user_id: int, lesson_id: int) -> list[DueScore]:
    """Each line item to post to for this person and the lesson they just completed, with the score."""
    return [owed.due for owed in _scores(user_id=user_id, lesson_id=lesson_id)]


def scores_not_accepted() -> list[DueScore]:
    """Every line item whose platform lacks the person's score now: none accepted yet though there
    is one to send, or an older one (``_scores``'s rule, in its fixed number of queries)."""
    return [owed.due for owed in _scores() if not owed.accepted]


def _mark_owed(scores: list[DueScore]) -> None:
    """Forget that line items sent to before scores were remembered have their score, now that a
    new one is on its way: if it is lost, the hourly run sends it."""
    ids = [due.target_id for due in scores]
    db.session.execute(
        update(LtiGradeTarget)
        .where(LtiGradeTarget.id.in_(ids), LtiGradeTarget.sent_score.is_(None))
        .values(sent_at=None)
    )
    db.session.commit()


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


def _insecure_address(due: DueScore, *, loopback_http: bool) -> str | None:
    """The address a score would go to in the clear (its platform's token endpoint or its line
    item), if any. A bearer token and a learner's grade in a health course go only over https
    (plain http only to loopback where LTI_LOOPBACK_HTTP allows it): platforms registered before
    registration required https, and line items a launch named, are checked here."""
    for address in (due.endpoint.auth_token_url, due.lineitem_url):
        if not address_accepted(address, loopback_http=loopback_http):
            return address
    return None


def post_scores(key: ToolKey, scores: list[DueScore], *, stop_at_first_error: bool) -> tuple[int, list[str]]:
    """Post each score to its line item, one access token per platform, and record those accepted.

    With ``stop_at_first_error`` the first failure is raised (after recording what went before),
    so a job is retried; otherwise each failure is reported by platform and line item, and the
    rest are still sent. A score whose addresses are not https (``_insecure_address``) is never
    sent, and reported as a failure without raising. Returns how many were accepted and the
    failures' descriptions.
    """
    timestamp = utcnow().isoformat().replace("+00:00", "Z")
    tokens: dict[int, str] = {}
    unreachable: set[int] = set()  # no token from it: its other scores are not tried this time
    accepted: list[DueScore] = []
    failures: list[str] = []
    loopback_http = bool(current_app.config.get("LTI_LOOPBACK_HTTP"))
    try:
        for due in scores:
            endpoint = due.endpoint
            if endpoint.platform_id in unreachable:
                continue
            insecure = _insecure_address(due, loopback_http=loopback_http)
            if insecure:
                # Not an error a retry mends: reported, never raised, and the score stays owed
                # until the platform's addresses are changed to https:// ones (/author/lti/<id>/edit).
                failures.append(f"{endpoint.name}: {insecure}: not https://, so no score was sent there")
                logger.warning("LTI score not sent to %s: %s is not https://", endpoint.name, insecure)
                continue
            try:
                if endpoint.platform_id not in tokens:
                    tokens[endpoint.platform_id] = _token_or_note(key, endpoint, unreachable)
                _post(
                    scores_url(due.lineitem_url),
                    json.dumps(_score_body(due, timestamp)).encode(),
                    {"Content-Type": SCORE_MEDIA_TYPE, "Authorization": f"Bearer {tokens[endpoint.platform_id]}"},
                )
            except (OSError, HTTPException, ValueError, KeyError) as error:  # URLError, HTTPError: OSErrors
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
    if not payloads:
        db.session.rollback()
        return 0
    _mark_owed(payloads)  # commits: the transaction ends before talking to other servers
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
