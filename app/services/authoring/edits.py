"""Edits to the draft: the course's details, modules, lessons, questions and misconceptions.

Edit functions take the course and plain values, change a copy of the draft, and save it only if
the edit brought in no new problem; otherwise they raise DraftInvalid, whose ``field_errors``
name the edited item's fields so a form can show each message beside its field. Each edit is one
transaction (draft.editing and draft.draft_save): it commits on success and rolls back on failure.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Course, Lesson
from app.services.authoring.draft import (
    ChoiceData,
    DraftData,
    DraftError,
    DraftInvalid,
    LessonData,
    LessonFront,
    MisconceptionData,
    NotInDraft,
    QuestionData,
    ReviewData,
    SourceData,
    course_fingerprint,
    draft_lesson,
    draft_lesson_order,
    draft_modules,
    draft_question,
    draft_save,
    editing,
    lesson_fingerprint,
    lesson_place,
    misconception_fingerprint,
    module_fingerprint,
    module_index,
    question_fingerprint,
)
from app.services.course_files import SLUG_PATTERN, SOURCE_URL_PATTERN
from app.services.course_quality import review_changed_since
from app.services.markdown import ImageSource, render_markdown, sanitise_text

DIRECTIONS = ("up", "down")


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


# --- cleaning ----------------------------------------------------------------------------------


def _clean(text: object) -> str:
    """Author text as the draft keeps it: trimmed, otherwise as written.

    Nothing is taken out here: the course rules refuse text the sanitiser would change
    (``markup_removed``), naming what would go, so an edit is saved as written or not at all.
    Publishing sanitises every text again before learners get it.
    """
    return str(text or "").replace("\r\n", "\n").replace("\r", "\n").strip()  # a browser's textarea sends "\r\n"


def clean_body(markdown_text: str) -> str:
    """A lesson body as the draft stores it: as written (see ``_clean``), trimmed, one final newline."""
    cleaned = str(markdown_text or "").replace("\r\n", "\n").strip()
    return cleaned + "\n" if cleaned else ""


def lesson_preview_html(markdown_text: str, media: Mapping[str, ImageSource] | None = None) -> str:
    """The lesson body's HTML exactly as learners will get it once published.

    ``media`` is the course's images (``course_media.media_sources``); without it, an image shows
    as its alt text.
    """
    return render_markdown(clean_body(markdown_text), media=media)


def _day_text(value: date | str | None) -> str:
    """A date as the draft stores it (YYYY-MM-DD); text that is no date is kept for the rules to judge."""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value or "").strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return text


def _review_data(review: ReviewInput | None) -> ReviewData | None:
    """The review as draft data, or None when nothing was given; a missing part is left out."""
    if review is None:
        return None
    raw = {
        "reviewed_by": _clean(review.reviewed_by),
        "reviewed_on": _day_text(review.reviewed_on),
        "next_review_on": _day_text(review.next_review_on),
    }
    given = {key: value for key, value in raw.items() if value}
    return cast(ReviewData, given) if given else None


def _keep_change_since_review(before: ReviewData | None, after: ReviewData) -> ReviewData:
    """The edited review, still saying when the content changed since the review before, unless
    it is dated again to cover that change (``review_changed_since``). The form does not show
    the day, so saving it must not drop it."""
    recorded = _as_day((before or {}).get("changed_since_review_on"))
    reviewed_on = _as_day(after.get("reviewed_on"))
    if recorded is None or reviewed_on is None:
        return after  # nothing recorded, or a review date the rules will refuse anyway
    still = review_changed_since(
        reviewed_on=reviewed_on,
        reviewed_before=_as_day((before or {}).get("reviewed_on")),
        recorded=recorded,
        content_changed_on=None,
    )
    return cast(ReviewData, {**after, "changed_since_review_on": still.isoformat()}) if still else after


def _as_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _sources_data(sources: list[SourceInput]) -> list[SourceData]:
    """Sources as draft data: a title, and an address only where one was given."""
    result = []
    for source in sources:
        raw: SourceData = {"title": _clean(source.title)}
        url = str(source.url or "").strip()
        if url:
            raw["url"] = url
        result.append(raw)
    return result


def sources_preview(sources: list[SourceInput]) -> list[dict[str, str | None]]:
    """Unsaved sources as a lesson would list them: cleaned titles, and only addresses the rules accept."""
    return [
        {
            "title": sanitise_text(raw["title"]),  # as publishing would store it
            "url": raw.get("url") if SOURCE_URL_PATTERN.match(raw.get("url", "")) else None,
        }
        for raw in _sources_data(sources)
        if raw["title"]
    ]


# --- slugs and moves ---------------------------------------------------------------------------


def _slug_taken(data: DraftData, slug: str) -> bool:
    modules = {module["slug"] for module in draft_modules(data)}
    return slug in modules or slug in draft_lesson_order(data) or slug in data["lessons"]


def _check_new_slug(data: DraftData, slug: str) -> str:
    slug = (slug or "").strip()
    if not SLUG_PATTERN.match(slug):
        raise DraftInvalid.on_field("slug", "Use lower-case letters, digits and hyphens, e.g. “side-effects”.")
    if _slug_taken(data, slug):
        raise DraftInvalid.on_field("slug", f"“{slug}” is already used by a module or lesson in this course.")
    return slug


# A lesson's slug names its row, and so learners' progress on it: publishing a new lesson under a
# removed one's slug brings that row back, marking it passed for everyone who had passed the old one.
RETIRED_SLUG = (
    "A removed lesson had the address “{slug}”, and learners' progress on it is kept: a new lesson there "
    "would take that progress over. Choose another slug, or restore the removed lesson from the "
    "publication history."
)
# The same harm before publishing: the lesson removed in this draft is still live, and publishing
# a new lesson under its slug would make it an edit of that lesson, progress, attempts and all.
REMOVED_IN_DRAFT_SLUG = (
    "“{title}”, which this draft removes, keeps the address “{slug}” until you publish: a new lesson "
    "there would become that lesson again, with any progress and attempts learners have on it. "
    "Choose another slug."
)


def _lesson_slug_in_use(session: Session, course: Course, slug: str) -> str | None:
    """Why a new lesson cannot have this slug though the draft does not use it: a published lesson
    has it, retired or removed in the draft (the message to show), else None."""
    found = session.execute(
        select(Lesson.title, Lesson.retired_at).where(Lesson.course_id == course.id, Lesson.slug == slug)
    ).first()
    if found is None:
        return None
    title, retired_at = found
    return RETIRED_SLUG.format(slug=slug) if retired_at else REMOVED_IN_DRAFT_SLUG.format(title=title, slug=slug)


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
    opened_as: str | None = None,
) -> None:
    """Change the course's title, summary and pass mark (a share of questions right, above 0, at most 1).

    ``review`` (None or all parts empty: no review recorded) and ``help`` (Markdown shown after
    every lesson; empty: none) change too when given. ``opened_as``: the details' fingerprint
    when the page was opened (``course_fingerprint``), as ``lesson_update``'s.
    """
    with editing(session, course, user_id) as (draft, data):
        _unchanged_since_opened(
            opened_as, course_fingerprint(data), CHANGED_SINCE_OPENED.format(what="the course details")
        )
        raw = data["course"]
        raw["title"], raw["summary"], raw["pass_mark"] = _clean(title), _clean(summary), pass_mark
        if review is not KEEP:
            review_raw = _review_data(review)
            if review_raw is None:
                raw.pop("review", None)
            else:
                raw["review"] = _keep_change_since_review(raw.get("review"), review_raw)
        if help is not KEEP:
            help_text = clean_body(help)
            if help_text:
                raw["help"] = help_text
            else:
                raw.pop("help", None)
        draft_save(session, course, draft, data, user_id=user_id)


# --- modules -----------------------------------------------------------------------------------


def module_add(session: Session, *, course: Course, slug: str, title: str, user_id: int | None = None) -> None:
    """Add an empty module at the end of the course; lessons can then be added to it."""
    with editing(session, course, user_id) as (draft, data):
        slug = _check_new_slug(data, slug)
        draft_modules(data).append({"slug": slug, "title": _clean(title), "lessons": []})
        draft_save(session, course, draft, data, user_id=user_id, prefix=f"modules[{len(draft_modules(data))}].")


def module_rename(
    session: Session,
    *,
    course: Course,
    module_slug: str,
    title: str,
    user_id: int | None = None,
    opened_as: str | None = None,
) -> None:
    """Change a module's title; ``opened_as`` as ``lesson_update``'s (``module_fingerprint``)."""
    with editing(session, course, user_id) as (draft, data):
        index = module_index(data, module_slug)
        _unchanged_since_opened(
            opened_as, module_fingerprint(data, module_slug), CHANGED_SINCE_OPENED.format(what="this module")
        )
        draft_modules(data)[index]["title"] = _clean(title)
        draft_save(session, course, draft, data, user_id=user_id, prefix=f"modules[{index + 1}].")


def module_move(
    session: Session, *, course: Course, module_slug: str, direction: str, user_id: int | None = None
) -> None:
    """Move a module one place up or down, with its lessons."""
    with editing(session, course, user_id) as (draft, data):
        _move(draft_modules(data), module_index(data, module_slug), direction, "module")
        draft_save(session, course, draft, data, user_id=user_id)


def module_delete(session: Session, *, course: Course, module_slug: str, user_id: int | None = None) -> None:
    """Delete a module that has no lessons left."""
    with editing(session, course, user_id) as (draft, data):
        index = module_index(data, module_slug)
        if draft_modules(data)[index]["lessons"]:
            raise DraftError("Move or remove the module's lessons first: only an empty module can be deleted.")
        del draft_modules(data)[index]
        draft_save(session, course, draft, data, user_id=user_id)


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
    with editing(session, course, user_id) as (draft, data):
        index = module_index(data, module_slug)
        slug = _check_new_slug(data, slug)
        if in_use := _lesson_slug_in_use(session, course, slug):
            raise DraftInvalid.on_field("slug", in_use)
        draft_modules(data)[index]["lessons"].append(slug)
        front: LessonFront = {"title": _clean(title), "minutes": minutes}
        if sources:
            front["sources"] = _sources_data(sources)
        data["lessons"][slug] = {"front": front, "body": clean_body(body)}
        draft_save(session, course, draft, data, user_id=user_id, file=f"lessons/{slug}.md")


def _set_sources(lesson: LessonData, sources: list[SourceInput]) -> None:
    """Replace the lesson's sources, kept before its quiz as in the files; none: no sources key."""
    front = lesson["front"]
    front.pop("sources", None)
    quiz = front.pop("quiz", None)  # taken out and put back, so it stays last
    if sources:
        front["sources"] = _sources_data(sources)
    if quiz is not None:
        front["quiz"] = quiz


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
    opened_as: str | None = None,
) -> None:
    """Change a lesson's title, reading time, body and (when given) sources; move it to the end of another module.

    ``opened_as``: the lesson's fingerprint when its page was opened (``lesson_fingerprint``); if
    another admin has changed it since, DraftInvalid and nothing changes.
    """
    with editing(session, course, user_id) as (draft, data):
        lesson = draft_lesson(data, lesson_slug)
        _unchanged_since_opened(opened_as, lesson_fingerprint(data, lesson_slug), LESSON_CHANGED)
        lesson["front"]["title"], lesson["front"]["minutes"] = _clean(title), minutes
        if sources is not KEEP:
            _set_sources(lesson, sources)
        lesson["body"] = clean_body(body)
        current, index = lesson_place(data, lesson_slug)
        if module_slug is not None and module_slug != draft_modules(data)[current]["slug"]:
            target = module_index(data, module_slug)
            del draft_modules(data)[current]["lessons"][index]
            draft_modules(data)[target]["lessons"].append(lesson_slug)
        draft_save(session, course, draft, data, user_id=user_id, file=f"lessons/{lesson_slug}.md")


def lesson_move(
    session: Session, *, course: Course, lesson_slug: str, direction: str, user_id: int | None = None
) -> None:
    """Move a lesson one place up or down; past the end of its module it joins the next one."""
    with editing(session, course, user_id) as (draft, data):
        modules = draft_modules(data)
        current, index = lesson_place(data, lesson_slug)
        lessons = modules[current]["lessons"]
        if direction not in DIRECTIONS:
            raise DraftError("Move up or down.")
        if direction == "up" and index == 0:
            if current == 0:
                raise DraftError("The lesson is already first.")
            lessons.pop(index)
            modules[current - 1]["lessons"].append(lesson_slug)
        elif direction == "down" and index == len(lessons) - 1:
            if current == len(modules) - 1:
                raise DraftError("The lesson is already last.")
            lessons.pop(index)
            modules[current + 1]["lessons"].insert(0, lesson_slug)
        else:
            _move(lessons, index, direction, "lesson")
        draft_save(session, course, draft, data, user_id=user_id)


def lesson_remove(session: Session, *, course: Course, lesson_slug: str, user_id: int | None = None) -> None:
    """Take a lesson out of the draft. On publish it is retired if learners have history with it, else deleted."""
    with editing(session, course, user_id) as (draft, data):
        current, index = lesson_place(data, lesson_slug)
        del draft_modules(data)[current]["lessons"][index]
        data["lessons"].pop(lesson_slug, None)
        draft_save(session, course, draft, data, user_id=user_id)


# --- questions and their choices ---------------------------------------------------------------


def _question_data(question: QuestionInput, known_ids: set[int], question_id: int | None) -> QuestionData:
    """A question as course data; choice ids are kept only for this question's own choices.

    Keys are added in the files' order, so the draft reads like a lesson file.
    """
    choices: list[ChoiceData] = []
    for choice in question.choices:
        raw: dict[str, object] = {"text": _clean(choice.text)}
        if choice.correct:
            raw["correct"] = True
        if choice.safety_critical:
            raw["safety_critical"] = True
        raw["feedback"] = _clean(choice.feedback)
        if choice.misconception:
            raw["misconception"] = choice.misconception
        if choice.id is not None and choice.id in known_ids:
            raw["id"] = choice.id
            known_ids.discard(choice.id)  # one row, one choice: a repeated id makes a new choice
        choices.append(cast(ChoiceData, raw))
    raw_question: dict[str, object] = {"kind": question.kind}
    if not question.shuffle:
        raw_question["shuffle"] = False
    raw_question |= {
        "prompt": _clean(question.prompt),
        "explanation": _clean(question.explanation),
        "choices": choices,
    }
    if question_id is not None:
        raw_question["id"] = question_id
    return cast(QuestionData, raw_question)


def _quiz(lesson: LessonData) -> list[QuestionData]:
    return lesson["front"].setdefault("quiz", [])


def _tidy_quiz(lesson: LessonData) -> None:
    """A lesson without questions has no quiz key, as in the files."""
    if not lesson["front"].get("quiz"):
        lesson["front"].pop("quiz", None)


def question_add(
    session: Session, *, course: Course, lesson_slug: str, question: QuestionInput, user_id: int | None = None
) -> int:
    """Add a question at the end of the lesson's quiz; return its position."""
    with editing(session, course, user_id) as (draft, data):
        quiz = _quiz(draft_lesson(data, lesson_slug))
        quiz.append(_question_data(question, set(), None))
        position = len(quiz)
        draft_save(
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
    opened_as: str | None = None,
) -> None:
    """Replace a question's kind, prompt, explanation, shuffling and whole list of choices.

    Choices keep their ids, so learners' answers stay linked; a choice left out is removed
    (retired on publish if a learner picked it). ``opened_as``: the question's fingerprint when
    the form was opened (``question_fingerprint``); if the question at ``position`` is no longer
    that one, DraftInvalid, and nothing changes: an edit made on another question's page, or on
    a version of it another admin has changed since, would overwrite it.
    """
    with editing(session, course, user_id) as (draft, data):
        existing = draft_question(data, lesson_slug, position)
        _unchanged_since_opened(opened_as, question_fingerprint(existing), QUESTION_CHANGED)
        known = {c["id"] for c in existing.get("choices", []) if isinstance(c, dict) and "id" in c}
        _quiz(draft_lesson(data, lesson_slug))[position - 1] = _question_data(question, known, existing.get("id"))
        draft_save(
            session, course, draft, data, user_id=user_id, file=f"lessons/{lesson_slug}.md", prefix=f"quiz[{position}]."
        )


LESSON_CHANGED = (
    "Someone else changed this lesson in the draft after you opened it, so your changes were not saved: "
    "they would have overwritten theirs. Your text is still in the form below. Open the lesson again, "
    "then make your changes there."
)
CHANGED_SINCE_OPENED = (
    "Someone else changed {what} in the draft after you opened the page, so your changes were not saved: "
    "they would have overwritten theirs. Your text is still in the form below. Open the page again, then "
    "make your changes there."
)


def _unchanged_since_opened(opened_as: str | None, now: str, message: str) -> None:
    """Refuse a save whose page was opened on data another admin has changed since (DraftInvalid,
    saying ``message``): ``opened_as`` the fingerprint the page was opened with, ``now`` the data's."""
    if opened_as is not None and opened_as != now:
        raise DraftInvalid([], other=[message])


QUESTION_CHANGED = (
    "This question was moved, removed or changed in the draft after you opened it, so your changes "
    "were not saved: they would have overwritten it. Your text is still in the form below. Open the "
    "question again from its lesson, then make your changes there."
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
    with editing(session, course, user_id) as (draft, data):
        draft_question(data, lesson_slug, position)
        _move(_quiz(draft_lesson(data, lesson_slug)), position - 1, direction, "question")
        draft_save(session, course, draft, data, user_id=user_id, file=f"lessons/{lesson_slug}.md")


def question_remove(
    session: Session, *, course: Course, lesson_slug: str, position: int, user_id: int | None = None
) -> None:
    """Take a question out of the quiz. On publish it is retired if learners answered it, else deleted."""
    with editing(session, course, user_id) as (draft, data):
        draft_question(data, lesson_slug, position)
        lesson = draft_lesson(data, lesson_slug)
        del _quiz(lesson)[position - 1]
        _tidy_quiz(lesson)
        draft_save(session, course, draft, data, user_id=user_id, file=f"lessons/{lesson_slug}.md")


# --- misconceptions ----------------------------------------------------------------------------


def _misconceptions(data: DraftData) -> dict[str, MisconceptionData]:
    return data["course"].setdefault("misconceptions", {})


def _misconception_data(learner: str, counsellor: str, title: str, safety_critical: bool) -> MisconceptionData:
    """A misconception as draft data; an empty title and a false mark are left out, as in the files."""
    raw: dict[str, object] = {}
    if title := _clean(title):
        raw["title"] = title
    if safety_critical:
        raw["safety_critical"] = True
    return cast(MisconceptionData, raw | {"learner": _clean(learner), "counsellor": _clean(counsellor)})


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
    with editing(session, course, user_id) as (draft, data):
        code = (code or "").strip()
        if not SLUG_PATTERN.match(code):
            raise DraftInvalid.on_field(
                "code", "Use lower-case letters, digits and hyphens, e.g. “thinks-it-is-a-cure”."
            )
        if code in _misconceptions(data):
            raise DraftInvalid.on_field("code", f"“{code}” is already defined.")
        _misconceptions(data)[code] = _misconception_data(learner, counsellor, title, safety_critical)
        draft_save(session, course, draft, data, user_id=user_id, prefix=f"misconceptions.{code}.")


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
    opened_as: str | None = None,
) -> None:
    """Change what the learner and the counsellor are told about a misconception, and (when given)
    its short title and whether believing it is safety-critical; ``opened_as`` as
    ``lesson_update``'s (``misconception_fingerprint``)."""
    with editing(session, course, user_id) as (draft, data):
        if code not in _misconceptions(data):
            raise NotInDraft(f"There is no misconception “{code}” in the draft.")
        _unchanged_since_opened(
            opened_as, misconception_fingerprint(data, code), CHANGED_SINCE_OPENED.format(what="this misconception")
        )
        current = _misconceptions(data)[code]
        old: MisconceptionData | dict[str, object] = current if isinstance(current, dict) else {}
        _misconceptions(data)[code] = _misconception_data(
            learner,
            counsellor,
            str(old.get("title") or "") if title is KEEP else title,
            bool(old.get("safety_critical")) if safety_critical is KEEP else safety_critical,
        )
        draft_save(session, course, draft, data, user_id=user_id, prefix=f"misconceptions.{code}.")


def misconception_uses(data: DraftData, code: str) -> list[str]:
    """Where the draft's choices point to a misconception, described for an admin."""
    uses = []
    for slug in draft_lesson_order(data):
        lesson = data["lessons"].get(slug)
        if lesson is None:
            continue
        for number, question in enumerate(lesson["front"].get("quiz") or [], start=1):
            for choice in question.get("choices", []):
                if choice.get("misconception") == code:
                    uses.append(f"“{lesson['front'].get('title', slug)}”, question {number}: “{choice.get('text')}”")
    return uses


def misconception_remove(session: Session, *, course: Course, code: str, user_id: int | None = None) -> None:
    """Delete a misconception no choice points to any more."""
    with editing(session, course, user_id) as (draft, data):
        if code not in _misconceptions(data):
            raise NotInDraft(f"There is no misconception “{code}” in the draft.")
        if uses := misconception_uses(data, code):
            raise DraftError(f"“{code}” is still used by {len(uses)} choice(s): " + "; ".join(uses) + ".")
        del _misconceptions(data)[code]
        draft_save(session, course, draft, data, user_id=user_id)
