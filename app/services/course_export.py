"""Write a course from the database back out in the courses/ file format.

Export, import and export again gives identical files; the authoring draft uses the same
data shape, with row ids kept so edits stay attached to the rows learners answered.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from datetime import date
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Choice, Course, Lesson, Module, Question
from app.services.course_media import media_files


def course_to_data(session: Session, course: Course, *, with_ids: bool = False) -> dict[str, Any]:
    """The live (published) course as course data: {"course": {...}, "lessons": {slug: {...}}}."""
    modules = list(session.scalars(select(Module).where(Module.course_id == course.id).order_by(Module.position)))
    lessons = list(
        session.scalars(
            select(Lesson)
            .where(Lesson.course_id == course.id, Lesson.retired_at.is_(None))
            .options(
                selectinload(Lesson.live_questions)
                .selectinload(Question.live_choices)
                .selectinload(Choice.misconception)
            )
            .order_by(Lesson.position)
        )
    )
    by_module: dict[int | None, list[Lesson]] = {}
    for lesson in lessons:
        by_module.setdefault(lesson.module_id, []).append(lesson)
    # Plain dicts built key by key in the files' order (the authoring draft names their shape: DraftData).
    course_raw: dict[str, Any] = {
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "pass_mark": course.pass_mark,
        "modules": [
            {"slug": m.slug, "title": m.title, "lessons": [lesson.slug for lesson in by_module.get(m.id, [])]}
            for m in modules
            if by_module.get(m.id)
        ],
        "misconceptions": {m.code: _misconception_data(m) for m in sorted(course.misconceptions, key=lambda m: m.id)},
    }
    if course.reviewed_by and course.reviewed_on and course.next_review_on:
        # Dates as text, so a draft (JSON) can hold them; files get real YAML dates back.
        course_raw["review"] = {
            "reviewed_by": course.reviewed_by,
            "reviewed_on": course.reviewed_on.isoformat(),
            "next_review_on": course.next_review_on.isoformat(),
        }
        if course.changed_since_review_on:
            course_raw["review"]["changed_since_review_on"] = course.changed_since_review_on.isoformat()
    if course.help_markdown:
        course_raw["help"] = course.help_markdown
    return {
        "course": course_raw,
        "lessons": {lesson.slug: _lesson_data(lesson, with_ids) for lesson in lessons},
    }


def _misconception_data(misconception) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    if misconception.title:
        raw["title"] = misconception.title
    if misconception.safety_critical:
        raw["safety_critical"] = True
    raw["learner"] = misconception.learner_text
    raw["counsellor"] = misconception.counsellor_text
    return raw


def _lesson_data(lesson: Lesson, with_ids: bool) -> dict[str, Any]:
    quiz = []
    for question in lesson.live_questions:
        choices = []
        for choice in question.live_choices:
            raw: dict[str, Any] = {"text": choice.text}
            if choice.is_correct:
                raw["correct"] = True
            if choice.safety_critical:
                raw["safety_critical"] = True
            raw["feedback"] = choice.feedback
            if choice.misconception is not None:
                raw["misconception"] = choice.misconception.code
            if with_ids:
                raw["id"] = choice.id
            choices.append(raw)
        raw_question: dict[str, Any] = {"kind": question.kind}
        if not question.shuffle:
            raw_question["shuffle"] = False
        raw_question |= {"prompt": question.prompt, "explanation": question.explanation, "choices": choices}
        if with_ids:
            raw_question["id"] = question.id
        quiz.append(raw_question)
    front: dict[str, Any] = {"title": lesson.title, "minutes": lesson.minutes}
    if lesson.sources:
        front["sources"] = [
            {"title": source["title"], **({"url": source["url"]} if source.get("url") else {})}
            for source in lesson.sources
        ]
    if quiz:
        front["quiz"] = quiz
    return {"front": front, "body": lesson.body_markdown}


def _without_ids(value):
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


class _CourseFileDumper(yaml.SafeDumper):
    """Writes text of several lines as a literal block (``help: |``), line for line as the author
    wrote it, rather than as one quoted string of ``\\n`` escapes that no one could edit in git."""


# Line breaks other than "\n". YAML reads each as a break, so text holding one goes double-quoted,
# where it is written as an escape ("\r", "\N", "\L", "\P") and read back exactly: PyYAML's
# own choice of style writes NEL (U+0085) raw in a single-quoted string, and it comes back a space.
_OTHER_BREAKS = frozenset("\r\x85\u2028\u2029")


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    if not _OTHER_BREAKS.isdisjoint(text):
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
    if "\n" in text.rstrip("\n"):
        # PyYAML falls back to a quoted string itself when a literal block cannot hold the text
        # as it is (trailing spaces on a line, say), so nothing is lost either way.
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|")
    return dumper.represent_str(text)


_CourseFileDumper.add_representer(str, _represent_text)


def _dump(data) -> str:
    return yaml.dump(_without_ids(data), Dumper=_CourseFileDumper, sort_keys=False, allow_unicode=True, width=100)


def _with_dates(course_raw: dict) -> dict:
    """The course fields with the review's ISO dates as dates, so YAML writes them unquoted."""
    review = course_raw.get("review")
    if not review:
        return course_raw
    dates = {
        key: date.fromisoformat(review[key])
        for key in ("reviewed_on", "next_review_on", "changed_since_review_on")
        if review.get(key)
    }
    return {**course_raw, "review": {**review, **dates}}


def course_data_to_files(data: dict) -> dict[str, str]:
    """Render course data as the files of a course folder: {relative path: text}."""
    files = {"course.yaml": _dump(_with_dates(data["course"]))}
    for slug, lesson in data["lessons"].items():
        body = lesson["body"].strip() + "\n"
        files[f"lessons/{slug}.md"] = f"---\n{_dump(lesson['front'])}---\n{body}"
    return files


def course_export_files(session: Session, course: Course) -> dict[str, str | bytes]:
    """The published course as a whole course folder: course.yaml and lessons/ (text), media/ (bytes)."""
    files: dict[str, str | bytes] = dict(course_data_to_files(course_to_data(session, course)))
    files.update(media_files(session, course))
    return files


def course_files_zip(files: Mapping[str, str | bytes], folder: str) -> bytes:
    """Pack course files (text, or an image's bytes) into a zip whose entries sit under ``folder/``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in sorted(files.items()):
            # A fixed timestamp keeps two exports of the same course byte-identical.
            info = zipfile.ZipInfo(f"{folder}/{path}", date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()
