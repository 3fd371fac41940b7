"""The format's review dates, help text, sources, pinned order and safety marks: read, checked,
imported to the live rows and exported back without loss."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.models import Choice, Lesson, Misconception, Question
from app.services.course_export import course_data_to_files, course_to_data
from app.services.course_files import load_course
from app.services.course_import import course_import
from app.services.errors import CourseInvalid
from app.services.progress import course_by_slug
from tests.factories import COURSE, default_lessons, write_course

REVIEW = {"reviewed_by": "Dr A. Reviewer", "reviewed_on": date(2026, 11, 1), "next_review_on": date(2027, 11, 1)}
HELP = "- Urgent advice, day and night: NHS 111\n- Emergency: 999\n"


def full_course() -> tuple[dict, dict]:
    course = copy.deepcopy(COURSE)
    course["review"] = dict(REVIEW)
    course["help"] = HELP
    course["misconceptions"]["blocks-are-boosts"] |= {"title": "Thinks blockers boost", "safety_critical": True}
    lessons = default_lessons()
    front = lessons["one"]["front"]
    front["sources"] = [
        {"title": "NICE TA115", "url": "https://www.nice.org.uk/guidance/ta115"},
        {"title": "A printed leaflet"},
    ]
    front["quiz"][2]["shuffle"] = False
    front["quiz"][0]["choices"][2]["safety_critical"] = True
    return course, lessons


def problems(tmp_path, course, lessons) -> list[str]:
    with pytest.raises(CourseInvalid) as caught:
        load_course(write_course(tmp_path, course, lessons))
    return [str(problem) for problem in caught.value.problems]


def test_every_new_field_is_read(tmp_path):
    spec = load_course(write_course(tmp_path, *full_course()))

    assert (spec.review.reviewed_by, spec.review.reviewed_on, spec.review.next_review_on) == (
        "Dr A. Reviewer",
        date(2026, 11, 1),
        date(2027, 11, 1),
    )
    assert spec.help == HELP
    assert [(s.title, s.url) for s in spec.lessons["one"].sources] == [
        ("NICE TA115", "https://www.nice.org.uk/guidance/ta115"),
        ("A printed leaflet", None),
    ]
    assert [q.shuffle for q in spec.lessons["one"].quiz] == [True, True, False]
    assert [c.safety_critical for c in spec.lessons["one"].quiz[0].choices] == [False, False, True]
    misconception = spec.misconceptions["blocks-are-boosts"]
    assert (misconception.title, misconception.safety_critical) == ("Thinks blockers boost", True)


def test_review_dates_may_be_written_as_text(tmp_path):
    course, lessons = full_course()
    course["review"] = {"reviewed_by": "X", "reviewed_on": "2026-11-01", "next_review_on": "2027-11-01"}

    assert load_course(write_course(tmp_path, course, lessons)).review.next_review_on == date(2027, 11, 1)


def test_bad_review_fields_are_reported_with_their_field(tmp_path):
    course, lessons = full_course()
    course["review"] = {"reviewed_by": "", "reviewed_on": "1st November", "next_review_on": date(2025, 1, 1)}

    assert problems(tmp_path, course, lessons) == [
        "course.yaml: review.reviewed_by: is required",
        "course.yaml: review.reviewed_on: must be a date written as YYYY-MM-DD",
    ]


def test_next_review_must_come_after_the_review(tmp_path):
    course, lessons = full_course()
    course["review"]["next_review_on"] = course["review"]["reviewed_on"]

    assert problems(tmp_path, course, lessons) == [
        "course.yaml: review.next_review_on: must be after the day it was reviewed (reviewed_on)"
    ]


def test_a_review_dated_in_the_future_is_reported(tmp_path):
    """Learners read "Reviewed on": a date to come would claim a review nobody has done."""
    course, lessons = full_course()
    course["review"] = {"reviewed_by": "Panel", "reviewed_on": date.today() + timedelta(days=30)}
    course["review"]["next_review_on"] = date.today() + timedelta(days=400)

    assert problems(tmp_path, course, lessons) == [
        "course.yaml: review.reviewed_on: is in the future: give the day the content was last reviewed"
    ]
    course["review"]["reviewed_on"] = date.today()
    assert load_course(write_course(tmp_path / "today", course, lessons)).review.reviewed_on == date.today()


def test_bad_sources_and_flags_are_reported(tmp_path):
    course, lessons = full_course()
    front = lessons["one"]["front"]
    front["sources"] = [{"title": "No address", "url": "javascript:alert(1)"}, {"url": "https://example.org/x"}]
    front["quiz"][1]["shuffle"] = "no"
    front["quiz"][0]["choices"][0]["safety_critical"] = True  # the correct one

    assert problems(tmp_path, course, lessons) == [
        "lessons/one.md: quiz[1].choices[1].safety_critical: only a wrong choice can be marked safety-critical",
        "lessons/one.md: quiz[2].shuffle: must be true or false",
        "lessons/one.md: sources[1].url: must be a web address starting with https:// or http://",
        "lessons/one.md: sources[2].title: is required",
    ]


def test_import_brings_each_field_to_the_live_rows(session, tmp_path):
    course_import(session, load_course(write_course(tmp_path, *full_course())))

    course = course_by_slug(session, "tiny")
    assert (course.reviewed_by, course.reviewed_on, course.next_review_on) == tuple(REVIEW.values())
    assert course.help_markdown == HELP
    assert '<a href="tel:111"' in course.help_html and '<a href="tel:999"' in course.help_html
    lesson = session.scalar(select(Lesson).where(Lesson.slug == "one"))
    assert lesson.sources == [
        {"title": "NICE TA115", "url": "https://www.nice.org.uk/guidance/ta115"},
        {"title": "A printed leaflet", "url": None},
    ]
    questions = session.scalars(select(Question).where(Question.lesson_id == lesson.id).order_by("position")).all()
    assert [q.shuffle for q in questions] == [True, True, False]
    marked = session.scalars(select(Choice.text).where(Choice.safety_critical.is_(True))).all()
    assert marked == ["Other wrong answer"]
    misconception = session.scalar(select(Misconception))
    assert (misconception.title, misconception.safety_critical) == ("Thinks blockers boost", True)


def test_export_round_trips_every_field(session, tmp_path):
    spec = load_course(write_course(tmp_path / "a", *full_course()))
    course_import(session, spec)
    files = course_data_to_files(course_to_data(session, course_by_slug(session, "tiny")))

    assert "reviewed_on: 2026-11-01" in files["course.yaml"]  # a YAML date, as authors write it
    again = tmp_path / "b"
    for relative, text in files.items():
        (again / relative).parent.mkdir(parents=True, exist_ok=True)
        (again / relative).write_text(text, encoding="utf-8")
    assert load_course(again) == spec
    assert not course_import(session, load_course(again)).changed


def test_changing_a_safety_mark_or_the_order_rule_is_a_new_version(session, tmp_path):
    course, lessons = full_course()
    course_import(session, load_course(write_course(tmp_path / "a", course, lessons)))
    version = course_by_slug(session, "tiny").content_version

    lessons["one"]["front"]["quiz"][0]["shuffle"] = False
    report = course_import(session, load_course(write_course(tmp_path / "b", course, lessons)))

    assert report.changed and course_by_slug(session, "tiny").content_version == version + 1


def test_a_reviewer_name_longer_than_the_column_is_reported(tmp_path):
    course, lessons = full_course()
    course["review"]["reviewed_by"] = "x" * 201

    assert problems(tmp_path, course, lessons) == ["course.yaml: review.reviewed_by: must be 200 characters or fewer"]
