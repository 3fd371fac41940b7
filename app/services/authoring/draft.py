"""The draft itself: its shape, loading and saving it, finding things in it, its errors.

The draft is course data in the file format, with row ids (see course_export.course_to_data),
stored as JSON in CourseDraft.data. Its shape is written out below as TypedDicts, key for key
as course_to_data writes it; a key the files leave out when empty is NotRequired.

Saving checks the edited data with the same rules as the course files (course_files.parse_course_data)
and stores it only if the edit brought in no new problem. One allowance: a module may be empty
while its lessons are being arranged (a new module has none yet); publishing refuses until the
module has a lesson or is deleted.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any, NotRequired, TypedDict, cast

from sqlalchemy import CursorResult, delete, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.models import Course, CourseDraft
from app.models.types import utcnow
from app.services.course_export import course_to_data
from app.services.course_files import ReviewSpec, parse_course_data
from app.services.course_media import media_names
from app.services.errors import CourseInvalid, DomainError, Problem
from app.services.markdown import ImageSource, render_markdown

_MODULE_LESSONS = re.compile(r"^modules\[(\d+)\]\.lessons$")


# --- the shape of the draft --------------------------------------------------------------------


class ChoiceData(TypedDict):
    """One choice of a question (keys in the files' order)."""

    text: str
    correct: NotRequired[bool]
    safety_critical: NotRequired[bool]
    feedback: str
    misconception: NotRequired[str]
    id: NotRequired[int]


class QuestionData(TypedDict):
    """One question of a lesson's quiz; ``id`` links it to its published row."""

    kind: str
    shuffle: NotRequired[bool]
    prompt: str
    explanation: str
    choices: list[ChoiceData]
    id: NotRequired[int]


class SourceData(TypedDict):
    """One of a lesson's sources."""

    title: str
    url: NotRequired[str]


class LessonFront(TypedDict):
    """A lesson file's front matter."""

    title: str
    minutes: int
    sources: NotRequired[list[SourceData]]
    quiz: NotRequired[list[QuestionData]]


class LessonData(TypedDict):
    """A lesson file: its front matter and its Markdown body."""

    front: LessonFront
    body: str


class ModuleData(TypedDict):
    """A module and the slugs of its lessons, in order."""

    slug: str
    title: str
    lessons: list[str]


class ReviewData(TypedDict, total=False):
    """The course's content review, dates as YYYY-MM-DD text (JSON has no dates)."""

    reviewed_by: str
    reviewed_on: str
    next_review_on: str
    # The latest day the content changed that the review does not cover (publishing sets it).
    changed_since_review_on: str


class MisconceptionData(TypedDict):
    """What a misconception's learner and counsellor are told."""

    title: NotRequired[str]
    safety_critical: NotRequired[bool]
    learner: str
    counsellor: str


class CourseData(TypedDict):
    """course.yaml."""

    slug: str
    title: str
    summary: str
    pass_mark: float
    modules: list[ModuleData]
    misconceptions: NotRequired[dict[str, MisconceptionData]]
    review: NotRequired[ReviewData]
    help: NotRequired[str]


class DraftData(TypedDict):
    """A whole course: course.yaml and the lesson files by slug."""

    course: CourseData
    lessons: dict[str, LessonData]


def published_data(session: Session, course: Course) -> DraftData:
    """The published course as draft data, with row ids."""
    return cast(DraftData, course_to_data(session, course, with_ids=True))


# --- errors ------------------------------------------------------------------------------------


class DraftError(DomainError):
    """An edit the draft cannot take, explained in a sentence for the admin."""


class NotInDraft(DraftError, LookupError):
    """No such module, lesson, question or misconception in the draft."""


class DraftInvalid(DraftError):
    """The edit would break the course rules.

    ``problems`` are located as in the course files; ``field_errors`` maps the edited item's
    own fields (as the edit function names its inputs, e.g. ``prompt`` or ``choices[2].text``,
    ``""`` for the item as a whole) to messages; ``other`` holds the rest, as sentences.
    """

    def __init__(
        self,
        problems: list[Problem],
        field_errors: dict[str, list[str]] | None = None,
        other: list[str] | None = None,
    ):
        super().__init__("The draft was not changed: please fix the problems shown.")
        self.problems = problems
        self.field_errors = field_errors or {}
        self.other: list[str] = list(other or [])

    @classmethod
    def located(cls, problems: list[Problem], *, file: str, prefix: str = "") -> DraftInvalid:
        """Sort problems into those of the item at ``file``/``prefix`` and the rest."""
        field_errors: dict[str, list[str]] = {}
        other = []
        for problem in problems:
            own = problem.file == file and (
                problem.field.startswith(prefix) or bool(prefix and problem.field == prefix.rstrip("."))
            )
            if own:
                key = problem.field[len(prefix) :] if problem.field.startswith(prefix) else ""
                field_errors.setdefault(key, []).append(_sentence(problem.message))
            else:
                other.append(str(problem))
        return cls(problems, field_errors, other)

    @classmethod
    def on_field(cls, name: str, message: str) -> DraftInvalid:
        """One problem with one input, found before the draft rules were even run."""
        return cls([Problem("", name, message)], {name: [message]})


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


# --- loading and saving ------------------------------------------------------------------------


def draft_get(session: Session, course: Course) -> CourseDraft | None:
    """Return the course's draft, or None when there are no unpublished edits."""
    return session.scalar(select(CourseDraft).where(CourseDraft.course_id == course.id))


def draft_copy(draft: CourseDraft) -> DraftData:
    """A copy of the draft row's data (written as DraftData), to change or check without touching the row."""
    return cast(DraftData, copy.deepcopy(draft.data))


def draft_data(session: Session, course: Course) -> DraftData:
    """The course data admins are editing: the draft's, or the published course's if none."""
    draft = draft_get(session, course)
    return draft_copy(draft) if draft else published_data(session, course)


def _draft_locked(session: Session, course: Course) -> CourseDraft | None:
    """The course's draft read afresh, locked for this transaction where the database can (PostgreSQL)."""
    return session.scalar(
        select(CourseDraft)
        .where(CourseDraft.course_id == course.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


# The key space of PostgreSQL's advisory locks that hold a course's draft (``draft_hold``); the course's id is the key.
_DRAFT_HOLD = 0x64726166  # "draf"


def draft_hold(session: Session, course: Course) -> None:
    """Hold the course's draft for the rest of this transaction, where the database can
    (PostgreSQL), so that what the caller checks of it now is what its edit is made to: the
    draft row locked as an edit locks it, and a lock that every other holder waits for even
    while there is no draft row to lock (two holders finding none would both start one).
    SQLite takes no such locks: there another save could still come in between check and edit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": _DRAFT_HOLD, "key": course.id})
    _draft_locked(session, course)


def draft_get_or_create(session: Session, course: Course, *, user_id: int | None = None) -> CourseDraft:
    """Return the course's draft, read afresh and locked (``_draft_locked``), starting one from the
    published course if there is none (not committed)."""
    draft = _draft_locked(session, course)
    if draft is not None:
        return draft
    draft = CourseDraft(course_id=course.id, data=published_data(session, course), updated_by_id=user_id)
    session.add(draft)
    try:
        session.flush()
    except IntegrityError:
        # Another admin started the draft at the same moment: edit theirs.
        session.rollback()
        draft = draft_get(session, course)
        if draft is None:
            raise
    return draft


def draft_discard(session: Session, *, course: Course) -> bool:
    """Throw away every unpublished edit; return whether there was a draft."""
    gone = cast("CursorResult[Any]", session.execute(delete(CourseDraft).where(CourseDraft.course_id == course.id)))
    session.commit()
    return gone.rowcount > 0


def draft_problems(data: DraftData, images: Collection[str] | None = None) -> list[Problem]:
    """Every rule the data breaks, except an empty module (allowed while editing).

    ``images`` are the names of the course's images (``course_media.media_names``): a lesson may
    show only those.
    """
    try:
        parse_course_data(cast(dict, data), allow_ids=True, media_names=images)
    except CourseInvalid as invalid:
        empty = {
            index + 1
            for index, module in enumerate(data.get("course", {}).get("modules") or [])
            if isinstance(module, dict) and not module.get("lessons")
        }
        return [
            problem
            for problem in invalid.problems
            if not (
                problem.file == "course.yaml"
                and (match := _MODULE_LESSONS.match(problem.field))
                and int(match.group(1)) in empty
            )
        ]
    return []


SAVED_MEANWHILE = (
    "Another admin saved a change to the draft at the same moment, so yours was not saved. "
    "Your text is still in the form: send it again."
)


@contextmanager
def editing(session: Session, course: Course, user_id: int | None) -> Iterator[tuple[CourseDraft, DraftData]]:
    """One edit: yield the draft row and a copy of its data; roll back if the edit fails.

    Each edit is one transaction: ``draft_save`` commits it; any exception rolls it back (a
    draft started for this edit goes too).
    """
    # Read locked where the database can (PostgreSQL): an edit saved by another admin meanwhile is
    # built on, not overwritten. Where it cannot (SQLite), the version counter refuses the second
    # of two saves made at once.
    draft = draft_get_or_create(session, course, user_id=user_id)
    try:
        yield draft, draft_copy(draft)
    except StaleDataError:
        session.rollback()
        raise DraftInvalid([], other=[SAVED_MEANWHILE]) from None
    except Exception:
        session.rollback()
        raise


def draft_save(
    session: Session,
    course: Course,
    draft: CourseDraft,
    data: DraftData,
    *,
    user_id: int | None,
    file: str = "course.yaml",
    prefix: str = "",
) -> None:
    """Validate the edited data and store it; raise DraftInvalid if the edit added problems.

    A draft that ends up equal to the published course is dropped, so "unpublished changes"
    always means real ones. Commits.
    """
    images = media_names(session, course)
    before = set(draft_problems(cast(DraftData, draft.data), images))
    added = [problem for problem in draft_problems(data, images) if problem not in before]
    if added:
        raise DraftInvalid.located(added, file=file, prefix=prefix)
    if data == published_data(session, course):
        session.delete(draft)  # back to what learners see: nothing left to publish
    else:
        draft.data = cast(dict, data)
        draft.updated_at = utcnow()
        draft.updated_by_id = user_id
    session.commit()


# --- finding things in the draft ---------------------------------------------------------------


def draft_modules(data: DraftData) -> list[ModuleData]:
    """The draft's modules, in order (an empty list is added if there is none)."""
    return data["course"].setdefault("modules", [])


def module_index(data: DraftData, module_slug: str) -> int:
    """The index of a module in the draft, or NotInDraft."""
    for index, module in enumerate(draft_modules(data)):
        if module["slug"] == module_slug:
            return index
    raise NotInDraft(f"There is no module “{module_slug}” in the draft.")


def draft_module(data: DraftData, module_slug: str) -> ModuleData:
    """The module's data ({"slug": ..., "title": ..., "lessons": [...]}) in the draft, or NotInDraft."""
    return draft_modules(data)[module_index(data, module_slug)]


def lesson_place(data: DraftData, lesson_slug: str) -> tuple[int, int]:
    """(module index, index in that module) of a lesson in the draft, or NotInDraft."""
    for index, module in enumerate(draft_modules(data)):
        if lesson_slug in module["lessons"]:
            return index, module["lessons"].index(lesson_slug)
    raise NotInDraft(f"There is no lesson “{lesson_slug}” in the draft.")


def draft_lesson(data: DraftData, lesson_slug: str) -> LessonData:
    """The lesson's data ({"front": ..., "body": ...}) in the draft, or NotInDraft."""
    lesson_place(data, lesson_slug)
    lesson = data["lessons"].get(lesson_slug)
    if lesson is None:
        raise NotInDraft(f"There is no lesson “{lesson_slug}” in the draft.")
    return lesson


def draft_lesson_module(data: DraftData, lesson_slug: str) -> str:
    """The slug of the module the lesson sits in."""
    return draft_modules(data)[lesson_place(data, lesson_slug)[0]]["slug"]


def draft_question(data: DraftData, lesson_slug: str, position: int) -> QuestionData:
    """The question at ``position`` (from 1) of the lesson's quiz in the draft, or NotInDraft."""
    quiz = draft_lesson(data, lesson_slug)["front"].get("quiz") or []
    if not 1 <= position <= len(quiz):
        raise NotInDraft(f"The lesson has no question {position}.")
    return quiz[position - 1]


def draft_misconception(data: DraftData, code: str) -> MisconceptionData:
    """The misconception's texts, title and mark in the draft, or NotInDraft."""
    misconception = (data["course"].get("misconceptions") or {}).get(code)
    if misconception is None:
        raise NotInDraft(f"There is no misconception “{code}” in the draft.")
    return misconception


def _fingerprint(value: object) -> str:
    """A short digest of draft data (JSON, keys in order): equal data, equal digests."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def question_fingerprint(question: QuestionData) -> str:
    """A short digest of a question as the draft holds it: a form opened on it carries this, so a
    save can tell that the question at that place has changed since (moved, removed, edited)."""
    return _fingerprint(question)


def lesson_fingerprint(data: DraftData, lesson_slug: str) -> str:
    """A short digest of what a lesson's edit page changes (title, reading time, sources, text and
    module; not its questions, which have pages of their own), as ``question_fingerprint``."""
    lesson = draft_lesson(data, lesson_slug)
    front = {key: value for key, value in lesson["front"].items() if key != "quiz"}
    return _fingerprint({"front": front, "body": lesson["body"], "module": draft_lesson_module(data, lesson_slug)})


# What the course details page edits (course_update): not the modules, lessons or misconceptions.
COURSE_DETAILS = ("title", "summary", "pass_mark", "review", "help")


def course_fingerprint(data: DraftData) -> str:
    """A short digest of what the course details page changes, as ``question_fingerprint``."""
    return _fingerprint({key: data["course"].get(key) for key in COURSE_DETAILS})


def module_fingerprint(data: DraftData, module_slug: str) -> str:
    """A short digest of what a module's page changes (its title), as ``question_fingerprint``."""
    return _fingerprint(draft_modules(data)[module_index(data, module_slug)]["title"])


def misconception_fingerprint(data: DraftData, code: str) -> str:
    """A short digest of a misconception's texts, title and mark, as ``question_fingerprint``."""
    return _fingerprint((data["course"].get("misconceptions") or {}).get(code))


def draft_codes(data: DraftData) -> list[str]:
    """The misconception codes defined in the draft, in order."""
    return list(data["course"].get("misconceptions") or {})


def draft_lesson_order(data: DraftData) -> list[str]:
    """Lesson slugs in the order learners meet them."""
    return [slug for module in draft_modules(data) for slug in module["lessons"]]


def draft_review(data: DraftData) -> ReviewSpec | None:
    """The draft's review with real dates, as a lesson shows it; None if there is no complete one."""
    raw = data["course"].get("review") or {}
    changed = raw.get("changed_since_review_on")
    try:
        return ReviewSpec(
            reviewed_by=raw["reviewed_by"],
            reviewed_on=date.fromisoformat(raw["reviewed_on"]),
            next_review_on=date.fromisoformat(raw["next_review_on"]),
            changed_since_review_on=date.fromisoformat(changed) if changed else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def draft_help_html(data: DraftData, media: Mapping[str, ImageSource] | None = None) -> str:
    """The draft's "Where to get help" text as HTML, exactly as learners will get it once published.

    ``media`` is the course's images (``course_media.media_sources``); without it, an image shows
    as its alt text.
    """
    help_text = data["course"].get("help") or ""
    return render_markdown(help_text, media=media) if help_text else ""
