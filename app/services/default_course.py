"""Which course a page or command means when it names none: the first course imported.

The home page, the learner's own page, the counsellor's pages and the development commands
all fall back to it, so a site with one course needs no course in its addresses.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import ScalarSelect, Select, bindparam, func, select
from sqlalchemy.orm import Session

from app.models import Course

# The course that comes with the platform, as `make run` imports it.
DEFAULT_COURSE_FOLDER = "courses/naltrexone"
IMPORT_A_COURSE_FIRST = f"Import a course first: flask courses import {DEFAULT_COURSE_FOLDER}"


def default_course_id() -> ScalarSelect[int]:
    """The default course's id, as a subquery for statements that pick it in SQL."""
    return select(func.min(Course.id)).scalar_subquery()


def course_or_default(session: Session, slug: str | None = None) -> Course | None:
    """The course named by ``slug``, or the default course when no slug is given; None if there is none."""
    if slug:
        return session.scalar(_named_course(), {"slug": slug})
    return session.scalar(_default_course())


@cache
def _named_course() -> Select:
    """The course with the bound ``slug``, built once."""
    return select(Course).where(Course.slug == bindparam("slug"))


@cache
def _default_course() -> Select:
    """The default course, built once."""
    return select(Course).where(Course.id == default_course_id())
