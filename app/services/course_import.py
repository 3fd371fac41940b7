"""Bring a validated course spec into the database: create what is new, update what changed.

Import is idempotent (a second import of the same files changes nothing) and never touches a
learner's progress or attempts: attempts point at their own stored version of every question
they showed (shown_questions).

Lessons and modules are matched by slug. Questions and choices are matched by their row id when
the spec carries ids (an authoring draft), otherwise by position (files). A lesson, question or
choice that leaves the course is deleted if nobody ever used it, and otherwise *retired*: it
leaves the course but stays in the database, so every history row that points at it stays true.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import (
    AttemptAnswer,
    Choice,
    Course,
    CourseMedia,
    Lesson,
    LessonProgress,
    Misconception,
    Module,
    Question,
    QuizAttempt,
    ShownQuestion,
)
from app.models.progress import text_indexes
from app.models.types import utcnow
from app.services.course_files import ChoiceSpec, CourseSpec, QuestionSpec
from app.services.course_media import media_url
from app.services.errors import Problem
from app.services.markdown import ImageSource, render_markdown, sanitise_markdown, sanitise_text

PARKED = -1000  # free positions, below any real one, for rows on the move


@dataclass
class ImportReport:
    """What an import created, updated, retired and deleted, counted per kind, and described."""

    course_slug: str
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    retired: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)
    changes: list[str] = field(default_factory=list)
    # Quality warnings about the import as a change (the review's date), for the command line.
    warnings: list[Problem] = field(default_factory=list)
    # How many of ``changes`` touch only the course's review (who, when, when next): no content.
    review_only: int = 0

    @property
    def changed(self) -> bool:
        return bool(+self.created or +self.updated or +self.retired or +self.deleted)

    @property
    def content_changed(self) -> bool:
        """Whether anything changed but the review's own details (what a review would have to cover)."""
        return len(self.changes) > self.review_only

    def note(self, counter: Counter, kind: str, description: str) -> None:
        counter[kind] += 1
        self.changes.append(description)

    def summary(self) -> str:
        """Describe the import in one line for the command line."""
        if not self.changed:
            return f"{self.course_slug}: already up to date, nothing changed."
        parts = []
        for verb, counter in (
            ("created", self.created),
            ("updated", self.updated),
            ("retired", self.retired),
            ("deleted", self.deleted),
        ):
            if +counter:
                parts.append(verb + " " + ", ".join(f"{n} {kind}" for kind, n in sorted(counter.items())))
        return f"{self.course_slug}: " + "; ".join(parts) + "."


def _assign(obj, **values) -> list[str]:
    """Set attributes that differ; return the names of those that changed."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


# What each changed column is called in the list of changes an admin reads before publishing.
_CHANGE_WORDS = {
    "pass_mark": "pass mark",
    "reviewed_by": "reviewer",
    "reviewed_on": "review date",
    "next_review_on": "next review date",
    "changed_since_review_on": "unreviewed-changes date",
    "help_markdown": "help text",
    "help_html": "help text",
    "minutes": "reading time",
    "body_markdown": "text",
    "body_html": "text",
    "prompt": "question",
    "shuffle": "shuffling",
    "text": "wording",
    "is_correct": "whether it is right",
    "safety_critical": "safety mark",
}


# The course's columns of its content review: changing only these changes no content.
_REVIEW_COLUMNS = {"reviewed_by", "reviewed_on", "next_review_on", "changed_since_review_on"}


def described(changed: list[str]) -> str:
    """What changed in a row, in words: "title, text changed", "brought back" (a retired row)."""
    words = list(dict.fromkeys(_CHANGE_WORDS.get(name, name) for name in changed if name != "retired_at"))
    parts = ["brought back"] if "retired_at" in changed else []
    if words:
        parts.append(f"{', '.join(words)} changed")
    return "; ".join(parts)


@dataclass
class _History:
    """Which rows learners have used, so they are retired rather than deleted."""

    lessons: set[int]
    # Read from answers' nullable references (filtered by IN, so never None in practice).
    questions: set[int | None]
    choices: set[int | None]


def _history(session: Session, course: Course) -> _History:
    lesson_ids = select(Lesson.id).where(Lesson.course_id == course.id).scalar_subquery()
    question_ids = select(Question.id).where(Question.lesson_id.in_(lesson_ids)).scalar_subquery()
    lessons = set(session.scalars(select(LessonProgress.lesson_id).where(LessonProgress.lesson_id.in_(lesson_ids))))
    lessons |= set(session.scalars(select(QuizAttempt.lesson_id).where(QuizAttempt.lesson_id.in_(lesson_ids))))
    questions = set(
        session.scalars(select(AttemptAnswer.question_id).where(AttemptAnswer.question_id.in_(question_ids)))
    )
    # A choice was used when an answer picked it: answers keep picks as indexes into their
    # question's shown version, so read each distinct (version, picks) pair and look them up.
    picked = (
        select(AttemptAnswer.shown_question_id, AttemptAnswer.chosen)
        .where(AttemptAnswer.question_id.in_(question_ids))
        .distinct()
        .subquery()
    )
    choices: set[int | None] = set()
    versions = select(picked.c.chosen, ShownQuestion.choices).join(
        ShownQuestion, ShownQuestion.id == picked.c.shown_question_id
    )
    for chosen, shown in session.execute(versions):
        choices.update(shown[index].get("choice_id") for index in text_indexes(chosen))
    return _History(lessons, questions, choices)


class _Importer:
    """One import: holds the session, the report and what learners have used."""

    def __init__(self, session: Session, spec: CourseSpec):
        self.session = session
        self.spec = spec
        self.report = ImportReport(spec.slug)
        self.now = utcnow()
        # The course's images by name once imported, for rendering its Markdown (set by course()).
        self.images: dict[str, ImageSource] = {}

    # --- helpers --------------------------------------------------------------------------

    def _clean(self, text: str) -> str:
        return sanitise_text(text)

    def _remove(self, row, used: bool, kind: str, label: str, collection: list | None = None) -> None:
        """Retire a row learners have used; delete one nobody has."""
        if used:
            row.retired_at = self.now
            row.position = None
            self.report.note(self.report.retired, kind, f"{label} retired (kept for learners' history)")
        else:
            if collection is not None:
                collection.remove(row)  # delete-orphan removes it at flush
            else:
                self.session.delete(row)
            self.report.note(self.report.deleted, kind, f"{label} deleted")

    def _match(self, existing: list, specs: list, live: list) -> list:
        """Pair each spec with an existing row: by id for drafts (no id: a new row), by position for files."""
        if self.spec.from_draft or any(spec.id is not None for spec in specs):
            by_id = {row.id: row for row in existing}
            return [by_id.get(spec.id) if spec.id is not None else None for spec in specs]
        return [live[index] if index < len(live) else None for index in range(len(specs))]

    # --- course, misconceptions, modules ------------------------------------------------

    def course(self) -> Course:
        spec = self.spec
        course = self.session.scalar(
            select(Course)
            .where(Course.slug == spec.slug)
            .options(selectinload(Course.modules), selectinload(Course.misconceptions))
        )
        media = self._media_rows(course)
        self.images = self._image_sources(media)
        review = spec.review
        help_markdown = sanitise_markdown(spec.help) if spec.help else ""
        values = dict(
            title=self._clean(spec.title),
            summary=self._clean(spec.summary),
            pass_mark=spec.pass_mark,
            reviewed_by=self._clean(review.reviewed_by) if review else None,
            reviewed_on=review.reviewed_on if review else None,
            next_review_on=review.next_review_on if review else None,
            changed_since_review_on=review.changed_since_review_on if review else None,
            help_markdown=help_markdown,
            help_html=render_markdown(help_markdown, media=self.images) if help_markdown else "",
        )
        if course is None:
            course = Course(slug=spec.slug, **values)
            self.session.add(course)
            self.report.note(self.report.created, "courses", f"New course “{course.title}”")
        elif changed := _assign(course, **values):
            self.report.note(self.report.updated, "courses", f"Course: {described(changed)}")
            if set(changed) <= _REVIEW_COLUMNS:
                self.report.review_only += 1
        self._store_media(course, media)
        return course

    # --- images ---------------------------------------------------------------------------------

    def _media_rows(self, course: Course | None) -> dict[str, CourseMedia]:
        """The course's images in the database by name (their bytes are not loaded)."""
        if course is None:
            return {}
        rows = self.session.scalars(select(CourseMedia).where(CourseMedia.course_id == course.id))
        return {row.name: row for row in rows}

    def _image_sources(self, rows: dict[str, CourseMedia]) -> dict[str, ImageSource]:
        """Every image lessons may show once imported: the spec's, and those already in the course."""
        sources = {
            name: ImageSource(media_url(self.spec.slug, name, row.sha256), row.width, row.height)
            for name, row in rows.items()
        }
        for name, image in self.spec.media.items():
            sources[name] = ImageSource(media_url(self.spec.slug, name, image.sha256), image.width, image.height)
        return sources

    def _store_media(self, course: Course, rows: dict[str, CourseMedia]) -> None:
        """Add the spec's new images and replace changed ones.

        An image in the database but not in the spec stays: drafts carry no images (they are
        uploaded straight to the course), and a folder without one must not break a lesson that
        shows it. Unused images are deleted on the course's images page.
        """
        for name, image in self.spec.media.items():
            values = dict(
                content_type=image.content_type,
                sha256=image.sha256,
                size_bytes=len(image.data),
                width=image.width,
                height=image.height,
            )
            row = rows.get(name)
            if row is None:
                self.session.add(CourseMedia(course=course, name=name, data=image.data, **values))
                self.report.note(self.report.created, "images", f"New image “{name}”")
            elif row.sha256 != image.sha256:
                _assign(row, data=image.data, **values)
                self.report.note(self.report.updated, "images", f"Image “{name}” replaced")

    def misconceptions(self, course: Course) -> dict[str, Misconception]:
        by_code = {m.code: m for m in course.misconceptions}
        for code, texts in self.spec.misconceptions.items():
            values = dict(
                title=self._clean(texts.title),
                learner_text=self._clean(texts.learner),
                counsellor_text=self._clean(texts.counsellor),
                safety_critical=texts.safety_critical,
            )
            misconception = by_code.get(code)
            if misconception is None:
                by_code[code] = Misconception(code=code, **values)
                course.misconceptions.append(by_code[code])
                self.report.note(self.report.created, "misconceptions", f"New misconception “{code}”")
            elif _assign(misconception, **values):
                self.report.note(self.report.updated, "misconceptions", f"Misconception “{code}”: texts changed")
        for code in list(by_code):
            if code not in self.spec.misconceptions:
                # Choices pointing at it lose the link (SET NULL); attempts keep the code as text.
                self.session.delete(by_code.pop(code))
                self.report.note(self.report.deleted, "misconceptions", f"Misconception “{code}” deleted")
        return by_code

    # --- questions and choices ----------------------------------------------------------

    def choices(self, question: Question, specs: list[ChoiceSpec], codes: dict[str, Misconception], label: str):
        live = [c for c in question.choices if c.retired_at is None]
        matched = self._match(question.choices, specs, live)
        placed = []
        for position, (spec, choice) in enumerate(zip(specs, matched, strict=True), start=1):
            values = dict(
                text=self._clean(spec.text),
                is_correct=spec.correct,
                feedback=self._clean(spec.feedback),
                misconception=codes.get(spec.misconception) if spec.misconception else None,
                safety_critical=spec.safety_critical,
                retired_at=None,
            )
            if choice is None:
                choice = Choice(position=PARKED - position, **values)
                question.choices.append(choice)
                self.report.note(self.report.created, "choices", f"{label}: new choice “{choice.text}”")
            elif changed := _assign(choice, **values):
                self.report.note(self.report.updated, "choices", f"{label}, choice {position}: {described(changed)}")
            placed.append((choice, position))
        for choice in live:
            if choice not in matched:
                used = choice.id in self.history.choices
                self._remove(choice, used, "choices", f"{label}: choice “{choice.text}”", question.choices)
        return placed

    def questions(self, lesson: Lesson, specs: list[QuestionSpec], codes: dict[str, Misconception]):
        live = [q for q in lesson.questions if q.retired_at is None]
        matched = self._match(lesson.questions, specs, live)
        placed, choices = [], []
        for position, (spec, question) in enumerate(zip(specs, matched, strict=True), start=1):
            label = f"Lesson “{lesson.title}”, question {position}"
            values = dict(
                kind=spec.kind,
                prompt=self._clean(spec.prompt),
                explanation=self._clean(spec.explanation),
                shuffle=spec.shuffle,
                retired_at=None,
            )
            if question is None:
                question = Question(position=PARKED - position, **values)
                lesson.questions.append(question)
                self.report.note(self.report.created, "questions", f"{label}: new question")
            elif changed := _assign(question, **values):
                self.report.note(self.report.updated, "questions", f"{label}: {described(changed)}")
            placed.append((question, position))
            choices += self.choices(question, spec.choices, codes, label)
        for question in live:
            if question not in matched:
                label = f"Lesson “{lesson.title}”: question “{question.prompt}”"
                self._remove(question, question.id in self.history.questions, "questions", label, lesson.questions)
        return placed, choices

    # --- the whole import -----------------------------------------------------------------

    def run(self) -> ImportReport:
        spec, session = self.spec, self.session
        course = self.course()
        codes = self.misconceptions(course)
        lessons: dict[str, Lesson] = {}
        if course.id is not None:
            self.history = _history(session, course)
            lessons = {
                lesson.slug: lesson
                for lesson in session.scalars(
                    select(Lesson)
                    .where(Lesson.course_id == course.id)
                    .options(selectinload(Lesson.questions).selectinload(Question.choices))
                )
            }
        else:
            self.history = _History(set(), set(), set())

        modules = {module.slug: module for module in course.modules}
        placed_modules: list[tuple[Module, int]] = []
        for position, module_spec in enumerate(spec.modules, start=1):
            module = modules.get(module_spec.slug)
            title = self._clean(module_spec.title)
            if module is None:
                module = Module(slug=module_spec.slug, title=title, position=PARKED - position)
                course.modules.append(module)
                modules[module.slug] = module
                self.report.note(self.report.created, "modules", f"New module “{title}”")
            elif module.title != title or module.position != position:
                module.title = title
                self.report.note(self.report.updated, "modules", f"Module “{title}” renamed or moved")
            placed_modules.append((module, position))

        placed_lessons: list[tuple[Lesson, Module, int]] = []
        for module, module_spec in zip((m for m, _ in placed_modules), spec.modules, strict=True):
            for position, slug in enumerate(module_spec.lesson_slugs, start=1):
                lesson_spec = spec.lessons[slug]
                lesson = lessons.get(slug)
                body = sanitise_markdown(lesson_spec.body)
                values = dict(
                    title=self._clean(lesson_spec.title),
                    minutes=lesson_spec.minutes,
                    body_markdown=body,
                    body_html=render_markdown(body, media=self.images),
                    # None, not [], for no sources: what lessons from before sources existed hold.
                    sources=[{"title": self._clean(source.title), "url": source.url} for source in lesson_spec.sources]
                    or None,
                    retired_at=None,
                )
                if lesson is None:
                    lesson = Lesson(course=course, module=module, slug=slug, position=PARKED - position, **values)
                    session.add(lesson)
                    lessons[slug] = lesson
                    self.report.note(self.report.created, "lessons", f"New lesson “{lesson.title}”")
                elif changed := _assign(lesson, **values):
                    self.report.note(self.report.updated, "lessons", f"Lesson “{lesson.title}”: {described(changed)}")
                placed_lessons.append((lesson, module, position))

        placed_questions, placed_choices = [], []
        for lesson, _, _ in placed_lessons:
            questions, choices = self.questions(lesson, spec.lessons[lesson.slug].quiz, codes)
            placed_questions += questions
            placed_choices += choices
        kept = {lesson for lesson, _, _ in placed_lessons}
        for lesson in lessons.values():
            if lesson not in kept and lesson.retired_at is None:
                lesson.module = None
                self._remove(lesson, lesson.id in self.history.lessons, "lessons", f"Lesson “{lesson.title}”")
        dropped_modules = [m for m in modules.values() if m not in {kept for kept, _ in placed_modules}]
        # Modules on their way out are parked too, so another can take their place first.
        moved = self._place(
            placed_modules + [(m, PARKED) for m in dropped_modules], placed_lessons, placed_questions, placed_choices
        )
        for module in dropped_modules:
            session.delete(module)
            self.report.note(self.report.deleted, "modules", f"Module “{module.title}” deleted")
        if (self.report.changed or moved) and course.id is not None:
            # Workers keep each course's content per version: a new version makes them reload it.
            # A new order counts, though the report lists only what was added, edited or removed.
            course.content_version = Course.content_version + 1
        session.flush()
        return self.report

    def _place(self, modules, lessons, questions, choices) -> bool:
        """Give every row its new position without ever breaking a unique (parent, position).

        Rows that move are parked on free negative positions first and flushed; rows that stay
        put are never touched, so a re-import writes nothing. Returns whether anything moved.
        """
        moves = []
        for row, position in modules:
            if row.position != position:
                moves.append((row, position))
        for row, module, position in lessons:
            if row.position != position or row.module is not module:
                moves.append((row, position))
                row.module = module
        for row, position in questions + choices:
            if row.position != position:
                moves.append((row, position))
        for offset, (row, _) in enumerate(moves, start=1):
            row.position = PARKED - 100 - offset
        self.session.flush()
        for row, position in moves:
            row.position = position
        return bool(moves)


def course_import_unsaved(session: Session, spec: CourseSpec) -> ImportReport:
    """Write the course described by ``spec`` into the session (flushed); return what changed.

    Neither commits nor rolls back: for a caller that owns the transaction, as publishing a
    draft does (and its preview, inside a savepoint it rolls back).
    """
    return _Importer(session, spec).run()


def course_import(session: Session, spec: CourseSpec, *, dry_run: bool = False) -> ImportReport:
    """Create or update the course described by ``spec``; return what changed.

    Commits, unless ``dry_run``, which works out the same report and then rolls back, so an
    admin can see what publishing would change before doing it.
    """
    try:
        report = _Importer(session, spec).run()
    except Exception:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report
