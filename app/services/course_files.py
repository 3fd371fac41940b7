"""Read and validate a course folder (course.yaml + lessons/*.md + media/*) into plain specs.

Validation collects every problem, each located by file and field, instead of stopping at the
first, so an author can fix a course in one pass.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from app.question_kinds import KINDS, QUESTION_KINDS
from app.services.course_media import EXTENSIONS, MediaRefused, image_check, name_problem
from app.services.errors import CourseInvalid, Problem
from app.services.markdown import MEDIA_PREFIX, markdown_images, markup_removed

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# What the columns hold (app/models/course.py): a draft or file over them is refused with a
# problem named, never left to fail (or be cut short) when it is saved.
SLUG_LONGEST = 80
TITLE_LONGEST = 200
# The most characters of the longer texts: far beyond what any of them needs (the shipped course's
# longest are a fifth of these or less), low enough that a paste gone wrong (a whole document in a
# summary) is refused with its field named instead of saved and shown on every page.
SUMMARY_LONGEST = 1_000
PROMPT_LONGEST = 1_000
CHOICE_LONGEST = 500
EXPLANATION_LONGEST = 2_000  # also a choice's feedback and a misconception's texts
SOURCE_TITLE_LONGEST = 300
BODY_LONGEST = 50_000
HELP_LONGEST = 10_000
# The lesson form's limit too: a lesson of more than ten hours is a typing slip.
MOST_LESSON_MINUTES = 600
COURSE_KEYS = {"slug", "title", "summary", "pass_mark", "modules", "misconceptions", "review", "help"}
REVIEW_KEYS = {"reviewed_by", "reviewed_on", "next_review_on", "changed_since_review_on"}
MODULE_KEYS = {"slug", "title", "lessons"}
MISCONCEPTION_KEYS = {"title", "learner", "counsellor", "safety_critical"}
LESSON_KEYS = {"title", "minutes", "sources", "quiz"}
SOURCE_KEYS = {"title", "url"}
QUESTION_KEYS = {"kind", "prompt", "explanation", "shuffle", "choices"}
CHOICE_KEYS = {"text", "correct", "feedback", "misconception", "safety_critical"}
SOURCE_URL_PATTERN = re.compile(r"^https?://[^\s/]+\.[^\s]+$")


@dataclass
class ChoiceSpec:
    text: str
    correct: bool
    feedback: str
    misconception: str | None = None
    id: int | None = None  # set only in drafts made from the database, never in files
    # A wrong choice that could kill or seriously harm if believed: its feedback is a warning.
    safety_critical: bool = False


@dataclass
class QuestionSpec:
    kind: str
    prompt: str
    explanation: str
    choices: list[ChoiceSpec]
    id: int | None = None  # set only in drafts made from the database, never in files
    # False pins the written order (True/False, "none of these"); otherwise each attempt draws one.
    shuffle: bool = True


@dataclass
class SourceSpec:
    """Where a lesson's facts come from: a title, and an address where one exists."""

    title: str
    url: str | None = None


@dataclass
class LessonSpec:
    slug: str
    title: str
    minutes: int
    body: str
    quiz: list[QuestionSpec]
    sources: list[SourceSpec] = field(default_factory=list)


@dataclass
class ModuleSpec:
    slug: str
    title: str
    lesson_slugs: list[str]


@dataclass
class MisconceptionSpec:
    learner: str
    counsellor: str
    title: str = ""  # a short name for counsellors' talking points
    safety_critical: bool = False


@dataclass
class ReviewSpec:
    """Who last reviewed the course's content, when, and when it is next due; and the latest day
    the content changed that this review does not cover (None: it covers everything)."""

    reviewed_by: str
    reviewed_on: date
    next_review_on: date
    changed_since_review_on: date | None = None


@dataclass
class MediaSpec:
    """An image of the course (media/<name>), checked by its content and stripped of metadata."""

    name: str
    content_type: str
    data: bytes = field(repr=False)
    width: int
    height: int
    sha256: str


@dataclass
class CourseSpec:
    slug: str
    title: str
    summary: str
    pass_mark: float
    modules: list[ModuleSpec]
    lessons: dict[str, LessonSpec]
    misconceptions: dict[str, MisconceptionSpec] = field(default_factory=dict)
    review: ReviewSpec | None = None
    help: str = ""  # Markdown shown after every lesson under "Where to get help"
    # A draft made from the database names its rows by id; a row without an id is new.
    from_draft: bool = False
    # The images of a course folder by name; a draft's images are already in the database.
    media: dict[str, MediaSpec] = field(default_factory=dict)


# What to do about an image a text shows that the course lacks, where its author works: in the
# browser (a draft, an earlier version restored) or in a course folder (flask courses validate, import).
ADD_IMAGE_IN_BROWSER = "upload it first, on the course's Images page (the “Images” button on the authoring page)"
ADD_IMAGE_IN_FOLDER = f"put it in the course folder's {MEDIA_PREFIX} first"


class _Collector:
    """Gathers problems for one file while reading it."""

    def __init__(
        self, problems: list[Problem], file: str, *, allow_ids: bool = False, add_image: str = ADD_IMAGE_IN_BROWSER
    ):
        self.problems = problems
        self.file = file
        self.allow_ids = allow_ids
        self.add_image = add_image

    def add(self, field_name: str, message: str) -> None:
        self.problems.append(Problem(self.file, field_name, message))

    def text(
        self,
        data: dict,
        key: str,
        where: str,
        *,
        required: bool = True,
        longest: int | None = None,
        prose: bool = True,
        one_line: bool = False,
    ) -> str:
        """The text at ``key``, stripped; ``longest``: the most characters its column holds;
        ``prose``: text for people, checked for markup (not a kind or an address, which have rules of their own);
        ``one_line``: a title or a name, which a line break would split in a page's title, a PDF or a CSV."""
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(where + key, "is required")
            return ""
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.add(where + key, "must be text")
            return ""
        text = str(value).strip()
        if one_line and len(text.splitlines()) > 1:  # \n, \r and the rest Python counts as line breaks
            self.add(where + key, "must be one line: take out the line break")
        if longest is not None and not self.at_most(text, where + key, longest):
            return text  # one problem is enough: the markup check would only read the excess
        if prose:
            self.markup(text, where + key)
        return text

    def at_most(self, text: str, where: str, longest: int) -> bool:
        """Whether the text has at most ``longest`` characters (spaces at its ends not counted);
        reported if not."""
        if len(text.strip()) <= longest:
            return True
        self.add(where, f"must be {longest:,} characters or fewer (it has {len(text.strip()):,})")
        return False

    def markup(self, text: str, where: str, *, markdown: bool = False) -> None:
        """Report text the sanitiser would change: it would be stored without what it removes."""
        removed = markup_removed(text, markdown=markdown)
        if removed is not None:
            kept = "write Markdown instead (**bold**, [a link](https://...))" if markdown else "write plain text"
            self.add(where, f"“{removed}” would be removed: HTML tags and script links are not kept, so {kept}")

    def flag(self, data: dict, key: str, where: str, *, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.add(where + key, "must be true or false")
            return default
        return value

    def day(self, data: dict, key: str, where: str) -> date | None:
        """A calendar date, written as YYYY-MM-DD (YAML reads it as a date; drafts keep text)."""
        value = data.get(key)
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.add(where + key, "must be a date written as YYYY-MM-DD" if value is not None else "is required")
        return None

    def unknown_keys(self, data: dict, allowed: set[str], where: str) -> None:
        if self.allow_ids:
            allowed = allowed | {"id"}
        for key in data:
            if key not in allowed:
                self.add(where + str(key), f"unknown field (expected one of: {', '.join(sorted(allowed))})")

    def row_id(self, data: dict, where: str) -> int | None:
        """A draft's link to an existing row; files never carry one."""
        value = data.get("id")
        if value is None or not self.allow_ids:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.add(where + "id", "must be a whole number")
            return None
        return value

    def slug(self, data: dict, where: str) -> str:
        value = self.text(data, "slug", where, longest=SLUG_LONGEST)
        if value and not SLUG_PATTERN.match(value):
            self.add(where + "slug", f"{value!r} must be lower-case letters, digits and hyphens")
        return value


def _load_yaml(text: str, collector: _Collector, label: str, *, first_line: int = 1) -> Any:
    """Parse YAML; on error report it at its line in the file (``text`` starts at ``first_line``)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + first_line}" if mark is not None else label
        reason = getattr(exc, "problem", None) or "cannot be read"
        collector.add(where, f"bad YAML ({reason})")
        return None


def _split_front_matter(text: str) -> tuple[str, str] | None:
    """Split '---\\nfront matter\\n---\\nbody' into its two parts, or None if absent."""
    match = re.match(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?(.*)\Z", text, re.S | re.M)
    if not match:
        return None
    return match.group(1), match.group(2)


def _read_choice(raw: Any, c: _Collector, where: str, codes: set[str]) -> ChoiceSpec | None:
    if not isinstance(raw, dict):
        c.add(where.rstrip("."), "must be a mapping with text and feedback")
        return None
    c.unknown_keys(raw, CHOICE_KEYS, where)
    correct = raw.get("correct", False)
    if not isinstance(correct, bool):
        c.add(where + "correct", "must be true or false")
        correct = False
    code = raw.get("misconception")
    if code is not None:
        code = str(code).strip()
        if code not in codes:
            c.add(where + "misconception", f"unknown misconception code {code!r} (define it in course.yaml)")
        if correct:
            c.add(where + "misconception", "a correct choice cannot reveal a misconception")
    safety_critical = c.flag(raw, "safety_critical", where, default=False)
    if safety_critical and correct:
        c.add(where + "safety_critical", "only a wrong choice can be marked safety-critical")
    return ChoiceSpec(
        text=c.text(raw, "text", where, longest=CHOICE_LONGEST),
        correct=correct,
        feedback=c.text(raw, "feedback", where, longest=EXPLANATION_LONGEST),
        misconception=code or None,
        id=c.row_id(raw, where),
        safety_critical=safety_critical,
    )


def _read_question(raw: Any, c: _Collector, where: str, codes: set[str]) -> QuestionSpec | None:
    if not isinstance(raw, dict):
        c.add(where.rstrip("."), "must be a mapping with kind, prompt, explanation and choices")
        return None
    c.unknown_keys(raw, QUESTION_KEYS, where)
    kind = c.text(raw, "kind", where, prose=False)
    if kind and kind not in QUESTION_KINDS:
        c.add(where + "kind", f"{kind!r} is not one of {', '.join(QUESTION_KINDS)}")
    raw_choices = raw.get("choices")
    choices: list[ChoiceSpec] = []
    if not isinstance(raw_choices, list) or len(raw_choices) < 2:
        c.add(where + "choices", "needs a list of at least 2 choices")
    else:
        for index, raw_choice in enumerate(raw_choices):
            choice = _read_choice(raw_choice, c, f"{where}choices[{index + 1}].", codes)
            if choice:
                choices.append(choice)
        texts = [choice.text for choice in choices if choice.text]
        if len(texts) != len(set(texts)):
            c.add(where + "choices", "two choices have the same text")
        if kind in KINDS:
            correct_count = sum(choice.correct for choice in choices)
            for problem in KINDS[kind].choice_problems(correct_count=correct_count, choice_count=len(raw_choices)):
                c.add(where + "choices", problem)
    return QuestionSpec(
        kind=kind,
        prompt=c.text(raw, "prompt", where, longest=PROMPT_LONGEST),
        explanation=c.text(raw, "explanation", where, longest=EXPLANATION_LONGEST),
        choices=choices,
        id=c.row_id(raw, where),
        shuffle=c.flag(raw, "shuffle", where, default=True),
    )


def _read_sources(raw: Any, c: _Collector) -> list[SourceSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        c.add("sources", "must be a list of sources, each with a title and an optional url")
        return []
    sources = []
    for index, raw_source in enumerate(raw):
        where = f"sources[{index + 1}]."
        if not isinstance(raw_source, dict):
            c.add(where.rstrip("."), "must be a mapping with a title and an optional url")
            continue
        c.unknown_keys(raw_source, SOURCE_KEYS, where)
        url = c.text(raw_source, "url", where, required=False, prose=False) or None
        if url and not SOURCE_URL_PATTERN.match(url):
            c.add(where + "url", "must be a web address starting with https:// or http://")
            url = None
        sources.append(
            SourceSpec(title=c.text(raw_source, "title", where, longest=SOURCE_TITLE_LONGEST, one_line=True), url=url)
        )
    return sources


def _read_lesson_text(text: str, c: _Collector) -> tuple[dict, str] | None:
    """Split a lesson file into its front matter (parsed) and body, reporting problems."""
    parts = _split_front_matter(text)
    if parts is None:
        c.add("front matter", "the file must start with YAML front matter between '---' lines")
        return None
    front_text, body = parts
    known_problems = len(c.problems)
    # Front matter starts on line 2, after the opening '---'.
    front = _load_yaml(front_text, c, "front matter", first_line=2)
    if front is None:
        if len(c.problems) == known_problems:
            c.add("front matter", "is empty")
        return None
    if not isinstance(front, dict):
        c.add("front matter", "must be a mapping of fields")
        return None
    return front, body


def _check_images(text: str, c: _Collector, where: str, media_names: Collection[str] | None) -> None:
    """Report each image in the Markdown without alt text, from another site, or not among the course's images.

    ``media_names`` None skips the last check (for callers that only read the text's shape).
    """
    for image in markdown_images(text):
        shown = image.src if len(image.src) <= 80 else image.src[:77] + "..."
        if re.match(r"(?i)^(?:https?:)?//", image.src):
            c.add(
                where,
                f"image “{shown}” is on another site: pages load nothing from elsewhere, so upload the image "
                f"to the course and write {MEDIA_PREFIX}<its name>",
            )
            continue
        if not image.src.startswith(MEDIA_PREFIX):
            c.add(where, f"image “{shown}” must be one of the course's images, written {MEDIA_PREFIX}<its name>")
            continue
        if media_names is not None and image.src[len(MEDIA_PREFIX) :] not in media_names:
            c.add(
                where,
                f"image “{shown}” is not among the course's images: {c.add_image}",
            )
        if not image.alt:
            c.add(
                where,
                f"image “{shown}” needs alt text for people who cannot see it: write what it shows "
                f"between the square brackets, as in ![A box of tablets]({image.src})",
            )


def _read_lesson(
    slug: str, front: dict, body: str, c: _Collector, codes: set[str], media_names: Collection[str] | None = None
) -> LessonSpec:
    c.unknown_keys(front, LESSON_KEYS, "")
    minutes = front.get("minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MOST_LESSON_MINUTES:
        c.add("minutes", f"must be a whole number of minutes, from 1 to {MOST_LESSON_MINUTES}")
        minutes = 1
    quiz: list[QuestionSpec] = []
    raw_quiz = front.get("quiz", [])
    if raw_quiz is None:
        raw_quiz = []
    if not isinstance(raw_quiz, list):
        c.add("quiz", "must be a list of questions")
    else:
        for index, raw_question in enumerate(raw_quiz):
            question = _read_question(raw_question, c, f"quiz[{index + 1}].", codes)
            if question:
                quiz.append(question)
    if not isinstance(body, str) or not body.strip():
        c.add("body", "the lesson needs some Markdown text after the front matter")
        body = ""
    _check_images(body, c, "body", media_names)
    if c.at_most(body, "body", BODY_LONGEST):
        c.markup(body, "body", markdown=True)
    return LessonSpec(
        slug=slug,
        title=c.text(front, "title", "", longest=TITLE_LONGEST, one_line=True),
        minutes=minutes,
        body=body.strip() + "\n",
        quiz=quiz,
        sources=_read_sources(front.get("sources"), c),
    )


def _read_misconceptions(raw: Any, c: _Collector) -> dict[str, MisconceptionSpec]:
    result: dict[str, MisconceptionSpec] = {}
    if raw is None:
        return result
    if not isinstance(raw, dict):
        c.add("misconceptions", "must map codes to learner and counsellor texts")
        return result
    for code, texts in raw.items():
        where = f"misconceptions.{code}."
        if not SLUG_PATTERN.match(str(code)):
            c.add(where.rstrip("."), "a code must be lower-case letters, digits and hyphens")
        elif len(str(code)) > SLUG_LONGEST:
            c.add(where.rstrip("."), f"a code must be {SLUG_LONGEST} characters or fewer")
        if not isinstance(texts, dict):
            c.add(where.rstrip("."), "needs learner and counsellor texts")
            continue
        c.unknown_keys(texts, MISCONCEPTION_KEYS, where)
        title = c.text(texts, "title", where, required=False, one_line=True)
        if len(title) > 80:
            c.add(where + "title", "must be 80 characters or fewer (it is a short name)")
        result[str(code)] = MisconceptionSpec(
            learner=c.text(texts, "learner", where, longest=EXPLANATION_LONGEST),
            counsellor=c.text(texts, "counsellor", where, longest=EXPLANATION_LONGEST),
            title=title,
            safety_critical=c.flag(texts, "safety_critical", where, default=False),
        )
    return result


def _read_review(raw: Any, c: _Collector) -> ReviewSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        c.add("review", "must be a mapping with reviewed_by, reviewed_on and next_review_on")
        return None
    c.unknown_keys(raw, REVIEW_KEYS, "review.")
    reviewed_by = c.text(raw, "reviewed_by", "review.", one_line=True)
    if len(reviewed_by) > 200:
        c.add("review.reviewed_by", "must be 200 characters or fewer")
        reviewed_by = ""
    reviewed_on = c.day(raw, "reviewed_on", "review.")
    next_review_on = c.day(raw, "next_review_on", "review.")
    # A day's grace: the reviewer's today may be the server's tomorrow.
    if reviewed_on and reviewed_on > date.today() + timedelta(days=1):
        c.add("review.reviewed_on", "is in the future: give the day the content was last reviewed")
    if reviewed_on and next_review_on and next_review_on <= reviewed_on:
        c.add("review.next_review_on", "must be after the day it was reviewed (reviewed_on)")
    # Optional: empty, like absent, means the review covers all the content.
    changed_since = c.day(raw, "changed_since_review_on", "review.") if raw.get("changed_since_review_on") else None
    if changed_since and changed_since > date.today() + timedelta(days=1):
        c.add("review.changed_since_review_on", "is in the future: give the day the content last changed")
    if changed_since and reviewed_on and changed_since < reviewed_on:
        c.add(
            "review.changed_since_review_on",
            "must be on or after the day it was reviewed (reviewed_on): "
            "once a review covers the changes, take this line out",
        )
    if not (reviewed_by and reviewed_on and next_review_on):
        return None
    return ReviewSpec(
        reviewed_by=reviewed_by,
        reviewed_on=reviewed_on,
        next_review_on=next_review_on,
        changed_since_review_on=changed_since,
    )


def _read_help(raw: Any, c: _Collector, media_names: Collection[str] | None = None) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        c.add("help", "must be Markdown text")
        return ""
    _check_images(raw, c, "help", media_names)
    if c.at_most(raw, "help", HELP_LONGEST):
        c.markup(raw, "help", markdown=True)
    return raw.strip() + "\n" if raw.strip() else ""


def _read_modules(raw: Any, c: _Collector) -> list[ModuleSpec]:
    modules: list[ModuleSpec] = []
    if not isinstance(raw, list) or not raw:
        c.add("modules", "needs a list of at least one module")
        return modules
    for index, raw_module in enumerate(raw):
        where = f"modules[{index + 1}]."
        if not isinstance(raw_module, dict):
            c.add(where.rstrip("."), "must be a mapping with slug, title and lessons")
            continue
        c.unknown_keys(raw_module, MODULE_KEYS, where)
        lessons = raw_module.get("lessons")
        if not isinstance(lessons, list) or not lessons:
            c.add(where + "lessons", "needs a list of at least one lesson slug")
            lessons = []
        lesson_slugs = []
        for lesson_slug in lessons:
            lesson_slug = str(lesson_slug)
            if not SLUG_PATTERN.match(lesson_slug):
                c.add(where + "lessons", f"{lesson_slug!r} must be lower-case letters, digits and hyphens")
            elif len(lesson_slug) > SLUG_LONGEST:
                c.add(where + "lessons", f"a lesson slug must be {SLUG_LONGEST} characters or fewer")
            else:
                lesson_slugs.append(lesson_slug)
        modules.append(
            ModuleSpec(
                slug=c.slug(raw_module, where),
                title=c.text(raw_module, "title", where, longest=TITLE_LONGEST, one_line=True),
                lesson_slugs=lesson_slugs,
            )
        )
    return modules


def _check_unique_slugs(modules: list[ModuleSpec], c: _Collector) -> None:
    seen: dict[str, str] = {}
    for index, module in enumerate(modules):
        entries = [(module.slug, f"modules[{index + 1}].slug")]
        entries += [(slug, f"modules[{index + 1}].lessons") for slug in module.lesson_slugs]
        for slug, where in entries:
            if not slug:
                continue
            if slug in seen:
                c.add(where, f"duplicate slug {slug!r} (already used at {seen[slug]})")
            else:
                seen[slug] = where


def parse_course_data(
    data: dict,
    *,
    allow_ids: bool = False,
    problems: list[Problem] | None = None,
    media_names: Collection[str] | None = None,
    add_image: str = ADD_IMAGE_IN_BROWSER,
) -> CourseSpec:
    """Validate course data ({"course": {...}, "lessons": {slug: {"front": {...}, "body": str}}}).

    This is the one place the format's rules live: files, zip uploads and the authoring
    drafts all pass through it. Raises CourseInvalid listing every problem.
    ``media_names`` are the course's images (a folder's media/, or a draft course's uploads):
    an image the text shows must be one of them. None skips that check only (every other image
    rule still applies), for callers that check the text's shape alone. ``add_image`` says how to
    add an image that is missing: in the browser, or (ADD_IMAGE_IN_FOLDER) in a course folder.
    """
    problems = [] if problems is None else problems
    c = _Collector(problems, "course.yaml", allow_ids=allow_ids, add_image=add_image)
    raw = data.get("course")
    if not isinstance(raw, dict):
        raise CourseInvalid(problems or [Problem("course.yaml", "", "must be a mapping of course fields")])
    c.unknown_keys(raw, COURSE_KEYS, "")
    pass_mark = raw.get("pass_mark")
    if not isinstance(pass_mark, int | float) or isinstance(pass_mark, bool) or not 0 < pass_mark <= 1:
        c.add("pass_mark", "must be a number above 0 and at most 1 (the share of questions right)")
        pass_mark = 1.0
    misconceptions = _read_misconceptions(raw.get("misconceptions"), c)
    modules = _read_modules(raw.get("modules"), c)
    _check_unique_slugs(modules, c)

    lessons_raw: dict = data.get("lessons") or {}
    unreadable: set[str] = set(data.get("unreadable", ()))
    lessons: dict[str, LessonSpec] = {}
    listed = [slug for module in modules for slug in module.lesson_slugs]
    for slug in dict.fromkeys(listed):
        if slug in unreadable:
            continue
        lesson_raw = lessons_raw.get(slug)
        if lesson_raw is None:
            problems.append(Problem(f"lessons/{slug}.md", "", "is missing (the lesson is listed in course.yaml)"))
            continue
        lesson_c = _Collector(problems, f"lessons/{slug}.md", allow_ids=allow_ids, add_image=add_image)
        lessons[slug] = _read_lesson(
            slug, lesson_raw.get("front") or {}, lesson_raw.get("body", ""), lesson_c, set(misconceptions), media_names
        )
    for slug in sorted(set(lessons_raw) | unreadable):
        if slug not in listed:
            problems.append(Problem(f"lessons/{slug}.md", "", "is not listed in any module in course.yaml"))

    spec = CourseSpec(
        slug=c.slug(raw, ""),
        title=c.text(raw, "title", "", longest=TITLE_LONGEST, one_line=True),
        summary=c.text(raw, "summary", "", longest=SUMMARY_LONGEST),
        pass_mark=float(pass_mark),
        modules=modules,
        lessons=lessons,
        misconceptions=misconceptions,
        review=_read_review(raw.get("review"), c),
        help=_read_help(raw.get("help"), c, media_names),
        from_draft=allow_ids,
    )
    if problems:
        raise CourseInvalid(problems)
    return spec


def _read_media(files: Mapping[str, str | bytes], problems: list[Problem]) -> tuple[dict[str, MediaSpec], set[str]]:
    """The folder's images (media/<name>), each checked as an upload is; and every name present."""
    media: dict[str, MediaSpec] = {}
    names: set[str] = set()
    for path, content in sorted(files.items()):
        if not path.startswith(MEDIA_PREFIX):
            continue
        name = path[len(MEDIA_PREFIX) :]
        names.add(name)
        if problem := name_problem(name):
            problems.append(Problem(path, "", problem))
            continue
        try:
            checked = image_check(content if isinstance(content, bytes) else content.encode("utf-8"))
        except MediaRefused as refused:
            problems.append(Problem(path, "", refused.message))
            continue
        if EXTENSIONS[name.rsplit(".", 1)[1]] != checked.content_type:
            kind = checked.content_type.removeprefix("image/").upper()
            problems.append(Problem(path, "", f"is a {kind} image: its name must end in .{checked.extension}"))
            continue
        media[name] = MediaSpec(name, checked.content_type, checked.data, checked.width, checked.height, checked.sha256)
    return media, names


def parse_course_files(files: Mapping[str, str | bytes]) -> CourseSpec:
    """Validate a course given as {relative path: text or bytes}: course.yaml, lessons/<slug>.md, media/<name>."""
    problems: list[Problem] = []
    c = _Collector(problems, "course.yaml")
    if "course.yaml" not in files:
        raise CourseInvalid([Problem("course.yaml", "", "is missing from the course folder")])
    course_text = files["course.yaml"]
    try:
        course_text = course_text.decode("utf-8") if isinstance(course_text, bytes) else course_text
    except UnicodeDecodeError:
        raise CourseInvalid([Problem("course.yaml", "", "is not UTF-8 text")]) from None
    raw = _load_yaml(course_text, c, "course.yaml")
    if raw is None and problems:
        raise CourseInvalid(problems)
    if not isinstance(raw, dict):
        raise CourseInvalid([Problem("course.yaml", "", "must be a mapping of course fields")])
    lessons: dict[str, dict] = {}
    unreadable: list[str] = []
    for path, text in sorted(files.items()):
        match = re.fullmatch(r"lessons/([^/]+)\.md", path)
        if not match:
            continue
        slug = match.group(1)
        lesson_c = _Collector(problems, path)
        try:
            text = text.decode("utf-8") if isinstance(text, bytes) else text
        except UnicodeDecodeError:
            lesson_c.add("", "cannot be read (UnicodeDecodeError)")
            unreadable.append(slug)
            continue
        parts = _read_lesson_text(text, lesson_c)
        if parts is None:
            unreadable.append(slug)
            continue
        lessons[slug] = {"front": parts[0], "body": parts[1]}
    media, media_names = _read_media(files, problems)
    spec = parse_course_data(
        {"course": raw, "lessons": lessons, "unreadable": unreadable},
        problems=problems,
        media_names=media_names,
        add_image=ADD_IMAGE_IN_FOLDER,
    )
    spec.media = media
    return spec


def read_course_folder(folder: Path | str) -> dict[str, bytes]:
    """Read course.yaml, lessons/*.md and media/* from a folder into {relative path: bytes}."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseInvalid([Problem(str(folder), "", "is not a course folder")])
    files = {}
    if (folder / "course.yaml").is_file():
        files["course.yaml"] = (folder / "course.yaml").read_bytes()
    lessons_dir = folder / "lessons"
    if lessons_dir.is_dir():
        for path in sorted(lessons_dir.glob("*.md")):
            files[f"lessons/{path.name}"] = path.read_bytes()
    media_dir = folder / "media"
    if media_dir.is_dir():
        for path in sorted(media_dir.iterdir()):
            # Hidden files (.gitkeep, .DS_Store) are not the course's.
            if path.is_file() and not path.name.startswith("."):
                files[f"{MEDIA_PREFIX}{path.name}"] = path.read_bytes()
    return files


# Unpacked: a course is text and a few images of at most 2 MB each, so this is generous.
MAX_ZIP_BYTES = 100 * 1024 * 1024


def read_course_zip(data: bytes) -> dict[str, bytes]:
    """Read a zipped course folder (entries may sit under one top folder) into {path: bytes}."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise CourseInvalid([Problem("upload", "", "is not a zip file")]) from None
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if sum(info.file_size for info in infos) > MAX_ZIP_BYTES:
            raise CourseInvalid([Problem("upload", "", f"unpacks to more than {MAX_ZIP_BYTES // (1024 * 1024)} MB")])
        names = [info.filename for info in infos]
        tops = {name.split("/", 1)[0] for name in names if "/" in name}
        prefix = f"{tops.pop()}/" if len(tops) == 1 and "course.yaml" not in names else ""
        files = {}
        for info in infos:
            relative = info.filename[len(prefix) :] if info.filename.startswith(prefix) else info.filename
            if relative == "course.yaml" or re.fullmatch(r"lessons/[^/]+\.md|media/[^/.][^/]*", relative):
                files[relative] = archive.read(info)
    return files


def load_course_zip(data: bytes) -> CourseSpec:
    """Validate a zipped course folder, as exported by the authoring area or the CLI."""
    return parse_course_files(read_course_zip(data))


def load_course(folder: Path | str) -> CourseSpec:
    """Read a course folder and return its spec, or raise CourseInvalid listing every problem."""
    return parse_course_files(read_course_folder(folder))
