"""LTI Assignment and Grade Services: scores posted to the platforms' line items, as jobs.

Passing a lesson's quiz (or marking a lesson without one done) enqueues one job with the person's
and the lesson's ids, nothing else. The job reads what is true when it runs and posts to every
line item the person's launches named for that lesson or its course:

- a lesson's line item gets the lesson's best quiz score (1 for a lesson without a quiz);
- a course's line item gets the share of the course's lessons complete, marked Completed and
  FullyGraded once the course is complete.

A platform that is down or refuses makes the job raise, so the queue retries it (app/jobs/queue.py:
five times, backing off); scores are absolute, so a retry or a later score never double-counts.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.jobs import job
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


def access_token(key: ToolKey, platform: LtiPlatform) -> str:
    """An access token for posting scores, from the platform's token URL (a signed client assertion)."""
    now = int(time.time())
    assertion = tool_sign(
        key,
        {
            "iss": platform.client_id,
            "sub": platform.client_id,
            "aud": platform.auth_token_url,
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
        platform.auth_token_url, urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
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
    if not live:
        return 0.0, False
    complete = len(live & done)
    return complete / len(live), complete == len(live)


def _lesson_score(user_id: int, lesson_id: int) -> float:
    best = db.session.scalar(
        select(func.max(QuizAttempt.score)).where(
            QuizAttempt.user_id == user_id, QuizAttempt.lesson_id == lesson_id, QuizAttempt.passed.is_(True)
        )
    )
    return float(best) if best is not None else 1.0  # a lesson without a quiz, marked done


def score_payloads(user_id: int, lesson_id: int) -> list[tuple[LtiGradeTarget, LtiPlatform, str, dict[str, Any]]]:
    """Each line item to post to for this person and lesson, with its platform, their ``sub`` and the score."""
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
    now = utcnow().isoformat().replace("+00:00", "Z")
    payloads = []
    for target, platform, subject in rows:
        if target.lesson_id is None:
            share, complete = _course_share(user_id, target.course_id)
            progress = ("Completed", "FullyGraded") if complete else ("InProgress", "Pending")
        else:
            share, progress = _lesson_score(user_id, lesson_id), ("Completed", "FullyGraded")
        payloads.append(
            (
                target,
                platform,
                subject,
                {
                    "userId": subject,
                    "scoreGiven": round(share, 4),
                    "scoreMaximum": 1,
                    "activityProgress": progress[0],
                    "gradingProgress": progress[1],
                    "timestamp": now,
                },
            )
        )
    return payloads


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
    tokens: dict[int, str] = {}
    for target, platform, _subject, score in payloads:
        if platform.id not in tokens:
            tokens[platform.id] = access_token(key, platform)
        _post(
            scores_url(target.lineitem_url),
            json.dumps(score).encode(),
            {"Content-Type": SCORE_MEDIA_TYPE, "Authorization": f"Bearer {tokens[platform.id]}"},
        )
    return len(payloads)
