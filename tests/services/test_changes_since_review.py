"""Content changed since its review: recorded in course.yaml, kept true by publishing, cleared by a new review.

Every lesson shows "Reviewed <date>"; ``review.changed_since_review_on`` is the latest day the content
changed that the review does not cover, and lessons say so (app/templates/learn/_lesson_article.html).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from app.models import Course, CoursePublication
from app.models.types import utcnow
from app.services import authoring
from app.services.authoring import ReviewInput, publishing
from app.services.authoring.draft import published_data
from app.services.course_content import load_course_content
from app.services.course_export import course_data_to_files, course_to_data
from app.services.course_files import load_course, parse_course_files, read_course_folder
from app.services.course_import import course_import
from app.services.course_quality import review_changed_since, review_predates_changes
from app.services.errors import CourseInvalid
from tests.conftest import FACTORY_COURSE_DIR, factory_course_spec

SPEC = factory_course_spec()
FIRST = SPEC.modules[0].lesson_slugs[0]
REVIEWED = SPEC.review.reviewed_on  # the factory course's review date
LATER = REVIEWED + timedelta(days=3)


@pytest.fixture
def course_row(session, course) -> Course:
    """The factory course's row, as published."""
    return session.scalar(select(Course).where(Course.slug == course))


def factory_spec(**review):
    """The factory course's files as read, ``review`` added to course.yaml's review mapping."""
    files = read_course_folder(FACTORY_COURSE_DIR)
    course = yaml.safe_load(files["course.yaml"])
    course["review"] |= review
    return parse_course_files({**files, "course.yaml": yaml.safe_dump(course, sort_keys=False)})


def edit_first_lesson(session, course_row, body: str = "Changed words.\n") -> None:
    lesson = SPEC.lessons[FIRST]
    authoring.lesson_update(
        session, course=course_row, lesson_slug=FIRST, title=lesson.title, minutes=lesson.minutes, body=body
    )


def review_input(**dates) -> ReviewInput:
    review = SPEC.review
    values = {"reviewed_on": review.reviewed_on, "next_review_on": review.next_review_on, **dates}
    return ReviewInput(reviewed_by=review.reviewed_by, **values)


def update_review(session, course_row, **dates) -> None:
    authoring.course_update(
        session,
        course=course_row,
        title=SPEC.title,
        summary=SPEC.summary,
        pass_mark=SPEC.pass_mark,
        review=review_input(**dates),
    )


# --- the key in course.yaml -----------------------------------------------------------------


def test_the_key_is_optional_and_read_as_a_date():
    assert factory_spec().review.changed_since_review_on is None
    spec = factory_spec(changed_since_review_on=LATER)
    assert spec.review.changed_since_review_on == LATER
    same_day = factory_spec(changed_since_review_on=REVIEWED.isoformat())
    assert same_day.review.changed_since_review_on == REVIEWED  # changed after a review on the same day


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (REVIEWED - timedelta(days=1), "must be on or after the day it was reviewed"),
        (date.today() + timedelta(days=5), "is in the future"),
        ("7 December", "must be a date written as YYYY-MM-DD"),
    ],
)
def test_a_day_before_the_review_in_the_future_or_no_date_is_refused(value, message):
    with pytest.raises(CourseInvalid) as refused:
        factory_spec(changed_since_review_on=value)

    [problem] = refused.value.problems
    assert (problem.file, problem.field) == ("course.yaml", "review.changed_since_review_on")
    assert message in problem.message


# --- the rule -------------------------------------------------------------------------------


def test_a_content_change_under_the_same_review_is_recorded_that_day():
    day = date(2026, 12, 7)
    rule = dict(reviewed_on=REVIEWED, reviewed_before=REVIEWED)

    assert review_changed_since(**rule, recorded=None, content_changed_on=day) == day
    assert review_changed_since(**rule, recorded=LATER, content_changed_on=day) == day  # the latest change
    assert review_changed_since(**rule, recorded=LATER, content_changed_on=None) == LATER  # review details only
    # Never before the review: a review dated the server's tomorrow (a day's grace) is not followed by a change today.
    assert review_changed_since(**rule, recorded=None, content_changed_on=REVIEWED - timedelta(days=1)) == REVIEWED


def test_dating_the_review_again_clears_what_it_covers():
    assert (
        review_changed_since(reviewed_on=LATER, reviewed_before=REVIEWED, recorded=LATER, content_changed_on=None)
        is None
    )
    newer = LATER + timedelta(days=1)
    assert (
        review_changed_since(reviewed_on=newer, reviewed_before=REVIEWED, recorded=LATER, content_changed_on=LATER)
        is None
    )
    # A review dated before the recorded change (a typing slip put right) does not cover it.
    earlier = REVIEWED - timedelta(days=1)
    assert (
        review_changed_since(reviewed_on=earlier, reviewed_before=REVIEWED, recorded=LATER, content_changed_on=None)
        == LATER
    )


def test_files_that_record_the_change_do_not_draw_the_import_warning():
    today = date(2026, 12, 9)
    recorded = factory_spec(changed_since_review_on=LATER)
    unrecorded = factory_spec()

    warning = review_predates_changes(unrecorded, reviewed_before=REVIEWED, today=today)
    assert warning is not None and "changed_since_review_on" in warning.message
    assert review_predates_changes(recorded, reviewed_before=REVIEWED, today=today) is None
    assert (
        review_predates_changes(recorded, reviewed_before=REVIEWED, recorded_before=LATER - timedelta(1), today=today)
        is None
    )
    # The day the course had already, from an earlier change: this one is not recorded.
    assert review_predates_changes(recorded, reviewed_before=REVIEWED, recorded_before=LATER, today=today) is not None
    assert review_predates_changes(recorded, reviewed_before=REVIEWED, recorded_before=LATER, today=LATER) is None


def test_the_publish_warning_says_what_learners_will_be_told():
    spec = factory_spec()

    warning = review_predates_changes(spec, reviewed_before=REVIEWED, marks_on=date(2026, 12, 7))

    assert "changed on 2026-12-07" in warning.message and "waiting for the clinical review" in warning.message


# --- publishing -----------------------------------------------------------------------------


def test_publishing_content_changed_under_the_same_review_records_the_day(session, course_row):
    edit_first_lesson(session, course_row)

    publication = authoring.publish(session, course=course_row)

    today = utcnow().date()
    session.expire_all()
    assert course_row.changed_since_review_on == today
    assert load_course_content(session, course_row.id).changed_since_review_on == today
    assert publication.data["course"]["review"]["changed_since_review_on"] == today.isoformat()


def test_a_change_to_the_reviews_details_alone_records_nothing(session, course_row):
    update_review(session, course_row, next_review_on=SPEC.review.next_review_on - timedelta(days=1))

    authoring.publish(session, course=course_row)

    session.expire_all()
    assert course_row.changed_since_review_on is None


def test_publishing_content_with_a_new_review_date_records_nothing(session, course_row):
    edit_first_lesson(session, course_row)
    update_review(session, course_row, reviewed_on=utcnow().date())

    authoring.publish(session, course=course_row)

    session.expire_all()
    assert course_row.changed_since_review_on is None


def test_saving_the_details_keeps_the_day_and_a_new_review_date_clears_it(session, course_row):
    edit_first_lesson(session, course_row)
    authoring.publish(session, course=course_row)
    changed_on = utcnow().date()

    update_review(session, course_row)  # the same dates, as the form sends them
    assert authoring.draft_review(authoring.draft_data(session, course_row)).changed_since_review_on == changed_on

    update_review(session, course_row, reviewed_on=changed_on)  # a review that covers the change
    assert authoring.draft_review(authoring.draft_data(session, course_row)).changed_since_review_on is None
    authoring.publish(session, course=course_row)
    session.expire_all()
    assert course_row.changed_since_review_on is None


def test_a_restore_brings_back_the_version_as_it_was_published(session, course_row):
    """Restoring is not a new edit: the version comes back with its own note (none, here)."""
    authoring.import_from_files(session, load_course(FACTORY_COURSE_DIR))
    edit_first_lesson(session, course_row)
    authoring.publish(session, course=course_row)
    imported = session.scalars(select(CoursePublication).order_by(CoursePublication.id)).first()

    authoring.publication_restore(
        session, course=course_row, publication=imported, user_id=None, zone=ZoneInfo("Europe/London")
    )

    session.expire_all()
    assert course_row.changed_since_review_on is None
    assert published_data(session, course_row) == imported.data


def restore(session, course_row, publication) -> None:
    authoring.publication_restore(
        session, course=course_row, publication=publication, user_id=None, zone=ZoneInfo("Europe/London")
    )
    session.expire_all()


def test_a_restore_brings_back_the_day_its_words_changed_not_the_day_of_the_restore(session, course_row, monkeypatch):
    """The restored words are the ones changed that day under the same review: still unreviewed since
    then, and no newer. Marking them changed today (the publish rule) would date them wrongly, and
    restoring the reviewed version before them would say reviewed words await the review."""
    authoring.import_from_files(session, load_course(FACTORY_COURSE_DIR))
    reviewed = session.scalars(select(CoursePublication).order_by(CoursePublication.id.desc())).first()
    monkeypatch.setattr(publishing, "utcnow", lambda: datetime.combine(LATER, time(12), tzinfo=UTC))
    edit_first_lesson(session, course_row)
    changed = authoring.publish(session, course=course_row)
    monkeypatch.undo()
    assert changed.data["course"]["review"]["changed_since_review_on"] == LATER.isoformat()

    restore(session, course_row, reviewed)
    assert (course_row.reviewed_on, course_row.changed_since_review_on) == (REVIEWED, None)

    restore(session, course_row, changed)
    assert (course_row.reviewed_on, course_row.changed_since_review_on) == (REVIEWED, LATER)
    assert load_course_content(session, course_row.id).changed_since_review_on == LATER


def test_a_restore_brings_back_its_own_review_not_the_newer_one(session, course_row):
    """A newer review covered the newer words, not the restored ones: lessons say when the restored
    words were reviewed, and that their changes since still await the review, as when they were published."""
    authoring.import_from_files(session, factory_spec(changed_since_review_on=LATER))
    older = session.scalars(select(CoursePublication).order_by(CoursePublication.id.desc())).first()
    today = utcnow().date()
    edit_first_lesson(session, course_row)
    update_review(session, course_row, reviewed_on=today)  # a review of the new words
    authoring.publish(session, course=course_row)
    session.expire_all()
    assert (course_row.reviewed_on, course_row.changed_since_review_on) == (today, None)

    restore(session, course_row, older)

    assert (course_row.reviewed_on, course_row.changed_since_review_on) == (REVIEWED, LATER)
    assert course_row.next_review_on == SPEC.review.next_review_on
    assert published_data(session, course_row) == older.data  # the words the older review dates describe


# --- import and export ----------------------------------------------------------------------


def test_the_day_round_trips_through_import_and_export(session, course, tmp_path):
    spec = replace(SPEC, review=replace(SPEC.review, changed_since_review_on=LATER))
    report = course_import(session, spec)
    assert report.changes == ["Course: unreviewed-changes date changed"] and not report.content_changed

    files = course_data_to_files(course_to_data(session, session.scalar(select(Course).where(Course.slug == course))))
    assert f"changed_since_review_on: {LATER.isoformat()}\n" in files["course.yaml"]  # a YAML date, unquoted
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    assert load_course(tmp_path) == spec
    assert not course_import(session, load_course(tmp_path)).changed

    cleared = course_import(session, SPEC)  # files without the line: the review covers everything
    assert cleared.changes == ["Course: unreviewed-changes date changed"]
    assert (
        "changed_since_review_on"
        not in course_data_to_files(
            course_to_data(session, session.scalar(select(Course).where(Course.slug == course)))
        )["course.yaml"]
    )
