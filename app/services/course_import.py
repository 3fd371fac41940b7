"""Bring a validated course spec into the database: create what is new, update what changed.

Import is idempotent (a second import of the same files changes nothing) and never touches a
learner's progress or attempts: attempts keep their own snapshot of every question they showed.
Lessons are matched by slug, modules by slug, questions and choices by their position.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import (
    Choice,
    Course,
    Lesson,
    LessonProgress,
    Misconception,
    Module,
    Question,
    QuizAttempt,
)
from app.services.course_files import CourseSpec, LessonSpec, QuestionSpec
from app.services.errors import CourseInvalid, Problem
from app.services.markdown import render_markdown


@dataclass
class ImportReport:
    """What an import created, updated and deleted, counted per kind of row."""

    course_slug: str
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(+self.created or +self.updated or +self.deleted)

    def summary(self) -> str:
        """Describe the import in one line for the command line."""
        if not self.changed:
            return f"{self.course_slug}: already up to date, nothing changed."
        parts = []
        for verb, counter in (("created", self.created), ("updated", self.updated), ("deleted", self.deleted)):
            if +counter:
                parts.append(verb + " " + ", ".join(f"{n} {kind}" for kind, n in sorted(counter.items())))
        return f"{self.course_slug}: " + "; ".join(parts) + "."


def _assign(obj, **values) -> bool:
    """Set attributes that differ; return whether anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _upsert_misconceptions(
    session: Session, course: Course, spec: CourseSpec, report: ImportReport
) -> dict[str, Misconception]:
    by_code = {m.code: m for m in course.misconceptions}
    for code, texts in spec.misconceptions.items():
        misconception = by_code.get(code)
        if misconception is None:
            by_code[code] = Misconception(code=code, learner_text=texts.learner, counsellor_text=texts.counsellor)
            course.misconceptions.append(by_code[code])
            report.created["misconceptions"] += 1
        elif _assign(misconception, learner_text=texts.learner, counsellor_text=texts.counsellor):
            report.updated["misconceptions"] += 1
    for code in list(by_code):
        if code not in spec.misconceptions:
            session.delete(by_code.pop(code))
            report.deleted["misconceptions"] += 1
    return by_code


def _sync_choices(
    question: Question, spec: QuestionSpec, misconceptions: dict[str, Misconception], report: ImportReport
) -> None:
    existing = list(question.choices)
    for position, choice_spec in enumerate(spec.choices, start=1):
        values = dict(
            text=choice_spec.text,
            is_correct=choice_spec.correct,
            feedback=choice_spec.feedback,
            misconception=misconceptions.get(choice_spec.misconception) if choice_spec.misconception else None,
        )
        if position <= len(existing):
            if _assign(existing[position - 1], **values):
                report.updated["choices"] += 1
        else:
            question.choices.append(Choice(position=position, **values))
            report.created["choices"] += 1
    for choice in existing[len(spec.choices) :]:
        question.choices.remove(choice)
        report.deleted["choices"] += 1


def _sync_questions(
    lesson: Lesson, spec: LessonSpec, misconceptions: dict[str, Misconception], report: ImportReport
) -> None:
    existing = list(lesson.questions)
    for position, question_spec in enumerate(spec.quiz, start=1):
        values = dict(kind=question_spec.kind, prompt=question_spec.prompt, explanation=question_spec.explanation)
        if position <= len(existing):
            question = existing[position - 1]
            if _assign(question, **values):
                report.updated["questions"] += 1
        else:
            question = Question(position=position, **values)
            lesson.questions.append(question)
            report.created["questions"] += 1
        _sync_choices(question, question_spec, misconceptions, report)
    for question in existing[len(spec.quiz) :]:
        lesson.questions.remove(question)
        report.deleted["questions"] += 1


def _lessons_with_history(session: Session, lesson_ids: list[int]) -> set[int]:
    if not lesson_ids:
        return set()
    with_progress = session.scalars(
        select(LessonProgress.lesson_id).where(LessonProgress.lesson_id.in_(lesson_ids)).distinct()
    )
    with_attempts = session.scalars(
        select(QuizAttempt.lesson_id).where(QuizAttempt.lesson_id.in_(lesson_ids)).distinct()
    )
    return set(with_progress) | set(with_attempts)


def course_import(session: Session, spec: CourseSpec) -> ImportReport:
    """Create or update the course described by ``spec`` and commit; return what changed.

    Raises CourseInvalid, changing nothing, if the files drop a lesson that learners have
    history on: that history must stay attached to a real lesson.
    """
    report = ImportReport(spec.slug)
    course = session.scalar(
        select(Course)
        .where(Course.slug == spec.slug)
        .options(selectinload(Course.modules), selectinload(Course.misconceptions))
    )
    if course is None:
        course = Course(slug=spec.slug, title=spec.title, summary=spec.summary, pass_mark=spec.pass_mark)
        session.add(course)
        report.created["courses"] += 1
    elif _assign(course, title=spec.title, summary=spec.summary, pass_mark=spec.pass_mark):
        report.updated["courses"] += 1

    misconceptions = _upsert_misconceptions(session, course, spec, report)

    lessons = {}
    if course.id is not None:
        lessons = {
            lesson.slug: lesson
            for lesson in session.scalars(
                select(Lesson)
                .where(Lesson.course_id == course.id)
                .options(selectinload(Lesson.questions).selectinload(Question.choices))
            )
        }
    dropped = [lesson for slug, lesson in lessons.items() if slug not in spec.lessons]
    kept_history = _lessons_with_history(session, [lesson.id for lesson in dropped])
    if kept_history:
        session.rollback()
        raise CourseInvalid(
            [
                Problem(
                    "course.yaml",
                    "modules",
                    f"lesson {lesson.slug!r} was removed, but learners have progress on it; keep it in the course",
                )
                for lesson in dropped
                if lesson.id in kept_history
            ]
        )

    modules = {module.slug: module for module in course.modules}
    wanted_modules: list[Module] = []
    for position, module_spec in enumerate(spec.modules, start=1):
        module = modules.get(module_spec.slug)
        if module is None:
            module = Module(slug=module_spec.slug, title=module_spec.title, position=-position)
            course.modules.append(module)
            modules[module.slug] = module
            report.created["modules"] += 1
        elif module.title != module_spec.title or module.position != position:
            report.updated["modules"] += 1
            module.title = module_spec.title
        wanted_modules.append(module)

    # Positions are unique per parent, so rows that move, and modules about to go, are parked
    # on free negative positions first; rows that stay put are never touched, keeping
    # re-imports no-ops.
    moving_modules = [m for position, m in enumerate(wanted_modules, 1) if m.position != position]
    dropped_modules = [m for m in modules.values() if m not in wanted_modules]
    for offset, module in enumerate(moving_modules + dropped_modules, start=1):
        module.position = -1000 - offset
    wanted_lessons: list[tuple[Lesson, Module, int]] = []
    new_lessons: set[str] = set()
    for module, module_spec in zip(wanted_modules, spec.modules, strict=True):
        for position, slug in enumerate(module_spec.lesson_slugs, start=1):
            lesson = lessons.get(slug)
            if lesson is None:
                lesson_spec = spec.lessons[slug]
                lesson = Lesson(
                    course=course,
                    module=module,
                    slug=slug,
                    title=lesson_spec.title,
                    minutes=lesson_spec.minutes,
                    position=-position,
                    body_markdown=lesson_spec.body,
                    body_html=render_markdown(lesson_spec.body),
                )
                session.add(lesson)
                lessons[slug] = lesson
                new_lessons.add(slug)
                report.created["lessons"] += 1
            elif lesson.module is not module or lesson.position != position:
                lesson.position = -1000 - len(wanted_lessons)
            wanted_lessons.append((lesson, module, position))
    # Dropped lessons go before the others take their places.
    for lesson in dropped:
        session.delete(lesson)
        report.deleted["lessons"] += 1
    session.flush()

    for position, module in enumerate(wanted_modules, start=1):
        module.position = position
    for lesson, module, position in wanted_lessons:
        lesson_spec = spec.lessons[lesson.slug]
        changed = _assign(
            lesson,
            module=module,
            position=position,
            title=lesson_spec.title,
            minutes=lesson_spec.minutes,
            body_markdown=lesson_spec.body,
            body_html=render_markdown(lesson_spec.body),
        )
        if changed and lesson.slug not in new_lessons:
            report.updated["lessons"] += 1
        _sync_questions(lesson, lesson_spec, misconceptions, report)
    session.flush()
    for module in dropped_modules:
        session.delete(module)
        report.deleted["modules"] += 1
    session.commit()
    return report
