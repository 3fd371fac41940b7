"""What learners see of a course, loaded once per published version and kept in memory.

Lesson and quiz pages are the busiest pages by far, and the course they show changes only
when an admin publishes or a course file is imported; both bump ``Course.content_version``.
So every learner page reads just the version (with the learner's progress, in the one query
it needs anyway) and takes the course's modules, lessons, questions and choices from here,
as small immutable objects. A worker that sees a newer version loads it again (1 query).

The cache lives on the Flask app (one per worker process), so two apps, such as tests, never
share one. Grading keeps its own per-version questions, with what this leaves out (live_questions.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from flask import current_app
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app.models import Choice, Course, Lesson, Module, Question

CACHE_KEY = "course_content"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ChoiceView:
    """A choice as a learner sees it on the quiz page: no correctness, no feedback."""

    id: int
    text: str


@dataclass(frozen=True, slots=True)
class QuestionView:
    """A live question with its live choices in order."""

    id: int
    kind: str
    prompt: str
    shuffle: bool
    live_choices: tuple[ChoiceView, ...]


@dataclass(frozen=True, slots=True)
class ModuleView:
    """A module of live lessons."""

    id: int
    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class SourceView:
    """A source the lesson's facts come from."""

    title: str
    url: str | None


@dataclass(frozen=True, slots=True)
class LessonView:
    """A live lesson with its sanitised HTML and its live quiz questions."""

    id: int
    slug: str
    title: str
    minutes: int
    body_html: str
    sources: tuple[SourceView, ...]
    module: ModuleView
    questions: tuple[QuestionView, ...]

    @property
    def module_id(self) -> int:
        return self.module.id

    @property
    def has_quiz(self) -> bool:
        return bool(self.questions)


@dataclass(frozen=True, slots=True)
class CourseContent:
    """One published version of a course: its live modules and lessons in course order."""

    id: int
    slug: str
    title: str
    summary: str
    pass_mark: float
    version: int
    modules: tuple[ModuleView, ...]
    lessons: tuple[LessonView, ...]
    reviewed_by: str | None = None
    reviewed_on: date | None = None
    next_review_on: date | None = None
    # The latest day the content changed that the review does not cover (None: it covers it all).
    changed_since_review_on: date | None = None
    help_html: str = ""

    @property
    def content_version(self) -> int:
        """The version, by the name the Course model gives it."""
        return self.version


COURSE_FIELDS = 11  # the course's own columns, first in every row of _content_rows


def _content_rows(session: Session, course_id: int):
    """Every live lesson, question and choice of the course, in order, with the course (1 query)."""
    live_lesson = and_(Lesson.course_id == Course.id, Lesson.retired_at.is_(None))
    live_question = and_(Question.lesson_id == Lesson.id, Question.retired_at.is_(None))
    live_choice = and_(Choice.question_id == Question.id, Choice.retired_at.is_(None))
    stmt = (
        select(
            Course.id,
            Course.slug,
            Course.title,
            Course.summary,
            Course.pass_mark,
            Course.content_version,
            Course.reviewed_by,
            Course.reviewed_on,
            Course.next_review_on,
            Course.changed_since_review_on,
            Course.help_html,
            Module.id,
            Module.slug,
            Module.title,
            Lesson.id,
            Lesson.slug,
            Lesson.title,
            Lesson.minutes,
            Lesson.body_html,
            Lesson.sources,
            Question.id,
            Question.kind,
            Question.prompt,
            Question.shuffle,
            Choice.id,
            Choice.text,
        )
        .select_from(Course)
        .outerjoin(Lesson, live_lesson)
        .outerjoin(Module, Module.id == Lesson.module_id)
        .outerjoin(Question, live_question)
        .outerjoin(Choice, live_choice)
        .where(Course.id == course_id)
        .order_by(Module.position, Lesson.position, Question.position, Choice.position)
    )
    return session.execute(stmt).all()


# A lesson's own fields as read (slug, title, minutes, body_html, sources) and a question's (kind, prompt,
# shuffle), in the order LessonView and QuestionView take them after their id.
_LessonFields = tuple[str, str, int, str, tuple[SourceView, ...]]
_QuestionFields = tuple[str, str, bool]


def load_course_content(session: Session, course_id: int) -> CourseContent | None:
    """Read a course's live content from the database (1 query); None if there is no such course."""
    rows = _content_rows(session, course_id)
    if not rows:
        return None
    modules: dict[int, ModuleView] = {}
    # lesson id -> (fields, module, {question id -> (fields, choices)})
    lessons: dict[int, tuple[_LessonFields, ModuleView, dict[int, tuple[_QuestionFields, list[ChoiceView]]]]] = {}
    for row in rows:
        (module_id, module_slug, module_title, lesson_id, *lesson_fields) = row[COURSE_FIELDS:]
        if lesson_id is None:
            continue  # a course with no lessons yet
        module = modules.setdefault(module_id, ModuleView(module_id, module_slug, module_title))
        slug, title, minutes, body_html, sources, question_id, kind, prompt, shuffle, choice_id, choice_text = (
            lesson_fields
        )
        if lesson_id not in lessons:
            source_views = tuple(SourceView(source["title"], source.get("url")) for source in sources or ())
            lessons[lesson_id] = ((slug, title, minutes, body_html, source_views), module, {})
        _, _, questions = lessons[lesson_id]
        if question_id is None:
            continue
        _, choices = questions.setdefault(question_id, ((kind, prompt, shuffle), []))
        if choice_id is not None:
            choices.append(ChoiceView(choice_id, choice_text))
    (
        course_id,
        slug,
        title,
        summary,
        pass_mark,
        version,
        reviewed_by,
        reviewed_on,
        next_review_on,
        changed_since_review_on,
        help_html,
    ) = rows[0][:COURSE_FIELDS]
    return CourseContent(
        id=course_id,
        slug=slug,
        title=title,
        summary=summary,
        pass_mark=pass_mark,
        version=version,
        modules=tuple(modules.values()),
        lessons=tuple(
            LessonView(
                lesson_id,
                *fields,
                module=module,
                questions=tuple(
                    QuestionView(question_id, *fields, tuple(choices))
                    for question_id, (fields, choices) in questions.items()
                ),
            )
            for lesson_id, (fields, module, questions) in lessons.items()
        ),
        reviewed_by=reviewed_by,
        reviewed_on=reviewed_on,
        next_review_on=next_review_on,
        changed_since_review_on=changed_since_review_on,
        help_html=help_html,
    )


class KeptPerVersion(Generic[T]):
    """What a worker keeps of each course, read from its rows, for the content version last read.

    ``load(session, course_id)`` reads it with the version it was read at (None: no such
    course); it is kept under that version, so never under another. Asked for a different
    version, the course is read again: a newer one, or a lower one too (a database restored
    from a backup).
    """

    def __init__(self, load: Callable[[Session, int], tuple[int, T] | None]) -> None:
        self._load = load
        self._by_course: dict[int, tuple[int, T]] = {}
        self._lock = threading.Lock()  # gunicorn's threaded workers may share one app

    def get(self, session: Session, course_id: int, version: int) -> T | None:
        """The course's at ``version``, read when the kept one is of another version (None: no such course)."""
        kept = self._by_course.get(course_id)
        if kept is not None and kept[0] == version:
            return kept[1]
        loaded = self._load(session, course_id)
        with self._lock:
            if loaded is None:
                self._by_course.pop(course_id, None)
            else:
                self._by_course[course_id] = loaded
        return None if loaded is None else loaded[1]

    def clear(self) -> None:
        """Forget every course (the next request loads afresh)."""
        with self._lock:
            self._by_course.clear()


def _versioned_content(session: Session, course_id: int) -> tuple[int, CourseContent] | None:
    content = load_course_content(session, course_id)
    return None if content is None else (content.version, content)


class CourseContentCache(KeptPerVersion[CourseContent]):
    """The latest content seen for each course, replaced when another version is asked for."""

    def __init__(self) -> None:
        super().__init__(_versioned_content)


def course_content(session: Session, course_id: int, version: int) -> CourseContent | None:
    """The current app's cached content of a course at ``version`` (loaded on a miss)."""
    cache = current_app.extensions.setdefault(CACHE_KEY, CourseContentCache())
    return cache.get(session, course_id, version)
