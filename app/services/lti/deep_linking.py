"""LTI Deep Linking: what an instructor's picker offers (each course, and each lesson), and the
signed answer that places the chosen ones in the LMS.

Apart from the launch because the picker is a page of its own, after the deep-linking launch.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.models import Course, Lesson, LtiPlatform, Module, Question
from app.services.lti.claims import CLAIM, DEEP_LINKING_CLAIM
from app.services.lti.keys import ToolKey, tool_sign


@dataclass(frozen=True)
class DeepLinkOption:
    """One course or lesson on the picker, with the value its checkbox sends."""

    value: str
    label: str
    title: str
    course_slug: str
    lesson_slug: str | None
    graded: bool


def deep_link_options(session: Session) -> list[DeepLinkOption]:
    """Every course (graded by the share of lessons complete) and its live lessons in course order; one query."""
    quiz_exists = exists().where(Question.lesson_id == Lesson.id, Question.retired_at.is_(None))
    rows = session.execute(
        select(Course.slug, Course.title, Lesson.slug, Lesson.title, quiz_exists)
        .join(Module, Module.course_id == Course.id)
        .join(Lesson, Lesson.module_id == Module.id)
        .where(Lesson.retired_at.is_(None))
        .order_by(Course.title, Course.id, Module.position, Lesson.position)
    ).all()
    options: list[DeepLinkOption] = []
    seen: set[str] = set()
    for course_slug, course_title, lesson_slug, lesson_title, has_quiz in rows:
        if course_slug not in seen:
            seen.add(course_slug)
            options.append(
                DeepLinkOption(
                    course_slug, f"The whole course: {course_title}", course_title, course_slug, None, graded=True
                )
            )
        options.append(
            DeepLinkOption(
                f"{course_slug}/{lesson_slug}",
                f"Lesson: {lesson_title}" + (" (with its quiz, graded)" if has_quiz else ""),
                lesson_title,
                course_slug,
                lesson_slug,
                graded=bool(has_quiz),
            )
        )
    return options


@dataclass
class DeepLinkChoice:
    """A course or lesson an instructor picked, as a resource link to place in the LMS."""

    title: str
    course_slug: str
    lesson_slug: str | None
    # Ask the platform for a gradebook column (lessons with a quiz, and courses).
    graded: bool


def deep_link_response(
    key: ToolKey,
    *,
    platform: LtiPlatform,
    deployment_id: str,
    data: str,
    launch_url: str,
    choices: list[DeepLinkChoice],
    lineitems: bool = True,
) -> str:
    """The signed LtiDeepLinkingResponse JWT to post back to the platform's return URL.

    ``lineitems``: whether to ask for a gradebook column for the graded choices (False when the
    platform's request said it does not take them: ``accept_lineitem``).
    """
    items = []
    for choice in choices:
        custom = {"course": choice.course_slug}
        if choice.lesson_slug:
            custom["lesson"] = choice.lesson_slug
        item: dict[str, Any] = {"type": "ltiResourceLink", "title": choice.title, "url": launch_url, "custom": custom}
        if choice.graded and lineitems:
            item["lineItem"] = {"scoreMaximum": 1, "label": choice.title}
        items.append(item)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "iat": now,
        "exp": now + 600,
        "nonce": secrets.token_urlsafe(16),
        CLAIM + "message_type": "LtiDeepLinkingResponse",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": deployment_id,
        DEEP_LINKING_CLAIM + "content_items": items,
    }
    if data:
        claims[DEEP_LINKING_CLAIM + "data"] = data
    return tool_sign(key, claims)
