"""The admins' working draft of a course: edit it, see what publishing would change, publish.

The draft is course data in the file format, with row ids (see course_export.course_to_data),
so every edit is checked by the same rules as the course files (course_files.parse_course_data)
and publishing is an import of the draft (course_import), which retires rather than deletes
anything learners have used. Learners only ever read the published rows.

Edit functions take the course and plain values, change a copy of the draft, and save it only if
the edit brought in no new problem; otherwise they raise DraftInvalid, whose ``field_errors``
name the edited item's fields so a form can show each message beside its field. Each edit is one
transaction: it commits on success and rolls back on failure. A draft that ends up equal to the
published course is dropped, so "unpublished changes" always means real ones.

One allowance: a module may be empty while its lessons are being arranged (a new module has
none yet). The draft keeps it; publishing refuses until the module has a lesson or is deleted.
"""

from __future__ import annotations

import copy
import enum
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Course, CourseDraft, CoursePublication
from app.models.types import utcnow
from app.services.course_export import course_to_data
from app.services.course_files import SLUG_PATTERN, SOURCE_URL_PATTERN, CourseSpec, ReviewSpec, parse_course_data
from app.services.course_import import course_import
from app.services.course_quality import course_warnings
from app.services.errors import CourseInvalid, DomainError, Problem
from app.services.markdown import render_markdown, sanitise_text

DIRECTIONS = ("up", "down")
_MODULE_LESSONS = re.compile(r"^modules\[(\d+)\]\.lessons$")


# --- errors ------------------------------------------------------------------------------------


class DraftError(DomainError):
    """An edit the draft cannot take, explained in a sentence for the admin."""


class NotInDraft(DraftError, LookupError):
    """No such module, lesson, question or misconception in the draft."""


class NothingToPublish(DraftError):
    """The draft does not differ from the published course."""


class DraftInvalid(DraftError):
    """The edit would break the course rules.

    ``problems`` are located as in the course files; ``field_errors`` maps the edited item's
    own fields (as the edit function names its inputs, e.g. ``prompt`` or ``choices[2].text``,
    ``""`` for the item as a whole) to messages; ``other`` holds the rest, as sentences.
    """

    def __init__(self, problems: list[Problem], field_errors: dict[str, list[str]] | None = None, other=None):
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
                problem.field.startswith(prefix) or (prefix and problem.field == prefix.rstrip("."))
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


# --- inputs ------------------------------------------------------------------------------------


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP
"""Default of an optional edit argument: leave that part of the draft as it is."""


@dataclass
class ChoiceInput:
    """One choice as an admin typed it; ``id`` links it to the published choice it edits."""

    text: str
    feedback: str
    correct: bool = False
    misconception: str | None = None
    id: int | None = None
    # Believing it could kill or seriously harm: learners who pick it see its feedback as a warning.
    safety_critical: bool = False


@dataclass
class QuestionInput:
    """A question with all its choices, saved as one unit."""

    kind: str
    prompt: str
    explanation: str
    choices: list[ChoiceInput] = field(default_factory=list)
    # False pins the choices in the order written (True/False, "none of these").
    shuffle: bool = True


@dataclass
class SourceInput:
    """One of a lesson's sources: a title, and a web address where there is one."""

    title: str
    url: str = ""


@dataclass
class ReviewInput:
    """The course's content review as typed; dates as ``date`` or YYYY-MM-DD text.

    All three left empty means no review is recorded.
    """

    reviewed_by: str = ""
    reviewed_on: date | str | None = None
    next_review_on: date | str | None = None


@dataclass
class PublishPreview:
    """What publishing the draft would change, or what stops it."""

    has_draft: bool
    changes: list[str] = field(default_factory=list)
    summary: str = ""
    problems: list[Problem] = field(default_factory=list)
    spec: CourseSpec | None = field(default=None, repr=False)
    # Quality warnings (app/services/course_quality.py): shown, never blocking.
    warnings: list[Problem] = field(default_factory=list)

    @property
    def can_publish(self) -> bool:
        return self.has_draft and bool(self.changes) and not self.problems


# --- cleaning ----------------------------------------------------------------------------------


def _clean(text) -> str:
    """Author text as stored: every tag and script URL removed (learners see plain text)."""
    return sanitise_text(str(text or ""))


def clean_body(markdown_text: str) -> str:
    """A lesson body as the draft stores it: sanitised Markdown, trimmed, one final newline."""
    cleaned = sanitise_text(str(markdown_text or "").replace("\r\n", "\n"), keep_lines=True).strip()
    return cleaned + "\n" if cleaned else ""


def lesson_preview_html(markdown_text: str) -> str:
    """The lesson body's HTML exactly as learners will get it once published."""
    return render_markdown(clean_body(markdown_text))


def _day_text(value: date | str | None) -> str:
    """A date as the draft stores it (YYYY-MM-DD); text that is no date is kept for the rules to judge."""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value or "").strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return text


def _review_data(review: ReviewInput | None) -> dict | None:
    """The review as draft data, or None when nothing was given; a missing part is left out."""
    if review is None:
        return None
    raw = {
        "reviewed_by": _clean(review.reviewed_by),
        "reviewed_on": _day_text(review.reviewed_on),
        "next_review_on": _day_text(review.next_review_on),
    }
    raw = {key: value for key, value in raw.items() if value}
    return raw or None


def _sources_data(sources: list[SourceInput]) -> list[dict]:
    """Sources as draft data: a title, and an address only where one was given."""
    result = []
    for source in sources:
        raw = {"title": _clean(source.title)}
        url = str(source.url or "").strip()
        if url:
            raw["url"] = url
        result.append(raw)
    return result


def sources_preview(sources: list[SourceInput]) -> list[dict]:
    """Unsaved sources as a lesson would list them: cleaned titles, and only addresses the rules accept."""
    return [
        {"title": raw["title"], "url": raw.get("url") if SOURCE_URL_PATTERN.match(raw.get("url", "")) else None}
        for raw in _sources_data(sources)
        if raw["title"]
    ]


# --- the draft ---------------------------------------------------------------------------------


def draft_get(session: Session, course: Course) -> CourseDraft | None:
    """Return the course's draft, or None when there are no unpublished edits."""
    return session.scalar(select(CourseDraft).where(CourseDraft.course_id == course.id))


def draft_data(session: Session, course: Course) -> dict:
    """The course data admins are editing: the draft's, or the published course's if none."""
    draft = draft_get(session, course)
    return copy.deepcopy(draft.data) if draft else course_to_data(session, course, with_ids=True)


def draft_get_or_create(session: Session, course: Course, *, user_id: int | None = None) -> CourseDraft:
    """Return the course's draft, starting one from the published course if there is none (not committed)."""
    draft = draft_get(session, course)
    if draft is not None:
        return draft
    draft = CourseDraft(course_id=course.id, data=course_to_data(session, course, with_ids=True), updated_by_id=user_id)
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
    draft = draft_get(session, course)
    if draft is None:
        return False
    session.delete(draft)
    session.commit()
    return True


def _problems(data: dict) -> list[Problem]:
    """Every rule the data breaks, except an empty module (allowed while editing)."""
    try:
        parse_course_data(data, allow_ids=True)
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


@contextmanager
def _editing(session: Session, course: Course, user_id: int | None):
    """One edit: yield the draft row and a copy of its data; roll back if the edit fails."""
    draft = draft_get_or_create(session, course, user_id=user_id)
    try:
        yield draft, copy.deepcopy(draft.data)
    except Exception:
        session.rollback()  # a draft started for this edit goes too
        raise


def _save(
    session: Session,
    course: Course,
    draft: CourseDraft,
    data: dict,
    *,
    user_id: int | None,
    file: str = "course.yaml",
    prefix: str = "",
) -> None:
    """Validate the edited data and store it; raise DraftInvalid if the edit added problems."""
    before = set(_problems(draft.data))
    added = [problem for problem in _problems(data) if problem not in before]
    if added:
        raise DraftInvalid.located(added, file=file, prefix=prefix)
    if data == course_to_data(session, course, with_ids=True):
        session.delete(draft)  # back to what learners see: nothing left to publish
    else:
        draft.data = data
        draft.updated_at = utcnow()
        draft.updated_by_id = user_id
    session.commit()


# --- finding things in the draft ---------------------------------------------------------------


def _modules(data: dict) -> list[dict]:
    return data["course"].setdefault("modules", [])


def _module_index(data: dict, module_slug: str) -> int:
    for index, module in enumerate(_modules(data)):
        if module["slug"] == module_slug:
            return index
    raise NotInDraft(f"There is no module “{module_slug}” in the draft.")


def _lesson_place(data: dict, lesson_slug: str) -> tuple[int, int]:
    """(module index, index in that module) of a lesson in the draft."""
    for module_index, module in enumerate(_modules(data)):
        if lesson_slug in module["lessons"]:
            return module_index, module["lessons"].index(lesson_slug)
    raise NotInDraft(f"There is no lesson “{lesson_slug}” in the draft.")


def draft_lesson(data: dict, lesson_slug: str) -> dict:
    """The lesson's data ({"front": ..., "body": ...}) in the draft, or NotInDraft."""
    _lesson_place(data, lesson_slug)
    lesson = data["lessons"].get(lesson_slug)
    if lesson is None:
        raise NotInDraft(f"There is no lesson “{lesson_slug}” in the draft.")
    return lesson


def draft_lesson_module(data: dict, lesson_slug: str) -> str:
    """The slug of the module the lesson sits in."""
    return _modules(data)[_lesson_place(data, lesson_slug)[0]]["slug"]


def draft_question(data: dict, lesson_slug: str, position: int) -> dict:
    """The question at ``position`` (from 1) of the lesson's quiz in the draft, or NotInDraft."""
    quiz = draft_lesson(data, lesson_slug)["front"].get("quiz") or []
    if not 1 <= position <= len(quiz):
        raise NotInDraft(f"The lesson has no question {position}.")
    return quiz[position - 1]


def draft_codes(data: dict) -> list[str]:
    """The misconception codes defined in the draft, in order."""
    return list(data["course"].get("misconceptions") or {})


def draft_lesson_order(data: dict) -> list[str]:
    """Lesson slugs in the order learners meet them."""
    return [slug for module in _modules(data) for slug in module["lessons"]]


def _slug_taken(data: dict, slug: str) -> bool:
    return slug in {m["slug"] for m in _modules(data)} or slug in draft_lesson_order(data) or slug in data["lessons"]


def _check_new_slug(data: dict, slug: str) -> str:
    slug = (slug or "").strip()
    if not SLUG_PATTERN.match(slug):
        raise DraftInvalid.on_field("slug", "Use lower-case letters, digits and hyphens, e.g. “side-effects”.")
    if _slug_taken(data, slug):
        raise DraftInvalid.on_field("slug", f"“{slug}” is already used by a module or lesson in this course.")
    return slug


def _move(items: list, index: int, direction: str, what: str) -> None:
    if direction not in DIRECTIONS:
        raise DraftError("Move up or down.")
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(items):
        raise DraftError(f"The {what} is already {'first' if direction == 'up' else 'last'}.")
    items[index], items[target] = items[target], items[index]


# --- the course --------------------------------------------------------------------------------


def course_update(
    session: Session,
    *,
    course: Course,
    title: str,
    summary: str,
    pass_mark: float,
    review: ReviewInput | None | _Keep = KEEP,
    help: str | _Keep = KEEP,
    user_id: int | None = None,
) -> None:
    """Change the course's title, summary and pass mark (a share of questions right, above 0, at most 1).

    ``review`` (None or all parts empty: no review recorded) and ``help`` (Markdown shown after
    every lesson; empty: none) change too when given.
    """
    with _editing(session, course, user_id) as (draft, data):
        raw = data["course"]
        raw.update(title=_clean(title), summary=_clean(summary), pass_mark=pass_mark)
        if review is not KEEP:
            review_raw = _review_data(review)
            if review_raw is None:
                raw.pop("review", None)
            else:
                raw["review"] = review_raw
        if help is not KEEP:
            help_text = clean_body(help)
            if help_text:
                raw["help"] = help_text
            else:
                raw.pop("help", None)
        _save(session, course, draft, data, user_id=user_id)


def draft_review(data: dict) -> ReviewSpec | None:
    """The draft's review with real dates, as a lesson shows it; None if there is no complete one."""
    raw = data["course"].get("review") or {}
    try:
        return ReviewSpec(
            reviewed_by=raw["reviewed_by"],
            reviewed_on=date.fromisoformat(raw["reviewed_on"]),
            next_review_on=date.fromisoformat(raw["next_review_on"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def draft_help_html(data: dict) -> str:
    """The draft's "Where to get help" text as HTML, exactly as learners will get it once published."""
    help_text = data["course"].get("help") or ""
    return render_markdown(help_text) if help_text else ""


# --- modules -----------------------------------------------------------------------------------


def module_add(session: Session, *, course: Course, slug: str, title: str, user_id: int | None = None) -> None:
    """Add an empty module at the end of the course; lessons can then be added to it."""
    with _editing(session, course, user_id) as (draft, data):
        slug = _check_new_slug(data, slug)
        _modules(data).append({"slug": slug, "title": _clean(title), "lessons": []})
        _save(session, course, draft, data, user_id=user_id, prefix=f"modules[{len(_modules(data))}].")


def module_rename(
    session: Session, *, course: Course, module_slug: str, title: str, user_id: int | None = None
) -> None:
    """Change a module's title."""
    with _editing(session, course, user_id) as (draft, data):
        index = _module_index(data, module_slug)
        _modules(data)[index]["title"] = _clean(title)
        _save(session, course, draft, data, user_id=user_id, prefix=f"modules[{index + 1}].")


def module_move(
    session: Session, *, course: Course, module_slug: str, direction: str, user_id: int | None = None
) -> None:
    """Move a module one place up or down, with its lessons."""
    with _editing(session, course, user_id) as (draft, data):
        _move(_modules(data), _module_index(data, module_slug), direction, "module")
        _save(session, course, draft, data, user_id=user_id)


def module_delete(session: Session, *, course: Course, module_slug: str, user_id: int | None = None) -> None:
    """Delete a module that has no lessons left."""
    with _editing(session, course, user_id) as (draft, data):
        index = _module_index(data, module_slug)
        if _modules(data)[index]["lessons"]:
            raise DraftError("Move or remove the module's lessons first: only an empty module can be deleted.")
        del _modules(data)[index]
        _save(session, course, draft, data, user_id=user_id)


# --- lessons -----------------------------------------------------------------------------------


def lesson_add(
    session: Session,
    *,
    course: Course,
    module_slug: str,
    slug: str,
    title: str,
    minutes: int,
    body: str,
    sources: list[SourceInput] | None = None,
    user_id: int | None = None,
) -> None:
    """Add a lesson at the end of a module. Its slug (its address) cannot change later."""
    with _editing(session, course, user_id) as (draft, data):
        index = _module_index(data, module_slug)
        slug = _check_new_slug(data, slug)
        _modules(data)[index]["lessons"].append(slug)
        front = {"title": _clean(title), "minutes": minutes}
        if sources:
            front["sources"] = _sources_data(sources)
        data["lessons"][slug] = {"front": front, "body": clean_body(body)}
        _save(session, course, draft, data, user_id=user_id, file=f"lessons/{slug}.md")


def _set_sources(lesson: dict, sources: list[SourceInput]) -> None:
    """Replace the lesson's sources, kept before its quiz as in the files; none: no sources key."""
    front = {key: value for key, value in lesson["front"].items() if key not in ("sources", "quiz")}
    if sources:
        front["sources"] = _sources_data(sources)
    if "quiz" in lesson["front"]:
        front["quiz"] = lesson["front"]["quiz"]
    lesson["front"] = front


def lesson_update(
    session: Session,
    *,
    course: Course,
    lesson_slug: str,
    title: str,
    minutes: int,
    body: str,
    module_slug: str | None = None,
    sources: list[SourceInput] | _Keep = KEEP,
    user_id: int | None = None,
) -> None:
    """Change a lesson's title, reading time, body and (when given) sources; move it to the end of another module."""
    with _editing(session, course, user_id) as (draft, data):
        lesson = draft_lesson(data, lesson_slug)
        lesson["front"].update(title=_clean(title), minutes=minutes)
        if sources is not KEEP:
            _set_sources(lesson, sources)
        lesson["body"] = clean_body(body)
        module_index, index = _lesson_place(data, lesson_slug)
        if module_slug is not None and module_slug != _modules(data)[module_index]["slug"]:
            target = _module_index(data, module_slug)
            del _modules(data)[module_index]["lessons"][index]
            _modules(data)[target]["lessons"].append(lesson_slug)
        _save(session, course, draft, data, user_id=user_id, file=f"lessons/{lesson_slug}.md")


def lesson_move(
    session: Session, *, course: Course, lesson_slug: str, direction: str, user_id: int | None = None
) -> None:
    """Move a lesson one place up or down; past the end of its module it joins the next one."""
    with _editing(session, course, user_id) as (draft, data):
        modules = _modules(data)
        module_index, index = _lesson_place(data, lesson_slug)
        lessons = modules[module_index]["lessons"]
        if direction not in DIRECTIONS:
            raise DraftError("Move up or down.")
        if direction == "up" and index == 0:
            if module_index == 0:
                raise DraftError("The lesson is already first.")
            lessons.pop(index)
            modules[module_index - 1]["lessons"].append(lesson_slug)
        elif direction == "down" and index == len(lessons) - 1:
            if module_index == len(modules) - 1:
                raise DraftError("The lesson is already last.")
            lessons.pop(index)
            modules[module_index + 1]["lessons"].insert(0, lesson_slug)
        else:
            _move(lessons, index, direction, "lesson")
        _save(session, course, draft, data, user_id=user_id)


def lesson_remove(session: Session, *, course: Course, lesson_slug: str, user_id: int | None = None) -> None:
    """Take a lesson out of the draft. On publish it is retired if learners have history with it, else deleted."""
    with _editing(session, course, user_id) as (draft, data):
        module_index, index = _lesson_place(data, lesson_slug)
        del _modules(data)[module_index]["lessons"][index]
        data["lessons"].pop(lesson_slug, None)
        _save(session, course, draft, data, user_id=user_id)


# --- questions and their choices ---------------------------------------------------------------


def _question_data(question: QuestionInput, known_ids: set[int], question_id: int | None) -> dict:
    """A question as course data; choice ids are kept only for this question's own choices."""
    choices = []
    for choice in question.choices:
        raw: dict = {"text": _clean(choice.text)}
        if choice.correct:
            raw["correct"] = True
        if choice.safety_critical:
            raw["safety_critical"] = True
        raw["feedback"] = _clean(choice.feedback)
        if choice.misconception:
            raw["misconception"] = choice.misconception
        if choice.id in known_ids:
            raw["id"] = choice.id
            known_ids.discard(choice.id)  # one row, one choice: a repeated id makes a new choice
        choices.append(raw)
    raw_question: dict = {"kind": question.kind}
    if not question.shuffle:
        raw_question["shuffle"] = False
    raw_question |= {
        "prompt": _clean(question.prompt),
        "explanation": _clean(question.explanation),
        "choices": choices,
    }
    if question_id is not None:
        raw_question["id"] = question_id
    return raw_question


def _quiz(lesson: dict) -> list[dict]:
    return lesson["front"].setdefault("quiz", [])


def _tidy_quiz(lesson: dict) -> None:
    """A lesson without questions has no quiz key, as in the files."""
    if not lesson["front"].get("quiz"):
        lesson["front"].pop("quiz", None)


def question_add(
    session: Session, *, course: Course, lesson_slug: str, question: QuestionInput, user_id: int | None = None
) -> int:
    """Add a question at the end of the lesson's quiz; return its position."""
    with _editing(session, course, user_id) as (draft, data):
        quiz = _quiz(draft_lesson(data, lesson_slug))
        quiz.append(_question_data(question, set(), None))
        position = len(quiz)
        _save(
            session, course, draft, data, user_id=user_id, file=f"lessons/{lesson_slug}.md", prefix=f"quiz[{position}]."
        )
    return position


def question_update(
    session: Session,
    *,
    course: Course,
    lesson_slug: str,
    position: int,
    question: QuestionInput,
    user_id: int | None = None,
) -> None:
    """Replace a question's kind, prompt, explanation, shuffling and whole list of choices.

    Choices keep their ids, so learners' answers stay linked; a choice left out is removed
    (retired on publish if a learner picked it).
    """
    with _editing(session, course, user_id) as (draft, data):
        existing = draft_question(data, lesson_slug, position)
        known = {c["id"] for c in existing.get("choices", []) if isinstance(c, dict) and "id" in c}
        _quiz(draft_lesson(data, lesson_slug))[position - 1] = _question_data(question, known, existing.get("id"))
        _save(
            session, course, draft, data, user_id=user_id, file=f"lessons/{lesson_slug}.md", prefix=f"quiz[{position}]."
        )


def question_move(
    session: Session,
    *,
    course: Course,
    lesson_slug: str,
    position: int,
    direction: str,
    user_id: int | None = None,
) -> None:
    """Move a question one place up or down in its quiz."""
    with _editing(session, course, user_id) as (draft, data):
        draft_question(data, lesson_slug, position)
        _move(_quiz(draft_lesson(data, lesson_slug)), position - 1, direction, "question")
        _save(session, course, draft, data, user_id=user_id, file=f"lessons/{lesson_slug}.md")


def question_remove(
    session: Session, *, course: Course, lesson_slug: str, position: int, user_id: int | None = None
) -> None:
    """Take a question out of the quiz. On publish it is retired if learners answered it, else deleted."""
    with _editing(session, course, user_id) as (draft, data):
        draft_question(data, lesson_slug, position)
        lesson = draft_lesson(data, lesson_slug)
        del _quiz(lesson)[position - 1]
        _tidy_quiz(lesson)
        _save(session, course, draft, data, user_id=user_id, file=f"lessons/{lesson_slug}.md")


# --- misconceptions ----------------------------------------------------------------------------


def _misconceptions(data: dict) -> dict:
    return data["course"].setdefault("misconceptions", {})


def _misconception_data(learner: str, counsellor: str, title: str, safety_critical: bool) -> dict:
    """A misconception as draft data; an empty title and a false mark are left out, as in the files."""
    raw: dict = {}
    if title := _clean(title):
        raw["title"] = title
    if safety_critical:
        raw["safety_critical"] = True
    return raw | {"learner": _clean(learner), "counsellor": _clean(counsellor)}


def misconception_add(
    session: Session,
    *,
    course: Course,
    code: str,
    learner: str,
    counsellor: str,
    title: str = "",
    safety_critical: bool = False,
    user_id: int | None = None,
) -> None:
    """Define a misconception that wrong choices can point to; ``title`` is its short name (80 characters at most)."""
    with _editing(session, course, user_id) as (draft, data):
        code = (code or "").strip()
        if not SLUG_PATTERN.match(code):
            raise DraftInvalid.on_field(
                "code", "Use lower-case letters, digits and hyphens, e.g. “thinks-it-is-a-cure”."
            )
        if code in _misconceptions(data):
            raise DraftInvalid.on_field("code", f"“{code}” is already defined.")
        _misconceptions(data)[code] = _misconception_data(learner, counsellor, title, safety_critical)
        _save(session, course, draft, data, user_id=user_id, prefix=f"misconceptions.{code}.")


def misconception_update(
    session: Session,
    *,
    course: Course,
    code: str,
    learner: str,
    counsellor: str,
    title: str | _Keep = KEEP,
    safety_critical: bool | _Keep = KEEP,
    user_id: int | None = None,
) -> None:
    """Change what the learner and the counsellor are told about a misconception, and (when given)
    its short title and whether believing it is safety-critical."""
    with _editing(session, course, user_id) as (draft, data):
        if code not in _misconceptions(data):
            raise NotInDraft(f"There is no misconception “{code}” in the draft.")
        old = _misconceptions(data)[code] if isinstance(_misconceptions(data)[code], dict) else {}
        _misconceptions(data)[code] = _misconception_data(
            learner,
            counsellor,
            (old.get("title") or "") if title is KEEP else title,
            bool(old.get("safety_critical")) if safety_critical is KEEP else safety_critical,
        )
        _save(session, course, draft, data, user_id=user_id, prefix=f"misconceptions.{code}.")


def misconception_uses(data: dict, code: str) -> list[str]:
    """Where the draft's choices point to a misconception, described for an admin."""
    uses = []
    for slug in draft_lesson_order(data):
        lesson = data["lessons"].get(slug) or {}
        for number, question in enumerate(lesson.get("front", {}).get("quiz") or [], start=1):
            for choice in question.get("choices", []):
                if choice.get("misconception") == code:
                    uses.append(f"“{lesson['front'].get('title', slug)}”, question {number}: “{choice.get('text')}”")
    return uses


def misconception_remove(session: Session, *, course: Course, code: str, user_id: int | None = None) -> None:
    """Delete a misconception no choice points to any more."""
    with _editing(session, course, user_id) as (draft, data):
        if code not in _misconceptions(data):
            raise NotInDraft(f"There is no misconception “{code}” in the draft.")
        if uses := misconception_uses(data, code):
            raise DraftError(f"“{code}” is still used by {len(uses)} choice(s): " + "; ".join(uses) + ".")
        del _misconceptions(data)[code]
        _save(session, course, draft, data, user_id=user_id)


# --- preview and publish -----------------------------------------------------------------------


def _relative_order(before: list, after: list) -> bool:
    """Whether the items both lists hold come in a different order."""
    kept = set(before) & set(after)
    return [item for item in before if item in kept] != [item for item in after if item in kept]


def order_changes(published: dict, draft: dict) -> list[str]:
    """Moves the import report does not describe: lessons, questions and choices put in a new order."""
    changes = []
    old_module = {slug: m["slug"] for m in published["course"]["modules"] for slug in m["lessons"]}
    titles = {m["slug"]: m["title"] for m in _modules(draft)}
    for module in _modules(draft):
        old_lessons = [slug for slug in draft_lesson_order(published) if old_module.get(slug) == module["slug"]]
        for slug in module["lessons"]:
            if slug in old_module and old_module[slug] != module["slug"]:
                title = draft["lessons"][slug]["front"].get("title", slug)
                changes.append(f"Lesson “{title}” moved to module “{titles[module['slug']]}”")
        if _relative_order(old_lessons, module["lessons"]):
            changes.append(f"Module “{module['title']}”: lessons reordered")
    for slug in draft_lesson_order(draft):
        if slug not in published["lessons"]:
            continue
        title = draft["lessons"][slug]["front"].get("title", slug)
        old_quiz = {q["id"]: q for q in published["lessons"][slug]["front"].get("quiz", [])}
        new_quiz = [q for q in draft["lessons"][slug]["front"].get("quiz", []) if q.get("id") in old_quiz]
        if _relative_order(list(old_quiz), [q["id"] for q in new_quiz]):
            changes.append(f"Lesson “{title}”: questions reordered")
        for question in new_quiz:
            old_ids = [c["id"] for c in old_quiz[question["id"]]["choices"]]
            if _relative_order(old_ids, [c.get("id") for c in question["choices"]]):
                changes.append(f"Lesson “{title}”, question “{question['prompt']}”: choices reordered")
    return changes


def _preview(session: Session, course: Course, data: dict) -> PublishPreview:
    """Validate the draft data and dry-run its import (which rolls the session back)."""
    try:
        spec = parse_course_data(data, allow_ids=True)
    except CourseInvalid as invalid:
        return PublishPreview(has_draft=True, problems=invalid.problems)
    moves = order_changes(course_to_data(session, course, with_ids=True), data)
    report = course_import(session, spec, dry_run=True)
    summary = report.summary() if report.changed else f"{report.course_slug}:"
    if moves:
        summary = summary.rstrip(".:") + ("; " if report.changed else " ") + f"reordered {len(moves)} item(s)."
    return PublishPreview(
        has_draft=True, changes=report.changes + moves, summary=summary, spec=spec, warnings=course_warnings(spec)
    )


def publish_preview(session: Session, *, course: Course) -> PublishPreview:
    """Work out what publishing the draft would change, or what stops it.

    This runs the import and rolls it back, so it also rolls back anything pending in the
    session and expires what was loaded: call it before changing anything in the same session.
    """
    draft = draft_get(session, course)
    if draft is None:
        return PublishPreview(has_draft=False)
    return _preview(session, course, copy.deepcopy(draft.data))


def publish(session: Session, *, course: Course, user_id: int | None = None) -> CoursePublication:
    """Publish the draft: import it, record the publication and drop the draft, in one transaction.

    Raises NothingToPublish when the draft changes nothing, DraftInvalid when it breaks a rule.
    """
    preview = publish_preview(session, course=course)
    if preview.problems:
        raise DraftInvalid(preview.problems, other=[str(problem) for problem in preview.problems])
    # The dry run has rolled back, so nothing is written before the import below.
    draft = draft_get(session, course)
    if draft is not None:
        session.delete(draft)
    if not preview.changes:
        session.commit()
        raise NothingToPublish("There are no unpublished changes.")
    publication = CoursePublication(
        course_id=course.id,
        published_by_id=user_id,
        summary=preview.summary + "\n" + "".join(f"- {change}\n" for change in preview.changes),
    )
    session.add(publication)
    course_import(session, preview.spec)  # commits the import, the record and the draft's removal together
    return publication


def quality_warnings(session: Session, *, course: Course, preview: PublishPreview) -> list[Problem]:
    """The quality warnings of the valid draft in ``preview``, or else of the published course."""
    if preview.spec is not None:
        return preview.warnings
    if preview.problems:
        return []  # the draft's problems come first; its warnings follow once it is valid
    try:
        return course_warnings(parse_course_data(course_to_data(session, course)))
    except CourseInvalid:
        return []


def last_publication(session: Session, *, course: Course) -> CoursePublication | None:
    """The course's most recent publication, if any."""
    return session.scalar(
        select(CoursePublication)
        .where(CoursePublication.course_id == course.id)
        .order_by(CoursePublication.published_at.desc(), CoursePublication.id.desc())
        .limit(1)
    )
