"""What publishing a version does to learners, said on the publish page before it happens.

The change list says what changes in the content; an admin also needs to know what learners
will notice: people who had finished finding the course unfinished again, a quiz needing a
different number of right answers, a lesson they completed no longer counting. Worked out from
the published course and the version about to be published, with two queries at most (who has
finished, and who completed the lessons going), whatever the number of learners.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Course, Lesson, LessonProgress
from app.services.authoring.draft import DraftData, draft_lesson_order
from app.services.pass_rule import questions_needed
from app.services.progress import live_lesson_ids


def _people(count: int) -> str:
    return "1 learner" if count == 1 else f"{count:,} learners"


def _lessons(count: int) -> str:
    return "1 lesson" if count == 1 else f"{count} lessons"


def _finished_everything(session: Session, course: Course) -> int:
    """How many learners have completed every live lesson of the course (1 query)."""
    live = live_lesson_ids(course.id).scalar_subquery()
    live_count = select(func.count()).select_from(live_lesson_ids(course.id).subquery()).scalar_subquery()
    finished = (
        select(LessonProgress.user_id)
        .where(LessonProgress.lesson_id.in_(live), LessonProgress.completed_at.is_not(None))
        .group_by(LessonProgress.user_id)
        .having(func.count() >= live_count)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(finished)) or 0


def _completed_by_slug(session: Session, course: Course, slugs: list[str]) -> dict[str, int]:
    """How many learners completed each of these lessons of the course, by slug (1 query)."""
    rows = session.execute(
        select(Lesson.slug, func.count(LessonProgress.id))
        .join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
        .where(Lesson.course_id == course.id, Lesson.slug.in_(slugs), LessonProgress.completed_at.is_not(None))
        .group_by(Lesson.slug)
    )
    return {slug: count for slug, count in rows}


def _title(data: DraftData, slug: str) -> str:
    return str(data["lessons"][slug]["front"].get("title") or slug)


def _quiz_length(data: DraftData, slug: str) -> int:
    return len(data["lessons"][slug]["front"].get("quiz") or [])


def learner_impact(session: Session, *, course: Course, published: DraftData, coming: DraftData) -> list[str]:
    """Sentences on what learners will notice if ``coming`` replaces ``published``; none when nothing."""
    before, after = draft_lesson_order(published), draft_lesson_order(coming)
    added = [slug for slug in after if slug not in before]
    removed = [slug for slug in before if slug not in after]
    said = []
    if added:
        finished = _finished_everything(session, course)
        if finished:
            said.append(
                f"{_people(finished)} who finished every lesson will find the course unfinished again, "
                f"with {_lessons(len(added))} more to do."
            )
        said.append(f"Progress will count {_lessons(len(after))}, not {_lessons(len(before))}.")
    if removed:
        completed = _completed_by_slug(session, course, removed)
        for slug in removed:
            if completed.get(slug):
                said.append(
                    f"“{_title(published, slug)}” goes: {_people(completed[slug])} completed it, and it will no "
                    "longer count towards their progress. Their attempts stay on their pages."
                )
    old_mark, new_mark = float(published["course"]["pass_mark"]), float(coming["course"]["pass_mark"])
    for slug in after:
        if slug not in before:
            continue
        old_count, new_count = _quiz_length(published, slug), _quiz_length(coming, slug)
        old_needed, new_needed = questions_needed(old_mark, old_count), questions_needed(new_mark, new_count)
        if (old_needed, old_count) == (new_needed, new_count) or not new_count:
            continue
        was = f"now {old_needed} of {old_count}" if old_count else "it has no quiz now"
        said.append(
            f"“{_title(coming, slug)}”: passing its quiz will need {new_needed} of {new_count} right ({was}). "
            "Learners who have completed it stay completed."
        )
    return said
