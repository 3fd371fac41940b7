"""Where a learner is in a course: lesson states, unlocking, opening and completing lessons.

The unlocking rule lives here and only here: a lesson is open when it is the first lesson,
when the lesson before it is complete, or when the learner has already completed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from itertools import takewhile
from typing import Generic, TypeVar

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    false,
    func,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, contains_eager

from app.models import Course, Lesson, LessonProgress, Module, QuizAttempt, ReviewCard, User
from app.models.types import UTCDateTime, utcnow
from app.services.attempt_history import (
    ATTEMPTS_SHOWN,
    AttemptSummary,
    LessonAttemptsSummary,
    attempts_by_lesson,
    summarise,
)
from app.services.course_content import CourseContent, LessonView, ModuleView, course_content
from app.services.default_course import default_course_id
from app.services.errors import DomainError, LessonLocked
from app.services.reads import Read, read_rows
from app.services.review_due import due_count_of
from app.services.xapi import xapi_course_completed, xapi_lesson_opened


class LessonState(StrEnum):
    """What a learner can do with a lesson right now."""

    LOCKED = "locked"
    AVAILABLE = "available"
    COMPLETED = "completed"


# A lesson as an outline holds it: a cached LessonView on learner pages (course_outline_by_slug),
# a Lesson row for staff services (course_outline). Each outline holds one kind or the other.
LessonT = TypeVar("LessonT", LessonView, Lesson)


@dataclass(frozen=True)
class LessonEntry(Generic[LessonT]):
    """A lesson in course order with the learner's state for it."""

    lesson: LessonT
    number: int
    state: LessonState
    opened_at: datetime | None
    completed_at: datetime | None
    # The learner's attempts at its quiz, newest first; loaded only when asked for (with_attempts).
    attempts: tuple[AttemptSummary, ...] = ()
    # How many attempts the learner has made in all, when ``attempts`` holds only the latest (a
    # lesson or quiz page's read: ATTEMPTS_SHOWN of them); None when it holds every one.
    attempt_count: int | None = None

    @property
    def attempts_in_all(self) -> int:
        """How many attempts the learner has made at this lesson's quiz (of those loaded, when all are)."""
        return len(self.attempts) if self.attempt_count is None else self.attempt_count

    @property
    def attempts_summary(self) -> LessonAttemptsSummary | None:
        """How many attempts, the best and the latest; None before the first (or when not loaded).

        Raises ValueError when only the latest attempts were loaded: their best need not be the best.
        """
        if self.attempt_count is not None:
            raise ValueError("only the latest attempts were read; the summary needs them all")
        return summarise(self.attempts)


@dataclass
class CourseOutline(Generic[LessonT]):
    """The whole course in order, as one learner sees it; loaded in a fixed number of queries."""

    course: CourseContent | Course
    modules: list[ModuleView] | list[Module]
    entries: list[LessonEntry[LessonT]]
    # How many of the learner's questions are due for review; None when not read (with_reviews_due).
    reviews_due: int | None = None

    @property
    def states(self) -> tuple[LessonState, ...]:
        """Each lesson's state, in course order (with the content, all the lesson list shows)."""
        return tuple(entry.state for entry in self.entries)

    @property
    def completed_count(self) -> int:
        return sum(entry.state is LessonState.COMPLETED for entry in self.entries)

    @property
    def percent_complete(self) -> int:
        if not self.entries:
            return 0
        return round(100 * self.completed_count / len(self.entries))

    @property
    def is_complete(self) -> bool:
        return bool(self.entries) and self.completed_count == len(self.entries)

    @property
    def has_started(self) -> bool:
        return any(entry.opened_at for entry in self.entries)

    @property
    def completed_at(self) -> datetime | None:
        if not self.is_complete:
            return None
        return max(entry.completed_at for entry in self.entries if entry.completed_at)

    def entry_for(self, lesson_slug: str) -> LessonEntry[LessonT] | None:
        """Return the entry for a lesson slug, or None if the course has no such lesson."""
        return next((e for e in self.entries if e.lesson.slug == lesson_slug), None)

    def neighbours(
        self, entry: LessonEntry[LessonT]
    ) -> tuple[LessonEntry[LessonT] | None, LessonEntry[LessonT] | None]:
        """Return the lessons before and after ``entry`` in course order."""
        index = entry.number - 1
        previous = self.entries[index - 1] if index > 0 else None
        following = self.entries[index + 1] if index + 1 < len(self.entries) else None
        return previous, following

    def entries_in(self, module: ModuleView | Module) -> list[LessonEntry[LessonT]]:
        return [entry for entry in self.entries if entry.lesson.module_id == module.id]

    def continue_entry(self) -> LessonEntry[LessonT] | None:
        """Return the first lesson not yet completed, or None when the course is done."""
        return next((e for e in self.entries if e.state is not LessonState.COMPLETED), None)


def lesson_states(lessons: Sequence[Lesson | LessonView], completed_ids: set[int]) -> list[LessonState]:
    """Apply the unlocking rule to lessons in course order."""
    states = []
    previous_complete = True
    for lesson in lessons:
        if lesson.id in completed_ids:
            states.append(LessonState.COMPLETED)
        elif previous_complete:
            states.append(LessonState.AVAILABLE)
        else:
            states.append(LessonState.LOCKED)
        previous_complete = lesson.id in completed_ids
    return states


def course_by_slug(session: Session, slug: str) -> Course | None:
    """Return the course with this slug, or None."""
    return session.scalar(select(Course).where(Course.slug == slug))


def _is_live_lesson_of(course_id: int | ColumnElement[int]) -> ColumnElement[bool]:
    return and_(Lesson.course_id == course_id, Lesson.retired_at.is_(None))


def live_lessons(course_id: int | ColumnElement[int]) -> Select:
    """Select the course's live lessons in course order, their modules joined.

    A retired lesson stays in the database for the history that points at it, but it is no
    longer part of the course: every "n of m lessons" (course page, client page, dashboard,
    CSV, analytics) counts the lessons this and live_lesson_ids select, and no others.
    """
    return (
        select(Lesson)
        .join(Lesson.module)
        .where(_is_live_lesson_of(course_id))
        .order_by(Module.position, Lesson.position)
    )


def live_lesson_ids(course_id: int | ColumnElement[int]) -> Select:
    """Select the ids of the course's live lessons (the lessons of live_lessons), for ``IN``."""
    return select(Lesson.id).where(_is_live_lesson_of(course_id))


def _outline_rows(session: Session, *, course: Course, learner: User | None) -> list[tuple]:
    """Live lessons in course order, each with its module and the learner's progress: 1 query."""
    values = {"course_id": course.id, "learner_id": None if learner is None else learner.id}
    return [(lesson, progress) for lesson, progress in session.execute(_outline_statement(learner is None), values)]


@cache
def _outline_statement(nobody: bool) -> Select:
    """``_outline_rows``' read, built once for a learner and once for nobody (bound: course_id, learner_id)."""
    progress_join: ColumnElement[bool]
    if nobody:
        progress_join = false()  # nobody's progress: every lesson row comes with None
    else:
        progress_join = and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == bindparam("learner_id"))
    return (
        live_lessons(bindparam("course_id", type_=Integer))
        .add_columns(LessonProgress)
        .outerjoin(LessonProgress, progress_join)
        .options(contains_eager(Lesson.module))
    )


Progress = dict[int, tuple[datetime | None, datetime | None]]  # lesson id -> (opened_at, completed_at)


def _outline(
    course,
    modules: list,
    lessons: list[LessonT],
    progress: Progress,
    attempts: dict[int, tuple[AttemptSummary, ...]] | None = None,
    reviews_due: int | None = None,
    attempt_counts: dict[int, int] | None = None,
) -> CourseOutline[LessonT]:
    """Apply the unlocking rule to ``lessons`` (in course order) for one learner's progress.

    ``attempt_counts``: per lesson id, how many attempts there are in all, where ``attempts``
    holds only the latest.
    """
    attempts = attempts or {}
    attempt_counts = attempt_counts or {}
    completed = {lesson_id for lesson_id, (_, completed_at) in progress.items() if completed_at}
    states = lesson_states(lessons, completed)
    entries = [
        LessonEntry(
            lesson=lesson,
            number=index,
            state=state,
            opened_at=progress.get(lesson.id, (None, None))[0],
            completed_at=progress.get(lesson.id, (None, None))[1],
            attempts=attempts.get(lesson.id, ()),
            attempt_count=attempt_counts.get(lesson.id),
        )
        for index, (lesson, state) in enumerate(zip(lessons, states, strict=True), start=1)
    ]
    return CourseOutline(course=course, modules=modules, entries=entries, reviews_due=reviews_due)


def course_outline(session: Session, *, course: Course, learner: User | None) -> CourseOutline[Lesson]:
    """Load a course's modules and lessons as database rows, with the learner's progress (1 query).

    For staff pages and jobs that need the rows themselves; learner pages use
    course_outline_by_slug, which takes the content from the per-version cache.
    """
    rows = _outline_rows(session, course=course, learner=learner)
    lessons = [lesson for lesson, _ in rows]
    progress = {lesson.id: (row.opened_at, row.completed_at) for lesson, row in rows if row is not None}
    return _outline(course, list(dict.fromkeys(lesson.module for lesson in lessons)), lessons, progress)


# The attempt columns of a progress row (none): typed, so the UNION's columns read as the attempts' do.
# Labelled, so the ORM can tell the columns apart when the read runs through the session.
_NO_ATTEMPT = (
    type_coerce(null(), Integer).label("attempt_id"),
    type_coerce(null(), UTCDateTime).label("submitted_at"),
    type_coerce(null(), Integer).label("correct_count"),
    type_coerce(null(), Integer).label("question_count"),
    type_coerce(null(), Boolean).label("passed"),
)
# The last column of every row: a count. In the row with_reviews_due adds, the questions due for
# review; in an attempt's row of a one-lesson read, how many attempts there are in all.
_NO_COUNT = type_coerce(null(), Integer).label("reviews_due")


def _reviews_due(learner: ColumnElement[int]) -> ColumnElement[int]:
    """How many of the learner's questions in the enclosing SELECT's course are due at the bound ``now``
    (review_due's rule, as review.reviews_due_count counts it)."""
    return due_count_of(learner, Course.id, bindparam("now", type_=ReviewCard.due.type)).scalar_subquery()


def outline_selects(
    *,
    first_course: bool,
    with_learner: bool,
    with_attempts: bool = False,
    one_lesson: bool = False,
    with_reviews_due: bool = False,
    learner_id: ColumnElement[int] | None = None,
    leading: Sequence[ColumnElement] = (),
) -> list[Select]:
    """The SELECTs (UNION ALL'd in this order) of the course's id and content version with the learner's rows.

    Each row: the course's id and content version, then a progress row's lesson id, opened and
    completed times (the course alone, with NULLs, when the learner has none); with attempts,
    the learner's attempts at the course's quizzes follow as rows of their own (lesson id, then
    the attempt's id, time, score and result), with ``one_lesson`` only the ATTEMPTS_SHOWN
    latest at the lesson whose slug is the bound ``lesson_slug`` parameter. Every row ends in a
    count, NULL but in the one row ``with_reviews_due`` adds (how many of the learner's
    questions in the course are due for review at the bound ``now``) and, with ``one_lesson``,
    in each attempt's row (how many attempts the learner has made at the lesson in all).
    ``learner_id`` is the learner's id (a bound ``learner_id`` parameter unless given:
    signed_in_user.py gives the login session's user), and ``leading`` columns come first in
    each SELECT (that module's typed NULLs).
    """
    course_filter = Course.id == default_course_id() if first_course else Course.slug == bindparam("slug")
    if not with_learner:
        return [
            select(*leading, Course.id, Course.content_version, null(), null(), null(), *_NO_ATTEMPT, _NO_COUNT).where(
                course_filter
            )
        ]
    learner = bindparam("learner_id") if learner_id is None else learner_id
    # Every progress row the learner has, whatever the course: a handful, filtered in Python.
    progress = (
        select(
            *leading,
            Course.id,
            Course.content_version,
            LessonProgress.lesson_id,
            LessonProgress.opened_at,
            LessonProgress.completed_at,
            *_NO_ATTEMPT,
            _NO_COUNT,
        )
        .select_from(Course)
        .outerjoin(LessonProgress, LessonProgress.user_id == learner)
        .where(course_filter)
    )
    selects = [progress]
    if with_reviews_due:
        due = select(
            *leading,
            Course.id,
            Course.content_version,
            null(),
            null(),
            null(),
            *_NO_ATTEMPT,
            _reviews_due(learner).label("reviews_due"),
        ).where(course_filter)
        selects.append(due)
    if not with_attempts:
        return selects
    if one_lesson:
        return [*selects, _latest_attempts_at_one_lesson(course_filter, learner, leading)]
    attempts = (
        select(
            *leading,
            Course.id,
            Course.content_version,
            QuizAttempt.lesson_id,
            null(),
            null(),
            QuizAttempt.id.label("attempt_id"),
            QuizAttempt.submitted_at,
            QuizAttempt.correct_count,
            QuizAttempt.question_count,
            QuizAttempt.passed,
            _NO_COUNT,
        )
        .select_from(Course)
        .join(Lesson, Lesson.course_id == Course.id)
        .join(QuizAttempt, and_(QuizAttempt.lesson_id == Lesson.id, QuizAttempt.user_id == learner))
        .where(course_filter)
    )
    return [*selects, attempts]


def _latest_attempts_at_one_lesson(
    course_filter: ColumnElement[bool], learner: ColumnElement[int], leading: Sequence[ColumnElement]
) -> Select:
    """The learner's ATTEMPTS_SHOWN latest attempts at the lesson of the bound ``lesson_slug``, as
    outline_selects' rows, each ending in how many attempts there are in all.

    A lesson or quiz page lists these, not the whole history: a learner who retakes a quiz
    hundreds of times would otherwise make every visit read and draw hundreds of rows. The
    count is taken before the LIMIT (a window over the index's entries), so the page can say
    how many more there are and link to them all.
    """
    latest = (
        select(
            Course.id.label("course_id"),
            Course.content_version,
            QuizAttempt.lesson_id,
            QuizAttempt.id,
            QuizAttempt.submitted_at,
            QuizAttempt.correct_count,
            QuizAttempt.question_count,
            QuizAttempt.passed,
            func.count().over().label("in_all"),
        )
        .select_from(Course)
        .join(Lesson, Lesson.course_id == Course.id)
        .join(QuizAttempt, and_(QuizAttempt.lesson_id == Lesson.id, QuizAttempt.user_id == learner))
        .where(course_filter, Lesson.slug == bindparam("lesson_slug"))
        .order_by(QuizAttempt.submitted_at.desc(), QuizAttempt.id.desc())
        .limit(ATTEMPTS_SHOWN)
        .subquery("latest_attempts")
    )
    return select(
        *leading,
        latest.c.course_id,
        latest.c.content_version,
        latest.c.lesson_id,
        null(),
        null(),
        latest.c.id.label("attempt_id"),
        latest.c.submitted_at,
        latest.c.correct_count,
        latest.c.question_count,
        latest.c.passed,
        type_coerce(latest.c.in_all, Integer).label("reviews_due"),
    )


def _version_and_progress_statement(
    *,
    first_course: bool,
    with_learner: bool,
    with_attempts: bool = False,
    one_lesson: bool = False,
    with_reviews_due: bool = False,
):
    """The course's id and content version, with each of the learner's progress rows (outline_selects)."""
    selects = outline_selects(
        first_course=first_course,
        with_learner=with_learner,
        with_attempts=with_attempts,
        one_lesson=one_lesson,
        with_reviews_due=with_reviews_due,
    )
    return selects[0] if len(selects) == 1 else union_all(*selects)


# Built once: learner pages run one of these on every request (app/services/reads.py).
# Keyed by (the first course rather than a slug, with a learner, with attempts).
_VERSION_AND_PROGRESS = {
    (first_course, with_learner, with_attempts): Read(
        _version_and_progress_statement(
            first_course=first_course, with_learner=with_learner, with_attempts=with_attempts
        )
    )
    for first_course in (False, True)
    for with_learner, with_attempts in ((False, False), (True, False), (True, True))
}
# A learner's, keyed by the first course rather than a slug: with the attempts at one lesson only
# (a lesson or quiz page's), and with the count of reviews due (the overview's).
_ONE_LESSONS_ATTEMPTS = {
    first_course: Read(
        _version_and_progress_statement(
            first_course=first_course, with_learner=True, with_attempts=True, one_lesson=True
        )
    )
    for first_course in (False, True)
}
_WITH_REVIEWS_DUE = {
    first_course: Read(
        _version_and_progress_statement(first_course=first_course, with_learner=True, with_reviews_due=True)
    )
    for first_course in (False, True)
}


def course_outline_by_slug(
    session: Session,
    *,
    slug: str | None,
    learner: User | None,
    with_attempts: bool = False,
    attempts_of: str | None = None,
    with_reviews_due: bool = False,
    rows: list[tuple] | None = None,
) -> CourseOutline[LessonView] | None:
    """The course (the first course when slug is None) as the learner sees it, or None.

    One query for the content version and the learner's progress (and, ``with_attempts``, the
    learner's quiz attempts in this course, each entry's newest first; with ``attempts_of``, a
    lesson's slug, only that lesson's ATTEMPTS_SHOWN latest, what a lesson or quiz page shows,
    with how many there are in its entry's ``attempt_count``: every other entry then has none;
    ``with_reviews_due``, a learner's count of questions due for review now, as
    review.reviews_due_count gives it, in ``reviews_due``, without attempts); the content itself
    comes from the per-version cache (one more query when a worker has not seen this version
    yet). ``rows``: that query's rows, already read with the signed-in user (signed_in_user.py),
    so none is run here.
    """
    with_attempts = with_attempts and learner is not None
    one_lesson = with_attempts and attempts_of is not None
    with_reviews_due = with_reviews_due and learner is not None
    if with_reviews_due and with_attempts:
        raise ValueError("the count of reviews due is read without attempts (no page shows both)")
    if rows is None:
        if one_lesson:
            statement = _ONE_LESSONS_ATTEMPTS[slug is None]
        elif with_reviews_due:
            statement = _WITH_REVIEWS_DUE[slug is None]
        else:
            statement = _VERSION_AND_PROGRESS[(slug is None, learner is not None, with_attempts)]
        params: dict[str, str | int | datetime] = {}
        if slug is not None:
            params["slug"] = slug
        if learner is not None:
            params["learner_id"] = learner.id
        if one_lesson and attempts_of is not None:
            params["lesson_slug"] = attempts_of
        if with_reviews_due:
            params["now"] = utcnow()
        rows = read_rows(session, statement, params)
    if not rows:
        return None
    course_id, version = rows[0][0], rows[0][1]
    content = course_content(session, course_id, version)
    if content is None:  # deleted between the two queries
        return None
    progress: Progress = {}
    attempts = []
    attempt_counts: dict[int, int] = {}
    reviews_due = None
    for _, _, lesson_id, opened_at, completed_at, attempt_id, *attempt, count in rows:
        if attempt_id is not None:
            attempts.append(AttemptSummary(attempt_id, lesson_id, *attempt))
            if count is not None:  # only the latest were read: this is how many there are in all
                attempt_counts[lesson_id] = count
        elif count is not None:
            reviews_due = count
        elif lesson_id:
            progress[lesson_id] = (opened_at, completed_at)
    return _outline(
        content,
        list(content.modules),
        list(content.lessons),
        progress,
        attempts_by_lesson(attempts),
        reviews_due,
        attempt_counts,
    )


def require_unlocked(outline: CourseOutline, lesson_slug: str) -> LessonEntry:
    """Return the learner's entry for a lesson; raise LessonLocked if it is not open yet.

    Raises LookupError when the course has no lesson with that slug.
    """
    entry = outline.entry_for(lesson_slug)
    if entry is None:
        raise LookupError(lesson_slug)
    if entry.state is LessonState.LOCKED:
        waiting = lessons_to_complete_first(outline, entry)
        ahead = "the lesson before it" if len(waiting) == 1 else f"the {len(waiting)} lessons before it"
        raise LessonLocked(
            f"“{entry.lesson.title}” opens when you complete {ahead}.",
            next_title=waiting[0].lesson.title,
            next_slug=waiting[0].lesson.slug,
        )
    return entry


def lessons_to_complete_first(outline: CourseOutline, entry: LessonEntry) -> list[LessonEntry]:
    """The lessons the learner must complete before ``entry`` opens, in course order (none when it is open).

    They are the lessons not completed right before it: a lesson opens when the one before it
    is complete, and that one only when the one before it is, back to a completed lesson (or
    the first lesson). So the first of them is open: the next for the learner to take, which is
    the first lesson they have not completed unless they completed a later one first (a lesson
    added to the course since, say).
    """
    if entry.state is not LessonState.LOCKED:
        return []
    before = outline.entries[: entry.number - 1]
    waiting = list(takewhile(lambda earlier: earlier.state is not LessonState.COMPLETED, reversed(before)))
    return waiting[::-1]


def _insert_ignoring_conflict(session: Session, values: dict):
    """Build an INSERT of a progress row that does nothing if the row already exists."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(LessonProgress).values(**values).on_conflict_do_nothing(index_elements=["user_id", "lesson_id"])


def lesson_note_opened(session: Session, *, learner: User, lesson: Lesson | LessonView, when: datetime) -> None:
    """Record that the learner has opened the lesson, unless already recorded; the caller commits.

    Opening a lesson's page or its quiz, or answering the quiz, opens it: a quiz can be reached
    without the lesson page (a bookmark, a link from a result).
    """
    # Two tabs can open the same lesson at once; the unique key makes the second insert a no-op.
    values = {"user_id": learner.id, "lesson_id": lesson.id, "opened_at": when}
    session.execute(_insert_ignoring_conflict(session, values))


def lesson_record_opened(session: Session, *, learner: User, entry: LessonEntry) -> None:
    """Record the first time the learner opened the lesson, or its quiz, and commit."""
    if entry.opened_at is not None:
        return
    when = utcnow()
    lesson_note_opened(session, learner=learner, lesson=entry.lesson, when=when)
    xapi_lesson_opened(session, learner_id=learner.id, lesson_id=entry.lesson.id, when=when)
    session.commit()


def lesson_record_completion(
    session: Session, *, learner: User, lesson: Lesson | LessonView, when: datetime | None = None
) -> None:
    """Mark the lesson complete for the learner (kept if already complete); the caller commits."""
    when = when or utcnow()
    lesson_note_opened(session, learner=learner, lesson=lesson, when=when)
    row = session.scalars(
        select(LessonProgress).where(LessonProgress.user_id == learner.id, LessonProgress.lesson_id == lesson.id)
    ).one()  # the insert above made sure it exists
    if row.completed_at is None:
        row.completed_at = when
        # Completing the last lesson completes the course: its certificate is issued in this
        # same transaction. Imported here because certificates reads this module's rules.
        from app.services.certificates import certificate_issue_if_complete

        session.flush()
        course_id = (
            lesson.course_id
            if isinstance(lesson, Lesson)
            else session.scalar(select(Lesson.course_id).where(Lesson.id == lesson.id))  # a cached LessonView
        )
        issued = (
            certificate_issue_if_complete(session, learner=learner, course_id=course_id, when=when)
            if course_id is not None
            else None
        )
        if issued is not None:  # the course is complete for the first time
            xapi_course_completed(session, learner_id=learner.id, lesson_id=lesson.id, when=when)


class LessonNeedsQuiz(DomainError):
    """A lesson with a quiz completes only when its quiz is passed."""


def lesson_mark_done(session: Session, *, learner: User, entry: LessonEntry) -> None:
    """Complete a lesson that has no quiz, at the learner's request, and commit."""
    if entry.state is LessonState.LOCKED:
        raise LessonLocked("This lesson is not open yet.")
    if entry.lesson.has_quiz:
        raise LessonNeedsQuiz("Pass this lesson's quiz to complete it.")
    lesson_record_completion(session, learner=learner, lesson=entry.lesson)
    session.commit()
